/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-process lock backend: open-file-description locks on byte 1 of
 * each regular file, taken directly.  Byte 1 is where libvirt takes its
 * metadata lock and what lockd takes, so all three exclude each other.
 * Device nodes and directories cannot carry a write lock that means
 * anything across hosts; like lockd's table-only locks, they are skipped
 * here (lockd is the backend that serializes those). */
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
        int fd;
        const char *path;          /* borrowed from the caller during acquire */
} LocalLock;

struct PathLockHandle {
        GArray *locks;             /* LocalLock, each fd holding a lock */
};

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
        }
}

static void local_handle_free(PathLockHandle *h) {
        if (!h)
                return;
        local_handle_unlock(h);
        g_array_unref(h->locks);
        g_free(h);
}

/* Opens and identifies each lockable path; sorted, duplicates dropped. */
static int local_collect(const char *const *paths, size_t n, PathLockHandle *h, BwError *reterr) {
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (stat(paths[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue; /* about to be created by the transaction */
                        return error_set(reterr, -errno, "path '%s': cannot lock: %m", paths[i]);
                }
                if (!S_ISREG(st.st_mode))
                        continue;
                LocalLock l = { .dev = st.st_dev, .ino = st.st_ino, .fd = -1, .path = paths[i] };
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

static int local_acquire(PathLocker *locker, const char *const *paths, size_t n, PathLockMode mode,
                         unsigned timeout_ms, PathLockHandle **ret, BwError *reterr) {
        PathLockHandle *h = g_new0(PathLockHandle, 1);
        h->locks = g_array_new(FALSE, TRUE, sizeof(LocalLock));
        int r = local_collect(paths, n, h, reterr);
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
                        r = holder > 0
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
