/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "lock-table.h"

/* The byte every bulwark and libvirt metadata lock covers. */
#define LOCK_BYTE 1

typedef enum LockKind {
        LOCK_KIND_FILE,            /* regular file: OFD lock on byte 1 */
        LOCK_KIND_TABLE,           /* directory, device node, FIFO, socket */
        LOCK_KIND_MISSING,         /* locked by canonical name */
} LockKind;

typedef struct LockKey {
        uint64_t dev;
        uint64_t ino;
} LockKey;

typedef struct LockEntry {
        LockKey key;
        char *name;                /* MISSING: the canonical path, the key */
        LockKind kind;
        LockdMode mode;
        bool read_lock;            /* exclusive, but only a read lock could be taken */
        int fd;                    /* -1 for MISSING */
        char *path;                /* as first requested */
        GPtrArray *holds;          /* LockHold*, oldest first */
} LockEntry;

typedef struct LockHold {
        LockEntry *entry;
        LockOwner *owner;
        int64_t since;             /* wall clock, µs */
        int64_t since_mono;        /* CLOCK_MONOTONIC, µs: survives re-exec */
        GPtrArray *names;          /* one name per count; the last is the newest */
} LockHold;

struct LockTable {
        GHashTable *by_key;        /* LockKey* -> LockEntry* */
        GHashTable *by_name;       /* name -> LockEntry* (MISSING entries) */
};

static guint lock_key_hash(gconstpointer p) {
        const LockKey *k = p;
        uint64_t h = k->ino * 0x9e3779b97f4a7c15ull ^ k->dev;
        return (guint) (h ^ (h >> 32));
}

static gboolean lock_key_equal(gconstpointer a, gconstpointer b) {
        const LockKey *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

static void name_stack_free(gpointer p) {
        g_ptr_array_unref(p);
}

int lock_owner_new(uint32_t id, const char *name, uint32_t pid, uint32_t uid, LockOwner **ret) {
        LockOwner *o = g_new0(LockOwner, 1);
        o->id = id;
        o->name = g_strdup(name);
        o->pid = pid;
        o->uid = uid;
        o->holds = g_hash_table_new(g_direct_hash, g_direct_equal);
        o->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, name_stack_free);
        *ret = o;
        return 0;
}

void lock_owner_free(LockOwner *owner) {
        if (!owner)
                return;
        g_assert(g_hash_table_size(owner->holds) == 0);
        g_hash_table_unref(owner->holds);
        g_hash_table_unref(owner->names);
        g_free(owner->name);
        g_free(owner);
}

void lock_owner_set_name(LockOwner *owner, const char *name) {
        g_free(owner->name);
        owner->name = g_strdup(name);
}

size_t lock_owner_n_holds(const LockOwner *owner) {
        return g_hash_table_size(owner->holds);
}

void lock_failure_clear(LockFailure *failure) {
        g_clear_pointer(&failure->owner, g_free);
        g_clear_pointer(&failure->detail, g_free);
}

int lock_table_new(LockTable **ret) {
        LockTable *t = g_new0(LockTable, 1);
        t->by_key = g_hash_table_new(lock_key_hash, lock_key_equal);
        t->by_name = g_hash_table_new(g_str_hash, g_str_equal);
        *ret = t;
        return 0;
}

static void entry_free(LockEntry *e) {
        if (e->fd >= 0)
                close(e->fd);
        g_ptr_array_unref(e->holds);
        g_free(e->path);
        g_free(e->name);
        g_free(e);
}

static void table_remove_entry(LockTable *t, LockEntry *e) {
        if (e->kind == LOCK_KIND_MISSING)
                g_hash_table_remove(t->by_name, e->name);
        else
                g_hash_table_remove(t->by_key, &e->key);
        /* Closing the one descriptor drops the kernel lock. */
        entry_free(e);
}

static void table_insert_entry(LockTable *t, LockEntry *e) {
        if (e->kind == LOCK_KIND_MISSING)
                g_hash_table_insert(t->by_name, e->name, e);
        else
                g_hash_table_insert(t->by_key, &e->key, e);
}

