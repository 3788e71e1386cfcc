/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding the cgroup2 hierarchy and naming cgroups inside it. */
#pragma once

#include <stdbool.h>

#include "dev-error.h" /* DevError */

typedef enum CgroupMode {
        CGROUP_MODE_UNIFIED,       /* cgroup2 at /sys/fs/cgroup */
        CGROUP_MODE_HYBRID,        /* cgroup2 at /sys/fs/cgroup/unified, v1 controllers beside it */
        CGROUP_MODE_CONFIGURED,    /* configured, somewhere else */
} CgroupMode;

const char *cgroup_mode_to_string(CgroupMode mode);

/* The cgroup2 root: `configured` when non-NULL (it must be a cgroup2
 * directory; the core always hands its root over), else found by
 * util/cgroup2-root.c.  The mode says where the root sits.  *ret_root is
 * malloc'd. */
int cgroup_root_discover(const char *configured, char **ret_root, CgroupMode *ret_mode, DevError *reterr);

/* True when `path` is a directory on a cgroup2 file system. */
bool cgroup_root_is_cgroup2(const char *path);

/* Resolves a cgroup named on a command line: a path relative to `root`,
 * or an absolute path that lies below (or is) `root`.  "." and ".."
 * components are refused; the cgroup must exist.  *ret_path is malloc'd. */
int cgroup_root_resolve(const char *root, const char *name, char **ret_path, DevError *reterr);

/* True when `path` is `root` or lies below it, compared by component. */
bool cgroup_root_contains(const char *root, const char *path);

/* Creates `path` (and missing parents below `root`).  Returns 1 when `path`
 * itself was created, 0 when it already existed. */
int cgroup_root_mkdir(const char *root, const char *path, DevError *reterr);
