/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "util/fd-util.h"
#include "snapshot.h"

#define SNAPSHOT_DEPTH_MAX 32
#define SNAPSHOT_PROGS_MAX 64
/* Differences spelled out in one message; the rest are counted. */
#define SNAPSHOT_SHOWN_MAX 6
#define SNAPSHOT_VALUE_SHOWN_MAX 48

struct SnapshotScope {
        GPtrArray *trees;
        GPtrArray *paths;
        GPtrArray *cgroups;
};

typedef struct SnapshotProg {
        uint32_t id;
        char name[BPF_OBJ_NAME_LEN];
} SnapshotProg;

typedef struct SnapshotEntry {
        bool exists;
        bool is_cgroup;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        dev_t rdev;
        off_t size;
        GHashTable *xattrs;        /* name -> GBytes */
        int progs_error;           /* -errno when the programs could not be queried */
        GArray *progs;             /* SnapshotProg, ascending ids */
} SnapshotEntry;

struct Snapshot {
        GHashTable *entries;       /* path -> SnapshotEntry */
};

SnapshotScope *snapshot_scope_new(void) {
        SnapshotScope *s = g_new0(SnapshotScope, 1);
        s->trees = g_ptr_array_new_with_free_func(g_free);
        s->paths = g_ptr_array_new_with_free_func(g_free);
        s->cgroups = g_ptr_array_new_with_free_func(g_free);
        return s;
}

void snapshot_scope_free(SnapshotScope *scope) {
        if (!scope)
                return;
        g_ptr_array_unref(scope->trees);
        g_ptr_array_unref(scope->paths);
        g_ptr_array_unref(scope->cgroups);
        g_free(scope);
}

void snapshot_scope_add_tree(SnapshotScope *scope, const char *path) {
        g_ptr_array_add(scope->trees, g_strdup(path));
}

void snapshot_scope_add_path(SnapshotScope *scope, const char *path) {
        g_ptr_array_add(scope->paths, g_strdup(path));
}

void snapshot_scope_add_cgroup(SnapshotScope *scope, const char *path) {
        g_ptr_array_add(scope->cgroups, g_strdup(path));
}

static void snapshot_entry_free(SnapshotEntry *e) {
        if (!e)
                return;
        if (e->xattrs)
                g_hash_table_unref(e->xattrs);
        if (e->progs)
                g_array_unref(e->progs);
        g_free(e);
}

void snapshot_free(Snapshot *snapshot) {
        if (!snapshot)
                return;
        g_hash_table_unref(snapshot->entries);
        g_free(snapshot);
}

/* ---- Recording --------------------------------------------------------- */

static int snapshot_read_xattrs(const char *path, GHashTable *xattrs) {
        ssize_t n = llistxattr(path, NULL, 0);
        if (n < 0)
                return errno == ENOTSUP || errno == ENOENT ? 0 : -errno;
        g_autofree char *names = g_malloc(n + 1);
        n = llistxattr(path, names, n);
        if (n < 0)
                return -errno;
        for (char *name = names; name < names + n; name += strlen(name) + 1) {
                ssize_t len = lgetxattr(path, name, NULL, 0);
                if (len < 0)
                        continue; /* removed meanwhile, or not readable by us */
                g_autofree char *value = g_malloc(len + 1);
                len = lgetxattr(path, name, value, len);
                if (len < 0)
                        continue;
                g_hash_table_insert(xattrs, g_strdup(name), g_bytes_new(value, len));
        }
        return 0;
}

static int snapshot_prog_compare(gconstpointer a, gconstpointer b) {
        uint32_t x = ((const SnapshotProg *) a)->id, y = ((const SnapshotProg *) b)->id;
        return x < y ? -1 : x > y;
}

/* The device programs attached to the cgroup itself (not inherited). */
static int snapshot_read_progs(const char *path, GArray *progs) {
        uint32_t ids[SNAPSHOT_PROGS_MAX], count = SNAPSHOT_PROGS_MAX, flags = 0;

        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = bpf_prog_query(fd, BPF_CGROUP_DEVICE, 0, &flags, ids, &count);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < count; i++) {
                SnapshotProg p = { .id = ids[i] };
                _cleanup_close_ int prog = bpf_prog_get_fd_by_id(ids[i]);
                struct bpf_prog_info info = {};
                uint32_t len = sizeof(info);
                if (prog >= 0 && bpf_obj_get_info_by_fd(prog, &info, &len) == 0)
                        g_strlcpy(p.name, info.name, sizeof(p.name));
                g_array_append_val(progs, p);
        }
        g_array_sort(progs, snapshot_prog_compare);
        return 0;
}

