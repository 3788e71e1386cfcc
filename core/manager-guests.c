/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guests a state directory knows, and what each one's journal says. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "guest-record.h"
#include "guest.h"
#include "journal.h"
#include "manager.h"

struct BwGuestState {
        BwGuestStatus status;
        GuestRecord *record;       /* NULL when the journal holds none we can read */
};

BW_PUBLIC void bw_strv_free(char **strv) {
        g_strfreev(strv);
}

static gint compare_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

BW_PUBLIC int bw_manager_list_guests(BwManager *m, char ***ret_names, BwError *reterr) {
        if (!m || !ret_names)
                return error_set(reterr, -EINVAL, "bw_manager_list_guests: missing argument");
        g_autofree char *dir = journal_dir(m->settings->state_dir);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) gerr = NULL;
        g_autoptr(GDir) d = g_dir_open(dir, 0, &gerr);

        if (!d && !g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                return error_set(reterr, -EIO, "state directory '%s': %s", dir, gerr->message);
        for (const char *f; d && (f = g_dir_read_name(d));) {
                if (!g_str_has_suffix(f, ".journal"))
                        continue;
                char *name = g_strndup(f, strlen(f) - strlen(".journal"));
                if (guest_name_is_valid(name))
                        g_ptr_array_add(names, name);
                else
                        g_free(name);
        }
        g_ptr_array_sort(names, compare_names);
        g_ptr_array_add(names, NULL);
        g_ptr_array_set_free_func(names, NULL);
        *ret_names = (char **) g_ptr_array_free(g_steal_pointer(&names), FALSE);
        return 0;
}

static BwGuestStatus guest_state_status(const JournalState *s) {
        if (s->corrupt)
                return BW_GUEST_CORRUPT;
        if (s->n_txn == 0)
                return BW_GUEST_INTERRUPTED;
        if (s->last_op == JOURNAL_OP_START || s->last_op == JOURNAL_OP_STOP)
                return s->last_op == JOURNAL_OP_START && s->last_committed ? BW_GUEST_RUNNING
                                                                         : BW_GUEST_INTERRUPTED;
        return s->last_committed || s->last_aborted ? BW_GUEST_RUNNING : BW_GUEST_INTERRUPTED;
}

BW_PUBLIC int bw_manager_get_guest(BwManager *m, const char *name, BwGuestState **ret, BwError *reterr) {
        g_autoptr(JournalState) s = NULL;

        if (!m || !name || !ret)
                return error_set(reterr, -EINVAL, "bw_manager_get_guest: missing argument");
        if (!guest_name_is_valid(name))
                return error_set(reterr, -EINVAL, "guest '%s': not a valid guest name", name);
        g_autofree char *path = journal_file(m->settings->state_dir, name);
        int r = journal_read_salvage(path, &s, reterr);
        if (r == -ENOENT)
                return error_set(reterr, r, "guest '%s': not started (no journal '%s')", name, path);
        if (r < 0)
                return r;
        BwGuestState *gs = g_new0(BwGuestState, 1);
        gs->status = guest_state_status(s);
        if (s->guest_record &&
            guest_record_load(s->guest_record, s->guest_text, path, &gs->record, NULL) < 0)
                gs->status = BW_GUEST_CORRUPT;
        *ret = gs;
        return 0;
}

BW_PUBLIC BwGuestStatus bw_guest_state_status(const BwGuestState *gs) {
        return gs ? gs->status : BW_GUEST_CORRUPT;
}

BW_PUBLIC const BwGuestInfo *bw_guest_state_info(const BwGuestState *gs) {
        return gs && gs->record ? bw_guest_info(gs->record->guest) : NULL;
}

BW_PUBLIC const char *bw_guest_state_cgroup(const BwGuestState *gs) {
        const BwGuestInfo *info = bw_guest_state_info(gs);
        return info ? info->cgroup : NULL;
}

BW_PUBLIC int64_t bw_guest_state_start_time(const BwGuestState *gs) {
        return gs && gs->record ? gs->record->start_time_us : 0;
}

BW_PUBLIC void bw_guest_state_free(BwGuestState *gs) {
        if (!gs)
                return;
        guest_record_free(gs->record);
        g_free(gs);
}
