/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stop and recover: undoing what a guest's journal says is applied, on the
 * guest its GUEST record describes (never a re-parse of its definition). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "cgroup-procs.h"
#include "guest-lease.h"
#include "guest-lock.h"
#include "guest-record.h"
#include "guest.h"
#include "journal.h"
#include "manager.h"
#include "plugin-loader.h"
#include "transaction.h"

/* How long stop --kill waits for the killed processes to be gone. */
#define MANAGER_KILL_TIMEOUT_MS 10000

/* Undoes what a journal says is still applied (from transaction
 * `from_txn` on) under locks of every path those changes touched. */
static int manager_undo_journal(BwManager *m, Journal *journal, const JournalState *state,
                                const BwGuestInfo *info, unsigned from_txn, BwError *reterr) {
        TransactionLocks locks = {};
        int r = transaction_lock_entries(m->locker, state, from_txn, info->uuid, m->settings->lock_timeout_ms,
                                         &locks, reterr);
        if (r < 0)
                return r;
        Transaction t = { .journal = journal, .plugins = m->plugins, .guest = info, .locks = &locks,
                          .next_seq = state->next_seq };
        g_mutex_lock(&m->plugin_lock);
        r = transaction_undo_entries(&t, state, from_txn, reterr);
        g_mutex_unlock(&m->plugin_lock);
        transaction_unlock(m->locker, &locks);
        return r;
}

/* Opens a guest's journal (cutting a torn tail, refusing corruption) and
 * rebuilds the guest its GUEST record describes. */
int manager_load_journal(BwManager *m, const char *name, Journal **ret_journal, JournalState **ret_state,
                         GuestRecord **ret_record, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(GuestRecord) record = NULL;
        BwError err = {};

        int r = journal_open(m->settings->state_dir, name, &journal, &state, &err);
        if (r == -EBADMSG)
                return error_set(reterr, r, "%s; the file is left as it is: 'bulwarkctl recover --force %s' undoes what can be read",
                                 err.message, name);
        if (r < 0)
                return error_propagate(reterr, &err);
        if (!state->guest_record && state->entries->len == 0)
                /* A start that ended before its first change was journaled. */
                return error_set(reterr, -ENODATA, "journal '%s': no change recorded", journal_path(journal));
        r = guest_record_load(state->guest_record, state->guest_text, journal_path(journal), &record, reterr);
        if (r < 0)
                return r;
        *ret_journal = g_steal_pointer(&journal);
        *ret_state = g_steal_pointer(&state);
        *ret_record = g_steal_pointer(&record);
        return 0;
}

static int manager_release_all(BwManager *m, const BwGuestInfo *info, BwError *reterr) {
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&m->plugin_lock);
        int first = 0;
        for (guint i = 0; i < m->plugins->len; i++) {
                BwError err = {};
                int r = plugin_release(m->plugins->pdata[i], info, &err);
                if (r < 0 && first == 0)
                        first = error_propagate(reterr, &err);
        }
        return first;
}

int manager_finish_stop(BwManager *m, Journal *journal, const JournalState *state,
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
        /* The guest is gone: its images are free for any host. */
        guest_lease_release(m->locker, info, NULL);
        return 0;
}

/* Undoing the device program of a cgroup that still holds processes would
 * leave them running unconfined: refuse, or kill them first. */
static int manager_check_unpopulated(const BwGuestInfo *info, unsigned flags, BwError *reterr) {
        pid_t pid = 0;
        int r = cgroup_procs_populated(info->cgroup, &pid);
        if (r < 0)
                return error_set(reterr, r, "guest '%s': cgroup '%s': cannot tell whether processes are left: %m",
                                 info->name, info->cgroup);
        if (r == 0)
                return 0;
        if (flags & BW_STOP_KILL)
                return cgroup_procs_kill(info->name, info->cgroup, MANAGER_KILL_TIMEOUT_MS, reterr);
        return error_set(reterr, -EBUSY,
                         "guest '%s': cgroup '%s' still holds processes (pid %d): stopping would leave them unconfined; end them first, or stop with --kill (BW_STOP_KILL); every change stays in place",
                         info->name, info->cgroup, (int) pid);
}

int manager_check_name(const char *name, BwError *reterr) {
        if (!guest_name_is_valid(name))
                return error_set(reterr, -EINVAL, "guest '%s': not a valid guest name", name);
        return 0;
}

BW_PUBLIC int bw_manager_stop_with_flags(BwManager *m, const char *name, unsigned flags, BwError *reterr) {
        g_autoptr(GuestLock) lock = NULL;
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(GuestRecord) record = NULL;

        if (!m || !name)
                return error_set(reterr, -EINVAL, "bw_manager_stop: missing argument");
        if (flags & ~(unsigned) BW_STOP_KILL)
                return error_set(reterr, -EINVAL, "guest '%s': stop: unknown flags 0x%x", name, flags);
        int r = manager_check_name(name, reterr);
        if (r < 0)
                return r;
        r = guest_lock_acquire(m->settings->state_dir, name, m->settings->lock_timeout_ms, &lock, reterr);
        if (r < 0)
                return r;
        r = manager_load_journal(m, name, &journal, &state, &record, reterr);
        if (r < 0)
                return r;
        const BwGuestInfo *info = bw_guest_info(record->guest);
        r = manager_check_unpopulated(info, flags, reterr);
        if (r < 0)
                return r;
        journal_begin(journal, JOURNAL_OP_STOP, state->guest_text, state->guest_source);
        r = journal_guest(journal, state->guest_record);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        return manager_finish_stop(m, journal, state, info, reterr);
}

