/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recover --force: a guest whose journal is damaged.  The resync reader
 * goes on past every damaged span, so every readable record is trusted
 * and what it lists is undone, one change at a time so each failure is
 * named.  The journal goes only when every readable change was undone and
 * no damaged span can have held a change that was applied; otherwise it
 * stays (with the UNDONE records appended after the damage, so a second
 * --force knows what was undone) and the message says what may be left.
 * A copy of the damaged file always stays for a person. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "cgroup-procs.h"
#include "guest-lease.h"
#include "guest-parse.h"
#include "guest-record.h"
#include "journal.h"
#include "manager.h"
#include "plugin-loader.h"
#include "transaction.h"

/* The guest undo works on, and how it was found. */
typedef struct ForceGuest {
        GuestRecord *rec;          /* from a GUEST record ... */
        BwGuest *parsed;           /* ... or re-parsed from BEGIN */
        GVariant *record;          /* what the STOP's GUEST record says */
        char *fallback;            /* NULL: the latest transaction's own record */
} ForceGuest;

static void force_guest_clear(ForceGuest *g) {
        g_clear_pointer(&g->rec, guest_record_free);
        g_clear_pointer(&g->parsed, bw_guest_free);
        g_clear_pointer(&g->record, g_variant_unref);
        g_clear_pointer(&g->fallback, g_free);
}

static const BwGuestInfo *force_guest_info(const ForceGuest *g) {
        return bw_guest_info(g->rec ? g->rec->guest : g->parsed);
}

/* No GUEST record survived: the definition BEGIN kept, read without
 * host lookups, its cgroup resolved against the configured root. */
static int force_guest_reparse(BwManager *m, const JournalState *s, const char *path, ForceGuest *g,
                               BwError *reterr) {
        const char *text = s->last_text ? s->last_text : s->guest_text;
        GuestParseOptions options = { .skip_host = true };
        const char *root = m->cgroup_root ? m->cgroup_root : "";
        int r = guest_parse(text, strlen(text), path, &options, &g->parsed, reterr);
        if (r < 0)
                return r;
        r = m->cgroup_root ? guest_resolve_cgroup(g->parsed, m->cgroup_root) : 0;
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot resolve the cgroup of the definition: %m", path);
        g->record = g_variant_ref_sink(guest_record_build(bw_guest_info(g->parsed), root, g_get_real_time()));
        g->fallback = g_strdup_printf("the GUEST record is unreadable and no transaction committed before: the definition BEGIN kept was parsed again without host lookups, its cgroup resolved against the configured root '%s'",
                                      root);
        return 0;
}

/* The latest transaction's record; if it is lost, the last committed
 * one; else a re-parse of BEGIN's text.  0 with nothing when none is. */
static int force_guest_find(BwManager *m, const JournalState *s, const char *path, ForceGuest *g,
                            BwError *reterr) {
        if (s->last_record && s->guest_record) {
                g->record = g_variant_ref(s->guest_record);
                return guest_record_load(s->guest_record, s->guest_text, path, &g->rec, reterr);
        }
        if (s->committed_record) {
                g->record = g_variant_ref(s->committed_record);
                g->fallback = g_strdup("the latest transaction's GUEST record is unreadable: the record of the last committed transaction was used");
                return guest_record_load(s->committed_record, s->guest_text, path, &g->rec, reterr);
        }
        if (s->last_text || s->guest_text)
                return force_guest_reparse(m, s, path, g, reterr);
        return 0;
}

