/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup2-root.h"

static const char *const cgroup2_candidates[] = {
        [CGROUP2_UNIFIED] = "/sys/fs/cgroup",
        [CGROUP2_HYBRID] = "/sys/fs/cgroup/unified",
};

bool cgroup2_is_dir(const char *path) {
        struct statfs sfs;
        struct stat st;
        return statfs(path, &sfs) == 0 && (unsigned long) sfs.f_type == CGROUP2_SUPER_MAGIC &&
               stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cgroup2_root_discover(char **ret_root) {
        for (size_t i = 0; i < sizeof(cgroup2_candidates) / sizeof(cgroup2_candidates[0]); i++)
                if (cgroup2_is_dir(cgroup2_candidates[i])) {
                        *ret_root = strdup(cgroup2_candidates[i]);
                        return *ret_root ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

Cgroup2Layout cgroup2_layout_of(const char *root) {
        size_t len = strlen(root);
        while (len > 1 && root[len - 1] == '/')
                len--;
        for (size_t i = 0; i < sizeof(cgroup2_candidates) / sizeof(cgroup2_candidates[0]); i++)
                if (strlen(cgroup2_candidates[i]) == len && strncmp(cgroup2_candidates[i], root, len) == 0)
                        return (Cgroup2Layout) i;
        return CGROUP2_ELSEWHERE;
}