BW_PUBLIC int bw_manager_stop(BwManager *m, const char *name, BwError *reterr) {
        return bw_manager_stop_with_flags(m, name, 0, reterr);
}

/* A journal that records no change: nothing to undo, unless the guest's
 * default cgroup exists, which says something ran without a journal. */
static int manager_drop_empty(BwManager *m, const char *name, BwError *reterr) {
        g_autofree char *path = journal_file(m->settings->state_dir, name);
        g_autofree char *cgroup = m->cgroup_root ? g_build_filename(m->cgroup_root, "bulwark", name, NULL) : NULL;

        if (cgroup && g_file_test(cgroup, G_FILE_TEST_IS_DIR))
                return error_set(reterr, -EBADMSG,
                                 "guest '%s': journal '%s' records nothing, yet cgroup '%s' exists: something may run unrecorded; check it, then 'bulwarkctl recover --force %s'",
                                 name, path, cgroup, name);
        if (unlink(path) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot remove: %m", path);
        return 1;
}

/* Rolls back one guest's interrupted transaction; 1 when it did, 0 when
 * the guest's last transaction was complete.  The caller holds its lock. */
static int manager_recover_locked(BwManager *m, const char *name, BwError *reterr) {
        g_autoptr(Journal) journal = NULL;
        g_autoptr(JournalState) state = NULL;
        g_autoptr(GuestRecord) record = NULL;

        int r = manager_load_journal(m, name, &journal, &state, &record, reterr);
        if (r == -ENODATA) {
                g_clear_pointer(&journal, journal_close);
                return manager_drop_empty(m, name, reterr);
        }
        if (r < 0)
                return r;
        const BwGuestInfo *info = bw_guest_info(record->guest);
        bool complete = state->last_committed || state->last_aborted;

        if (state->last_op == JOURNAL_OP_STOP || (state->last_op == JOURNAL_OP_START && !state->last_committed)) {
                log_debug("guest '%s': finishing an interrupted %s", name, journal_op_to_string(state->last_op));
                r = manager_finish_stop(m, journal, state, info, reterr);
                return r < 0 ? r : 1;
        }
        if (complete)
                return 0;
        /* An interrupted attach or detach: undo that transaction only, on
         * the guest that has the resource (plugin.h): the attach's new
         * guest, or the guest as it was before the detach. */
        g_autoptr(GuestRecord) attached = NULL;
        if (state->last_op == JOURNAL_OP_ATTACH && state->last_record) {
                r = guest_record_load(state->last_record, state->last_text, journal_path(journal), &attached,
                                      reterr);
                if (r < 0)
                        return r;
                info = bw_guest_info(attached->guest);
        }
        log_debug("guest '%s': undoing an interrupted %s", name, journal_op_to_string(state->last_op));
        r = manager_undo_journal(m, journal, state, info, state->n_txn, reterr);
        if (r < 0)
                return r;
        r = journal_abort(journal);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", journal_path(journal));
        return 1;
}

BW_PUBLIC int bw_manager_recover_guest(BwManager *m, const char *name, unsigned flags, BwError *reterr) {
        g_autoptr(GuestLock) lock = NULL;

        if (!m || !name)
                return error_set(reterr, -EINVAL, "bw_manager_recover_guest: missing argument");
        if (flags & ~(unsigned) BW_RECOVER_FORCE)
                return error_set(reterr, -EINVAL, "guest '%s': recover: unknown flags 0x%x", name, flags);
        int r = manager_check_name(name, reterr);
        if (r < 0)
                return r;
        r = guest_lock_acquire(m->settings->state_dir, name, 0, &lock, reterr);
        if (r < 0)
                return r;
        BwError err = {};
        r = manager_recover_locked(m, name, &err);
        /* --force is for what a plain recover refuses, never a way to tear
         * down a guest whose journal is fine. */
        if (r == -EBADMSG && (flags & BW_RECOVER_FORCE))
                return manager_recover_force(m, name, reterr);
        return r < 0 ? error_propagate(reterr, &err) : r;
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
                if (!g_str_has_suffix(f, ".journal"))
                        continue;
                g_autofree char *name = g_strndup(f, strlen(f) - strlen(".journal"));
                if (!guest_name_is_valid(name))
                        continue;
                BwError err = {};
                int r = bw_manager_recover_guest(m, name, 0, &err);
                if (r == -ENOENT)
                        continue; /* stopped since we listed the directory */
                if (r == -EBUSY) {
                        /* Its own transaction finishes or rolls back by itself. */
                        log_warning("guest '%s': skipped: a transaction on it is running", name);
                        continue;
                }
                if (r < 0 && first == 0)
                        first = error_propagate(reterr, &err); /* the caller reports it */
                else if (r < 0)
                        log_warning("%s", err.message);
                else
                        count += r;
        }
        return first < 0 ? first : count;
}
