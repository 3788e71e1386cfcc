/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-root.h"
#include "util/cgroup2-root.h"
#include "dev-error.h"

const char *cgroup_mode_to_string(CgroupMode mode) {
        switch (mode) {
        case CGROUP_MODE_UNIFIED: return "unified";
        case CGROUP_MODE_HYBRID: return "hybrid";
        default: return "configured";
        }
}

bool cgroup_root_is_cgroup2(const char *path) {
        return cgroup2_is_dir(path);
}

/* The mode a root stands for: where it sits, whoever named it. */
static CgroupMode cgroup_mode_of(const char *root) {
        switch (cgroup2_layout_of(root)) {
        case CGROUP2_UNIFIED: return CGROUP_MODE_UNIFIED;
        case CGROUP2_HYBRID: return CGROUP_MODE_HYBRID;
        default: return CGROUP_MODE_CONFIGURED;
        }
}

int cgroup_root_discover(const char *configured, char **ret_root, CgroupMode *ret_mode, DevError *reterr) {
        char *root = NULL;

        if (configured && *configured) {
                if (configured[0] != '/')
                        return dev_error_set(reterr, EINVAL, "cgroup root '%s': not an absolute path", configured);
                if (!cgroup2_is_dir(configured))
                        return dev_error_set(reterr, ENOTDIR, "cgroup root '%s': not a cgroup2 directory", configured);
                root = strdup(configured);
                if (!root)
                        return -ENOMEM;
        } else {
                /* Only without a core (the plugin's own tests and benchmark):
                 * the core always hands its root over as "cgroup-root". */
                int r = cgroup2_root_discover(&root);
                if (r == -ENOENT)
                        return dev_error_set(reterr, ENOMEDIUM,
                                             "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified (set cgroup-root)");
                if (r < 0)
                        return r;
        }
        size_t len = strlen(root);
        while (len > 1 && root[len - 1] == '/')
                root[--len] = '\0';
        if (ret_mode)
                *ret_mode = cgroup_mode_of(root);
        *ret_root = root;
        return 0;
}

bool cgroup_root_contains(const char *root, const char *path) {
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        if (strncmp(root, path, n) != 0)
                return false;
        return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

/* True when a component of `path` is "." or "..". */
static bool path_has_dot_component(const char *path) {
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return true;
                p += len;
                while (*p == '/')
                        p++;
        }
        return false;
}

int cgroup_root_resolve(const char *root, const char *name, char **ret_path, DevError *reterr) {
        char *path;
        size_t len;

        if (!name || !*name)
                return dev_error_set(reterr, EINVAL, "cgroup name is empty");
        if (path_has_dot_component(name))
                return dev_error_set(reterr, EINVAL, "cgroup '%s': '.' and '..' components are not allowed", name);
        if (name[0] == '/') {
                if (!cgroup_root_contains(root, name))
                        return dev_error_set(reterr, EINVAL, "cgroup '%s': not below the cgroup2 root '%s'", name,
                                             root);
                path = strdup(name);
        } else if (asprintf(&path, "%s/%s", root, name) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;
        /* Collapse repeated and trailing slashes. */
        char *w = path;
        for (const char *r = path; *r; r++)
                if (!(*r == '/' && w > path && w[-1] == '/'))
                        *w++ = *r;
        *w = '\0';
        len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
                path[--len] = '\0';
        if (!cgroup_root_is_cgroup2(path)) {
                int r = access(path, F_OK) < 0 ? -errno : -ENOTDIR;
                if (r == -ENOENT)
                        r = dev_error_set(reterr, ENOENT, "cgroup '%s': no such cgroup", path);
                else
                        r = dev_error_set(reterr, r, "cgroup '%s': not a cgroup2 directory", path);
                free(path);
                return r;
        }
        *ret_path = path;
        return 0;
}

int cgroup_root_mkdir(const char *root, const char *path, DevError *reterr) {
        char buf[PATH_MAX];
        size_t rootlen = strlen(root);

        if (!cgroup_root_contains(root, path) || strlen(path) >= sizeof(buf) || path_has_dot_component(path))
                return dev_error_set(reterr, EINVAL, "cgroup '%s': not a cgroup below '%s'", path, root);
        strcpy(buf, path);
        for (char *p = buf + rootlen + 1; p < buf + strlen(path); p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return dev_error_set(reterr, errno, "cgroup '%s': cannot create: %m", buf);
                *p = '/';
        }
        if (mkdir(path, 0755) < 0) {
                if (errno == EEXIST)
                        return 0;
                return dev_error_set(reterr, errno, "cgroup '%s': cannot create: %m", path);
        }
        return 1;
}