void lock_table_free(LockTable *table) {
        GHashTableIter it;
        gpointer v;

        if (!table)
                return;
        /* Owners may outlive the table (the daemon frees them after); drop
         * their indexes of our holds first. */
        GHashTable *tables[] = { table->by_key, table->by_name };
        for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
                g_hash_table_iter_init(&it, tables[i]);
                while (g_hash_table_iter_next(&it, NULL, &v)) {
                        LockEntry *e = v;
                        for (size_t j = 0; j < e->holds->len; j++) {
                                LockHold *h = e->holds->pdata[j];
                                g_hash_table_remove(h->owner->holds, e);
                                g_hash_table_remove_all(h->owner->names);
                                g_ptr_array_unref(h->names);
                                g_free(h);
                        }
                        g_ptr_array_set_size(e->holds, 0);
                        g_hash_table_iter_steal(&it);
                        entry_free(e);
                }
                g_hash_table_unref(tables[i]);
        }
        g_free(table);
}

size_t lock_table_n_entries(const LockTable *table) {
        return g_hash_table_size(table->by_key) + g_hash_table_size(table->by_name);
}

/* ---- Holds ------------------------------------------------------------- */

static void name_stack_remove(LockOwner *o, const char *name, LockHold *h) {
        GPtrArray *stack = g_hash_table_lookup(o->names, name);
        if (!stack)
                return;
        for (size_t i = stack->len; i > 0; i--)
                if (stack->pdata[i - 1] == h) {
                        g_ptr_array_remove_index(stack, i - 1);
                        break;
                }
        if (stack->len == 0)
                g_hash_table_remove(o->names, name);
}

static void name_stack_push(LockOwner *o, const char *name, LockHold *h) {
        GPtrArray *stack = g_hash_table_lookup(o->names, name);
        if (!stack) {
                stack = g_ptr_array_new();
                g_hash_table_insert(o->names, g_strdup(name), stack);
        }
        g_ptr_array_add(stack, h);
}

static LockHold *hold_add(LockEntry *e, LockOwner *o, const char *name, int64_t since,
                          int64_t since_mono) {
        LockHold *h = g_hash_table_lookup(o->holds, e);
        if (!h) {
                h = g_new0(LockHold, 1);
                h->entry = e;
                h->owner = o;
                h->since = since;
                h->since_mono = since_mono;
                h->names = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(e->holds, h);
                g_hash_table_insert(o->holds, e, h);
        }
        g_ptr_array_add(h->names, g_strdup(name));
        name_stack_push(o, name, h);
        return h;
}

/* Frees the hold and, when it was the entry's last, the entry. */
static void hold_free(LockTable *t, LockHold *h) {
        LockEntry *e = h->entry;
        for (size_t i = 0; i < h->names->len; i++)
                name_stack_remove(h->owner, h->names->pdata[i], h);
        g_hash_table_remove(h->owner->holds, e);
        g_ptr_array_remove(e->holds, h);
        g_ptr_array_unref(h->names);
        g_free(h);
        if (e->holds->len == 0)
                table_remove_entry(t, e);
}

/* Drops one count of the hold, the one acquired as `name` (the newest
 * when name is NULL). */
static void hold_drop_one(LockTable *t, LockHold *h, const char *name) {
        size_t i = h->names->len;
        if (name)
                while (i > 0 && strcmp(h->names->pdata[i - 1], name) != 0)
                        i--;
        if (i == 0)
                i = h->names->len;
        if (h->names->len == 1) {
                hold_free(t, h);
                return;
        }
        name_stack_remove(h->owner, h->names->pdata[i - 1], h);
        g_ptr_array_remove_index(h->names, i - 1);
}

/* ---- Acquire ----------------------------------------------------------- */

typedef struct Candidate {
        size_t index;              /* in the request */
        LockKind kind;
        LockKey key;
        char *name;                /* MISSING: canonical path */
        int fd;
        bool read_only;
        LockEntry *entry;          /* already in the table */
        struct Candidate *same;    /* duplicate of this one */
} Candidate;

static int canonical_missing_name(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');
        const char *base = slash + 1;
        g_autofree char *dir = g_strndup(path, (size_t) (slash - path));
        char resolved[PATH_MAX];

        if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return -EINVAL;
        if (!realpath(*dir ? dir : "/", resolved))
                return -errno;
        *ret = g_strconcat(strcmp(resolved, "/") == 0 ? "" : resolved, "/", base, NULL);
        return 0;
}

