/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* System paths refused as guest resources, skip-paths= prefixes. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "label-path.h"

bool label_path_has_prefix(const char *path, const char *prefix) {
        size_t n = strlen(prefix);
        while (n > 1 && prefix[n - 1] == '/')
                n--;
        if (n == 1 && prefix[0] == '/')
                return path[0] == '/';
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Labelling anything under these (or the directory itself) would hand a
 * guest the host: refused, whatever the file is. */
static const char *const label_system_dirs[] = {
        "/etc", "/usr", "/boot", "/proc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
        "/root", "/var/lib/dpkg", "/var/log", "/sys", "/dev", NULL,
};

const char *label_path_refusal(const char *path, mode_t mode) {
        if (path[0] != '/')
                return "not an absolute path";
        if (strcmp(path, "/") == 0)
                return "the root directory";
        bool device = S_ISCHR(mode) || S_ISBLK(mode);
        for (size_t i = 0; label_system_dirs[i]; i++) {
                const char *dir = label_system_dirs[i];
                if (!label_path_has_prefix(path, dir))
                        continue;
                /* A device node a resource names is what the resource is for. */
                if (device && (strcmp(dir, "/dev") == 0 || strcmp(dir, "/sys") == 0))
                        return NULL;
                /* /dev/shm and /run/user are tmpfs scratch, not the system. */
                if (strcmp(dir, "/dev") == 0 && label_path_has_prefix(path, "/dev/shm") && strcmp(path, "/dev/shm") != 0)
                        return NULL;
                if (strcmp(path, dir) == 0)
                        return "a system directory";
                return "inside a system directory";
        }
        return NULL;
}

const char *label_file_refusal(const char *path, const struct stat *st) {
        const char *why = label_path_refusal(path, st->st_mode);
        if (!why && S_ISREG(st->st_mode) && st->st_nlink > 1)
                why = "a file with more than one hard link (another name of it may be a system file)";
        return why;
}

bool label_path_is_shipped(const char *path, mode_t mode) {
        return S_ISREG(mode) && (label_path_has_prefix(path, "/usr") || label_path_has_prefix(path, "/boot"));
}

bool label_path_skipped(const char *list, const char *path, char **ret_prefix) {
        if (!list)
                return false;
        g_auto(GStrv) prefixes = g_strsplit_set(list, ":,", -1);
        for (size_t i = 0; prefixes[i]; i++) {
                char *p = g_strstrip(prefixes[i]);
                if (p[0] == '/' && label_path_has_prefix(path, p)) {
                        if (ret_prefix)
                                *ret_prefix = g_strdup(p);
                        return true;
                }
        }
        return false;
}
