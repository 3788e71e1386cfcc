/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-process lock backend: open-file-description locks on byte 1 of
 * each regular file, taken directly.  Byte 1 is where libvirt takes its
 * metadata lock and what lockd takes, so all three exclude each other.
 * Device nodes and directories cannot carry a write lock that means
 * anything across hosts; like lockd's table-only locks, they are locked
 * in a table of this process keyed by (dev, ino), shared by every locker
 * and thread of the process (lockd serializes them across processes). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "util/log.h"
#include "path-lock.h"

#define LOCK_BACKOFF_START_MS 1
#define LOCK_BACKOFF_MAX_MS 100

typedef struct LocalLock {
        dev_t dev;
        ino_t ino;
        int fd;                    /* a regular file's OFD lock, or -1 */
        bool table;                /* a device node or directory: locked in local_table */
        bool held;                 /* the table entry is ours */
        const char *path;          /* borrowed from the caller during acquire */
} LocalLock;

struct PathLockHandle {
        GArray *locks;             /* LocalLock, each fd or table entry holding a lock */
        PathLockMode mode;
};

/* The table of device nodes and directories locked by this process. */
typedef struct TableKey {
        dev_t dev;
        ino_t ino;
} TableKey;

typedef struct TableEntry {
        TableKey key;
        unsigned shared;           /* shared holders */
        bool exclusive;
} TableEntry;

static GMutex local_table_lock;
static GHashTable *local_table;    /* TableKey* -> TableEntry* (the key lives in the entry) */

static guint table_key_hash(gconstpointer p) {
        const TableKey *k = p;
        return g_int64_hash(&(gint64) { (gint64) k->ino }) ^ (guint) k->dev;
}

