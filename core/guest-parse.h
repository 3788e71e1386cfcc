/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing a guest definition keyfile into a BwGuest (guest-parse.c and
 * the guest-parse-*.c files of each resource type), editing a definition
 * by one resource group (attach, detach), and the builder interface of the
 * model (guest.c) the parser fills it with. */
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
 * `options` may be NULL.  Errors are -EINVAL for a bad definition (paths
 * that name no host file and backing files that must not be opened
 * included: see guest.h and qcow2.h), -E2BIG for one over the limits, or
 * what reading an image header returned; the message locates the problem
 * ("<source>:<line>: [<group>] key '<key>': ...").  Groups are checked in
 * text order, then the disks' backing chains are followed. */
int guest_parse(const char *text, size_t len, const char *source, const GuestParseOptions *options,
                BwGuest **ret, BwError *reterr);

/* ---- Editing a definition: one resource group more or less ------------ */

/* A new guest: `guest`'s definition plus the one resource group that
 * `resource_text` holds (e.g. "[disk:data]\npath=/x.img\n"), parsed again
 * as a whole with the options and cgroup root guest_copy() uses.  The new
 * guest's text is the old text followed by the resource text (a newline
 * added where one is missing), so its text is what a re-parse reads (the
 * journal stores it), and its source is `guest`'s.  `*ret_added` (may be
 * NULL) points to the new resource inside the new guest.
 *
 * Errors locate problems in the resource text, as `source`:<line in the
 * resource text> (`source` NULL means "<resource>"), and so do the new
 * guest's unresolved entries for the new resource: a text with no group,
 * with more than one, or with [guest] (-EINVAL); a resource the guest
 * already has (-EEXIST, naming it); any parse error of the group
 * (-EINVAL, -E2BIG, or what reading an image header returned). */
int guest_parse_with_resource(const BwGuest *guest, const char *resource_text, const char *source,
                              BwGuest **ret_guest, const BwResource **ret_added, BwError *reterr);

/* A new guest: `guest`'s definition without the group `resource_ref` names,
 * "<type>:<id>" ("disk:data") or the bare type of a single group
 * ("kernel", "firmware", "tpm", "memory").  The group's lines are cut out
 * of the text: the comment lines right above its [header] (with no blank
 * line between, they describe it), the header, everything to its last
 * key, and the blank lines after that; comments above the next group
 * stay.  The new text is parsed again as guest_copy() does.  -EINVAL for a reference that is not one (or names
 * [guest], which cannot be removed), -ENOENT naming it when the guest has
 * no such resource. */
int guest_parse_without_resource(const BwGuest *guest, const char *resource_ref, BwGuest **ret_guest,
                                 BwError *reterr);

/* "<type>:<id>", or the bare type of a single group: the name of the
 * resource's group, as in a definition and in a resource reference. */
char *guest_resource_ref(const BwResource *res);

/* ---- Building a guest: used by the parser only ------------------------- */

BwGuest *guest_new(const char *text, size_t len, const char *source, const GuestParseOptions *options);
/* The guest's info, writable until guest_seal(). */
BwGuestInfo *guest_edit_info(BwGuest *guest);
/* A copy of `s` that lives as long as the guest. */
const char *guest_intern(BwGuest *guest, const char *s);
/* Appends a resource; the pointer is valid until the next append. */
BwResource *guest_add_resource(BwGuest *guest, BwResourceType type, const char *id);
/* Adds a [guest] hotplug-dirs entry (interned). */
void guest_add_hotplug_dir(BwGuest *guest, const char *path);
/* Adds a [guest] groups entry; false (nothing added) when the guest has
 * that group already. */
bool guest_add_group(BwGuest *guest, gid_t gid);
/* How many resources were appended so far. */
size_t guest_get_n_added(const BwGuest *guest);
/* Adds a path to the last resource appended, or to the resource at index
 * `resource` (each resource lists its paths in the order they were added). */
void guest_add_path(BwGuest *guest, const char *path, BwPathRole role);
void guest_add_path_to(BwGuest *guest, size_t resource, const char *path, BwPathRole role);
/* The index-th path added so far (NULL past the last), until guest_seal(). */
const char *guest_get_added_path(const BwGuest *guest, size_t index, BwPathRole *ret_role);
/* An unresolved host object of the resource at index `resource`; the
 * guest lists them in resource order. */
void guest_add_unresolved_to(BwGuest *guest, size_t resource, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* An unresolved host object of [guest] itself (a group of `groups=`):
 * listed before those of the resources. */
void guest_add_unresolved_main(BwGuest *guest, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* Fixes the resource and path arrays in place: call once, after the last
 * append and before the guest is handed out. */
void guest_seal(BwGuest *guest);

/* What guest_copy() re-parses with: the guest's own parse options (they
 * point into `guest`) and its cgroup root, applied to `to`. */
void guest_get_parse_options(const BwGuest *guest, GuestParseOptions *ret);
int guest_inherit_cgroup(const BwGuest *from, BwGuest *to, BwError *reterr);
