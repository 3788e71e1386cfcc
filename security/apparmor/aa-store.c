/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "aa-store.h"
#include "util/fd-util.h"
#include "util/strv-util.h"

int aa_store_read(const char *path, char **ret_text, BwError *reterr) {
        g_autoptr(GError) gerr = NULL;
        gsize len;

        *ret_text = NULL;
        if (!g_file_get_contents(path, ret_text, &len, &gerr)) {
                int code = gerr->domain == G_FILE_ERROR && gerr->code == G_FILE_ERROR_NOENT ? -ENOENT : -EIO;
                return error_set(reterr, code, "profile file '%s': cannot read: %s", path, gerr->message);
        }
        return 0;
}

static char *store_temp_name(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path), *base = g_path_get_basename(path);
        return g_strdup_printf("%s/.%s.tmp-%d", dir, base, (int) getpid());
}

int aa_store_temp(const char *path, const char *text, char **ret_temp, BwError *reterr) {
        g_autofree char *tmp = store_temp_name(path);

        (void) unlink(tmp);        /* left by a killed process of the same pid */
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return error_set(reterr, -errno, "profile file '%s': cannot create: %m", tmp);
        int r = write_all(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return error_set(reterr, r, "profile file '%s': cannot write: %m", tmp);
        }
        *ret_temp = g_steal_pointer(&tmp);
        return 0;
}

int aa_store_replace(const char *path, const char *text, bool *ret_changed, BwError *reterr) {
        g_autofree char *old = NULL, *tmp = NULL;

        if (ret_changed)
                *ret_changed = false;
        if (aa_store_read(path, &old, NULL) == 0 && strcmp(old, text) == 0)
                return 0;
        int r = aa_store_temp(path, text, &tmp, reterr);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return error_set(reterr, r, "profile file '%s': cannot replace: %m", path);
        }
        if (ret_changed)
                *ret_changed = true;
        return 0;
}

int aa_store_remove(const char *path, BwError *reterr) {
        if (unlink(path) < 0 && errno != ENOENT)
                return error_set(reterr, -errno, "profile file '%s': cannot remove: %m", path);
        return 0;
}
