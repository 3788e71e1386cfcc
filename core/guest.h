/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest model: a parsed guest definition (see DESIGN.md "Guest
 * definition") and its plugin view, BwGuestInfo.  BwGuest is opaque to
 * library users; core code uses these internal accessors.
 *
 * A BwGuest owns every byte its BwGuestInfo points to (resources, their
 * path and role arrays, all strings) and never changes it after loading,
 * except for guest_resolve_cgroup(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <bulwark/bulwark.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwGuest, bw_guest_free)

/* The definition text the guest was parsed from, and its source name:
 * the journal stores the text so a crashed transaction can be undone by
 * another process. */
const char *guest_get_text(const BwGuest *guest);
const char *guest_get_source(const BwGuest *guest);
const char *guest_get_name(const BwGuest *guest);

/* A deep copy (re-parsed from the text, with the same cgroup root). */
int guest_copy(const BwGuest *guest, BwGuest **ret, BwError *reterr);

/* Fills in the default cgroup, <cgroup_root>/bulwark/<name>, when the
 * definition names none (BwGuestInfo.cgroup_given stays false). */
int guest_resolve_cgroup(BwGuest *guest, const char *cgroup_root);

/* Host objects the definition names that could not be looked up when it
 * was loaded: a PCI device missing from sysfs (its VFIO group is unknown,
 * so the hostdev has no path), a disk image or backing file that does not
 * exist (its backing chain may be incomplete).  Loading does not fail for
 * them, so a definition can be checked, explained or undone on a host
 * that lacks the device; each entry is a message for people, located like
 * a parse error ("demo.guest:14: [hostdev:gpu] ..."). */
size_t guest_get_n_unresolved(const BwGuest *guest);
const char *guest_get_unresolved(const BwGuest *guest, size_t index);

/* 0 when every host object was found; otherwise -ENODEV with the first
 * unresolved entry as the message.  `guest check` reports these, and
 * starting a guest should refuse while any remain: its path list is
 * incomplete. */
int guest_check_resolved(const BwGuest *guest, BwError *reterr);

/* The one rule for guest names and resource ids, at every place that
 * takes one (parsing a definition, stop, recover, attach, detach): 1 to
 * GUEST_NAME_MAX of [a-zA-Z0-9_.-], not starting with '.'.  A name becomes
 * a file name (the journal in the state directory) and a cgroup
 * directory: a leading '.' would make a hidden file that `recover` skips,
 * and "." and ".." would name directories rather than the guest. */
#define GUEST_NAME_MAX 64
/* The rule as messages state it. */
#define GUEST_NAME_RULE "1 to " G_STRINGIFY(GUEST_NAME_MAX) " of a-z A-Z 0-9 _ . -, not starting with '.'"
bool guest_name_is_valid(const char *name);
/* Why `name` breaks the rule (for messages), or NULL when it is valid. */
const char *guest_name_why_invalid(const char *name);

/* Why a path cannot name a host resource, or NULL when it can.  Refused:
 * paths that mean whatever the process opening them has open, not one
 * file of the host: /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd and
 * what is under it, /proc/self, /proc/thread-self and /proc/<pid> and
 * what is under them (<pid>/fd/N, root, cwd...).  `path` must be absolute
 * and normalized (no "." or ".." component, no repeated slashes). */
const char *guest_path_per_process(const char *path);

/* The UUID of a guest that gives none: version 5 (SHA-1) of its name in
 * bulwark's namespace, so a guest keeps it across restarts and hosts.
 * Returns the canonical lower-case form (g_free() it). */
char *guest_uuid_from_name(const char *name);
/* The canonical lower-case form of a 36-character UUID; NULL when `s` is
 * not one, or is the nil UUID. */
char *guest_uuid_normalize(const char *s);

/* A user (or group) id from a number or a name in the system database.
 * -ERANGE: a number over 2^32-2; -EINVAL: not a number or a valid name;
 * -ENOENT: no such name; other -errno: the lookup failed. */
int guest_identity_lookup(const char *s, bool is_group, uint32_t *ret);
