/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fd-census.h"

/* A descriptor is named by its number and target.  The verdict is the
 * count (a plugin may replace a connection by another); the names say
 * which descriptors are new. */
struct FdCensus {
        GHashTable *fds;           /* "N -> target" -> NULL */
        unsigned count;
};

/* Names shown per message; the count says how many more there were. */
#define FD_CENSUS_SHOWN_MAX 8

void fd_census_free(FdCensus *census) {
        if (!census)
                return;
        if (census->fds)
                g_hash_table_unref(census->fds);
        g_free(census);
}

int fd_census_take(FdCensus **ret) {
        g_autoptr(FdCensus) c = g_new0(FdCensus, 1);
        c->fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        int self = dirfd(d);
        for (struct dirent *e; (e = readdir(d));) {
                char *end;
                long fd = strtol(e->d_name, &end, 10);
                if (e->d_name[0] == '.' || *end || fd == self)
                        continue;
                char target[512];
                ssize_t n = readlinkat(self, e->d_name, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = 0;
                g_hash_table_add(c->fds, g_strdup_printf("%ld -> %s", fd, n < 0 ? "?" : target));
                c->count++;
        }
        closedir(d);
        *ret = g_steal_pointer(&c);
        return 0;
}

unsigned fd_census_count(const FdCensus *census) {
        return census->count;
}

static int fd_census_compare(gconstpointer a, gconstpointer b) {
        return atoi(*(const char *const *) a) - atoi(*(const char *const *) b);
}

char *fd_census_diff(const FdCensus *before, const FdCensus *after) {
        g_autoptr(GPtrArray) extra = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;

        if (after->count <= before->count)
                return NULL;
        g_hash_table_iter_init(&it, after->fds);
        while (g_hash_table_iter_next(&it, &key, NULL))
                if (!g_hash_table_contains(before->fds, key))
                        g_ptr_array_add(extra, key);
        g_ptr_array_sort(extra, fd_census_compare);

        unsigned n = after->count - before->count;
        GString *msg = g_string_new(NULL);
        g_string_append_printf(msg, "%u descriptor%s left open:", n, n == 1 ? "" : "s");
        for (guint i = 0; i < extra->len && i < FD_CENSUS_SHOWN_MAX; i++)
                g_string_append_printf(msg, "%s %s", i ? "," : "", (const char *) extra->pdata[i]);
        if (extra->len > FD_CENSUS_SHOWN_MAX)
                g_string_append_printf(msg, " (and %u more)", extra->len - FD_CENSUS_SHOWN_MAX);
        return g_string_free(msg, FALSE);
}
