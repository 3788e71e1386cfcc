/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "strv-util.h"

char **strv_split_list(const char *list, const char *seps) {
        g_auto(GStrv) parts = g_strsplit_set(list ? list : "", seps, -1);
        GPtrArray *out = g_ptr_array_new();
        for (char **p = parts; *p; p++) {
                char *item = g_strstrip(*p);
                if (*item)
                        g_ptr_array_add(out, g_strdup(item));
        }
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(out, FALSE);
}

bool string_is_name(const char *s, size_t max, const char *extra) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > max)
                return false;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr(extra, *p))
                        return false;
        return true;
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}