static int candidate_resolve(Candidate *c, const char *path, LockdMode mode, bool allow_missing) {
        /* stat first: a device node must never be opened for real (a VFIO
         * group open claims the group; a block device closed after O_RDWR
         * makes udev rescan it).  fstat then proves the descriptor is the
         * file stat saw. */
        for (int attempt = 0; attempt < 3; attempt++) {
                struct stat st, fst;
                int fd;

                if (stat(path, &st) < 0) {
                        if (errno == ENOENT && allow_missing) {
                                c->kind = LOCK_KIND_MISSING;
                                return canonical_missing_name(path, &c->name);
                        }
                        return -errno;
                }
                c->read_only = false;
                if (S_ISREG(st.st_mode)) {
                        int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
                        if (mode == LOCKD_MODE_EXCLUSIVE) {
                                fd = open(path, flags | O_RDWR);
                                if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS ||
                                               errno == ETXTBSY)) {
                                        fd = open(path, flags | O_RDONLY);
                                        c->read_only = true;
                                }
                        } else
                                fd = open(path, flags | O_RDONLY);
                        c->kind = LOCK_KIND_FILE;
                } else {
                        fd = open(path, O_PATH | O_CLOEXEC);
                        c->kind = LOCK_KIND_TABLE;
                }
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (fstat(fd, &fst) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (fst.st_dev == st.st_dev && fst.st_ino == st.st_ino &&
                    (fst.st_mode & S_IFMT) == (st.st_mode & S_IFMT)) {
                        c->fd = fd;
                        c->key = (LockKey) { .dev = fst.st_dev, .ino = fst.st_ino };
                        return 0;
                }
                close(fd);
        }
        /* Replaced under us three times in a row. */
        return -ESTALE;
}

static int candidate_compare(const void *a, const void *b) {
        const Candidate *x = *(Candidate *const *) a, *y = *(Candidate *const *) b;
        bool xm = x->kind == LOCK_KIND_MISSING, ym = y->kind == LOCK_KIND_MISSING;
        if (xm != ym)
                return xm ? 1 : -1;
        if (xm)
                return strcmp(x->name, y->name);
        if (x->key.dev != y->key.dev)
                return x->key.dev < y->key.dev ? -1 : 1;
        if (x->key.ino != y->key.ino)
                return x->key.ino < y->key.ino ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static bool candidate_same_key(const Candidate *a, const Candidate *b) {
        if (a->kind == LOCK_KIND_MISSING || b->kind == LOCK_KIND_MISSING)
                return a->kind == b->kind && strcmp(a->name, b->name) == 0;
        return lock_key_equal(&a->key, &b->key);
}

static void candidates_free(Candidate *cands, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (cands[i].fd >= 0)
                        close(cands[i].fd);
                g_free(cands[i].name);
        }
        g_free(cands);
}

static char *proc_comm(uint32_t pid) {
        char path[64], buf[64] = "";
        snprintf(path, sizeof(path), "/proc/%u/comm", pid);
        FILE *f = fopen(path, "re");
        if (f) {
                if (fgets(buf, sizeof(buf), f))
                        buf[strcspn(buf, "\n")] = '\0';
                fclose(f);
        }
        return g_strdup(*buf ? buf : "?");
}

static void failure_from_entry(LockFailure *f, const LockEntry *e) {
        const LockHold *h = e->holds->pdata[0];
        f->owner = g_strdup(h->owner->name);
        f->pid = h->owner->pid;
        f->since = h->since;
        int64_t d = g_get_monotonic_time() - h->since_mono;
        f->held_for = d > 0 ? (uint64_t) d : 0;
        f->foreign = false;
        f->detail = g_strdup_printf("locked %s by '%s' (pid %u)",
                                    e->mode == LOCKD_MODE_SHARED ? "shared" : "exclusively",
                                    h->owner->name, h->owner->pid);
}

/* Byte 1 is held outside lockd: name the holder when the kernel can. */
static void failure_from_kernel(LockFailure *f, int fd, short type) {
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = LOCK_BYTE, .l_len = 1 };
        f->foreign = true;
        if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0) {
                g_autofree char *comm = proc_comm((uint32_t) fl.l_pid);
                f->pid = (uint32_t) fl.l_pid;
                f->detail = g_strdup_printf("byte 1 is locked by process %d (%s) outside lockd",
                                            fl.l_pid, comm);
        } else
                f->detail = g_strdup("byte 1 is locked outside lockd (an open file description of another process, another lockd, or another host on shared storage)");
}

