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

/* A change as the state keeps it: copies, so the state outlives the
 * journal's reading. */
typedef struct GuestChange {
        char *plugin, *kind, *object, *detail, *lock_path, *resource;
        uint32_t flags;
        bool done;
} GuestChange;

struct BwGuestState {
        char *name;
        BwGuestStatus status;
        GuestRecord *record;       /* NULL when the journal holds none we can read */
        GPtrArray *changes;        /* GuestChange*: made and not undone, in order */
};

static void guest_change_free(GuestChange *c) {
        g_free(c->plugin);
        g_free(c->kind);
        g_free(c->object);
        g_free(c->detail);
        g_free(c->lock_path);
        g_free(c->resource);
        g_free(c);
}

/* What the journal lists as made and not undone: the changes stop would
 * undo. */
static GPtrArray *guest_changes_from(const JournalState *s) {
        GPtrArray *changes = g_ptr_array_new_with_free_func((GDestroyNotify) guest_change_free);
        for (guint i = 0; i < s->entries->len; i++) {
                const JournalEntry *e = s->entries->pdata[i];
                if (e->undone)
                        continue;
                GuestChange *c = g_new0(GuestChange, 1);
                c->plugin = g_strdup(e->plugin);
                c->kind = g_strdup(e->kind);
                c->object = g_strdup(e->object);
                c->detail = g_strdup(e->detail);
                c->lock_path = g_strdup(e->lock_path);
                c->resource = g_strdup(e->resource);
                c->flags = e->flags;
                c->done = e->done;
                g_ptr_array_add(changes, c);
        }
        return changes;
}

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
        gs->name = g_strdup(name);
        gs->status = guest_state_status(s);
        gs->changes = guest_changes_from(s);
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
        if (gs->changes)
                g_ptr_array_unref(gs->changes);
        g_free(gs->name);
        g_free(gs);
}

BW_PUBLIC const char *bw_guest_state_name(const BwGuestState *gs) {
        return gs ? gs->name : NULL;
}

BW_PUBLIC const char *bw_guest_status_to_string(BwGuestStatus status) {
        switch (status) {
        case BW_GUEST_RUNNING: return "running";
        case BW_GUEST_INTERRUPTED: return "interrupted";
        case BW_GUEST_CORRUPT: return "corrupt";
        }
        return "unknown";
}

BW_PUBLIC size_t bw_guest_state_change_count(const BwGuestState *gs) {
        return gs ? gs->changes->len : 0;
}

BW_PUBLIC int bw_guest_state_change(const BwGuestState *gs, size_t index, BwGuestChange *ret_change) {
        if (!gs || !ret_change)
                return -EINVAL;
        if (index >= gs->changes->len)
                return -ERANGE;
        const GuestChange *c = gs->changes->pdata[index];
        *ret_change = (BwGuestChange) { .plugin = c->plugin, .kind = c->kind, .object = c->object,
                                        .detail = c->detail, .lock_path = c->lock_path,
                                        .resource = c->resource, .flags = c->flags, .done = c->done };
        return 0;
}
