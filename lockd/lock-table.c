/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fd-util.h"
#include "lock-table-internal.h"

/* The byte every bulwark and libvirt metadata lock covers. */
static guint lock_key_hash(gconstpointer p) {
        const LockKey *k = p;
        uint64_t h = k->ino * 0x9e3779b97f4a7c15ull ^ k->dev;
        return (guint) (h ^ (h >> 32));
}

static gboolean lock_key_equal(gconstpointer a, gconstpointer b) {
        const LockKey *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

int lock_owner_new(uint32_t id, const char *name, uint32_t pid, uint32_t uid, LockOwner **ret) {
        LockOwner *o = g_new0(LockOwner, 1);
        o->id = id;
        o->name = g_strdup(name);
        o->pid = pid;
        o->uid = uid;
        *ret = o;
        return 0;
}

void lock_owner_free(LockOwner *owner) {
        if (!owner)
                return;
        g_assert(owner->n_holds == 0);
        if (owner->names)
                g_hash_table_unref(owner->names);
        g_free(owner->name);
        g_free(owner->lease_key);
        g_free(owner);
}

void lock_owner_set_name(LockOwner *owner, const char *name) {
        g_free(owner->name);
        owner->name = g_strdup(name);
}

size_t lock_owner_n_holds(const LockOwner *owner) {
        return owner->n_holds;
}

void lock_failure_clear(LockFailure *failure) {
        g_clear_pointer(&failure->owner, g_free);
        g_clear_pointer(&failure->detail, g_free);
}

int lock_table_new(LockTable **ret) {
        LockTable *t = g_new0(LockTable, 1);
        t->by_key = g_hash_table_new(lock_key_hash, lock_key_equal);
        t->by_name = g_hash_table_new(g_str_hash, g_str_equal);
        t->leases = g_hash_table_new(g_str_hash, g_str_equal);
        t->next_lease_id = LOCK_LEASE_ID_BASE;
        *ret = t;
        return 0;
}

size_t lock_table_n_entries(const LockTable *table) {
        return g_hash_table_size(table->by_key) + g_hash_table_size(table->by_name);
}

void lock_table_insert_entry(LockTable *t, LockEntry *e) {
        if (e->kind == LOCK_KIND_MISSING)
                g_hash_table_insert(t->by_name, e->name, e);
        else
                g_hash_table_insert(t->by_key, &e->key, e);
}

/* Closing the one descriptor drops the kernel lock. */
static void table_remove_entry(LockTable *t, LockEntry *e) {
        if (e->kind == LOCK_KIND_MISSING)
                g_hash_table_remove(t->by_name, e->name);
        else
                g_hash_table_remove(t->by_key, &e->key);
        if (e->fd >= 0)
                close(e->fd);
        g_free(e->name);
        g_free(e);
}

/* ---- Holds ------------------------------------------------------------- */

/* Points the owner's index entry for key (a string the hold owns) at h;
 * the newest hold acquired by a name answers for it. */
static void owner_index_name(LockOwner *o, const char *key, LockHold *h) {
        LockHold *other = g_hash_table_lookup(o->names, key);
        if (other == h)
                return;
        if (other)
                o->name_clashes++;
        g_hash_table_insert(o->names, (char *) key, h);
}

void lock_hold_add_name(LockHold *h, const char *name) {
        const char *key = h->name;
        if (strcmp(h->name, name) != 0) {
                for (size_t i = 0; h->aliases && i < h->aliases->len; i++)
                        if (strcmp(h->aliases->pdata[i], name) == 0)
                                return;
                if (!h->aliases)
                        h->aliases = g_ptr_array_new_with_free_func(g_free);
                key = g_strdup(name);
                g_ptr_array_add(h->aliases, (char *) key);
        }
        if (h->owner->names)
                owner_index_name(h->owner, key, h);
}

/* The name index exists only once a RELEASE by path needs it: clients
 * that release by key never pay for hashing every name twice.  Built
 * oldest hold first, so the newest wins a name, as it would have. */
static GHashTable *owner_names(LockOwner *o) {
        if (o->names)
                return o->names;
        o->names = g_hash_table_new(g_str_hash, g_str_equal);
        LockHold *oldest = o->holds;
        while (oldest && oldest->next)
                oldest = oldest->next;
        for (LockHold *h = oldest; h; h = h->prev) {
                owner_index_name(o, h->name, h);
                for (size_t i = 0; h->aliases && i < h->aliases->len; i++)
                        owner_index_name(o, h->aliases->pdata[i], h);
        }
        return o->names;
}

/* One allocation per hold, its first name inside: a 100-path request
 * makes 100 of them and frees them again on release. */
LockHold *lock_hold_new(LockTable *t, LockEntry *e, LockOwner *o, const char *name, int64_t since,
                        int64_t since_mono) {
        size_t len = strlen(name);
        LockHold *h = g_malloc0(sizeof(LockHold) + len + 1);
        memcpy(h->name, name, len);
        h->seq = ++t->last_seq;
        h->table_prev = t->holds_tail;
        if (t->holds_tail)
                t->holds_tail->table_next = h;
        else
                t->holds = h;
        t->holds_tail = h;
        h->entry = e;
        h->owner = o;
        h->since = since;
        h->since_mono = since_mono;
        h->next = o->holds;
        if (o->holds)
                o->holds->prev = h;
        o->holds = h;
        o->n_holds++;
        h->entry_prev = e->holds_tail;
        if (e->holds_tail)
                e->holds_tail->entry_next = h;
        else
                e->holds = h;
        e->holds_tail = h;
        e->n_holds++;
        lock_hold_add_name(h, name);
        return h;
}

LockHold *lock_entry_find_hold(const LockEntry *e, const LockOwner *o) {
        for (LockHold *h = e->holds; h; h = h->entry_next)
                if (h->owner == o)
                        return h;
        return NULL;
}

/* The hold's own copy of name, if it was acquired by it. */
static const char *hold_name_key(const LockHold *h, const char *name) {
        if (strcmp(h->name, name) == 0)
                return h->name;
        for (size_t i = 0; h->aliases && i < h->aliases->len; i++)
                if (strcmp(h->aliases->pdata[i], name) == 0)
                        return h->aliases->pdata[i];
        return NULL;
}

/* Drops the index entry for `name` if it is this hold's; after a clash,
 * another hold of the owner acquired by the same name takes it over. */
static void owner_unindex(LockOwner *o, const char *name, LockHold *h) {
        if (!o->names || g_hash_table_lookup(o->names, name) != h)
                return;
        g_hash_table_remove(o->names, name);
        if (o->name_clashes == 0)
                return;
        for (LockHold *x = o->holds; x; x = x->next) {
                const char *key = x != h ? hold_name_key(x, name) : NULL;
                if (key) {
                        g_hash_table_insert(o->names, (char *) key, x);
                        o->name_clashes--;
                        return;
                }
        }
}

/* Frees the hold and, when it was the entry's last, the entry. */
static void hold_free(LockTable *t, LockHold *h) {
        LockOwner *o = h->owner;
        LockEntry *e = h->entry;

        owner_unindex(o, h->name, h);
        for (size_t i = 0; h->aliases && i < h->aliases->len; i++)
                owner_unindex(o, h->aliases->pdata[i], h);
        if (h->prev)
                h->prev->next = h->next;
        else
                o->holds = h->next;
        if (h->next)
                h->next->prev = h->prev;
        o->n_holds--;
        if (h->entry_prev)
                h->entry_prev->entry_next = h->entry_next;
        else
                e->holds = h->entry_next;
        if (h->entry_next)
                h->entry_next->entry_prev = h->entry_prev;
        else
                e->holds_tail = h->entry_prev;
        e->n_holds--;
        if (h->raised)
                e->n_raised--;
        if (h->table_prev)
                h->table_prev->table_next = h->table_next;
        else
                t->holds = h->table_next;
        if (h->table_next)
                h->table_next->table_prev = h->table_prev;
        else
                t->holds_tail = h->table_prev;
        if (h->aliases)
                g_ptr_array_unref(h->aliases);
        g_free(h);
        if (e->n_holds == 0)
                table_remove_entry(t, e);
}

static void hold_drop_one(LockTable *t, LockHold *h) {
        if (--h->count == 0)
                hold_free(t, h);
}

void lock_table_free(LockTable *table) {
        if (!table)
                return;
        /* Owners may outlive the table (the daemon frees them after). */
        GHashTable *tables[] = { table->by_key, table->by_name };
        for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
                while (g_hash_table_size(tables[i]) > 0) {
                        GHashTableIter it;
                        gpointer v;
                        g_hash_table_iter_init(&it, tables[i]);
                        g_hash_table_iter_next(&it, NULL, &v);
                        LockEntry *e = v;
                        if (e->n_holds == 0)
                                table_remove_entry(table, e);
                        while (e->n_holds > 1)
                                hold_free(table, e->holds_tail);
                        if (e->n_holds == 1)
                                hold_free(table, e->holds);
                }
                g_hash_table_unref(tables[i]);
        }
        /* Their holds went with the entries. */
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, table->leases);
        while (g_hash_table_iter_next(&it, NULL, &v))
                lock_owner_free(v);
        g_hash_table_unref(table->leases);
        g_free(table);
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

