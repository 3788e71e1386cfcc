/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applying a plan under the journal, and undoing journaled changes.
 *
 * Apply: the INTENTs of every change of the plan are made durable with
 * one fdatasync; then, for each change in order, the plugin applies it
 * and DONE records its undo data (written, not synced: the caller's
 * COMMIT syncs).  The first failure marks the changes never attempted
 * UNDONE and undoes the others in reverse order (the failed one included,
 * from its change alone, since it may have half-happened), each UNDONE
 * recorded, then ABORT.  Undo writes its UNDONE records unsynced and
 * syncs once at the end.
 *
 * Lock step: every lock path of the plan (or of the journaled changes
 * being undone) is locked before the first change, exclusive unless every
 * change locking the path asks only for a shared lock; what the backend
 * locked for each path reaches apply() and undo() in their
 * BwApplyContext, with the guest's uuid as holder token. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "journal.h"
#include "path-lock.h"
#include "plan.h"

/* The locks of one transaction: two acquisitions, exclusive then shared
 * (a backend takes one mode per request).  Each is all or nothing and
 * sorted, but two transactions can still wait on each other across the
 * two (one holds X exclusive and wants Y shared, the other the reverse);
 * the lock timeout ends that wait with -ETIMEDOUT naming the path. */
typedef struct TransactionLocks {
        PathLockHandle *exclusive;
        PathLockHandle *shared;
        GHashTable *infos;         /* lock path -> PathLockInfo*, both sets */
} TransactionLocks;

/* Locks every lock path of `plan`, for the guest whose uuid is owner
 * (its own leases do not refuse it: path_locker_acquire_for()). */
int transaction_lock_plan(PathLocker *locker, const BwPlan *plan, const char *owner, unsigned timeout_ms,
                          TransactionLocks *ret, BwError *reterr);
/* Locks every lock path of the entries of `state` that undo_entries()
 * with the same from_txn will undo (fresh locks after a crash). */
int transaction_lock_entries(PathLocker *locker, const JournalState *state, unsigned from_txn, const char *owner,
                             unsigned timeout_ms, TransactionLocks *ret, BwError *reterr);
/* 0 while every lock is held; see path_locker_check(). */
int transaction_locks_check(PathLocker *locker, const TransactionLocks *locks);
/* Releases both handles; the struct may be locked again. */
void transaction_unlock(PathLocker *locker, TransactionLocks *locks);

typedef struct Transaction {
        Journal *journal;          /* borrowed */
        GPtrArray *plugins;        /* borrowed: Plugin*, for name lookups */
        const BwGuestInfo *guest;
        const TransactionLocks *locks; /* borrowed; NULL: nothing was locked */
        uint32_t next_seq;
        bool rolled_back;          /* set by a failed apply whose rollback undid everything */
} Transaction;

/* Applies every change of `plan`; rolls back and returns the first error. */
int transaction_apply(Transaction *t, const BwPlan *plan, BwError *reterr);

/* Undoes, newest first, every entry of `state` made by transaction
 * number >= from_txn and not yet undone, recording UNDONE for each.
 * Continues past failures (those entries stay recorded as applied so a
 * later recover retries them) and returns the first error. */
int transaction_undo_entries(Transaction *t, const JournalState *state, unsigned from_txn,
                             BwError *reterr);
