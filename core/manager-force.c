/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recover --force: a guest whose journal is damaged.  Every whole record
 * before the damage is trusted and undone; what could not be undone, and
 * that the records after the damage could not be read, is said; the
 * journal goes only when everything readable was undone, and a copy of
 * the damaged file stays for a person. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "cgroup-procs.h"
#include "guest-record.h"
#include "journal.h"
#include "manager.h"

/* "kind 'object' (plugin p), ..." for every change still applied. */
static char *force_left_over(const char *path) {
        g_autoptr(JournalState) s = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        if (journal_read_salvage(path, &s, NULL) < 0)
                return g_strdup("(the journal cannot be read back)");
        for (guint i = 0; i < s->entries->len; i++) {
                const JournalEntry *e = s->entries->pdata[i];
                if (!e->undone)
                        g_string_append_printf(out, "%s%s '%s' (plugin '%s')", out->len ? ", " : "", e->kind,
                                               e->object, e->plugin);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static char *force_unreadable(const JournalState *s) {
        if (!s->corrupt)
                return g_strdup("");
        return g_strdup_printf("; records after offset %zu were unreadable, and whatever they describe was not undone",
                               s->corrupt_offset);
}

/* A journal with no guest record: nothing can be undone from it. */
static int force_without_record(const char *name, const char *path, const JournalState *s, const char *copy,
                                BwError *reterr) {
        if (s->entries->len > 0)
                return error_set(reterr, -EBADMSG,
                                 "guest '%s': journal '%s' records %u change(s) but no resolved guest to undo them on; nothing was undone; the journal stays, a copy is '%s'",
                                 name, path, s->entries->len, copy);
        if (unlink(path) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot remove: %m", path);
        log_warning("guest '%s': journal '%s' recorded no change (records after offset %zu unreadable); removed, a copy is '%s'",
                    name, path, s->valid_length, copy);
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

int manager_recover_force(BwManager *m, const char *name, BwError *reterr) {
        g_autofree char *path = journal_file(m->settings->state_dir, name);
        g_autoptr(JournalState) s = NULL;
        g_autoptr(GuestRecord) rec = NULL;
        g_autoptr(Journal) journal = NULL;
        g_autofree char *copy = NULL;

        int r = journal_read_salvage(path, &s, reterr);
        if (r < 0)
                return r;
        if (s->guest_record) {
                r = guest_record_load(s->guest_record, s->guest_text, path, &rec, reterr);
                if (r < 0)
                        return r;
                r = force_check_unpopulated(bw_guest_info(rec->guest), reterr);
                if (r < 0)
                        return r;
        }
        if (s->corrupt || !s->guest_record) {
                r = journal_keep_copy(path, &copy, reterr);
                if (r < 0)
                        return r;
        }
        if (!s->guest_record)
                return force_without_record(name, path, s, copy, reterr);

        /* New records (UNDONE, STOP) must follow the last whole one. */
        r = journal_open_truncated(m->settings->state_dir, name, s->valid_length, &journal, reterr);
        if (r < 0)
                return r;
        r = journal_begin(journal, JOURNAL_OP_STOP, s->guest_text, s->guest_source);
        if (r >= 0)
                r = journal_guest(journal, s->guest_record);
        if (r < 0)
                return error_set(reterr, r, "journal '%s': cannot write: %m", path);

        g_autofree char *unreadable = force_unreadable(s);
        BwError err = {};
        r = manager_finish_stop(m, journal, s, bw_guest_info(rec->guest), &err);
        if (r < 0) {
                g_autofree char *left = force_left_over(path);
                return error_set(reterr, r, "guest '%s': recover --force: could not undo: %s (%s)%s; the journal stays%s%s",
                                 name, left[0] ? left : "(none; releasing the guest failed)", err.message, unreadable,
                                 copy ? ", a copy of the damaged file is " : "", copy ? copy : "");
        }
        if (s->corrupt)
                log_warning("guest '%s': every readable change undone%s; the damaged journal is kept as '%s'", name,
                            unreadable, copy);
        return 1;
}
