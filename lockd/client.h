/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lockd client, linked into libbulwark (and used by bulwarkctl).
 *
 * Rules:
 *  - Functions return 0 or a negative errno; those that can fail for
 *    reasons a person must read fill the optional BwError.
 *  - One process-wide mutex serializes every conversation with a daemon,
 *    so at most one thread of the process talks to lockd at a time.  The
 *    mutex is never held while waiting out a BUSY answer.
 *  - A client keeps one connection and reconnects when the daemon went
 *    away.  A successful acquire duplicates the connection's descriptor
 *    into the handle, so the locks live exactly as long as the handle
 *    (or this process): freeing the client does not release them.
 *  - Locks are not re-entrant, even within one process: two handles
 *    cannot both hold one file exclusively.
 *  - bw_lockd_release() frees the handle whatever it returns; -ECONNRESET
 *    means the daemon went away while the handle lived and its locks were
 *    lost at that moment: the caller must treat what it did under them as
 *    unprotected.
 *  - Descriptors are close-on-exec; a child that execs does not keep the
 *    connection alive. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulwark/bulwark.h>

typedef struct BwLockdClient BwLockdClient;
typedef struct BwLockdHandle BwLockdHandle;

/* Mode bits for bw_lockd_acquire(). */
enum {
        BW_LOCKD_EXCLUSIVE = 0,
        BW_LOCKD_SHARED = 1u << 0,
        BW_LOCKD_ALLOW_MISSING = 1u << 1,   /* lock a path that does not exist yet by name */
};

#define BW_LOCKD_DEFAULT_TIMEOUT_MS 60000
#define BW_LOCKD_BACKOFF_FIRST_MS 1u
#define BW_LOCKD_BACKOFF_MAX_MS 100u

/* owner names this process in the daemon's table and in BUSY answers
 * (NULL: the program's name).  Nothing is contacted until first use. */
int bw_lockd_client_new(const char *socket_path, const char *owner, BwLockdClient **ret);
void bw_lockd_client_free(BwLockdClient *client);
const char *bw_lockd_client_socket(const BwLockdClient *client);

/* Locks every path, all or nothing.  A BUSY answer is retried with
 * exponential backoff (1 ms doubling to 100 ms) until timeout_ms (< 0:
 * the default 60 s; 0: one attempt), then -ETIMEDOUT with the holder in
 * reterr.  Relative paths are taken from the current directory.  n == 0
 * gives an empty handle without contacting the daemon. */
int bw_lockd_acquire(BwLockdClient *client, const char *const *paths, size_t n, unsigned mode,
                     int timeout_ms, BwLockdHandle **ret, BwError *reterr);
/* The same, acting for an owner key (a guest's uuid): a path whose only
 * holders are that key's leases is granted too.  NULL key: as above.  A
 * daemon without leases (no LOCKD_FEATURE_LEASES) is asked without the
 * key: it holds no lease to grant over. */
int bw_lockd_acquire_for(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                         unsigned mode, int timeout_ms, BwLockdHandle **ret, BwError *reterr);

/* Leases: locks the daemon holds for owner_key, not for this connection,
 * until bw_lockd_release_lease(); they outlive this process.  Retried
 * while BUSY as bw_lockd_acquire() is; leasing what the key already
 * leases is a no-op.  -EOPNOTSUPP when the daemon keeps no leases.  A
 * daemon restarted (not re-executed) has forgotten every lease. */
int bw_lockd_lease(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                   unsigned mode, int timeout_ms, BwError *reterr);
/* Releases the key's leases on paths, or all of them when n == 0.
 * Returns how many were released (0 from a daemon without leases), or
 * -errno. */
int bw_lockd_release_lease(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                           BwError *reterr);

