/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include "transaction.h"

static Plugin *transaction_plugin(Transaction *t, const char *name) {
        for (guint i = 0; i < t->plugins->len; i++) {
                Plugin *p = t->plugins->pdata[i];
                if (strcmp(p->name, name) == 0)
                        return p->initialized ? p : NULL; /* unusable here: cannot undo */
        }
        return NULL;
}

/* ---- The lock step ----------------------------------------------------- */

static int transaction_lock(PathLocker *locker, char **exclusive, char **shared, const char *owner,
                            unsigned timeout_ms, TransactionLocks *ret, BwError *reterr) {
        char **sets[] = { exclusive, shared };
        PathLockHandle **handles[] = { &ret->exclusive, &ret->shared };

        *ret = (TransactionLocks) {
                .infos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
        };
        for (size_t k = 0; k < G_N_ELEMENTS(sets); k++) {
                guint n = g_strv_length(sets[k]);
                g_autofree PathLockInfo *infos = g_new0(PathLockInfo, n + 1);
                int r = path_locker_acquire_for(locker, owner, (const char *const *) sets[k], n,
                                                k == 0 ? PATH_LOCK_EXCLUSIVE : PATH_LOCK_SHARED, timeout_ms,
                                                infos, handles[k], reterr);
                if (r < 0) {
                        transaction_unlock(locker, ret);
                        return r;
                }
                for (guint i = 0; i < n; i++)
                        g_hash_table_replace(ret->infos, g_strdup(sets[k][i]), g_memdup2(&infos[i], sizeof(infos[i])));
        }
        return 0;
}

int transaction_lock_plan(PathLocker *locker, const BwPlan *plan, const char *owner, unsigned timeout_ms,
                          TransactionLocks *ret, BwError *reterr) {
        g_auto(GStrv) exclusive = plan_lock_paths(plan, false);
        g_auto(GStrv) shared = plan_lock_paths(plan, true);
        return transaction_lock(locker, exclusive, shared, owner, timeout_ms, ret, reterr);
}

static bool transaction_entry_pending(const JournalEntry *e, unsigned from_txn) {
        return e->lock_path && !e->undone && e->txn >= from_txn;
}

int transaction_lock_entries(PathLocker *locker, const JournalState *state, unsigned from_txn, const char *owner,
                             unsigned timeout_ms, TransactionLocks *ret, BwError *reterr) {
        /* path -> whether every pending change locking it asked for shared */
        g_autoptr(GHashTable) modes = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < state->entries->len; i++) {
                const JournalEntry *e = state->entries->pdata[i];
                if (!transaction_entry_pending(e, from_txn))
                        continue;
                bool shared = e->flags & BW_CHANGE_LOCK_SHARED;
                gpointer old;
                if (g_hash_table_lookup_extended(modes, e->lock_path, NULL, &old))
                        shared = shared && GPOINTER_TO_INT(old);
                g_hash_table_insert(modes, e->lock_path, GINT_TO_POINTER(shared));
        }
        g_autoptr(GPtrArray) exclusive = g_ptr_array_new(), shared = g_ptr_array_new();
        GHashTableIter it;
        gpointer path, mode;
        g_hash_table_iter_init(&it, modes);
        while (g_hash_table_iter_next(&it, &path, &mode))
                g_ptr_array_add(GPOINTER_TO_INT(mode) ? shared : exclusive, path);
        g_ptr_array_add(exclusive, NULL);
        g_ptr_array_add(shared, NULL);
        return transaction_lock(locker, (char **) exclusive->pdata, (char **) shared->pdata, owner, timeout_ms,
                                ret, reterr);
}

int transaction_locks_check(PathLocker *locker, const TransactionLocks *locks) {
        int r = path_locker_check(locker, locks->exclusive);
        return r < 0 ? r : path_locker_check(locker, locks->shared);
}

void transaction_unlock(PathLocker *locker, TransactionLocks *locks) {
        path_locker_release(locker, g_steal_pointer(&locks->exclusive));
        path_locker_release(locker, g_steal_pointer(&locks->shared));
        g_clear_pointer(&locks->infos, g_hash_table_unref);
}

/* What apply() and undo() of a change with this lock path are told. */
static BwApplyContext transaction_context(const Transaction *t, const char *lock_path) {
        BwApplyContext ctx = { .size = sizeof(ctx), .holder = t->guest->uuid };
        const PathLockInfo *info = lock_path && t->locks && t->locks->infos
                                           ? g_hash_table_lookup(t->locks->infos, lock_path)
                                           : NULL;
        if (info) {
                ctx.locked = true;
                ctx.existed = info->existed;
                ctx.dev = info->dev;
                ctx.ino = info->ino;
        }
        return ctx;
}

/* ---- Applying and undoing ---------------------------------------------- */

static int transaction_journal_error(Transaction *t, int r, BwError *reterr) {
        return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(t->journal));
}

/* Rolls back a batch whose change `started - 1` failed (or whose
 * INTENTs could not be made durable: started == 0).  The changes never
 * attempted are only marked UNDONE when the batch is in the file: nothing
 * of them was made.  Then applied[started-1..0] are undone, the last one
 * from its change alone when it has no undo record (it may have
 * half-happened). */
