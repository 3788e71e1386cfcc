/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "cgroup-owner.h"
#include "guest-lease.h"
#include "guest-lock.h"
#include "guest-parse.h"
#include "guest-record.h"
#include "guest.h"
#include "journal.h"
#include "manager.h"
#include "plan.h"
#include "plugin-loader.h"
#include "transaction.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwManager, bw_manager_free)

BW_PUBLIC int bw_manager_new(const BwOptions *options, BwManager **ret, BwError *reterr) {
        g_autoptr(BwManager) m = g_new0(BwManager, 1);
        int r;

        g_mutex_init(&m->plugin_lock);
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
        g_mutex_clear(&m->plugin_lock);
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
int manager_resolve_guest(BwManager *m, const BwGuest *guest, BwGuest **ret, BwError *reterr) {
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
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&m->plugin_lock);
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

/* Creates the guest's journal with BEGIN and the resolved guest, after
 * checking under the state-directory lock that no running guest owns its
 * cgroup: the journal is what tells the next start that one does. */
static int manager_journal_start(BwManager *m, const BwGuest *g, Journal **ret, BwError *reterr) {
        const BwGuestInfo *info = bw_guest_info(g);
        g_autoptr(GuestLock) state_lock = NULL;
        g_autoptr(Journal) journal = NULL;
        g_autoptr(GVariant) record = NULL;

        int r = state_lock_acquire(m->settings->state_dir, m->settings->lock_timeout_ms, &state_lock, reterr);
        if (r < 0)
                return r;
        r = cgroup_owner_check_free(m->settings->state_dir, info->name, info->cgroup, reterr);
        if (r < 0)
                return r;
        r = journal_create(m->settings->state_dir, info->name, &journal, reterr);
        if (r < 0)
                return r;
        record = guest_record_build(info, m->cgroup_root, g_get_real_time());
        journal_begin(journal, JOURNAL_OP_START, guest_get_text(g), guest_get_source(g));
        r = journal_guest(journal, record);
        if (r < 0) {
                error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
                (void) journal_remove(journal); /* nothing was changed yet */
                return r;
        }
        *ret = g_steal_pointer(&journal);
        return 0;
}

/* Applies the plan under the journal; commits only while the path locks
 * still hold. */
static int manager_apply(BwManager *m, Journal *journal, const BwGuestInfo *info, const BwPlan *plan,
                         const TransactionLocks *locks, BwError *reterr) {
        Transaction t = { .journal = journal, .plugins = m->plugins, .guest = info, .locks = locks };
        g_mutex_lock(&m->plugin_lock);
        int r = transaction_apply(&t, plan, reterr);
        g_mutex_unlock(&m->plugin_lock);
        if (r < 0) {
                /* The leases last as long as the journal: the guest's
                 * stop or recover releases them. */
                if (t.rolled_back) {
                        (void) journal_remove(journal); /* the guest never started */
                        guest_lease_release(m->locker, info, NULL);
                }
                /* else: what could not be undone stays journaled for recover */
                return r;
        }
        r = transaction_locks_check(m->locker, locks);
        if (r < 0) {
                /* Someone else may have changed these paths meanwhile:
                 * do not commit; recover undoes under fresh locks. */
                (void) journal_sync(journal); /* the DONE records, for recover */
                return error_set(reterr, -ENOLCK,
                                 "guest '%s': the locks on its paths were lost while it started (%s): "
                                 "its changes stay journaled in '%s'; 'bulwarkctl recover' undoes them",
                                 info->name, g_strerror(-r), journal_path(journal));
        }
        r = journal_commit(journal);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot commit: %m", journal_path(journal));
        return 0;
}

BW_PUBLIC int bw_manager_start(BwManager *m, const BwGuest *guest, BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;
        g_autoptr(BwPlan) plan = NULL;
        g_autoptr(Journal) journal = NULL;
        g_autoptr(GuestLock) lock = NULL;
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
        r = cgroup_owner_check_path(info->name, info->cgroup, m->cgroup_root, reterr);
        if (r < 0)
                return r;
        r = guest_lock_acquire(m->settings->state_dir, info->name, m->settings->lock_timeout_ms, &lock, reterr);
        if (r < 0)
                return r;
        r = manager_plan_resolved(m, info, &plan, reterr);
        if (r < 0)
                return r;

        /* The journal first: it refuses a second start of a running
         * guest, whose leases these would be.  Then the guest's leases,
         * which refuse a start of the same images on another host before
         * anything is changed, and its transaction's locks. */
        r = manager_journal_start(m, g, &journal, reterr);
        if (r < 0)
                return r;
        r = guest_lease_take(m->locker, info, NULL, m->settings->lock_timeout_ms, reterr);
        if (r >= 0) {
                r = transaction_lock_plan(m->locker, plan, info->uuid, m->settings->lock_timeout_ms, &locks, reterr);
                if (r < 0)
                        guest_lease_release(m->locker, info, NULL);
        }
        if (r < 0) {
                (void) journal_remove(journal); /* nothing was changed yet */
                return r;
        }
        r = manager_apply(m, journal, info, plan, &locks, reterr);
        transaction_unlock(m->locker, &locks);
        if (r >= 0)
                log_debug("guest '%s': started with %u change(s)", info->name, plan->changes->len);
        return r;
}
