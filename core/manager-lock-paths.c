/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_lock_paths(): a front end that changes, outside a guest's
 * transaction, what a transaction changes (bulwarkctl label restore gives
 * a file its original owner back) takes the same path locks, with the
 * manager's own backend, so it never races a start or stop. */
#include "config.h"

#include <errno.h>

#include "util/error.h"
#include "manager.h"

struct BwPathLocks {
        PathLocker *locker;
        PathLockHandle *handle;
};

BW_PUBLIC int bw_manager_lock_paths(BwManager *m, const char *const *paths, size_t n, BwPathLocks **ret,
                                    BwError *reterr) {
        if (!m || !ret || (n > 0 && !paths))
                return error_set(reterr, -EINVAL, "bw_manager_lock_paths: missing argument");
        for (size_t i = 0; i < n; i++)
                if (!paths[i])
                        return error_set(reterr, -EINVAL, "bw_manager_lock_paths: path %zu is NULL", i);
        PathLockHandle *handle = NULL;
        int r = path_locker_acquire(m->locker, paths, n, PATH_LOCK_EXCLUSIVE, m->settings->lock_timeout_ms, NULL,
                                    &handle, reterr);
        if (r < 0)
                return r;
        BwPathLocks *locks = g_new0(BwPathLocks, 1);
        locks->locker = m->locker;
        locks->handle = handle;
        *ret = locks;
        return 0;
}

BW_PUBLIC void bw_path_locks_release(BwPathLocks *locks) {
        if (!locks)
                return;
        path_locker_release(locks->locker, locks->handle);
        g_free(locks);
}