static int transaction_rollback(Transaction *t, const BwPlan *plan, const uint32_t *seqs, GBytes **undos,
                                guint started, bool batch_written) {
        int first = 0;
        for (guint i = plan->changes->len; batch_written && i > started; i--) {
                int r = journal_undone(t->journal, seqs[i - 1]);
                if (r < 0 && first == 0)
                        first = r;
        }
        for (guint i = started; i > 0; i--) {
                const PlanChange *c = plan->changes->pdata[i - 1];
                BwChange view;
                BwError err = {};
                plan_change_view(c, &view);
                gsize ulen = 0;
                const void *u = undos[i - 1] ? g_bytes_get_data(undos[i - 1], &ulen) : NULL;
                BwApplyContext ctx = transaction_context(t, c->lock_path);
                int r = plugin_undo(c->plugin, t->guest, &view, &ctx, ulen ? u : NULL, ulen, &err);
                if (r < 0) {
                        log_warning("guest '%s': rollback: %s", t->guest->name, err.message);
                        if (first == 0)
                                first = r;
                        continue;
                }
                r = journal_undone(t->journal, seqs[i - 1]);
                if (r < 0 && first == 0)
                        first = r;
        }
        return first;
}

/* The largest undo record any plugin of the plan may write. */
static size_t transaction_record_max(const BwPlan *plan) {
        size_t max = 1;
        for (guint i = 0; i < plan->changes->len; i++)
                max = MAX(max, ((const PlanChange *) plan->changes->pdata[i])->plugin->record_max);
        return max;
}

/* The whole plan is one batch: its INTENTs are made durable with one
 * fdatasync before the first change, DONEs follow unsynced and the
 * caller's COMMIT syncs them.  One batch rather than one per plugin: a
 * crash leaves INTENTs of changes never applied either way, and undoing
 * those is harmless (plugin.h), so more batches would only cost syncs. */
int transaction_apply(Transaction *t, const BwPlan *plan, BwError *reterr) {
        guint n = plan->changes->len;
        g_autofree uint32_t *seqs = g_new0(uint32_t, n + 1);
        g_autofree GBytes **undos = g_new0(GBytes *, n + 1);
        size_t record_max = transaction_record_max(plan);
        g_autofree uint8_t *undo = g_malloc(record_max);
        guint started = 0;
        int r = 0;

        for (guint i = 0; i < n; i++) {
                BwChange view;
                const PlanChange *c = plan->changes->pdata[i];
                plan_change_view(c, &view);
                seqs[i] = t->next_seq++;
                journal_intent(t->journal, seqs[i], c->plugin->name, &view);
        }
        r = journal_sync(t->journal);
        if (r < 0)
                r = transaction_journal_error(t, r, reterr);
        bool batch_written = r >= 0;

        for (guint i = 0; r >= 0 && i < n; i++) {
                const PlanChange *c = plan->changes->pdata[i];
                BwChange view;
                size_t undo_len = 0;
                BwApplyContext ctx = transaction_context(t, c->lock_path);

                plan_change_view(c, &view);
                started = i + 1;
                r = plugin_apply(c->plugin, t->guest, &view, &ctx, undo, c->plugin->record_max, &undo_len,
                                 reterr);
                if (r < 0)
                        break;
                undos[i] = g_bytes_new(undo, undo_len);
                r = journal_done(t->journal, seqs[i], undo, undo_len);
                if (r < 0)
                        r = transaction_journal_error(t, r, reterr);
        }

        if (r < 0) {
                log_debug("guest '%s': rolling back %u change(s)", t->guest->name, started);
                /* A batch that could not be written may be torn in the
                 * file: no record of its seqs may follow it. */
                if (transaction_rollback(t, plan, seqs, undos, started, batch_written) == 0)
                        t->rolled_back = journal_abort(t->journal) == 0;
                else
                        (void) journal_sync(t->journal); /* what was undone, for recover */
        }
        for (guint i = 0; i < n; i++)
                if (undos[i])
                        g_bytes_unref(undos[i]);
        return r;
}

int transaction_undo_entries(Transaction *t, const JournalState *state, unsigned from_txn,
                             BwError *reterr) {
        int first = 0;
        for (guint i = state->entries->len; i > 0; i--) {
                const JournalEntry *e = state->entries->pdata[i - 1];
                if (e->undone || e->txn < from_txn)
                        continue;

                BwError err = {};
                Plugin *p = transaction_plugin(t, e->plugin);
                int r;
                if (!p)
                        r = error_set(&err, -ENOENT,
                                      "guest '%s': change %s '%s' was made by plugin '%s', which is not loaded or not usable on this host",
                                      t->guest->name, e->kind, e->object, e->plugin);
                else {
                        gsize dlen = 0, ulen = 0;
                        const void *data = g_bytes_get_data(e->data, &dlen);
                        const void *undo = e->undo ? g_bytes_get_data(e->undo, &ulen) : NULL;
                        BwChange view = {
                                .size = sizeof(view), .kind = e->kind, .object = e->object,
                                .detail = e->detail, .lock_path = e->lock_path,
                                .data = dlen ? data : NULL, .data_len = dlen,
                                .resource = e->resource, .flags = e->flags,
                        };
                        BwApplyContext ctx = transaction_context(t, e->lock_path);
                        /* Not DONE: apply may or may not have run; undo from the change alone. */
                        r = plugin_undo(p, t->guest, &view, &ctx, e->done ? undo : NULL, e->done ? ulen : 0,
                                        &err);
                }
                if (r == 0) {
                        r = journal_undone(t->journal, e->seq);
                        if (r < 0)
                                r = transaction_journal_error(t, r, &err);
                }
                if (r < 0 && first == 0)
                        first = error_propagate(reterr, &err);
                else if (r < 0)
                        log_warning("%s", err.message);
        }
        /* One sync for the whole batch of UNDONE records. */
        int r = journal_sync(t->journal);
        if (r < 0 && first == 0)
                first = transaction_journal_error(t, r, reterr);
        return first;
}
