/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "guest-parse.h"
#include "guest.h"
#include "journal.h"
#include "util/log.h"
#include "manager.h"
#include "plan.h"
#include "plugin-loader.h"
#include "transaction.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwManager, bw_manager_free)

BW_PUBLIC int bw_manager_new(const BwOptions *options, BwManager **ret, BwError *reterr) {
        g_autoptr(BwManager) m = g_new0(BwManager, 1);
        int r;

        if (!ret)
                return error_set(reterr, -EINVAL, "bw_manager_new: no place for the result");
        r = settings_load(options, &m->settings, reterr);
        if (r < 0)
                return r;
        m->cgroup_root = g_strdup(m->settings->cgroup_root); /* configured or discovered */

        r = plugins_load_all(m->settings, &m->plugins, reterr);
        if (r < 0)
                return r;
        for (guint i = 0; i < m->plugins->len; i++) {
                Plugin *p = m->plugins->pdata[i];
                if (p->probe_result < 0) {
                        p->settings = m->settings;
                        continue; /* reported by plugins and refused by plan */
                }
                r = plugin_init(p, m->settings, reterr);
                if (r < 0)
                        return r;
        }

        if (m->settings->lock_backend == LOCK_BACKEND_LOCKD)
                r = path_locker_new_lockd(m->settings->lockd_socket, &m->locker);
        else
                r = path_locker_new_local(&m->locker);
        if (r < 0)
                return error_set(reterr, r, "lock backend: cannot set up: %m");
        *ret = g_steal_pointer(&m);
        return 0;
}

BW_PUBLIC void bw_manager_free(BwManager *m) {
        if (!m)
                return;
        path_locker_free(m->locker);
        if (m->plugins)
                g_ptr_array_unref(m->plugins); /* fini + dlclose each */
        settings_free(m->settings);
        g_free(m->cgroup_root);
        g_free(m);
}

void manager_set_locker(BwManager *m, PathLocker *locker) {
        path_locker_free(m->locker);
        m->locker = locker;
}

BW_PUBLIC const char *bw_manager_state_dir(const BwManager *m) {
        return m ? m->settings->state_dir : NULL;
}

BW_PUBLIC const char *bw_manager_cgroup_root(const BwManager *m) {
        return m ? m->cgroup_root : NULL;
}

BW_PUBLIC size_t bw_manager_plugin_count(const BwManager *m) {
        return m ? m->plugins->len : 0;
}

BW_PUBLIC int bw_manager_plugin_info(const BwManager *m, size_t index, BwPluginInfo *ret) {
        if (!m || !ret || index >= m->plugins->len)
                return -EINVAL;
        const Plugin *p = m->plugins->pdata[index];
        *ret = (BwPluginInfo) {
                .name = p->name, .path = p->path, .abi_major = p->ops.abi_major,
                .abi_minor = p->abi_minor, .flags = p->ops.flags,
                .probe_result = p->probe_result, .probe_reason = p->probe_reason,
        };
        return 0;
}

/* A copy of the guest with its cgroup resolved against our cgroup root. */
static int manager_resolve_guest(BwManager *m, const BwGuest *guest, BwGuest **ret, BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;
        int r = guest_copy(guest, &g, reterr);
        if (r < 0)
                return r;
        r = guest_resolve_cgroup(g, m->cgroup_root);
        if (r < 0)
                return error_set(reterr, r, "guest '%s': cannot place its cgroup under '%s': %m",
                                 guest_get_name(g), m->cgroup_root ? m->cgroup_root : "(none)");
        *ret = g_steal_pointer(&g);
        return 0;
}

/* A plugin whose probe failed is left out only when its configuration
 * says so ("[plugin:NAME] allow-unsupported=true"): running a guest with
 * less confinement than configured must be a decision, never a default. */
static bool manager_plugin_skipped(BwManager *m, Plugin *p) {
        if (p->probe_result >= 0)
                return false;
        return settings_plugin_allow_unsupported(m->settings, p->name);
}

static int manager_check_usable(BwManager *m, BwError *reterr) {
        for (guint i = 0; i < m->plugins->len; i++) {
                Plugin *p = m->plugins->pdata[i];
                const char *reason = p->probe_reason[0] ? p->probe_reason : g_strerror(-p->probe_result);
                if (manager_plugin_skipped(m, p))
                        log_warning("plugin '%s': not usable on this host, left out (allow-unsupported=true): %s",
                                    p->name, reason);
                else if (p->probe_result < 0)
                        return error_set(reterr, p->probe_result, "plugin '%s': not usable on this host: %s",
                                         p->name, reason);
        }
        return 0;
}

