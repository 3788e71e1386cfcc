/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock step of a transaction: every path a plan touches is locked,
 * all or nothing, before any change is applied, and released after commit
 * or rollback.
 *
 * A PathLocker is a backend: "local" takes OFD locks on byte 1 of regular
 * files in this process (what lockd does in its daemon, without the
 * daemon) and locks device nodes and directories in a table of this
 * process; "lockd" asks bulwark-lockd, which keeps the locks for as long
 * as the returned handle lives even across threads of this process.  Both
 * key locks by (st_dev, st_ino) and sort them, so two multi-path requests
 * never deadlock against each other.  Both report, per path, what they
 * locked, so a change acts on the inode that was locked. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulwark/bulwark.h>

typedef struct PathLocker PathLocker;
typedef struct PathLockHandle PathLockHandle;

typedef enum PathLockMode {
        PATH_LOCK_EXCLUSIVE,
        PATH_LOCK_SHARED,
} PathLockMode;

/* What was locked for one path of a request. */
typedef struct PathLockInfo {
        bool existed;              /* false: the path was missing (locked by name, or not at all) */
        uint64_t dev;              /* st_dev and st_ino of the file locked, when it existed */
        uint64_t ino;
} PathLockInfo;

/* Backend operations; every backend embeds PathLocker first. */
struct PathLocker {
        const char *name;
        /* owner: the guest (uuid) the locks are taken for, or NULL; see
         * path_locker_acquire_for(). */
        int (*acquire)(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                       PathLockMode mode, unsigned timeout_ms, PathLockInfo *ret_infos, PathLockHandle **ret,
                       BwError *reterr);
        void (*release)(PathLocker *locker, PathLockHandle *handle);
        /* Optional: -ECONNRESET once the handle's locks are lost (lockd
         * went away).  Locks held in this process cannot be lost so. */
        int (*check)(PathLocker *locker, PathLockHandle *handle);
        /* Optional: leases (path_locker_lease()). */
        int (*lease)(PathLocker *locker, const char *owner, const char *const *paths, size_t n, PathLockMode mode,
                     unsigned timeout_ms, BwError *reterr);
        int (*release_leases)(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                              BwError *reterr);
        void (*free)(PathLocker *locker);
};

/* Waits up to timeout_ms for every path (missing paths are allowed: they
 * may be created by the transaction).  -ETIMEDOUT names the holder in
 * reterr.  n == 0 returns a valid empty handle.  ret_infos, when not
 * NULL, has n entries and receives what was locked for paths[i]. */
int path_locker_acquire(PathLocker *locker, const char *const *paths, size_t n, PathLockMode mode,
                        unsigned timeout_ms, PathLockInfo *ret_infos, PathLockHandle **ret,
                        BwError *reterr);
/* The same for a guest (its uuid, NULL: none): a backend with leases
 * grants a path whose only holder is that guest's lease, so the guest's
 * own transactions are not refused by the leases on its images. */
int path_locker_acquire_for(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                            PathLockMode mode, unsigned timeout_ms, PathLockInfo *ret_infos,
                            PathLockHandle **ret, BwError *reterr);

/* Leases: locks held for the owner (a guest's uuid) by the backend, not
 * by a handle, until path_locker_release_leases() (n == 0: all of the
 * owner's), across restarts of this process.  Only lockd keeps them
 * (they live in the daemon); a backend without leases takes nothing and
 * returns 0.  Waits up to timeout_ms like an acquire. */
int path_locker_lease(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                      PathLockMode mode, unsigned timeout_ms, BwError *reterr);
int path_locker_release_leases(PathLocker *locker, const char *owner, const char *const *paths, size_t n,
                               BwError *reterr);

/* Releases every lock of the handle and frees it; NULL is a no-op. */
void path_locker_release(PathLocker *locker, PathLockHandle *handle);
/* 0 while the handle still holds its locks; a negative errno once they
 * were lost.  A transaction asks before it commits. */
int path_locker_check(PathLocker *locker, PathLockHandle *handle);
void path_locker_free(PathLocker *locker);

/* The in-process backend. */
int path_locker_new_local(PathLocker **ret);

/* The lockd backend (lockd/path-lock-lockd.c): talks to the daemon at
 * socket_path. */
int path_locker_new_lockd(const char *socket_path, PathLocker **ret);