static bool candidates_check_table(LockTable *t, Candidate **sorted, size_t n, LockdMode mode,
                                   LockFailure *failure) {
        bool names_held = g_hash_table_size(t->by_name) > 0;

        for (size_t i = 0; i < n; i++) {
                Candidate *c = sorted[i];
                LockEntry *e;
                if (c->same)
                        continue;
                if (c->kind == LOCK_KIND_MISSING)
                        e = g_hash_table_lookup(t->by_name, c->name);
                else
                        e = g_hash_table_lookup(t->by_key, &c->key);
                c->entry = e;
                /* A name lock taken on a path before its file existed still
                 * covers the file now there. */
                if (!e && names_held && c->kind != LOCK_KIND_MISSING) {
                        char proc[64], target[PATH_MAX];
                        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->fd);
                        ssize_t len = readlink(proc, target, sizeof(target) - 1);
                        if (len > 0) {
                                target[len] = '\0';
                                LockEntry *named = g_hash_table_lookup(t->by_name, target);
                                if (named) {
                                        failure->index = c->index;
                                        failure_from_entry(failure, named);
                                        return false;
                                }
                        }
                }
                if (e && (mode == LOCKD_MODE_EXCLUSIVE || e->mode == LOCKD_MODE_EXCLUSIVE)) {
                        failure->index = c->index;
                        failure_from_entry(failure, e);
                        return false;
                }
        }
        return true;
}

static int candidates_lock_kernel(Candidate **sorted, size_t n, LockdMode mode, LockFailure *failure) {
        for (size_t i = 0; i < n; i++) {
                Candidate *c = sorted[i];
                if (c->same || c->entry || c->kind != LOCK_KIND_FILE)
                        continue;
                short type = mode == LOCKD_MODE_EXCLUSIVE && !c->read_only ? F_WRLCK : F_RDLCK;
                struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = LOCK_BYTE, .l_len = 1 };
                if (fcntl(c->fd, F_OFD_SETLK, &fl) < 0) {
                        int r = -errno;
                        failure->index = c->index;
                        if (r == -EAGAIN || r == -EACCES) {
                                failure_from_kernel(failure, c->fd, type);
                                return -EBUSY;
                        }
                        return r;
                }
                /* Taken locks are rolled back by closing the candidates. */
        }
        return 0;
}

static void candidates_commit(LockTable *t, LockOwner *o, Candidate *cands, char *const *paths,
                              size_t n, LockdMode mode, LockPathResult *results) {
        int64_t now = g_get_real_time(), now_mono = g_get_monotonic_time();

        for (size_t i = 0; i < n; i++) {
                Candidate *c = &cands[i];
                Candidate *rep = c->same ? c->same : c;
                LockEntry *e = rep->entry;
                if (!c->same) {
                        if (!e) {
                                e = g_new0(LockEntry, 1);
                                e->key = c->key;
                                e->kind = c->kind;
                                e->mode = mode;
                                e->read_lock = c->read_only && mode == LOCKD_MODE_EXCLUSIVE;
                                e->fd = steal_fd(&c->fd);
                                e->name = g_steal_pointer(&c->name);
                                e->path = g_strdup(paths[i]);
                                e->holds = g_ptr_array_new();
                                table_insert_entry(t, e);
                                c->entry = e;
                        }
                        hold_add(e, o, paths[i], now, now_mono);
                }
                results[i] = (LockPathResult) {
                        .dev = e->key.dev,
                        .ino = e->key.ino,
                        .flags = (e->kind == LOCK_KIND_TABLE ? LOCKD_PATH_TABLE_ONLY : 0) |
                                 (e->kind == LOCK_KIND_MISSING ? LOCKD_PATH_MISSING : 0) |
                                 (e->read_lock ? LOCKD_PATH_READ_LOCK : 0) |
                                 (c->same ? LOCKD_PATH_DUPLICATE : 0),
                };
        }
}

int lock_table_acquire(LockTable *table, LockOwner *owner, char *const *paths, size_t n,
                       LockdMode mode, bool allow_missing, LockPathResult *results,
                       LockFailure *failure) {
        Candidate *cands = g_new0(Candidate, n);
        g_autofree Candidate **sorted = g_new(Candidate *, n);
        int r = 0;

        *failure = (LockFailure) {};
        for (size_t i = 0; i < n; i++) {
                cands[i].fd = -1;
                cands[i].index = i;
                sorted[i] = &cands[i];
        }
        for (size_t i = 0; i < n; i++) {
                r = candidate_resolve(&cands[i], paths[i], mode, allow_missing);
                if (r < 0) {
                        failure->index = i;
                        goto finish;
                }
        }
        /* One global order, duplicates removed: no two requests can hold
         * parts of each other's sets in opposite orders. */
        qsort(sorted, n, sizeof(*sorted), candidate_compare);
        for (size_t i = 1; i < n; i++)
                if (candidate_same_key(sorted[i - 1], sorted[i]))
                        sorted[i]->same = sorted[i - 1]->same ? sorted[i - 1]->same : sorted[i - 1];
        if (!candidates_check_table(table, sorted, n, mode, failure)) {
                r = -EBUSY;
                goto finish;
        }
        r = candidates_lock_kernel(sorted, n, mode, failure);
        if (r < 0)
                goto finish;
        candidates_commit(table, owner, cands, paths, n, mode, results);
finish:
        candidates_free(cands, n);
        return r;
}