/* Where a path is looked up: a directory descriptor and the last
 * component, or AT_FDCWD and the whole path.  `path` stays the whole
 * path, for the fallbacks and for names. */
typedef struct PathAt {
        int dirfd;
        const char *name;
        const char *path;
} PathAt;

/* Opens a file stat() said is regular, without ever opening anything
 * else: a device node swapped in under us must not be opened for real (a
 * VFIO group open claims the group; /dev/watchdog starts the watchdog).
 *
 * Without symlinks in the path, openat2(RESOLVE_NO_SYMLINKS) cannot land
 * on a device node (putting one there takes mknod rights), and the key is
 * the one stat() gave: should the name be renamed over in between, the
 * kernel lock is on the file actually opened, so another request for it
 * still conflicts, in the kernel.  With symlinks in the path, an O_PATH
 * descriptor is checked, keyed and reopened through /proc/self/fd. */
static int open_regular(const PathAt *at, int flags, const struct stat *st, LockKey *ret_key) {
        const char *path = at->path;
        struct open_how how = { .flags = (uint64_t) flags, .resolve = RESOLVE_NO_SYMLINKS };
        int fd = (int) syscall(SYS_openat2, at->dirfd, at->name, &how, sizeof(how));
        if (fd >= 0) {
                *ret_key = (LockKey) { .dev = st->st_dev, .ino = st->st_ino };
                return fd;
        }
        if (errno != ELOOP && errno != ENOSYS && errno != E2BIG)
                return -errno;

        _cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
        struct stat pst;
        char proc[64];
        if (pfd < 0 || fstat(pfd, &pst) < 0)
                return -errno;
        if (!S_ISREG(pst.st_mode))
                return -ESTALE;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
        fd = open(proc, flags);
        if (fd < 0)
                return -errno;
        *ret_key = (LockKey) { .dev = pst.st_dev, .ino = pst.st_ino };
        return fd;
}