static int manager_plan_resolved(BwManager *m, const BwGuestInfo *info, BwPlan **ret, BwError *reterr) {
        g_autoptr(BwPlan) plan = plan_new();
        int r = manager_check_usable(m, reterr);
        if (r < 0)
                return r;
        for (guint i = 0; i < m->plugins->len; i++) {
                PlanSink sink;
                if (manager_plugin_skipped(m, m->plugins->pdata[i]))
                        continue;
                plan_sink_init(&sink, plan, m->plugins->pdata[i]);
                r = plugin_plan(m->plugins->pdata[i], info, &sink.sink, reterr);
                if (r < 0)
                        return r;
        }
        *ret = g_steal_pointer(&plan);
        return 0;
}

BW_PUBLIC int bw_manager_plan(BwManager *m, const BwGuest *guest, BwPlan **ret, BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;
        if (!m || !guest || !ret)
                return error_set(reterr, -EINVAL, "bw_manager_plan: missing argument");
        int r = manager_resolve_guest(m, guest, &g, reterr);
        if (r < 0)
                return r;
        return manager_plan_resolved(m, bw_guest_info(g), ret, reterr);
}

BW_PUBLIC int bw_manager_start(BwManager *m, const BwGuest *guest, BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;
        g_autoptr(BwPlan) plan = NULL;
        g_autoptr(Journal) journal = NULL;
        TransactionLocks locks = {};
        int r;

        if (!m || !guest)
                return error_set(reterr, -EINVAL, "bw_manager_start: missing argument");
        r = manager_resolve_guest(m, guest, &g, reterr);
        if (r < 0)
                return r;
        /* A missing device or image means an incomplete path list: refuse
         * rather than confine the guest to less than it will use. */
        r = guest_check_resolved(g, reterr);
        if (r < 0)
                return r;
        const BwGuestInfo *info = bw_guest_info(g);
        r = manager_plan_resolved(m, info, &plan, reterr);
        if (r < 0)
                return r;

        r = transaction_lock_plan(m->locker, plan, m->settings->lock_timeout_ms, &locks, reterr);
        if (r < 0)
                return r;

        r = journal_create(m->settings->state_dir, info->name, &journal, reterr);
        if (r >= 0) {
                r = journal_begin(journal, JOURNAL_OP_START, guest_get_text(g), guest_get_source(g));
                if (r < 0)
                        r = error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        }
        if (r >= 0) {
                Transaction t = { .journal = journal, .plugins = m->plugins, .guest = info, .locks = &locks };
                r = transaction_apply(&t, plan, reterr);
                if (r >= 0 && (r = transaction_locks_check(m->locker, &locks)) < 0)
                        /* Someone else may have changed these paths meanwhile:
                         * do not commit; recover undoes under fresh locks. */
                        r = error_set(reterr, -ENOLCK,
                                      "guest '%s': the locks on its paths were lost while it started (%s): "
                                      "its changes stay journaled in '%s'; 'bulwarkctl recover' undoes them",
                                      info->name, g_strerror(-r), journal_path(journal));
                else if (r >= 0) {
                        r = journal_commit(journal);
                        if (r < 0)
                                r = error_set(reterr, r, "journal '%s': cannot commit: %m",
                                              journal_path(journal));
                } else if (t.rolled_back)
                        (void) journal_remove(journal); /* the guest never started */
                /* else: what could not be undone stays journaled for recover */
        }
        transaction_unlock(m->locker, &locks);
        if (r >= 0)
                log_debug("guest '%s': started with %u change(s)", info->name, plan->changes->len);
        return r;
}

/* Undoes what a journal says is still applied (from transaction
 * `from_txn` on) under locks of every path those changes touched. */
static int manager_undo_journal(BwManager *m, Journal *journal, const JournalState *state,
                                const BwGuestInfo *info, unsigned from_txn, BwError *reterr) {
        TransactionLocks locks = {};
        int r = transaction_lock_entries(m->locker, state, from_txn, m->settings->lock_timeout_ms, &locks,
                                         reterr);
        if (r < 0)
                return r;
        Transaction t = { .journal = journal, .plugins = m->plugins, .guest = info,
                          .next_seq = state->next_seq, .locks = &locks };
        r = transaction_undo_entries(&t, state, from_txn, reterr);
        transaction_unlock(m->locker, &locks);
        return r;
}