/* ---- Release ----------------------------------------------------------- */

static LockHold *owner_find_hold_by_file(LockTable *t, LockOwner *o, const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return NULL;
        LockKey key = { .dev = st.st_dev, .ino = st.st_ino };
        LockEntry *e = g_hash_table_lookup(t->by_key, &key);
        return e ? g_hash_table_lookup(o->holds, e) : NULL;
}

size_t lock_table_release(LockTable *table, LockOwner *owner, char *const *paths, size_t n) {
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++) {
                GPtrArray *stack = g_hash_table_lookup(owner->names, paths[i]);
                if (stack) {
                        hold_drop_one(table, stack->pdata[stack->len - 1], paths[i]);
                        dropped++;
                        continue;
                }
                LockHold *h = owner_find_hold_by_file(table, owner, paths[i]);
                if (h) {
                        hold_drop_one(table, h, NULL);
                        dropped++;
                }
        }
        return dropped;
}

size_t lock_table_release_all(LockTable *table, LockOwner *owner) {
        g_autoptr(GPtrArray) holds = g_ptr_array_sized_new(g_hash_table_size(owner->holds));
        GHashTableIter it;
        gpointer v;
        size_t dropped = 0;

        g_hash_table_iter_init(&it, owner->holds);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(holds, v);
        for (size_t i = 0; i < holds->len; i++) {
                LockHold *h = holds->pdata[i];
                dropped += h->names->len;
                hold_free(table, h);
        }
        return dropped;
}

/* ---- Listing ----------------------------------------------------------- */

static uint32_t entry_flags(const LockEntry *e) {
        return (e->kind == LOCK_KIND_TABLE ? LOCKD_PATH_TABLE_ONLY : 0) |
               (e->kind == LOCK_KIND_MISSING ? LOCKD_PATH_MISSING : 0) |
               (e->read_lock ? LOCKD_PATH_READ_LOCK : 0);
}

static bool entry_foreach(const LockEntry *e, int64_t now_mono,
                          bool (*fn)(const LockTableRow *row, void *userdata), void *userdata) {
        for (size_t j = 0; j < e->holds->len; j++) {
                const LockHold *h = e->holds->pdata[j];
                int64_t d = now_mono - h->since_mono;
                LockTableRow row = {
                        .path = e->kind == LOCK_KIND_MISSING ? e->name : e->path,
                        .dev = e->key.dev,
                        .ino = e->key.ino,
                        .mode = e->mode,
                        .flags = entry_flags(e),
                        .owner = h->owner,
                        .count = h->names->len,
                        .since = h->since,
                        .held_for = d > 0 ? (uint64_t) d : 0,
                };
                if (!fn(&row, userdata))
                        return false;
        }
        return true;
}

void lock_table_foreach(const LockTable *table, bool (*fn)(const LockTableRow *row, void *userdata),
                        void *userdata) {
        int64_t now_mono = g_get_monotonic_time();
        GHashTable *tables[] = { table->by_key, table->by_name };
        GHashTableIter it;
        gpointer v;

        for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
                g_hash_table_iter_init(&it, tables[i]);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        if (!entry_foreach(v, now_mono, fn, userdata))
                                return;
        }
}

/* ---- Re-exec ----------------------------------------------------------- */

static GVariant *entry_save(const LockEntry *e) {
        GVariantBuilder holds;
        g_variant_builder_init(&holds, G_VARIANT_TYPE("a(uxxaay)"));
        for (size_t i = 0; i < e->holds->len; i++) {
                const LockHold *h = e->holds->pdata[i];
                g_variant_builder_add(&holds, "(uxx@aay)", h->owner->id, h->since, h->since_mono,
                                      protocol_paths_encode((const char *const *) h->names->pdata,
                                                            h->names->len));
        }
        return g_variant_new("(uttiu@ay@aya(uxxaay))", (uint32_t) e->kind, e->key.dev, e->key.ino,
                             e->fd, (uint32_t) e->mode | (e->read_lock ? 0x100u : 0u),
                             protocol_path_to_variant(e->path),
                             protocol_path_to_variant(e->name ? e->name : ""), &holds);
}