/* "offset A (N bytes), offset B (M bytes)" */
static char *force_spans(const JournalState *s) {
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < s->damaged->len; i++) {
                const JournalSpan *sp = &g_array_index(s->damaged, JournalSpan, i);
                g_string_append_printf(out, "%soffset %zu (%zu bytes)", i ? ", " : "", sp->offset, sp->length);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* "; seq 3 was done, seq 5 undone, and their INTENT records are lost" */
static char *force_orphans(const JournalState *s) {
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < s->orphans->len; i++) {
                const JournalOrphan *o = &g_array_index(s->orphans, JournalOrphan, i);
                g_string_append_printf(out, "%sseq %u %s", i ? ", " : "; change ", o->seq,
                                       o->undone ? "undone" : "applied (DONE read)");
        }
        if (out->len)
                g_string_append(out, ", whose INTENT records are lost");
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Could the damage hide a change that is still applied? */
static bool force_damage_may_hide_change(const JournalState *s) {
        for (guint i = 0; i < s->damaged->len; i++)
                if (journal_span_may_hold_change(s, &g_array_index(s->damaged, JournalSpan, i)))
                        return true;
        return journal_state_has_applied_orphan(s);
}

/* What a lost change can have touched: the guest's cgroup and every host
 * path its resources name. */
static char *force_guest_objects(const BwGuestInfo *info) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_string_append_printf(out, "cgroup '%s'", info->cgroup ? info->cgroup : "");
        for (size_t i = 0; i < info->n_resources; i++)
                for (size_t k = 0; k < info->resources[i]->n_paths; k++)
                        g_string_append_printf(out, ", '%s'", info->resources[i]->paths[k]);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* A journal with no guest to undo on: nothing can be undone from it. */
static int force_without_guest(const char *name, const char *path, const JournalState *s, const char *copy,
                               BwError *reterr) {
        g_autofree char *spans = force_spans(s);
        if (s->entries->len > 0 || journal_state_has_applied_orphan(s) || s->damaged->len > 0)
                return error_set(reterr, -EBADMSG,
                                 "guest '%s': journal '%s' records %u change(s) but neither a resolved guest nor a definition to undo them on; damaged: %s; nothing was undone; the journal stays, a copy is '%s'",
                                 name, path, s->entries->len, spans[0] ? spans : "none", copy);
        if (unlink(path) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot remove: %m", path);
        log_warning("guest '%s': journal '%s' recorded no change; removed, a copy is '%s'", name, path, copy);
        return 1;
}

/* Undoing would leave what still runs in the guest's cgroup unconfined. */
static int force_check_unpopulated(const BwGuestInfo *info, BwError *reterr) {
        pid_t pid = 0;
        int r = cgroup_procs_populated(info->cgroup, &pid);
        if (r < 0)
                return error_set(reterr, r, "guest '%s': cgroup '%s': cannot tell whether processes are left: %m",
                                 info->name, info->cgroup);
        if (r > 0)
                return error_set(reterr, -EBUSY,
                                 "guest '%s': cgroup '%s' still holds processes (pid %d): undoing would leave them unconfined; end them first (write 1 to its cgroup.kill); nothing was changed",
                                 info->name, info->cgroup, (int) pid);
        return 0;
}

/* Undoes one entry; its failure is appended to `failed`. */
static int force_undo_one(Transaction *t, const JournalState *s, JournalEntry *e, GString *failed) {
        g_autoptr(GPtrArray) one = g_ptr_array_new();
        g_ptr_array_add(one, e);
        JournalState view = { .entries = one, .next_seq = s->next_seq };
        BwError err = {};
        int r = transaction_undo_entries(t, &view, 0, &err);
        if (r < 0)
                g_string_append_printf(failed, "%s%s '%s' (plugin '%s'): %s", failed->len ? "; " : "", e->kind,
                                       e->object, e->plugin, err.message);
        return r;
}

/* Undoes, newest first, every readable change still applied, each on its
 * own; returns the first error, every failure named in `failed`. */
static int force_undo(BwManager *m, Journal *journal, const JournalState *s, const BwGuestInfo *info,
                      GString *failed, BwError *reterr) {
        TransactionLocks locks = {};
        int r = transaction_lock_entries(m->locker, s, 0, info->uuid, m->settings->lock_timeout_ms, &locks, reterr);
        if (r < 0)
                return r;
        Transaction t = { .journal = journal, .plugins = m->plugins, .guest = info, .locks = &locks,
                          .next_seq = s->next_seq };
        int first = 0;
        g_mutex_lock(&m->plugin_lock);
        for (guint i = s->entries->len; i > 0; i--) {
                JournalEntry *e = s->entries->pdata[i - 1];
                if (e->undone)
                        continue;
                r = force_undo_one(&t, s, e, failed);
                if (r < 0 && first == 0)
                        first = r;
        }
        g_mutex_unlock(&m->plugin_lock);
        transaction_unlock(m->locker, &locks);
        return first;
}

/* Every plugin forgets the guest; each failure is named in `failed`. */
static int force_release(BwManager *m, const BwGuestInfo *info, GString *failed) {
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&m->plugin_lock);
        int first = 0;
        for (guint i = 0; i < m->plugins->len; i++) {
                BwError err = {};
                int r = plugin_release(m->plugins->pdata[i], info, &err);
                if (r < 0) {
                        g_string_append_printf(failed, "%sreleasing the guest: %s", failed->len ? "; " : "",
                                               err.message);
                        first = first ? first : r;
                }
        }
        return first;
}

/* Begins the STOP after the last readable record (a torn tail cut). */
static int force_begin_stop(BwManager *m, const char *name, const JournalState *s, const ForceGuest *g,
                            Journal **ret, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        int r = journal_open_truncated(m->settings->state_dir, name, s->valid_length, &journal, reterr);
        if (r < 0)
                return r;
        const char *text = s->guest_text ? s->guest_text : s->last_text;
        const char *source = s->guest_source ? s->guest_source : s->last_source;
        journal_begin(journal, JOURNAL_OP_STOP, text ? text : "", source);
        r = journal_guest(journal, g->record);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        *ret = g_steal_pointer(&journal);
        return 0;
}

/* What was found, for the message and the log. */
static char *force_report(const char *name, const char *path, const JournalState *s, const ForceGuest *g,
                          const char *copy) {
        g_autofree char *spans = force_spans(s);
        g_autofree char *orphans = force_orphans(s);
        return g_strdup_printf("guest '%s': recover --force: journal '%s': damaged: %s%s%s%s; a copy of the damaged file is '%s'",
                               name, path, spans[0] ? spans : "none", orphans, g->fallback ? "; " : "",
                               g->fallback ? g->fallback : "", copy ? copy : "(none made)");
}

static int force_undo_guest(BwManager *m, const char *name, const char *path, const JournalState *s,
                            const ForceGuest *g, const char *copy, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(GString) failed = g_string_new(NULL);
        const BwGuestInfo *info = force_guest_info(g);
        int r = force_begin_stop(m, name, s, g, &journal, reterr);
        if (r < 0)
                return r;
        BwError err = {};
        r = force_undo(m, journal, s, info, failed, &err);
        if (r < 0 && failed->len == 0)
                g_string_append(failed, err.message); /* the lock step failed: nothing was undone */
        int released = force_release(m, info, failed);
        r = r < 0 ? r : released;

        g_autofree char *report = force_report(name, path, s, g, copy);
        bool hidden = force_damage_may_hide_change(s);
        if (r == 0 && !hidden) {
                r = journal_remove(journal);
                if (r < 0)
                        return error_set(reterr, r, "journal '%s': cannot remove: %m", path);
                guest_lease_release(m->locker, info, NULL);
                if (s->corrupt || g->fallback)
                        log_warning("%s; every change undone, the journal removed", report);
                return 1;
        }
        g_autofree char *objects = hidden ? force_guest_objects(info) : NULL;
        g_autofree char *message = g_strdup_printf(
                "%s; could not undo: %s; %s%s%s; the journal stays", report,
                failed->len ? failed->str : "nothing (every readable change was undone)",
                hidden ? "a damaged span may have held a change that was applied, so what the guest names may still be on the host: " : "no damaged span held a change still applied",
                hidden ? objects : "", hidden ? "; check them, then remove the journal by hand" : "");
        log_notice("%s", message); /* a daemon's log; the caller shows the error itself */
        return error_set(reterr, r < 0 ? r : -EBADMSG, "%s", message);
}

int manager_recover_force(BwManager *m, const char *name, BwError *reterr) {
        g_autofree char *path = journal_file(m->settings->state_dir, name);
        g_autoptr(JournalState) s = NULL;
        g_autofree char *copy = NULL;
        ForceGuest g = {};

        int r = journal_read_resync(path, &s, reterr);
        if (r >= 0)
                r = force_guest_find(m, s, path, &g, reterr);
        if (r >= 0 && (g.rec || g.parsed))
                r = force_check_unpopulated(force_guest_info(&g), reterr);
        if (r >= 0 && (s->corrupt || !(g.rec || g.parsed)))
                r = journal_keep_copy(path, &copy, reterr);
        if (r >= 0 && !(g.rec || g.parsed))
                r = force_without_guest(name, path, s, copy, reterr);
        else if (r >= 0)
                r = force_undo_guest(m, name, path, s, &g, copy, reterr);
        force_guest_clear(&g);
        return r;
}
