/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock table of bulwark-lockd.
 *
 * An entry is one file, keyed by (st_dev, st_ino) of a descriptor the
 * table keeps open, so two paths to one file are one lock.  Regular files
 * carry an open-file-description lock on byte 1 (F_OFD_SETLK: write for
 * exclusive, read for shared), which conflicts with any other process or
 * host holding byte 1.  Directories, device nodes, FIFOs and sockets are
 * locked in the table only (an O_PATH descriptor pins the inode, and
 * opening a device node for real could claim it).  A path that does not
 * exist, when the request allows it, is locked by its name.
 *
 * An entry is held by owners (client connections).  Locks are not
 * re-entrant: an exclusive request for a file the same owner already
 * holds is BUSY, so two threads sharing one connection still exclude each
 * other.  A shared entry held twice by one owner counts two holds; each
 * release drops one.
 *
 * A request is all or nothing: paths are sorted by key and duplicates
 * removed, every conflict is checked before any kernel lock is taken, and
 * a kernel lock that fails rolls back the ones taken before it.  The table
 * never waits.
 *
 * Not thread-safe: the daemon's one thread owns it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "protocol.h"

typedef struct LockTable LockTable;

typedef struct LockHold LockHold;

/* A client connection as the table sees it.  The daemon fills the
 * identity; the table owns the hold list and the name index. */
typedef struct LockOwner {
        uint32_t id;               /* unique within the daemon, kept across re-exec */
        char *name;                /* HELLO owner name, or the peer's comm */
        uint32_t pid;              /* HELLO pid, or the peer's pid */
        uint32_t uid;              /* the peer's uid (SO_PEERCRED) */
        LockHold *holds;           /* list of this owner's holds */
        size_t n_holds;
        GHashTable *names;         /* path acquired by -> LockHold* (keys borrowed from
                                    * holds); NULL until a RELEASE by path */
        unsigned name_clashes;     /* names acquired for two files at once */
        char *lease_key;           /* a lease owner (the table's, see below); NULL: a connection */
} LockOwner;

int lock_owner_new(uint32_t id, const char *name, uint32_t pid, uint32_t uid, LockOwner **ret);
/* The owner must hold nothing (see lock_table_release_all()). */
void lock_owner_free(LockOwner *owner);
void lock_owner_set_name(LockOwner *owner, const char *name);
size_t lock_owner_n_holds(const LockOwner *owner);

/* Why an ACQUIRE failed.  `index` is the request's path that failed.
 * For -EBUSY, the holder: a lockd owner (owner != NULL), or another
 * process or host holding byte 1 (owner NULL; pid when the kernel names
 * it, else 0). */
typedef struct LockFailure {
        size_t index;
        char *owner;
        uint32_t pid;
        int64_t since;             /* µs since the epoch; 0 unknown */
        uint64_t held_for;         /* µs; 0 unknown */
        bool foreign;
        char *detail;              /* "another open file description" ... */
} LockFailure;

void lock_failure_clear(LockFailure *failure);

int lock_table_new(LockTable **ret);
/* Closes every descriptor (dropping every kernel lock); owners are not
 * freed. */
void lock_table_free(LockTable *table);

/* Locks every path for owner, all or nothing.  results has n slots,
 * zeroed by the caller.
 * Returns 0; -EBUSY (failure says who holds it); -ENOENT for a missing
 * path without allow_missing; or another -errno from open/fcntl, with
 * failure->index naming the path. */
int lock_table_acquire(LockTable *table, LockOwner *owner, char *const *paths, size_t n,
                       LockdMode mode, bool allow_missing, const char *for_key, LockdPathResult *results,
                       LockFailure *failure);

/* Leases.  A lease owner is an owner the table keeps for an owner key (a
 * guest's uuid) rather than a connection: its holds stay until
 * lock_table_release_lease().  lock_table_lease_owner() finds the key's
 * owner, or makes one (pid and uid: the client that asked first); pass
 * it to lock_table_acquire() with for_key = the key.  Taking a lease the
 * key already has is a no-op (one hold, count 1).
 *
 * An acquire with for_key is granted a file whose only holders are that
 * key's leases, in either mode: the key's own transactions are not
 * refused by its leases.  One that is not a lease is also granted a file
 * whose only holders are shared leases of any keys (guests sharing a
 * read-only image each relabel it).  An exclusive hold granted so over a
 * shared lease keeps the kernel's read lock (the lease's) and makes the
 * entry exclusive in the table until it is released. */
LockOwner *lock_table_lease_owner(LockTable *table, const char *key, uint32_t pid, uint32_t uid);
/* Releases the key's leases on paths (matched as lock_table_release()
 * does), or all of them when n == 0; forgets the owner once it leases
 * nothing.  Returns how many were released. */