/* Releases the handle's locks and frees it; NULL is a no-op.
 *
 * bw_lockd_release() returns once the daemon has the request, without
 * waiting for its answer: the daemon frees the locks as soon as it reads
 * it, and always before it reads anything this client sends later, so
 * this process's own next acquire finds them free.  Another process may
 * still find them held for a moment (a BUSY it retries after 1 ms).
 * bw_lockd_release_sync() returns only once they are free, for a caller
 * that hands the files to another process right away.  Both return
 * -ECONNRESET when the locks had already been lost. */
int bw_lockd_release(BwLockdHandle *handle);
int bw_lockd_release_sync(BwLockdHandle *handle);
/* 0 while the daemon holds the handle's locks; -ECONNRESET once the
 * connection is gone (the locks are lost); -ENOLCK when the daemon found
 * one lost (a shared filesystem dropped it: another host may hold it),
 * naming the path in reterr.  A daemon that offers LOCKD_FEATURE_CHECK is
 * asked, and re-asserts the locks before it answers; an older one is not. */
int bw_lockd_handle_verify(BwLockdHandle *handle, BwError *reterr);
/* bw_lockd_handle_verify() without the message. */
int bw_lockd_handle_check(BwLockdHandle *handle);

/* What the daemon answered for each path of the handle, in request order. */
typedef struct BwLockdPathInfo {
        uint64_t dev;
        uint64_t ino;
        uint32_t flags;            /* LOCKD_PATH_* (lockd/protocol.h) */
} BwLockdPathInfo;

/* False when the path did not exist when it was locked (locked by name). */
bool bw_lockd_path_info_existed(const BwLockdPathInfo *info);

size_t bw_lockd_handle_n_paths(const BwLockdHandle *handle);
const BwLockdPathInfo *bw_lockd_handle_path_info(const BwLockdHandle *handle, size_t index);

/* One held lock, as LIST reports it. */
typedef struct BwLockdLock {
        char *path;
        uint64_t dev;
        uint64_t ino;
        bool shared;
        uint32_t flags;            /* LOCKD_PATH_*; LOCKD_PATH_LEASE: owner is the lease's key */
        char *owner;
        uint32_t pid;
        uint32_t uid;
        int64_t since;             /* µs since the epoch */
        uint64_t held_for;         /* µs */
} BwLockdLock;

/* Every lock held, oldest first.  A daemon that pages its LIST
 * (LOCKD_FEATURE_LIST_PAGES) is asked page after page until the last;
 * a listing that a re-exec or restart of the daemon interrupts starts
 * over.  A daemon without pages answers once with what fits in one reply
 * (about 8,000 rows): *ret_truncated (may be NULL) is then true when it
 * left rows out.  *ret is never NULL; free it with
 * bw_lockd_lock_list_free(). */
int bw_lockd_list(BwLockdClient *client, BwLockdLock **ret, size_t *ret_n, bool *ret_truncated,
                  BwError *reterr);
void bw_lockd_lock_list_free(BwLockdLock *locks, size_t n);

/* The list as JSON, sorted by path then owner (the array is sorted in
 * place): {"truncated", "locks": [{"path", "dev", "ino", "mode", "kind",
 * "owner", "pid", "uid", "since_usec", "held_for_usec", "lost", "lease"}]};
 * a lease's kind is "lease" and its owner the key.
 * *ret_json is g_free()d.  0 or -errno. */
int bw_lockd_locks_to_json(BwLockdLock *locks, size_t n, bool truncated, char **ret_json);

typedef struct BwLockdDaemonInfo {
        char version[32];
        uint32_t pid;
        uint32_t clients;
        uint32_t locks;
        uint32_t generation;       /* re-execs since the daemon started */
} BwLockdDaemonInfo;

int bw_lockd_ping(BwLockdClient *client, BwLockdDaemonInfo *ret, BwError *reterr);

/* For tests and diagnostics: ACQUIRE requests sent so far (retries count). */
unsigned bw_lockd_client_attempts(const BwLockdClient *client);
/* The backoff schedule: the delay after `delay_ms` (0: the first). */
unsigned bw_lockd_backoff_next(unsigned delay_ms);
