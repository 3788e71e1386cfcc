/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing a guest definition keyfile into a BwGuest (guest-parse.c), and
 * the builder interface of the model (guest.c) the parser fills it with. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "guest.h"

/* Limits of one definition: far above any real guest, low enough that a
 * hostile text cannot make the daemon allocate without bound. */
#define GUEST_TEXT_MAX ((size_t) 16 * 1024 * 1024)
#define GUEST_RESOURCES_MAX 65536u

typedef struct GuestParseOptions {
        /* Where PCI devices are looked up; NULL means "/sys".  Tests point
         * it at a tree of their own. */
        const char *sysfs_root;
        /* Read nothing on the host: no image header, no sysfs entry.  Disks
         * then list only their image and VFIO devices have no path, and
         * nothing is reported unresolved.  For callers that need the
         * definition itself, such as undoing changes whose files are gone. */
        bool skip_host;
} GuestParseOptions;

/* Parses `len` bytes of definition text (`source` names it in messages).
 * `options` may be NULL.  Errors are -EINVAL for a bad definition, -E2BIG
 * for one over the limits, or what reading an image header returned; the
 * message locates the problem ("<source>:<line>: [<group>] key '<key>': ..."). */
int guest_parse(const char *text, size_t len, const char *source, const GuestParseOptions *options,
                BwGuest **ret, BwError *reterr);

/* ---- Building a guest: used by the parser only ------------------------- */

BwGuest *guest_new(const char *text, size_t len, const char *source, const GuestParseOptions *options);
/* The guest's info, writable until guest_seal(). */
BwGuestInfo *guest_edit_info(BwGuest *guest);
/* A copy of `s` that lives as long as the guest. */
const char *guest_intern(BwGuest *guest, const char *s);
/* Appends a resource; the pointer is valid until the next append. */
BwResource *guest_add_resource(BwGuest *guest, BwResourceType type, const char *id);
/* Adds a path to the last resource appended. */
void guest_add_path(BwGuest *guest, const char *path, BwPathRole role);
void guest_add_unresolved(BwGuest *guest, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Fixes the resource and path arrays in place: call once, after the last
 * append and before the guest is handed out. */
void guest_seal(BwGuest *guest);