size_t lock_table_release_lease(LockTable *table, const char *key, char *const *paths, size_t n);
size_t lock_table_n_lease_owners(const LockTable *table);
/* After a lock_table_acquire() for a lease owner that failed: forgets the
 * owner when it leases nothing (a no-op for a connection's owner). */
void lock_table_lease_owner_settle(LockTable *table, LockOwner *owner);

/* Drops one hold of owner per path; a path is matched against the names
 * owner acquired it by, else by the file it now resolves to.  Returns the
 * number of holds dropped. */
size_t lock_table_release(LockTable *table, LockOwner *owner, char *const *paths, size_t n);
/* Drops one hold of owner per (st_dev, st_ino) key.  Files locked by
 * name have no key.  Returns the number of holds dropped. */
size_t lock_table_release_keys(LockTable *table, LockOwner *owner, const LockdFileKey *keys, size_t n);
/* Drops every hold of owner.  Returns the number dropped. */
size_t lock_table_release_all(LockTable *table, LockOwner *owner);

size_t lock_table_n_entries(const LockTable *table);

/* One hold of one entry, for LIST. */
typedef struct LockTableRow {
        const char *path;
        uint64_t dev;
        uint64_t ino;
        LockdMode mode;
        uint32_t flags;            /* LOCKD_PATH_* */
        const LockOwner *owner;
        unsigned count;
        int64_t since;             /* µs since the epoch */
        uint64_t held_for;         /* µs */
        uint64_t seq;              /* the hold's place in the table's order (see below) */
} LockTableRow;

/* Calls fn for every hold, oldest first; stops when it returns false.
 * Each hold gets a number when the table makes it, 1, 2, ..., and
 * keeps it until released: lock_table_foreach_after() starts after the
 * hold numbered `after`, so a listing paged by the last number it saw
 * lists every hold held throughout exactly once (holds taken meanwhile
 * come at the end, released ones are gone).  A restored table numbers
 * its holds afresh. */
void lock_table_foreach(const LockTable *table, bool (*fn)(const LockTableRow *row, void *userdata),
                        void *userdata);
void lock_table_foreach_after(const LockTable *table, uint64_t after,
                              bool (*fn)(const LockTableRow *row, void *userdata), void *userdata);

/* Lost locks.  A shared filesystem's lock manager can drop a kernel lock
 * without telling its holder (GlusterFS frees a partitioned client's
 * locks after its ping timeout).  Re-issuing F_OFD_SETLK on the held
 * descriptor is a no-op while the lock holds; it fails once the lock is
 * gone: ENOTCONN or EBADFD while the connection to the lock manager is
 * broken, EAGAIN once another host took it.  Any failure marks the entry
 * lost: its descriptor is closed (never trusted again), LIST flags it
 * LOCKD_PATH_LOST, CHECK reports it, and a new ACQUIRE of that file is
 * BUSY until every holder released it. */
typedef void (*LockLostFn)(const char *path, uint64_t dev, uint64_t ino, int error, void *userdata);
/* Called once for each lock found lost (path: the name of its oldest hold). */
void lock_table_set_lost_handler(LockTable *table, LockLostFn fn, void *userdata);
/* Re-asserts every kernel lock of the table.  Returns how many were found
 * lost now. */
size_t lock_table_reassert(LockTable *table);
/* CHECK: re-asserts owner's locks on each key; calls lost() for each one
 * lost, or not held by owner (ENOLCK).  Returns how many. */
size_t lock_table_check_keys(LockTable *table, const LockOwner *owner, const LockdFileKey *keys, size_t n,
                             void (*lost)(const char *path, int error, void *userdata), void *userdata);

/* Re-exec support.  lock_table_save() describes every entry with its
 * descriptor number, lock_table_set_inherit()
 * clears or sets FD_CLOEXEC on every descriptor, and lock_table_restore()
 * rebuilds a table from a saved description and inherited descriptors,
 * mapping holds to owners by id (`owners`: id -> LockOwner*). */
#define LOCK_TABLE_STATE_TYPE "a(uttiuaya(uxxuaay))"
GVariant *lock_table_save(const LockTable *table);
/* The lease owners (id, key, pid, uid), saved beside the entries; restore
 * them first: they join `owners` so their holds find them. */
#define LOCK_TABLE_LEASES_STATE_TYPE "a(usuu)"
GVariant *lock_table_save_leases(const LockTable *table);
int lock_table_restore_leases(LockTable *table, GVariant *leases, GHashTable *owners, char **ret_message);
int lock_table_set_inherit(LockTable *table, bool inherit);
int lock_table_restore(LockTable *table, GVariant *state, GHashTable *owners, char **ret_message);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockFailure, lock_failure_clear)
