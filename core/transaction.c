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

static int transaction_journal_error(Transaction *t, int r, BwError *reterr) {
        return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(t->journal));
}

/* Undoes applied[n-1..0]; the last one may be only half-applied. */
static int transaction_rollback(Transaction *t, const BwPlan *plan, const uint32_t *seqs,
                                GByteArray **undos, guint n) {
        int first = 0;
        for (guint i = n; i > 0; i--) {
                const PlanChange *c = plan->changes->pdata[i - 1];
                BwChange view;
                BwError err = {};
                plan_change_view(c, &view);
                GByteArray *u = undos[i - 1];
                int r = plugin_undo(c->plugin, t->guest, &view, u ? u->data : NULL, u ? u->len : 0, &err);
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

int transaction_apply(Transaction *t, const BwPlan *plan, BwError *reterr) {
        guint n = plan->changes->len;
        g_autofree uint32_t *seqs = g_new0(uint32_t, n + 1);
        g_autofree GByteArray **undos = g_new0(GByteArray *, n + 1);
        guint started = 0;
        int r = 0;

        for (guint i = 0; i < n; i++) {
                const PlanChange *c = plan->changes->pdata[i];
                BwChange view;
                uint8_t undo[BW_CHANGE_DATA_MAX];
                size_t undo_len = 0;

                plan_change_view(c, &view);
                seqs[i] = t->next_seq++;
                r = journal_intent(t->journal, seqs[i], c->plugin->name, &view);
                if (r < 0) {
                        r = transaction_journal_error(t, r, reterr);
                        break;
                }
                started = i + 1;
                r = plugin_apply(c->plugin, t->guest, &view, undo, sizeof(undo), &undo_len, reterr);
                if (r < 0)
                        break;
                undos[i] = g_byte_array_new();
                g_byte_array_append(undos[i], undo, (guint) undo_len);
                r = journal_done(t->journal, seqs[i], undo, undo_len);
                if (r < 0) {
                        r = transaction_journal_error(t, r, reterr);
                        break;
                }
        }

        if (r < 0) {
                log_debug("guest '%s': rolling back %u change(s)", t->guest->name, started);
                if (transaction_rollback(t, plan, seqs, undos, started) == 0)
                        t->rolled_back = journal_abort(t->journal) == 0;
        }
        for (guint i = 0; i < n; i++)
                if (undos[i])
                        g_byte_array_unref(undos[i]);
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
                                .kind = e->kind, .object = e->object, .detail = e->detail,
                                .lock_path = e->lock_path, .data = dlen ? data : NULL, .data_len = dlen,
                        };
                        /* Not DONE: apply may or may not have run; undo from the change alone. */
                        r = plugin_undo(p, t->guest, &view, e->done ? undo : NULL, e->done ? ulen : 0,
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
        return first;
}
