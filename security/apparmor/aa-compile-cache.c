/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "aa-compile-cache.h"

static void cache_add_stat(GChecksum *sum, const char *path) {
        struct stat st;
        g_autofree char *line = NULL;
        if (stat(path, &st) < 0)
                line = g_strdup_printf("%s -\n", path);
        else
                line = g_strdup_printf("%s %llu %llu %lld.%09ld\n", path, (unsigned long long) st.st_ino,
                                       (unsigned long long) st.st_size, (long long) st.st_mtim.tv_sec,
                                       st.st_mtim.tv_nsec);
        g_checksum_update(sum, (const guchar *) line, -1);
}

static int cache_name_order(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Every entry below `dir`, in name order, with what stat says of it. */
static void cache_add_tree(GChecksum *sum, const char *dir, int depth) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        cache_add_stat(sum, dir);
        if (!d || depth > 8)
                return;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (const char *n; (n = g_dir_read_name(d));)
                g_ptr_array_add(names, g_strdup(n));
        g_ptr_array_sort(names, cache_name_order);
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
                if (g_file_test(path, G_FILE_TEST_IS_DIR))
                        cache_add_tree(sum, path, depth + 1);
                else
                        cache_add_stat(sum, path);
        }
}

char *aa_compile_cache_key(const AaParser *parser, const char *profile_dir, const char *text) {
        static const char *const system_dirs[] = { "/etc/apparmor.d/abi", "/etc/apparmor.d/tunables",
                                                   "/etc/apparmor.d/abstractions", "/etc/apparmor.d/local", NULL };
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree char *boot = NULL, *local = g_build_filename(profile_dir, "local", NULL);

        g_checksum_update(sum, (const guchar *) text, -1);
        g_checksum_update(sum, (const guchar *) "\0", 1);
        cache_add_stat(sum, parser->parser);
        if (parser->features)
                cache_add_stat(sum, parser->features);
        if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL))
                g_checksum_update(sum, (const guchar *) boot, -1);
        for (size_t i = 0; system_dirs[i]; i++)
                cache_add_tree(sum, system_dirs[i], 0);
        if (parser->include_dir)
                cache_add_tree(sum, parser->include_dir, 0);
        cache_add_tree(sum, local, 0);
        return g_strdup(g_checksum_get_string(sum));
}

bool aa_compile_cache_has(const char *dir, const char *key) {
        g_autofree char *path = g_build_filename(dir, key, NULL);
        if (access(path, F_OK) < 0)
                return false;
        (void) utimensat(AT_FDCWD, path, NULL, 0);
        return true;
}

typedef struct CacheEntry {
        char *path;
        struct timespec used;
} CacheEntry;

static int cache_entry_order(gconstpointer a, gconstpointer b) {
        const CacheEntry *x = a, *y = b;
        if (x->used.tv_sec != y->used.tv_sec)
                return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Keeps the AA_COMPILE_CACHE_MAX most recently used entries. */
static void cache_prune(const char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(CacheEntry));
        if (!d)
                return;
        for (const char *n; (n = g_dir_read_name(d));) {
                CacheEntry e = { .path = g_build_filename(dir, n, NULL) };
                struct stat st;
                if (n[0] == '.' || stat(e.path, &st) < 0) {
                        g_free(e.path);
                        continue;
                }
                e.used = st.st_mtim;
                g_array_append_val(entries, e);
        }
        g_array_sort(entries, cache_entry_order);
        for (guint i = 0; i < entries->len; i++) {
                CacheEntry *e = &g_array_index(entries, CacheEntry, i);
                if (entries->len - i > AA_COMPILE_CACHE_MAX)
                        (void) unlink(e->path);
                g_free(e->path);
        }
}

void aa_compile_cache_add(const char *dir, const char *key) {
        g_autofree char *path = g_build_filename(dir, key, NULL);
        /* Only below a state directory that exists: never a chain of
         * directories of its own. */
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return;
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        close(fd);
        cache_prune(dir);
}
