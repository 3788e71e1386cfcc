/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which cgroup a guest may be given.  A guest's device program and its
 * removal at stop act on its cgroup, so a start refuses:
 *  - a path with "." or ".." components, or a relative one;
 *  - the configured cgroup root itself, or anything outside it (compared
 *    by path components: /sys/fs/cgroup/unified-x is outside
 *    /sys/fs/cgroup/unified);
 *  - a cgroup another running guest of this state directory owns, or one
 *    nested inside or around it (the journals' GUEST records say which guest
 *    owns which cgroup).  The caller holds the state-directory lock
 *    (state_lock_acquire()) from this check until its own journal exists. */
#pragma once

#include <bulwark/bulwark.h>

int cgroup_owner_check_path(const char *guest, const char *cgroup, const char *root, BwError *reterr);
int cgroup_owner_check_free(const char *state_dir, const char *guest, const char *cgroup, BwError *reterr);
