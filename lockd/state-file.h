/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The re-exec state file of bulwark-lockd: one GVariant, written to a
 * temporary file and renamed into place, so the next image reads either
 * the whole state or none.  It is not synced: it only has to outlive an
 * execve, and a crash of the machine drops every lock anyway.  Only the image that wrote it (same
 * pid, same boot) may use it; the daemon checks that. */
#pragma once

#include <glib.h>

/* The file carries its format's version (1, 2, ...): a newer binary
 * reads the state an older image wrote before re-executing into it. */
int state_file_write(const char *path, unsigned version, GVariant *state);
/* types[v - 1] is the type of version v.  -ENOENT when there is no state
 * file; -EINVAL with a message when it is not a state file of a known
 * version, not private to this user, or damaged. */
int state_file_read(const char *path, const GVariantType *const *types, unsigned n_types, GVariant **ret,
                    char **ret_message);