/* Directories, device nodes, FIFOs, sockets: an O_PATH descriptor pins
 * the inode and never calls a driver; fstat proves it is what stat saw. */
static int open_special(const PathAt *at, const struct stat *st, LockKey *ret_key) {
        struct stat fst;
        int fd = openat(at->dirfd, at->name, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino ||
            (fst.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
                close(fd);
                return -ESTALE;
        }
        *ret_key = (LockKey) { .dev = fst.st_dev, .ino = fst.st_ino };
        return fd;
}

static int candidate_open(Candidate *c, const PathAt *path, const struct stat *st, LockdMode mode) {
        int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        int fd;

        c->read_only = false;
        if (!S_ISREG(st->st_mode)) {
                c->kind = LOCK_KIND_TABLE;
                return open_special(path, st, &c->key);
        }
        c->kind = LOCK_KIND_FILE;
        if (mode == LOCKD_MODE_SHARED)
                return open_regular(path, flags | O_RDONLY, st, &c->key);
        fd = open_regular(path, flags | O_RDWR, st, &c->key);
        if (fd == -EACCES || fd == -EPERM || fd == -EROFS || fd == -ETXTBSY) {
                /* An immutable file, a read-only mount: a read lock is the
                 * most the kernel allows; the table still makes it exclusive. */
                c->read_only = true;
                fd = open_regular(path, flags | O_RDONLY, st, &c->key);
        }
        return fd;
}

static int candidate_resolve(Candidate *c, const PathAt *at, LockdMode mode, bool allow_missing) {
        /* stat decides how to open; a path replaced in between is tried
         * again. */
        for (int attempt = 0; attempt < 3; attempt++) {
                struct stat st;

                if (fstatat(at->dirfd, at->name, &st, 0) < 0) {
                        if (errno == ENOENT && allow_missing) {
                                c->kind = LOCK_KIND_MISSING;
                                return canonical_missing_name(at->path, &c->name);
                        }
                        return -errno;
                }
                int fd = candidate_open(c, at, &st, mode);
                if (fd == -ENOENT || fd == -ESTALE)
                        continue;
                if (fd < 0)
                        return fd;
                c->fd = fd;
                return 0;
        }
        /* Replaced under us three times in a row. */
        return -ESTALE;
}

/* Paths of one request in one directory are looked up from a descriptor
 * of it: each stat and open then walks one component instead of the
 * whole path (a 3-component path: 738 -> 651 ns for stat, open and close).
 * The directory is opened like a file, with RESOLVE_NO_SYMLINKS, so a
 * lookup from it means what the whole path means; a directory that
 * cannot be opened so, a last component that is "." or "..", and a path
 * alone in its directory use the whole path, as before. */
typedef struct DirCache {
        int fd;                    /* -1: none, or `dir` could not be opened */
        const char *dir;           /* points into the request's paths; NULL: none */
        size_t len;
} DirCache;

static size_t dir_length(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? (size_t) (slash - path) : 0;
}

static bool same_dir(const char *path, const char *dir, size_t len) {
        return dir_length(path) == len && memcmp(path, dir, len) == 0;
}

static PathAt dir_cache_lookup(DirCache *dc, char *const *paths, size_t n, size_t i) {
        const char *path = paths[i];
        PathAt whole = { .dirfd = AT_FDCWD, .name = path, .path = path };
        size_t len = dir_length(path);
        const char *name = path + len + 1;

        if (path[0] != '/' || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return whole;
        if (dc->dir && same_dir(path, dc->dir, dc->len))
                return dc->fd >= 0 ? (PathAt) { .dirfd = dc->fd, .name = name, .path = path } : whole;
        if (i + 1 >= n || !same_dir(paths[i + 1], path, len))
                return whole;
        if (dc->fd >= 0)
                close(dc->fd);
        g_autofree char *dir = len ? g_strndup(path, len) : g_strdup("/");
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
        dc->fd = (int) syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
        dc->dir = path;
        dc->len = len;
        if (dc->fd < 0)
                return whole;
        return (PathAt) { .dirfd = dc->fd, .name = name, .path = path };
}

static void dir_cache_close(DirCache *dc) {
        if (dc->fd >= 0)
                close(dc->fd);
        dc->fd = -1;
}

static int candidate_compare(const void *a, const void *b) {
        const Candidate *x = *(Candidate *const *) a, *y = *(Candidate *const *) b;
        bool xm = x->kind == LOCK_KIND_MISSING, ym = y->kind == LOCK_KIND_MISSING;
        if (xm != ym)
                return xm ? 1 : -1;
        if (xm) {
                int c = strcmp(x->name, y->name);
                if (c)
                        return c;
        } else {
                if (x->key.dev != y->key.dev)
                        return x->key.dev < y->key.dev ? -1 : 1;
                if (x->key.ino != y->key.ino)
                        return x->key.ino < y->key.ino ? -1 : 1;
        }
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

/* Exclusive in the table: its mode, or a hold granted exclusive over
 * its key's shared lease. */
static bool entry_exclusive(const LockEntry *e) {
        return e->mode == LOCKD_MODE_EXCLUSIVE || e->n_raised > 0;
}

/* Whether a request acting for `key` passes the leases on e: every
 * holder is a lease, and each is the key's own.  A transaction (not a
 * lease) also passes other keys' shared leases: they say the file's
 * content is only read, and a guest's transaction changes its metadata
 * (a label), as before leases, on one host; another host still meets
 * the kernel's read lock. */
static bool entry_leases_grant(const LockEntry *e, const char *key, bool lease) {
        bool only_key = true;
        for (const LockHold *h = e->holds; h; h = h->entry_next) {
                if (!h->owner->lease_key)
                        return false;
                if (strcmp(h->owner->lease_key, key) != 0)
                        only_key = false;
        }
        return e->holds && (only_key || (!lease && e->mode == LOCKD_MODE_SHARED));
}

static void failure_from_entry(LockFailure *f, const LockEntry *e) {
        const LockHold *h = e->holds;
        f->owner = g_strdup(h->owner->name);
        f->pid = h->owner->pid;
        f->since = h->since;
        int64_t d = g_get_monotonic_time() - h->since_mono;
        f->held_for = d > 0 ? (uint64_t) d : 0;
        f->foreign = false;
        if (e->lost)
                f->detail = g_strdup_printf("held by '%s' (pid %u), whose lock on byte 1 was lost (%s), until it releases it",
                                            h->owner->name, h->owner->pid, g_strerror(e->lost_error));
        else if (h->owner->lease_key)
                f->detail = g_strdup_printf("leased %s to '%s' (taken by pid %u)",
                                            entry_exclusive(e) ? "exclusively" : "shared", h->owner->lease_key,
                                            h->owner->pid);
        else
                f->detail = g_strdup_printf("locked %s by '%s' (pid %u)",
                                            entry_exclusive(e) ? "exclusively" : "shared",
                                            h->owner->name, h->owner->pid);
}

/* Whether other hosts lock byte 1 of this file through the filesystem's
 * own lock manager (network and cluster filesystems; FUSE, which
 * GlusterFS uses).  A pid the kernel reports there may be another
 * host's. */
static bool fd_on_shared_filesystem(int fd) {
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return false;
        switch ((unsigned long) sf.f_type) {
        case NFS_SUPER_MAGIC:
        case FUSE_SUPER_MAGIC:
        case CEPH_SUPER_MAGIC:
        case SMB2_SUPER_MAGIC:
        case CIFS_SUPER_MAGIC:
        case 0x01161970:           /* GFS2 */
        case 0x7461636f:           /* OCFS2 */
                return true;
        default:
                return false;
        }
}

/* Byte 1 is held outside lockd: name the holder when the kernel can. */
static void failure_from_kernel(LockFailure *f, int fd, short type) {
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = LOCK_BYTE, .l_len = 1 };
        bool shared = fd_on_shared_filesystem(fd);
        f->foreign = true;
        if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0) {
                f->pid = (uint32_t) fl.l_pid;
                if (shared)
                        f->detail = g_strdup_printf("byte 1 is locked outside lockd by pid %d of another host sharing this filesystem, or of this one",
                                                    fl.l_pid);
                else {
                        g_autofree char *comm = proc_comm((uint32_t) fl.l_pid);
                        f->detail = g_strdup_printf("byte 1 is locked by process %d (%s) outside lockd",
                                                    fl.l_pid, comm);
                }
        } else if (shared)
                f->detail = g_strdup("byte 1 is locked outside lockd by another host sharing this filesystem (or an open file description on this one)");
        else
                f->detail = g_strdup("byte 1 is locked outside lockd (an open file description of another process, another lockd, or another host on shared storage)");
}

/* A name lock taken on a path before its file existed still covers the
 * file now there. */
static LockEntry *candidate_find_name_lock(LockTable *t, const Candidate *c) {
        char proc[64], target[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->fd);
        ssize_t len = readlink(proc, target, sizeof(target) - 1);
        if (len <= 0)
                return NULL;
        target[len] = '\0';
        return g_hash_table_lookup(t->by_name, target);
}

static bool candidates_check_table(LockTable *t, Candidate **sorted, size_t n, LockdMode mode,
                                   const char *for_key, bool lease, LockFailure *failure) {
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
                LockEntry *named = !e && names_held && c->kind != LOCK_KIND_MISSING
                                           ? candidate_find_name_lock(t, c) : NULL;
                if (named) {
                        failure->index = c->index;
                        failure_from_entry(failure, named);
                        return false;
                }
                /* The key's own leases: its transactions and the lease
                 * itself again, while the kernel still grants it. */
                if (e && for_key && entry_leases_grant(e, for_key, lease) && lock_entry_reassert(t, e))
                        continue;
                if (e && (mode == LOCKD_MODE_EXCLUSIVE || entry_exclusive(e))) {
                        failure->index = c->index;
                        failure_from_entry(failure, e);
                        return false;
                }
                /* Joining a shared lock: only while the kernel still grants it. */
                if (e && !lock_entry_reassert(t, e)) {
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

uint32_t lock_entry_flags(const LockEntry *e) {
        return (e->kind == LOCK_KIND_TABLE ? LOCKD_PATH_TABLE_ONLY : 0) |
               (e->kind == LOCK_KIND_MISSING ? LOCKD_PATH_MISSING : 0) |
               (e->read_lock ? LOCKD_PATH_READ_LOCK : 0) | (e->lost ? LOCKD_PATH_LOST : 0);
}

static void candidates_commit(LockTable *t, LockOwner *o, Candidate *cands, char *const *paths,
                              size_t n, LockdMode mode, LockdPathResult *results) {
        int64_t now = g_get_real_time(), now_mono = g_get_monotonic_time();

        for (size_t i = 0; i < n; i++) {
                Candidate *c = &cands[i];
                LockEntry *e = c->same ? c->same->entry : c->entry;
                if (!c->same) {
                        bool created = !e;
                        if (created) {
                                e = g_new0(LockEntry, 1);
                                e->key = c->key;
                                e->kind = c->kind;
                                e->mode = mode;
                                e->read_lock = c->read_only && mode == LOCKD_MODE_EXCLUSIVE;
                                e->fd = steal_fd(&c->fd);
                                e->name = g_steal_pointer(&c->name);
                                c->entry = e;
                        }
                        LockHold *h = lock_entry_find_hold(e, o);
                        if (h)
                                lock_hold_add_name(h, paths[i]);
                        else
                                h = lock_hold_new(t, e, o, paths[i], now, now_mono);
                        /* A lease is held once, however often it is taken. */
                        if (!o->lease_key || h->count == 0)
                                h->count++;
                        if (mode == LOCKD_MODE_EXCLUSIVE && e->mode == LOCKD_MODE_SHARED && !h->raised) {
                                h->raised = true;
                                e->n_raised++;
                        }
                        if (created)
                                lock_table_insert_entry(t, e);
                }
                results[i] = (LockdPathResult) {
                        .dev = e->key.dev,
                        .ino = e->key.ino,
                        .flags = lock_entry_flags(e) | (c->same ? LOCKD_PATH_DUPLICATE : 0),
                };
        }
}

int lock_table_acquire(LockTable *table, LockOwner *owner, char *const *paths, size_t n,
                       LockdMode mode, bool allow_missing, const char *for_key, LockdPathResult *results,
                       LockFailure *failure) {
        *failure = (LockFailure) {};
        /* No paths: nothing to lock, and nothing to sort (g_new() of 0
         * elements is NULL, and qsort() of NULL is undefined even for 0
         * elements). */
        if (n == 0)
                return 0;
        Candidate *cands = g_new0(Candidate, n);
        g_autofree Candidate **sorted = g_new(Candidate *, n);
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                cands[i].fd = -1;
                cands[i].index = i;
                sorted[i] = &cands[i];
        }
        DirCache dirs = { .fd = -1 };
        for (size_t i = 0; i < n; i++) {
                PathAt at = dir_cache_lookup(&dirs, paths, n, i);
                r = candidate_resolve(&cands[i], &at, mode, allow_missing);
                if (r < 0) {
                        failure->index = i;
                        break;
                }
        }
        dir_cache_close(&dirs);
        if (r < 0)
                goto finish;
        /* One global order, duplicates removed: no two requests can hold
         * parts of each other's sets in opposite orders. */
        qsort(sorted, n, sizeof(*sorted), candidate_compare);
        for (size_t i = 1; i < n; i++)
                if (candidate_same_key(sorted[i - 1], sorted[i]))
                        sorted[i]->same = sorted[i - 1]->same ? sorted[i - 1]->same : sorted[i - 1];
        if (!candidates_check_table(table, sorted, n, mode, for_key, owner->lease_key != NULL, failure)) {
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
        return e ? lock_entry_find_hold(e, o) : NULL;
}

size_t lock_table_release(LockTable *table, LockOwner *owner, char *const *paths, size_t n) {
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++) {
                LockHold *h = g_hash_table_lookup(owner_names(owner), paths[i]);
                if (!h)
                        h = owner_find_hold_by_file(table, owner, paths[i]);
                if (h) {
                        hold_drop_one(table, h);
                        dropped++;
                }
        }
        return dropped;
}

size_t lock_table_release_keys(LockTable *table, LockOwner *owner, const LockdFileKey *keys, size_t n) {
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++) {
                LockKey key = { .dev = keys[i].dev, .ino = keys[i].ino };
                LockEntry *e = g_hash_table_lookup(table->by_key, &key);
                LockHold *h = e ? lock_entry_find_hold(e, owner) : NULL;
                if (h) {
                        hold_drop_one(table, h);
                        dropped++;
                }
        }
        return dropped;
}

size_t lock_table_release_all(LockTable *table, LockOwner *owner) {
        size_t dropped = 0;
        while (owner->holds) {
                dropped += owner->holds->count;
                hold_free(table, owner->holds);
        }
        return dropped;
}

/* ---- Leases ------------------------------------------------------------ */

LockOwner *lock_table_lease_owner(LockTable *table, const char *key, uint32_t pid, uint32_t uid) {
        LockOwner *o = g_hash_table_lookup(table->leases, key);
        if (o)
                return o;
        lock_owner_new(table->next_lease_id++, key, pid, uid, &o);
        o->lease_key = g_strdup(key);
        g_hash_table_insert(table->leases, o->lease_key, o);
        return o;
}

/* A lease owner that leases nothing is forgotten (after a refused first
 * lease, too). */
static void lease_owner_forget_if_idle(LockTable *table, LockOwner *o) {
        if (o->n_holds > 0)
                return;
        g_hash_table_remove(table->leases, o->lease_key);
        lock_owner_free(o);
}

void lock_table_lease_owner_settle(LockTable *table, LockOwner *owner) {
        if (owner->lease_key)
                lease_owner_forget_if_idle(table, owner);
}

size_t lock_table_release_lease(LockTable *table, const char *key, char *const *paths, size_t n) {
        LockOwner *o = g_hash_table_lookup(table->leases, key);
        if (!o)
                return 0;
        size_t dropped = n == 0 ? lock_table_release_all(table, o) : lock_table_release(table, o, paths, n);
        lease_owner_forget_if_idle(table, o);
        return dropped;
}

size_t lock_table_n_lease_owners(const LockTable *table) {
        return g_hash_table_size(table->leases);
}

/* ---- Listing ----------------------------------------------------------- */

void lock_table_foreach_after(const LockTable *table, uint64_t after,
                              bool (*fn)(const LockTableRow *row, void *userdata), void *userdata) {
        int64_t now_mono = g_get_monotonic_time();
        const LockHold *h = table->holds;

        /* Oldest first: the holds a page skips are the oldest ones.  Most
         * listings start at the beginning; a later page walks past the
         * holds listed before it (a pointer each). */
        while (h && h->seq <= after)
                h = h->table_next;
        for (; h; h = h->table_next) {
                const LockEntry *e = h->entry;
                int64_t d = now_mono - h->since_mono;
                LockTableRow row = {
                        .path = h->name,
                        .dev = e->key.dev,
                        .ino = e->key.ino,
                        .mode = e->mode,
                        .flags = lock_entry_flags(e) | (h->owner->lease_key ? LOCKD_PATH_LEASE : 0),
                        .owner = h->owner,
                        .count = h->count,
                        .since = h->since,
                        .held_for = d > 0 ? (uint64_t) d : 0,
                        .seq = h->seq,
                };
                if (!fn(&row, userdata))
                        return;
        }
}

void lock_table_foreach(const LockTable *table, bool (*fn)(const LockTableRow *row, void *userdata),
                        void *userdata) {
        lock_table_foreach_after(table, 0, fn, userdata);
}
