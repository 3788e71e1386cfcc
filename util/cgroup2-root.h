/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where the cgroup2 hierarchy is mounted, found one way for every part:
 * /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
 * one (v1 controllers beside it).  The core discovers it once and hands
 * the result to plugins as their "cgroup-root"; this file is the only
 * place that knows the two candidates.  Plain C (no GLib), so a plugin
 * can compile it in. */
#pragma once

#include <stdbool.h>

typedef enum Cgroup2Layout {
        CGROUP2_UNIFIED,           /* cgroup2 at /sys/fs/cgroup */
        CGROUP2_HYBRID,            /* cgroup2 at /sys/fs/cgroup/unified, v1 controllers beside it */
        CGROUP2_ELSEWHERE,         /* a configured root that is neither */
} Cgroup2Layout;

/* True when `path` is a directory on a cgroup2 file system. */
bool cgroup2_is_dir(const char *path);

/* The cgroup2 mount point; *ret_root is malloc'd (free() it).  -ENOENT
 * when neither candidate is a cgroup2 mount, -ENOMEM. */
int cgroup2_root_discover(char **ret_root);

/* Which of the known places `root` is (trailing slashes ignored). */
Cgroup2Layout cgroup2_layout_of(const char *root);
