/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "path-lock.h"

int path_locker_acquire(PathLocker *locker, const char *const *paths, size_t n, PathLockMode mode,
                        unsigned timeout_ms, PathLockInfo *ret_infos, PathLockHandle **ret,
                        BwError *reterr) {
        return locker->acquire(locker, paths, n, mode, timeout_ms, ret_infos, ret, reterr);
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
