/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lockd backend of the core's lock step (core/path-lock.h): every
 * acquire is one ACQUIRE of the whole set to bulwark-lockd, retried while
 * BUSY until the timeout, acting for the guest it is taken for; the
 * handle is the client's lock handle.  Leases are lockd's: held by the
 * daemon for the guest's uuid, whatever becomes of this process. */
#include "config.h"

#include <errno.h>
#include <limits.h>

#include <glib.h>

#include "lockd/client.h"
#include "util/log.h"
#include "path-lock.h"

typedef struct LockdPathLocker {
        PathLocker base;
        BwLockdClient *client;
} LockdPathLocker;

static int lockd_locker_acquire(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                                PathLockMode mode, unsigned timeout_ms, PathLockInfo *ret_infos,
                                PathLockHandle **ret, BwError *reterr) {
        LockdPathLocker *l = (LockdPathLocker *) locker;
        /* The transaction may create what it locks. */
        unsigned m = BW_LOCKD_ALLOW_MISSING | (mode == PATH_LOCK_SHARED ? BW_LOCKD_SHARED : 0);
        BwLockdHandle *h;

        int r = bw_lockd_acquire_for(l->client, owner, paths, n, m, (int) MIN(timeout_ms, (unsigned) INT_MAX), &h,
                                     reterr);
        if (r < 0)
                return r;
        /* The daemon answers, per path in request order, what it locked. */
        for (size_t i = 0; ret_infos && i < n; i++) {
                const BwLockdPathInfo *pi = i < bw_lockd_handle_n_paths(h) ? bw_lockd_handle_path_info(h, i) : NULL;
                ret_infos[i] = (PathLockInfo) {
                        .existed = pi && bw_lockd_path_info_existed(pi),
                        .dev = pi ? pi->dev : 0,
                        .ino = pi ? pi->ino : 0,
                };
        }
        *ret = (PathLockHandle *) h;
        return 0;
}

static void lockd_locker_release(PathLocker *locker, PathLockHandle *handle) {
        /* Waits for the answer: when a transaction returns, another
         * management daemon told of it finds the paths free.  One round
         * trip is nothing next to the journal's fsyncs. */
        int r = bw_lockd_release_sync((BwLockdHandle *) handle);
        if (r < 0)
                log_debug_errno(r, "lockd socket '%s': locks were lost before their release: %m",
                                bw_lockd_client_socket(((LockdPathLocker *) locker)->client));
}

/* Before commit: the daemon re-asserts the handle's locks.  The check
 * hook carries no message, so the path of a lost lock is logged here. */
static int lockd_locker_check(PathLocker *locker, PathLockHandle *handle) {
        BwError err = {};
        int r = bw_lockd_handle_verify((BwLockdHandle *) handle, &err);
        if (r < 0)
                log_warning("lockd socket '%s': %s", bw_lockd_client_socket(((LockdPathLocker *) locker)->client),
                            err.message);
        return r;
}

static int lockd_locker_lease(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                              PathLockMode mode, unsigned timeout_ms, BwError *reterr) {
        unsigned m = BW_LOCKD_ALLOW_MISSING | (mode == PATH_LOCK_SHARED ? BW_LOCKD_SHARED : 0);
        return bw_lockd_lease(((LockdPathLocker *) locker)->client, owner, paths, n, m,
                              (int) MIN(timeout_ms, (unsigned) INT_MAX), reterr);
}

static int lockd_locker_release_leases(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                                       BwError *reterr) {
        int r = bw_lockd_release_lease(((LockdPathLocker *) locker)->client, owner, paths, n, reterr);
        return r < 0 ? r : 0;
}

static void lockd_locker_free(PathLocker *locker) {
        LockdPathLocker *l = (LockdPathLocker *) locker;
        bw_lockd_client_free(l->client);
        g_free(l);
}

int path_locker_new_lockd(const char *socket_path, PathLocker **ret) {
        BwLockdClient *client;
        int r = bw_lockd_client_new(socket_path, NULL, &client);
        if (r < 0)
                return r;
        LockdPathLocker *l = g_new0(LockdPathLocker, 1);
        l->base = (PathLocker) {
                .name = "lockd",
                .acquire = lockd_locker_acquire,
                .release = lockd_locker_release,
                .check = lockd_locker_check,
                .lease = lockd_locker_lease,
                .release_leases = lockd_locker_release_leases,
                .free = lockd_locker_free,
        };
        l->client = client;
        *ret = &l->base;
        return 0;
}