/* Reads a guest's journal and re-parses the definition it recorded. */
static int manager_load_journal(BwManager *m, const char *name, Journal **ret_journal,
                                JournalState **ret_state, BwGuest **ret_guest, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(BwGuest) parsed = NULL, g = NULL;

        int r = journal_open(m->settings->state_dir, name, &journal, reterr);
        if (r < 0)
                return r;
        r = journal_read(journal_path(journal), &state, reterr);
        if (r < 0)
                return r;
        /* Undo is driven by the journaled changes: read nothing on the host,
         * so a deleted image or an unplugged device cannot block it. */
        GuestParseOptions popts = { .skip_host = true };
        r = guest_parse(state->guest_text, strlen(state->guest_text), state->guest_source, &popts,
                        &parsed, reterr);
        if (r < 0)
                return r;
        r = manager_resolve_guest(m, parsed, &g, reterr);
        if (r < 0)
                return r;
        *ret_journal = g_steal_pointer(&journal);
        *ret_state = g_steal_pointer(&state);
        *ret_guest = g_steal_pointer(&g);
        return 0;
}

static int manager_release_all(BwManager *m, const BwGuestInfo *info, BwError *reterr) {
        int first = 0;
        for (guint i = 0; i < m->plugins->len; i++) {
                BwError err = {};
                int r = plugin_release(m->plugins->pdata[i], info, &err);
                if (r < 0 && first == 0)
                        first = error_propagate(reterr, &err);
        }
        return first;
}

/* Undoes everything still applied, releases the guest, forgets it. */
static int manager_finish_stop(BwManager *m, Journal *journal, const JournalState *state,
                               const BwGuestInfo *info, BwError *reterr) {
        int r = manager_undo_journal(m, journal, state, info, 0, reterr);
        if (r < 0)
                return r;
        r = manager_release_all(m, info, reterr);
        if (r < 0)
                return r;
        r = journal_remove(journal);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot remove: %m", journal_path(journal));
        return 0;
}

BW_PUBLIC int bw_manager_stop(BwManager *m, const char *name, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(BwGuest) g = NULL;

        if (!m || !name)
                return error_set(reterr, -EINVAL, "bw_manager_stop: missing argument");
        if (name[0] == '.' || strchr(name, '/'))
                return error_set(reterr, -EINVAL, "guest '%s': not a valid guest name", name);
        int r = manager_load_journal(m, name, &journal, &state, &g, reterr);
        if (r < 0)
                return r;
        r = journal_begin(journal, JOURNAL_OP_STOP, state->guest_text, state->guest_source);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        return manager_finish_stop(m, journal, state, bw_guest_info(g), reterr);
}

/* Rolls back one guest's interrupted transaction; 1 when it did, 0 when
 * the guest's last transaction was complete. */
static int manager_recover_one(BwManager *m, const char *name, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(BwGuest) g = NULL;

        int r = manager_load_journal(m, name, &journal, &state, &g, reterr);
        if (r == -ENODATA) {
                /* Created, then crashed before the first record: nothing was changed. */
                g_autofree char *path = journal_file(m->settings->state_dir, name);
                return unlink(path) < 0 ? error_set(reterr, -errno, "journal '%s': cannot remove: %m", path) : 1;
        }
        if (r < 0)
                return r;
        const BwGuestInfo *info = bw_guest_info(g);
        bool complete = state->last_committed || state->last_aborted;

        if (state->last_op == JOURNAL_OP_STOP || (state->last_op == JOURNAL_OP_START && !state->last_committed)) {
                log_debug("guest '%s': finishing an interrupted %s", name, journal_op_to_string(state->last_op));
                r = manager_finish_stop(m, journal, state, info, reterr);
                return r < 0 ? r : 1;
        }
        if (complete)
                return 0;
        /* An interrupted attach or detach: undo that transaction only. */
        r = manager_undo_journal(m, journal, state, info, state->n_txn, reterr);
        if (r < 0)
                return r;
        r = journal_abort(journal);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        return 1;
}

BW_PUBLIC int bw_manager_recover(BwManager *m, BwError *reterr) {
        if (!m)
                return error_set(reterr, -EINVAL, "bw_manager_recover: missing argument");
        g_autofree char *dir = journal_dir(m->settings->state_dir);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        int count = 0, first = 0;
        if (!d)
                return 0; /* no journal directory: nothing ever started */

        for (const char *f; (f = g_dir_read_name(d));) {
                if (!g_str_has_suffix(f, ".journal") || f[0] == '.')
                        continue;
                g_autofree char *name = g_strndup(f, strlen(f) - strlen(".journal"));
                BwError err = {};
                int r = manager_recover_one(m, name, &err);
                if (r < 0) {
                        log_warning("%s", err.message);
                        if (first == 0)
                                first = error_propagate(reterr, &err);
                } else
                        count += r;
        }
        return first < 0 ? first : count;
}
