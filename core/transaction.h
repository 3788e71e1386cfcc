/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applying a plan under the journal, and undoing journaled changes.
 *
 * Apply: for each change in order, INTENT is made durable, the plugin
 * applies it, DONE records its undo data.  The first failure undoes every
 * change of this transaction in reverse order (the failed one included,
 * from its change alone, since it may have half-happened), each UNDONE
 * recorded, then ABORT. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "journal.h"
#include "plan.h"

typedef struct Transaction {
        Journal *journal;          /* borrowed */
        GPtrArray *plugins;        /* borrowed: Plugin*, for name lookups */
        const BwGuestInfo *guest;
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