static gboolean table_key_equal(gconstpointer a, gconstpointer b) {
        const TableKey *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

/* Takes the table entry of l in `mode`; false when another holder has it. */
static bool table_try(LocalLock *l, PathLockMode mode) {
        TableKey key = { l->dev, l->ino };
        g_mutex_lock(&local_table_lock);
        if (!local_table)
                local_table = g_hash_table_new_full(table_key_hash, table_key_equal, NULL, g_free);
        TableEntry *e = g_hash_table_lookup(local_table, &key);
        if (!e) {
                e = g_new0(TableEntry, 1);
                e->key = key;
                g_hash_table_insert(local_table, &e->key, e);
        }
        bool ok = !e->exclusive && (mode == PATH_LOCK_SHARED || e->shared == 0);
        if (ok && mode == PATH_LOCK_SHARED)
                e->shared++;
        else if (ok)
                e->exclusive = true;
        g_mutex_unlock(&local_table_lock);
        l->held = ok;
        return ok;
}

static void table_release(LocalLock *l, PathLockMode mode) {
        TableKey key = { l->dev, l->ino };
        g_mutex_lock(&local_table_lock);
        TableEntry *e = local_table ? g_hash_table_lookup(local_table, &key) : NULL;
        if (e) {
                if (mode == PATH_LOCK_SHARED && e->shared > 0)
                        e->shared--;
                else if (mode == PATH_LOCK_EXCLUSIVE)
                        e->exclusive = false;
                if (!e->exclusive && e->shared == 0)
                        g_hash_table_remove(local_table, &key);
        }
        g_mutex_unlock(&local_table_lock);
        l->held = false;
}

static int local_lock_compare(gconstpointer a, gconstpointer b) {
        const LocalLock *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void local_handle_unlock(PathLockHandle *h) {
        for (guint i = 0; i < h->locks->len; i++) {
                LocalLock *l = &g_array_index(h->locks, LocalLock, i);
                if (l->fd >= 0)
                        close(l->fd); /* closing the description drops its OFD lock */
                l->fd = -1;
                if (l->held)
                        table_release(l, h->mode);
        }
}

static void local_handle_free(PathLockHandle *h) {
        if (!h)
                return;
        local_handle_unlock(h);
        g_array_unref(h->locks);
        g_free(h);
}

/* Identifies each path and says what it is; sorted, duplicates dropped. */
static int local_collect(const char *const *paths, size_t n, PathLockHandle *h, PathLockInfo *infos,
                         BwError *reterr) {
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (infos)
                        infos[i] = (PathLockInfo) {};
                if (stat(paths[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue; /* about to be created by the transaction */
                        return error_set(reterr, -errno, "path '%s': cannot lock: %m", paths[i]);
                }
                if (infos)
                        infos[i] = (PathLockInfo) { .existed = true, .dev = st.st_dev, .ino = st.st_ino };
                LocalLock l = { .dev = st.st_dev, .ino = st.st_ino, .fd = -1, .path = paths[i],
                                .table = !S_ISREG(st.st_mode) };
                g_array_append_val(h->locks, l);
        }
        g_array_sort(h->locks, local_lock_compare);
        for (guint i = 1; i < h->locks->len;) {
                if (local_lock_compare(&g_array_index(h->locks, LocalLock, i - 1),
                                       &g_array_index(h->locks, LocalLock, i)) == 0)
                        g_array_remove_index(h->locks, i);
                else
                        i++;
        }
        return 0;
}

/* One attempt at every lock: 0, -EAGAIN (busy: *ret_busy names the path)
 * or another error.  On failure nothing stays locked. */
static int local_try(PathLockHandle *h, PathLockMode mode, const char **ret_busy, pid_t *ret_pid,
                     BwError *reterr) {
        for (guint i = 0; i < h->locks->len; i++) {
                LocalLock *l = &g_array_index(h->locks, LocalLock, i);
                if (l->table) {
                        if (table_try(l, mode))
                                continue;
                        *ret_busy = l->path;
                        *ret_pid = getpid(); /* another transaction of this process */
                        local_handle_unlock(h);
                        return -EAGAIN;
                }
                int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
                short type = mode == PATH_LOCK_SHARED ? F_RDLCK : F_WRLCK;
                l->fd = open(l->path, flags | (type == F_WRLCK ? O_RDWR : O_RDONLY));
                if (l->fd < 0 && type == F_WRLCK &&
                    (errno == EACCES || errno == EROFS || errno == ETXTBSY)) {
                        /* Not writable here (a read-only mount, a running
                         * binary): a write lock needs a writable description,
                         * so take the read lock, which still excludes every
                         * writer of byte 1 (lockd does the same). */
                        l->fd = open(l->path, flags | O_RDONLY);
                        type = F_RDLCK;
                }
                if (l->fd < 0) {
                        int r = error_set(reterr, -errno, "path '%s': cannot open to lock: %m", l->path);
                        local_handle_unlock(h);
                        return r;
                }
                struct flock fl = {
                        .l_type = type,
                        .l_whence = SEEK_SET, .l_start = 1, .l_len = 1,
                };
                if (fcntl(l->fd, F_OFD_SETLK, &fl) < 0) {
                        int r = -errno;
                        if (r == -EAGAIN || r == -EACCES) {
                                struct flock probe = fl;
                                *ret_busy = l->path;
                                *ret_pid = fcntl(l->fd, F_OFD_GETLK, &probe) == 0 ? probe.l_pid : 0;
                                local_handle_unlock(h);
                                return -EAGAIN;
                        }
                        r = error_set(reterr, r, "path '%s': cannot lock: %m", l->path);
                        local_handle_unlock(h);
                        return r;
                }
        }
        return 0;
}

static int local_acquire(PathLocker *locker, const char *owner, const char *const *paths, size_t n, PathLockMode mode,
                         unsigned timeout_ms, PathLockInfo *ret_infos, PathLockHandle **ret,
                         BwError *reterr) {
        PathLockHandle *h = g_new0(PathLockHandle, 1);
        h->locks = g_array_new(FALSE, TRUE, sizeof(LocalLock));
        h->mode = mode;
        int r = local_collect(paths, n, h, ret_infos, reterr);
        if (r < 0) {
                local_handle_free(h);
                return r;
        }

        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
        unsigned backoff = LOCK_BACKOFF_START_MS;
        for (;;) {
                const char *busy = NULL;
                pid_t holder = 0;
                r = local_try(h, mode, &busy, &holder, reterr);
                if (r != -EAGAIN)
                        break;
                gint64 now = g_get_monotonic_time();
                if (now >= deadline) {
                        r = holder == getpid()
                                ? error_set(reterr, -ETIMEDOUT,
                                            "path '%s': still locked by another transaction of this process after %u ms",
                                            busy, timeout_ms)
                                : holder > 0
                                ? error_set(reterr, -ETIMEDOUT,
                                            "path '%s': still locked by process %d after %u ms", busy,
                                            (int) holder, timeout_ms)
                                : error_set(reterr, -ETIMEDOUT,
                                            "path '%s': still locked by another lock holder (lockd, libvirt or another host) after %u ms",
                                            busy, timeout_ms);
                        break;
                }
                gint64 wait_us = MIN((gint64) backoff * 1000, deadline - now);
                g_usleep((gulong) wait_us);
                backoff = MIN(backoff * 2, LOCK_BACKOFF_MAX_MS);
        }
        if (r < 0) {
                local_handle_free(h);
                return r;
        }
        for (guint i = 0; i < h->locks->len; i++)
                g_array_index(h->locks, LocalLock, i).path = NULL;
        *ret = h;
        return 0;
}

static void local_release(PathLocker *locker, PathLockHandle *handle) {
        local_handle_free(handle);
}

static void local_free(PathLocker *locker) {
        g_free(locker);
}

int path_locker_new_local(PathLocker **ret) {
        PathLocker *l = g_new0(PathLocker, 1);
        *l = (PathLocker) { .name = "local", .acquire = local_acquire, .release = local_release,
                            .free = local_free };
        *ret = l;
        return 0;
}
