/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and detach: one resource more or less for a running guest, in a
 * transaction of its own under the guest's lock: BEGIN (ATTACH or DETACH)
 * with the new definition text, a GUEST record of the new guest (the
 * guest's record with the resource added or removed: the other resources
 * stay as resolved at start), each plugin's attach (plugin order) or
 * detach (reverse order) changes, locked, applied under the journal,
 * COMMIT.  A failure rolls back this transaction only; the journal reader
 * then keeps the guest as it was (journal.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
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

/* One attach or detach: what it works on and what it makes. */
typedef struct Hotplug {
        const char *name;
        JournalOp op;
        char *ref;                 /* "disk:data" */
        GuestLock *lock;           /* released last */
        Journal *journal;
        JournalState *state;
        GuestRecord *record;       /* the guest now */
        GuestRecord *next;         /* the guest after it */
        GVariant *next_variant;    /* ... as the GUEST record holds it */
        const BwResource *resource; /* in the guest that has it */
        BwPlan *plan;
} Hotplug;

static void hotplug_clear(Hotplug *h) {
        g_free(h->ref);
        journal_close(h->journal);
        journal_state_free(h->state);
        guest_record_free(h->record);
        guest_record_free(h->next);
        if (h->next_variant)
                g_variant_unref(h->next_variant);
        bw_plan_free(h->plan);
        guest_lock_release(h->lock);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Hotplug, hotplug_clear)

static const char *hotplug_verb(const Hotplug *h) {
        return h->op == JOURNAL_OP_ATTACH ? "attach" : "detach";
}

/* Prefixes an error with "guest 'NAME': attach [REF]: ". */
static int hotplug_fail(const Hotplug *h, BwError *reterr, const BwError *err) {
        if (h->ref)
                return error_set(reterr, err->code, "guest '%s': %s [%s]: %s", h->name, hotplug_verb(h), h->ref,
                                 err->message);
        return error_set(reterr, err->code, "guest '%s': %s: %s", h->name, hotplug_verb(h), err->message);
}

/* The guest's lock, its journal and its effective record; the guest must
 * be running with its last transaction complete. */
static int hotplug_load(BwManager *m, Hotplug *h, BwError *reterr) {
        BwError err = {};
        int r = manager_check_name(h->name, reterr);
        if (r < 0)
                return r;
        r = guest_lock_acquire(m->settings->state_dir, h->name, m->settings->lock_timeout_ms, &h->lock, reterr);
        if (r < 0)
                return r;
        r = manager_load_journal(m, h->name, &h->journal, &h->state, &h->record, &err);
        if (r == -ENOENT)
                error_set(&err, r, "not running (no journal)");
        if (r < 0)
                return hotplug_fail(h, reterr, &err);
        if (h->state->last_op == JOURNAL_OP_STOP || !h->state->last_committed)
                return hotplug_fail(h, reterr,
                                    &(BwError) { .code = -EBUSY,
                                                 .message = "its last transaction did not finish; run 'bulwarkctl recover' first" });
        return 0;
}

/* The record of `info` with its resources replaced by `resources`, loaded
 * back as the guest the plugins and the journal see. */
static int hotplug_build_next(Hotplug *h, const BwGuestInfo *info, GPtrArray *resources, const char *text,
                              BwError *reterr) {
        BwGuestInfo next = *info;
        next.n_resources = resources->len;
        next.resources = (const BwResource *const *) resources->pdata;
        h->next_variant = guest_record_build(&next, h->record->cgroup_root, h->record->start_time_us);
        return guest_record_load(h->next_variant, text, h->state->guest_source, &h->next, reterr);
}

/* A plugin that is not usable here and not allowed to be left out makes
 * no change of this guest: start refused it, so must we. */
static int hotplug_check_plugin(BwManager *m, Plugin *p, BwError *reterr) {
        if (p->probe_result >= 0 || settings_plugin_allow_unsupported(m->settings, p->name))
                return 0;
        return error_set(reterr, p->probe_result, "plugin '%s': not usable on this host: %s", p->name,
                         p->probe_reason[0] ? p->probe_reason : g_strerror(-p->probe_result));
}

/* Each plugin's attach changes in plugin order, or its detach changes in
 * reverse order (labels go after the devices, the mirror of start). */
static int hotplug_plan(BwManager *m, Hotplug *h, const BwGuestInfo *info, BwError *reterr) {
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&m->plugin_lock);
        guint n = m->plugins->len;
        h->plan = plan_new();
        for (guint k = 0; k < n; k++) {
                Plugin *p = m->plugins->pdata[h->op == JOURNAL_OP_ATTACH ? k : n - 1 - k];
                PlanSink sink;
                int r = hotplug_check_plugin(m, p, reterr);
                if (r < 0)
                        return r;
                plan_sink_init(&sink, h->plan, p);
                r = h->op == JOURNAL_OP_ATTACH ? plugin_attach(p, info, h->resource, &sink.sink, reterr)
                                               : plugin_detach(p, info, h->resource, &sink.sink, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The resource's leases once its transaction is over: an attach that
 * did not happen and a detach that did release them. */
static void hotplug_leases_settle(BwManager *m, const Hotplug *h, const BwGuestInfo *info, bool committed) {
        if ((h->op == JOURNAL_OP_ATTACH) != committed)
                guest_lease_release(m->locker, info, h->resource);
}

/* Locks, journals, applies and commits; `info` is the guest that has the
 * resource (the new one for attach, the old one for detach).  `reterr`
 * must not be NULL. */
static int hotplug_run(BwManager *m, Hotplug *h, const BwGuestInfo *info, BwError *reterr) {
        TransactionLocks locks = {};
        const char *path = journal_path(h->journal);
        /* The new resource's images are leased before its changes. */
        int r = h->op == JOURNAL_OP_ATTACH
                        ? guest_lease_take(m->locker, info, h->resource, m->settings->lock_timeout_ms, reterr)
                        : 0;
        if (r >= 0)
                r = transaction_lock_plan(m->locker, h->plan, info->uuid, m->settings->lock_timeout_ms, &locks,
                                          reterr);
        if (r < 0) {
                hotplug_leases_settle(m, h, info, false);
                return r;
        }
        journal_begin(h->journal, h->op, guest_get_text(h->next->guest), h->state->guest_source);
        r = journal_guest(h->journal, h->next_variant);
        if (r < 0) {
                (void) journal_abort(h->journal); /* nothing was changed yet */
                transaction_unlock(m->locker, &locks);
                hotplug_leases_settle(m, h, info, false);
                return error_set(reterr, r, "journal '%s': cannot write: %m", path);
        }
        Transaction t = { .journal = h->journal, .plugins = m->plugins, .guest = info, .locks = &locks,
                          .next_seq = h->state->next_seq };
        g_mutex_lock(&m->plugin_lock);
        r = transaction_apply(&t, h->plan, reterr);
        g_mutex_unlock(&m->plugin_lock);
        if (r >= 0 && transaction_locks_check(m->locker, &locks) < 0)
                /* Someone else may have changed these paths meanwhile: do
                 * not commit; recover undoes this transaction only. */
                r = error_set(reterr, -ENOLCK,
                              "the locks on its paths were lost meanwhile: the changes stay journaled in '%s'; 'bulwarkctl recover' undoes them",
                              path);
        else if (r >= 0 && (r = journal_commit(h->journal)) < 0)
                r = error_set(reterr, r, "journal '%s': cannot commit: %m", path);
        else if (r < 0 && !t.rolled_back) {
                BwError first = *reterr;
                r = error_set(reterr, r, "%s; not every change was undone: they stay journaled in '%s' and 'bulwarkctl recover' retries",
                              first.message, path);
        }
        transaction_unlock(m->locker, &locks);
        /* Left journaled (not rolled back): recover settles the leases. */
        if (r >= 0 || t.rolled_back)
                hotplug_leases_settle(m, h, info, r >= 0);
        return r;
}

/* Locates the first group header of a resource text, for messages. */
static char *hotplug_text_ref(const char *text) {
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                line += strspn(line, " \t");
                const char *end = strpbrk(line, "]\n");
                if (*line == '[' && end && *end == ']')
                        return g_strndup(line + 1, (gsize) (end - line - 1));
        }
        return NULL;
}

int manager_attach_with_options(BwManager *m, const char *name, const char *resource_text,
                                const GuestParseOptions *options, BwError *reterr) {
        g_auto(Hotplug) h = { .name = name, .op = JOURNAL_OP_ATTACH };
        g_autoptr(BwGuest) base = NULL, edited = NULL;
        const BwResource *added = NULL;
        BwError err = {};

        if (!m || !name || !resource_text)
                return error_set(reterr, -EINVAL, "bw_manager_attach: missing argument");
        h.ref = hotplug_text_ref(resource_text);
        int r = hotplug_load(m, &h, reterr);
        if (r < 0)
                return r;
        /* The definition parsed again (host lookups done) with the group
         * added: what start would refuse for the resource is refused. */
        const char *text = h.state->guest_text;
        r = guest_parse(text, strlen(text), h.state->guest_source, options, &base, &err);
        if (r >= 0)
                r = guest_parse_with_resource(base, resource_text, NULL, &edited, &added, &err);
        if (r >= 0 && guest_get_n_unresolved(edited) > guest_get_n_unresolved(base))
                r = error_set(&err, -ENODEV, "%s",
                              guest_get_unresolved(edited, guest_get_n_unresolved(base)));
        if (r < 0)
                return hotplug_fail(&h, reterr, &err);
        g_free(h.ref);
        h.ref = guest_resource_ref(added);

        const BwGuestInfo *now = bw_guest_info(h.record->guest);
        g_autoptr(GPtrArray) resources = g_ptr_array_new();
        for (size_t i = 0; i < now->n_resources; i++)
                g_ptr_array_add(resources, (gpointer) now->resources[i]);
        g_ptr_array_add(resources, (gpointer) added);
        r = hotplug_build_next(&h, now, resources, guest_get_text(edited), &err);
        if (r < 0)
                return hotplug_fail(&h, reterr, &err);
        const BwGuestInfo *next = bw_guest_info(h.next->guest);
        h.resource = next->resources[next->n_resources - 1];

        r = hotplug_plan(m, &h, next, &err);
        if (r >= 0)
                r = hotplug_run(m, &h, next, &err);
        if (r < 0)
                return hotplug_fail(&h, reterr, &err);
        log_debug("guest '%s': attached [%s] with %u change(s)", name, h.ref, h.plan->changes->len);
        return 0;
}

BW_PUBLIC int bw_manager_attach(BwManager *m, const char *name, const char *resource_text, BwError *reterr) {
        return manager_attach_with_options(m, name, resource_text, NULL, reterr);
}

BW_PUBLIC int bw_manager_detach(BwManager *m, const char *name, const char *resource_ref, BwError *reterr) {
        g_auto(Hotplug) h = { .name = name, .op = JOURNAL_OP_DETACH };
        g_autoptr(BwGuest) edited = NULL;
        BwError err = {};

        if (!m || !name || !resource_ref)
                return error_set(reterr, -EINVAL, "bw_manager_detach: missing argument");
        h.ref = g_strdup(resource_ref);
        int r = hotplug_load(m, &h, reterr);
        if (r < 0)
                return r;
        const BwGuestInfo *now = bw_guest_info(h.record->guest);
        g_autoptr(GPtrArray) resources = g_ptr_array_new();
        for (size_t i = 0; i < now->n_resources; i++) {
                g_autofree char *ref = guest_resource_ref(now->resources[i]);
                if (strcmp(ref, resource_ref) == 0)
                        h.resource = now->resources[i];
                else
                        g_ptr_array_add(resources, (gpointer) now->resources[i]);
        }
        /* The text without the group; it also refuses what is no reference. */
        r = guest_parse_without_resource(h.record->guest, resource_ref, &edited, &err);
        if (r >= 0 && !h.resource)
                r = error_set(&err, -ENOENT, "guest '%s' has no resource [%s]", name, resource_ref);
        if (r >= 0)
                r = hotplug_build_next(&h, now, resources, guest_get_text(edited), &err);
        if (r >= 0)
                r = hotplug_plan(m, &h, now, &err);
        if (r >= 0)
                r = hotplug_run(m, &h, now, &err);
        if (r < 0)
                return hotplug_fail(&h, reterr, &err);
        log_debug("guest '%s': detached [%s] with %u change(s)", name, h.ref, h.plan->changes->len);
        return 0;
}
