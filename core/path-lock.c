/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "path-lock.h"

int path_locker_acquire(PathLocker *locker, const char *const *paths, size_t n, PathLockMode mode,
                        unsigned timeout_ms, PathLockInfo *ret_infos, PathLockHandle **ret,
                        BwError *reterr) {
        return locker->acquire(locker, NULL, paths, n, mode, timeout_ms, ret_infos, ret, reterr);
}

int path_locker_acquire_for(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                            PathLockMode mode, unsigned timeout_ms, PathLockInfo *ret_infos,
                            PathLockHandle **ret, BwError *reterr) {
        return locker->acquire(locker, owner, paths, n, mode, timeout_ms, ret_infos, ret, reterr);
}

int path_locker_lease(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                      PathLockMode mode, unsigned timeout_ms, BwError *reterr) {
        if (!locker->lease || n == 0)
                return 0;
        return locker->lease(locker, owner, paths, n, mode, timeout_ms, reterr);
}

int path_locker_release_leases(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                               BwError *reterr) {
        if (!locker || !locker->release_leases)
                return 0;
        return locker->release_leases(locker, owner, paths, n, reterr);
}

void path_locker_release(PathLocker *locker, PathLockHandle *handle) {
        if (locker && handle)
                locker->release(locker, handle);
}

int path_locker_check(PathLocker *locker, PathLockHandle *handle) {
        if (!locker || !handle || !locker->check)
                return 0;
        return locker->check(locker, handle);
}

void path_locker_free(PathLocker *locker) {
        if (locker)
                locker->free(locker);
}