static int snapshot_record(Snapshot *s, const char *path, bool cgroup, SnapshotEntry **ret) {
        SnapshotEntry *e = g_new0(SnapshotEntry, 1);
        struct stat st;
        int r = 0;

        e->is_cgroup = cgroup;
        e->xattrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
        g_hash_table_replace(s->entries, g_strdup(path), e);
        if (ret)
                *ret = e;
        if (lstat(path, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;

        e->exists = true;
        e->mode = st.st_mode;
        e->uid = st.st_uid;
        e->gid = st.st_gid;
        e->rdev = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? st.st_rdev : 0;
        e->size = S_ISREG(st.st_mode) ? st.st_size : 0;
        r = snapshot_read_xattrs(path, e->xattrs);
        if (r < 0)
                return r;
        if (cgroup && S_ISDIR(st.st_mode)) {
                e->progs = g_array_new(FALSE, TRUE, sizeof(SnapshotProg));
                e->progs_error = snapshot_read_progs(path, e->progs);
        }
        return 0;
}

/* Records `dir`'s entries; below them too when `depth` allows.  cgroup
 * trees hold only directories: their files are the kernel's interface. */
static int snapshot_walk(Snapshot *s, const char *dir, bool cgroup, unsigned depth) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        if (!d)
                return 0; /* absent or not a directory: recorded as such already */

        for (const char *name; (name = g_dir_read_name(d));) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                SnapshotEntry *e;
                struct stat st;

                if (cgroup && (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
                        continue;
                int r = snapshot_record(s, path, cgroup, &e);
                if (r < 0)
                        return r;
                if (depth > 0 && e->exists && S_ISDIR(e->mode)) {
                        r = snapshot_walk(s, path, cgroup, depth - 1);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int snapshot_take(const SnapshotScope *scope, Snapshot **ret) {
        g_autoptr(Snapshot) s = g_new0(Snapshot, 1);
        int r = 0;

        s->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) snapshot_entry_free);
        for (guint i = 0; r >= 0 && i < scope->paths->len; i++) {
                r = snapshot_record(s, scope->paths->pdata[i], false, NULL);
                if (r >= 0)
                        r = snapshot_walk(s, scope->paths->pdata[i], false, 0);
        }
        for (guint i = 0; r >= 0 && i < scope->trees->len; i++) {
                r = snapshot_record(s, scope->trees->pdata[i], false, NULL);
                if (r >= 0)
                        r = snapshot_walk(s, scope->trees->pdata[i], false, SNAPSHOT_DEPTH_MAX);
        }
        for (guint i = 0; r >= 0 && i < scope->cgroups->len; i++) {
                r = snapshot_record(s, scope->cgroups->pdata[i], true, NULL);
                if (r >= 0)
                        r = snapshot_walk(s, scope->cgroups->pdata[i], true, SNAPSHOT_DEPTH_MAX);
        }
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&s);
        return 0;
}

/* ---- Comparing --------------------------------------------------------- */

static const char *snapshot_type_name(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFREG: return "regular file";
        case S_IFDIR: return "directory";
        case S_IFLNK: return "symlink";
        case S_IFCHR: return "character device";
        case S_IFBLK: return "block device";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "socket";
        default: return "file of unknown type";
        }
}

/* An xattr value for people: quoted text when it is text, else hex. */
static char *snapshot_format_value(GBytes *value) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(value, &len);
        gsize text = len > 0 && p[len - 1] == 0 ? len - 1 : len;
        bool printable = true;

        for (gsize i = 0; i < text; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                        printable = false;
        if (printable)
                return g_strdup_printf("'%.*s%s'", (int) MIN(text, SNAPSHOT_VALUE_SHOWN_MAX), (const char *) p,
                                       text > SNAPSHOT_VALUE_SHOWN_MAX ? "..." : "");
        GString *hex = g_string_new("0x");
        for (gsize i = 0; i < len && i < 16; i++)
                g_string_append_printf(hex, "%02x", p[i]);
        g_string_append_printf(hex, "%s (%zu bytes)", len > 16 ? "..." : "", (size_t) len);
        return g_string_free(hex, FALSE);
}

static int snapshot_compare_keys(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The keys of both tables, sorted: parents come before their children. */
static GPtrArray *snapshot_sorted_union(GHashTable *a, GHashTable *b) {
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        GPtrArray *keys = g_ptr_array_new();
        GHashTable *tables[] = { a, b };

        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
                GHashTableIter it;
                gpointer key;
                g_hash_table_iter_init(&it, tables[t]);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        if (g_hash_table_add(seen, key))
                                g_ptr_array_add(keys, key);
        }
        g_ptr_array_sort(keys, snapshot_compare_keys);
        return keys;
}

static void snapshot_diff_xattrs(const char *what, GHashTable *a, GHashTable *b, GPtrArray *out) {
        g_autoptr(GPtrArray) names = snapshot_sorted_union(a, b);

        for (guint i = 0; i < names->len; i++) {
                const char *name = names->pdata[i];
                GBytes *va = g_hash_table_lookup(a, name), *vb = g_hash_table_lookup(b, name);
                g_autofree char *sa = va ? snapshot_format_value(va) : NULL;
                g_autofree char *sb = vb ? snapshot_format_value(vb) : NULL;

                if (va && !vb)
                        g_ptr_array_add(out, g_strdup_printf("%s xattr %s was removed (was %s)", what, name, sa));
                else if (!va && vb)
                        g_ptr_array_add(out, g_strdup_printf("%s xattr %s appeared (%s)", what, name, sb));
                else if (!g_bytes_equal(va, vb))
                        g_ptr_array_add(out, g_strdup_printf("%s xattr %s changed %s -> %s", what, name, sa, sb));
        }
}

static bool snapshot_has_prog(GArray *progs, uint32_t id) {
        for (guint i = 0; i < progs->len; i++)
                if (g_array_index(progs, SnapshotProg, i).id == id)
                        return true;
        return false;
}

static void snapshot_diff_progs(const char *what, GArray *a, GArray *b, GPtrArray *out) {
        for (guint i = 0; i < a->len; i++) {
                const SnapshotProg *p = &g_array_index(a, SnapshotProg, i);
                if (!snapshot_has_prog(b, p->id))
                        g_ptr_array_add(out, g_strdup_printf("%s device program %" PRIu32 " '%s' was detached",
                                                             what, p->id, p->name));
        }
        for (guint i = 0; i < b->len; i++) {
                const SnapshotProg *p = &g_array_index(b, SnapshotProg, i);
                if (!snapshot_has_prog(a, p->id))
                        g_ptr_array_add(out, g_strdup_printf("%s device program %" PRIu32 " '%s' is attached",
                                                             what, p->id, p->name));
        }
}

/* Differences of one path that exists on both sides. */
static void snapshot_diff_entry(const char *what, const SnapshotEntry *a, const SnapshotEntry *b,
                                GPtrArray *out) {
        if ((a->mode & S_IFMT) != (b->mode & S_IFMT)) {
                g_ptr_array_add(out, g_strdup_printf("%s changed from a %s to a %s", what,
                                                     snapshot_type_name(a->mode), snapshot_type_name(b->mode)));
                return;
        }
        if (a->uid != b->uid || a->gid != b->gid)
                g_ptr_array_add(out, g_strdup_printf("%s owner changed %u:%u -> %u:%u", what, (unsigned) a->uid,
                                                     (unsigned) a->gid, (unsigned) b->uid, (unsigned) b->gid));
        if ((a->mode & 07777) != (b->mode & 07777))
                g_ptr_array_add(out, g_strdup_printf("%s mode changed %04o -> %04o", what,
                                                     (unsigned) (a->mode & 07777), (unsigned) (b->mode & 07777)));
        if (a->rdev != b->rdev)
                g_ptr_array_add(out, g_strdup_printf("%s device changed %u:%u -> %u:%u", what,
                                                     major(a->rdev), minor(a->rdev), major(b->rdev), minor(b->rdev)));
        if (a->size != b->size)
                g_ptr_array_add(out, g_strdup_printf("%s size changed %jd -> %jd", what, (intmax_t) a->size,
                                                     (intmax_t) b->size));
        snapshot_diff_xattrs(what, a->xattrs, b->xattrs, out);
        if (a->progs && b->progs && a->progs_error == 0 && b->progs_error == 0)
                snapshot_diff_progs(what, a->progs, b->progs, out);
}

static bool path_is_at_or_below(const char *path, const char *top) {
        size_t n = strlen(top);
        while (n > 1 && top[n - 1] == '/')
                n--;
        return strncmp(path, top, n) == 0 && (path[n] == 0 || path[n] == '/');
}

char *snapshot_diff(const Snapshot *before, const Snapshot *after, const char *ignore) {
        g_autoptr(GPtrArray) paths = snapshot_sorted_union(before->entries, after->entries);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        /* Paths that appeared or vanished: their children are not listed again. */
        g_autoptr(GHashTable) moved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        static const SnapshotEntry absent = {};

        for (guint i = 0; i < paths->len; i++) {
                const char *path = paths->pdata[i];
                const SnapshotEntry *a = g_hash_table_lookup(before->entries, path);
                const SnapshotEntry *b = g_hash_table_lookup(after->entries, path);
                a = a ? a : &absent;
                b = b ? b : &absent;
                if (ignore && path_is_at_or_below(path, ignore))
                        continue;

                bool cgroup = a->is_cgroup || b->is_cgroup;
                g_autofree char *what = g_strdup_printf("%s%s", cgroup ? "cgroup " : "", path);
                if (a->exists == b->exists) {
                        if (a->exists)
                                snapshot_diff_entry(what, a, b, out);
                        continue;
                }
                g_autofree char *parent = g_path_get_dirname(path);
                bool shown = !g_hash_table_contains(moved, parent);
                g_hash_table_add(moved, g_strdup(path));
                if (shown)
                        g_ptr_array_add(out, g_strdup_printf("%s %s", what, b->exists ? "appeared" : "was removed"));
        }
        if (out->len == 0)
                return NULL;

        GString *msg = g_string_new(NULL);
        for (guint i = 0; i < out->len && i < SNAPSHOT_SHOWN_MAX; i++)
                g_string_append_printf(msg, "%s%s", i ? "; " : "", (const char *) out->pdata[i]);
        if (out->len > SNAPSHOT_SHOWN_MAX)
                g_string_append_printf(msg, " (and %u more)", out->len - SNAPSHOT_SHOWN_MAX);
        return g_string_free(msg, FALSE);
}