GVariant *lock_table_save(const LockTable *table) {
        GHashTable *tables[] = { table->by_key, table->by_name };
        GVariantBuilder b;
        GHashTableIter it;
        gpointer v;

        g_variant_builder_init(&b, G_VARIANT_TYPE(LOCK_TABLE_STATE_TYPE));
        for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
                g_hash_table_iter_init(&it, tables[i]);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        g_variant_builder_add_value(&b, entry_save(v));
        }
        return g_variant_builder_end(&b);
}

int lock_table_set_inherit(LockTable *table, bool inherit) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, table->by_key);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                LockEntry *e = v;
                int flags = fcntl(e->fd, F_GETFD);
                if (flags < 0)
                        return -errno;
                flags = inherit ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
                if (fcntl(e->fd, F_SETFD, flags) < 0)
                        return -errno;
        }
        return 0;
}

static int entry_restore_fd(LockEntry *e, int fd, char **ret_message) {
        struct stat st;
        if (e->kind == LOCK_KIND_MISSING) {
                if (fd != -1) {
                        *ret_message = g_strdup_printf("name lock '%s' has descriptor %d", e->name, fd);
                        return -EINVAL;
                }
                e->fd = -1;
                return 0;
        }
        if (fd < 3 || fstat(fd, &st) < 0 || (uint64_t) st.st_dev != e->key.dev ||
            (uint64_t) st.st_ino != e->key.ino) {
                *ret_message = g_strdup_printf("lock '%s': descriptor %d is not the saved file", e->path, fd);
                return -EBADF;
        }
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        e->fd = fd;
        return 0;
}

static int entry_restore(LockTable *t, GVariant *v, GHashTable *owners, char **ret_message) {
        g_autoptr(GVariant) path = NULL, name = NULL, holds = NULL;
        uint32_t kind, mode;
        int32_t fd;
        LockEntry *e = g_new0(LockEntry, 1);

        e->fd = -1;
        e->holds = g_ptr_array_new();
        g_variant_get(v, "(uttiu@ay@ay@a(uxxaay))", &kind, &e->key.dev, &e->key.ino, &fd, &mode,
                      &path, &name, &holds);
        e->kind = kind;
        e->mode = mode & 0xff;
        e->read_lock = mode & 0x100;
        e->path = protocol_path_from_variant(path);
        e->name = g_variant_get_size(name) > 0 ? protocol_path_from_variant(name) : NULL;
        if (kind > LOCK_KIND_MISSING || e->mode > LOCKD_MODE_SHARED || !e->path ||
            (kind == LOCK_KIND_MISSING) != (e->name != NULL) ||
            g_variant_n_children(holds) == 0) {
                *ret_message = g_strdup("saved lock entry is inconsistent");
                entry_free(e);
                return -EINVAL;
        }
        int r = entry_restore_fd(e, fd, ret_message);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        table_insert_entry(t, e);
        for (size_t i = 0; i < g_variant_n_children(holds); i++) {
                g_autoptr(GVariant) names = NULL;
                uint32_t owner_id;
                int64_t since, since_mono;
                LockdPaths list = {};
                g_variant_get_child(holds, i, "(uxx@aay)", &owner_id, &since, &since_mono, &names);
                LockOwner *o = g_hash_table_lookup(owners, GUINT_TO_POINTER(owner_id));
                if (!o || protocol_paths_decode(names, &list, ret_message) < 0 || list.n == 0) {
                        if (!*ret_message)
                                *ret_message = g_strdup_printf("lock '%s': saved hold of client %u is inconsistent",
                                                               e->path, owner_id);
                        protocol_paths_clear(&list);
                        return -EINVAL;
                }
                for (size_t j = 0; j < list.n; j++)
                        hold_add(e, o, list.paths[j], since, since_mono);
                protocol_paths_clear(&list);
        }
        return 0;
}

int lock_table_restore(LockTable *table, GVariant *state, GHashTable *owners, char **ret_message) {
        *ret_message = NULL;
        for (size_t i = 0; i < g_variant_n_children(state); i++) {
                g_autoptr(GVariant) v = g_variant_get_child_value(state, i);
                int r = entry_restore(table, v, owners, ret_message);
                if (r < 0)
                        return r;
        }
        return 0;
}
