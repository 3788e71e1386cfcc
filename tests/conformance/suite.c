/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-census.h"
#include "guest.h"
#include "op-check.h"
#include "plan-check.h"
#include "plan.h"
#include "plugin-loader.h"
#include "snapshot.h"
#include "suite.h"


typedef enum CheckResult {
        CHECK_PASS,
        CHECK_FAIL,
        CHECK_SKIP,
} CheckResult;

/* What a check needs from the ones before it; each level implies the
 * ones above it. */
typedef enum SuiteNeeds {
        NEEDS_LOADED,              /* the plugin loaded */
        NEEDS_USABLE,              /* its probe says it is usable here */
        NEEDS_INIT,                /* init succeeded */
        NEEDS_PLAN,                /* the guest's plan is valid */
        NEEDS_APPLY,               /* changes may be applied here, and the host is as it was */
        NEEDS_RECORDS,             /* apply+undo passed: its undo records */
} SuiteNeeds;

typedef struct Suite {
        Fixture *fixture;
        Report *report;
        const char *plugin_path;
        bool verbose;
        Plugin *plugin;            /* the instance under test */
        const BwGuestInfo *guest;
        Snapshot *pristine;        /* the host before the plugin was loaded */
        Snapshot *baseline;        /* the host after init: what every apply check starts from */
        Snapshot *before_plan;
        FdCensus *fds_start;       /* before the plugin was loaded */
        FdCensus *fds_init;        /* after init: the plugin's own descriptors included */
        BwPlan *plan;              /* the guest's plan, once it is valid */
        GPtrArray *records;        /* GBytes per change: the undo records of apply+undo */
        char *unusable;            /* why the plugin cannot run here */
        char *cannot_apply;        /* why changes may not be applied here */
        bool initialized;
} Suite;

typedef struct SuiteCheck {
        const char *name;
        SuiteNeeds needs;
        CheckResult (*run)(Suite *s, char **ret_message);
} SuiteCheck;

static CheckResult check_fail(char **ret_message, char *message) {
        *ret_message = message;
        return CHECK_FAIL;
}

/* ---- The host ---------------------------------------------------------- */

static char *suite_take(Suite *s, Snapshot **ret) {
        int r = snapshot_take(s->fixture->scope, ret);
        return r < 0 ? g_strdup_printf("cannot record the host: %s", g_strerror(-r)) : NULL;
}

/* NULL when the host is as `before` recorded it; the plugin's state
 * directory is its own unless `all`. */
static char *suite_host_diff(Suite *s, const Snapshot *before, bool all) {
        g_autoptr(Snapshot) now = NULL;
        char *failure = suite_take(s, &now);
        if (failure)
                return failure;
        return snapshot_diff(before, now, all ? NULL : s->fixture->state_dir);
}

/* ---- Applying and undoing ---------------------------------------------- */

static char *suite_undo(Suite *s, const BwPlan *plan, const BwGuestInfo *guest, GPtrArray *records,
                        guint count, const char *what);

/* What the core's lock step would tell apply() and undo() now. */
static BwApplyContext suite_context(const BwGuestInfo *guest, const BwChange *change) {
        BwApplyContext ctx = { .size = sizeof(ctx), .holder = guest->uuid };
        struct stat st;
        if (change->lock_path) {
                ctx.locked = true;
                if (stat(change->lock_path, &st) == 0)
                        ctx = (BwApplyContext) { .size = sizeof(ctx), .holder = guest->uuid, .locked = true,
                                                 .existed = true, .dev = st.st_dev, .ino = st.st_ino };
        }
        return ctx;
}

/* Bytes after the undo buffer that apply must leave alone. */
#define SUITE_UNDO_GUARD 64
#define SUITE_UNDO_GUARD_BYTE 0xa5

static bool suite_guard_intact(const uint8_t *guard) {
        for (size_t i = 0; i < SUITE_UNDO_GUARD; i++)
                if (guard[i] != SUITE_UNDO_GUARD_BYTE)
                        return false;
        return true;
}

/* Applies every change of `plan` in order and returns their undo records
 * (GBytes).  On a failure, undoes what was applied and says what failed.
 * The undo buffer is exactly the plugin's record_max: writing past it
 * fails the check. */
static char *suite_apply(Suite *s, const BwPlan *plan, const BwGuestInfo *guest, GPtrArray **ret_records) {
        g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
        size_t max = s->plugin->record_max;
        g_autofree uint8_t *undo = g_malloc(max + SUITE_UNDO_GUARD);

        for (guint i = 0; i < plan->changes->len; i++) {
                size_t undo_len = 0;
                BwChange view;
                BwError err = {};

                plan_change_view(plan->changes->pdata[i], &view);
                BwApplyContext ctx = suite_context(guest, &view);
                memset(undo + max, SUITE_UNDO_GUARD_BYTE, SUITE_UNDO_GUARD);
                int r = plugin_apply(s->plugin, guest, &view, &ctx, undo, max, &undo_len, &err);
                if (r >= 0 && !suite_guard_intact(undo + max)) {
                        g_autofree char *what = plan_check_describe(plan, i);
                        g_autofree char *rollback = suite_undo(s, plan, guest, records, i, "undo");
                        return g_strdup_printf("apply of %s wrote past the undo buffer of record_max %zu bytes%s%s",
                                               what, max, rollback ? "; then " : "", rollback ? rollback : "");
                }
                if (r < 0) {
                        g_autofree char *what = plan_check_describe(plan, i);
                        g_autofree char *rollback = suite_undo(s, plan, guest, records, i, "undo");
                        return g_strdup_printf("apply of %s failed: %s%s%s", what, err.message,
                                               rollback ? "; then " : "", rollback ? rollback : "");
                }
                g_ptr_array_add(records, g_bytes_new(undo, undo_len));
        }
        *ret_records = g_steal_pointer(&records);
        return NULL;
}

/* Undoes changes count-1..0 of `plan`, with their records or, when
 * `records` is NULL, without (as after a crash).  Goes on after a failure
 * and reports the first: "<what> of change 2 (...) failed: ...". */
static char *suite_undo(Suite *s, const BwPlan *plan, const BwGuestInfo *guest, GPtrArray *records,
                        guint count, const char *what) {
        char *failure = NULL;

        for (guint i = count; i > 0; i--) {
                GBytes *record = records ? records->pdata[i - 1] : NULL;
                gsize len = 0;
                const void *data = record ? g_bytes_get_data(record, &len) : NULL;
                BwChange view;
                BwError err = {};

                plan_change_view(plan->changes->pdata[i - 1], &view);
                BwApplyContext ctx = suite_context(guest, &view);
                int r = plugin_undo(s->plugin, guest, &view, &ctx, len ? data : NULL, len, &err);
                if (r < 0 && !failure) {
                        g_autofree char *change = plan_check_describe(plan, i - 1);
                        failure = g_strdup_printf("%s of %s failed: %s", what, change, err.message);
                }
        }
        return failure;
}

/* Plans `guest` (or, with `resource`, its attach or detach) into a new
 * plan, checking every change emitted. */
typedef enum PlanOp {
        PLAN_GUEST,
        PLAN_ATTACH,
        PLAN_DETACH,
} PlanOp;

static char *suite_plan(Suite *s, PlanOp op, const BwGuestInfo *guest, const BwResource *resource,
                        BwPlan **ret) {
        static const char *const names[] = { "plan", "attach", "detach" };
        g_autoptr(BwPlan) plan = plan_new();
        PlanCheck check;
        BwError err = {};
        int r;

        plan_check_init(&check, plan, s->plugin);
        if (op == PLAN_ATTACH)
                r = plugin_attach(s->plugin, guest, resource, &check.sink, &err);
        else if (op == PLAN_DETACH)
                r = plugin_detach(s->plugin, guest, resource, &check.sink, &err);
        else
                r = plugin_plan(s->plugin, guest, &check.sink, &err);

        char *failure = NULL;
        if (check.invalid > 0)
                failure = g_strdup_printf("%s emitted %u invalid change%s; %s", names[op], check.invalid,
                                          check.invalid == 1 ? "" : "s", check.problem);
        else if (r < 0)
                failure = g_strdup(err.message);
        plan_check_done(&check);
        if (!failure)
                *ret = g_steal_pointer(&plan);
        return failure;
}

static void suite_note_plan(Suite *s, const char *what, const BwPlan *plan) {
        report_note(s->report, "%s: %u change%s", what, plan->changes->len, plan->changes->len == 1 ? "" : "s");
        for (guint i = 0; s->verbose && i < plan->changes->len; i++) {
                const PlanChange *c = plan->changes->pdata[i];
                report_note(s->report, "  %u. %s '%s': %s%s%s%s", i + 1, c->kind, c->object, c->detail,
                            c->lock_path ? " [lock " : "", c->lock_path ? c->lock_path : "", c->lock_path ? "]" : "");
        }
}

/* ---- Checks: the table and probe --------------------------------------- */

static char *suite_ops_list(const BwPluginEntry *ops, bool present) {
        const struct {
                const char *name;
                bool set;
        } list[] = {
                { "probe", ops->probe },     { "init", ops->init },       { "fini", ops->fini },
                { "plan", ops->plan },       { "apply", ops->apply },     { "undo", ops->undo },
                { "release", ops->release }, { "attach", ops->attach },   { "detach", ops->detach },
                { "adopt", ops->adopt },     { "query", ops->query },     { "exec_attrs", ops->exec_attrs },
        };
        GString *out = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(list); i++)
                if (list[i].set == present)
                        g_string_append_printf(out, "%s%s", out->len ? " " : "", list[i].name);
        if (out->len == 0)
                g_string_append(out, "none");
        return g_string_free(out, FALSE);
}

/* A function, not an expression: ABI minor 0 makes the test constant. */
static bool abi_minor_at_least(uint32_t minor, uint32_t ours) {
        return minor >= ours;
}

static CheckResult check_table(Suite *s, char **ret_message) {
        const BwPluginEntry *raw = dlsym(s->plugin->dl, BW_PLUGIN_ENTRY_SYMBOL);
        const BwPluginEntry *ops = &s->plugin->ops;
        g_autofree char *base = g_path_get_basename(s->plugin_path);
        g_autofree char *present = suite_ops_list(ops, true), *absent = suite_ops_list(ops, false);

        report_note(s->report, "plugin '%s': ABI %u.%u, table of %u bytes, flags 0x%x, records of up to %zu bytes; operations: %s; absent: %s",
                    raw->name, raw->abi_major, raw->abi_minor, raw->struct_size, raw->flags, s->plugin->record_max,
                    present, absent);
        if (raw->abi_major != BW_PLUGIN_ABI_MAJOR || raw->flags & ~(uint32_t) BW_PLUGIN_FLAGS_KNOWN ||
            raw->struct_size < BW_PLUGIN_ENTRY_HEAD_SIZE)
                return check_fail(ret_message, g_strdup("the loader accepted a table it must refuse"));
        if (abi_minor_at_least(raw->abi_minor, BW_PLUGIN_ABI_MINOR) && raw->struct_size < sizeof(BwPluginEntry))
                return check_fail(ret_message,
                                  g_strdup_printf("struct_size %u is smaller than the table of ABI %u.%u (%zu bytes)",
                                                  raw->struct_size, raw->abi_major, raw->abi_minor,
                                                  sizeof(BwPluginEntry)));
        g_autofree char *file = g_strdup_printf("%s.so", raw->name);
        if (strcmp(base, file) != 0)
                return check_fail(ret_message,
                                  g_strdup_printf("declares the name '%s' but its file is '%s': the manager loads plugins as NAME.so and would refuse it",
                                                  raw->name, base));
        if (!ops->apply != !ops->undo)
                return check_fail(ret_message, g_strdup_printf("has %s but no %s", ops->apply ? "apply" : "undo",
                                                               ops->apply ? "undo" : "apply"));
        if (ops->plan && !ops->apply)
                return check_fail(ret_message, g_strdup("has plan but no apply and undo: its changes could never be made"));
        if ((ops->attach || ops->detach) && !ops->apply)
                return check_fail(ret_message, g_strdup("has attach or detach but no apply and undo"));
        if (ops->init && !ops->fini)
                return check_fail(ret_message, g_strdup("has init but no fini: its state would leak"));
        return CHECK_PASS;
}

static CheckResult check_probe(Suite *s, char **ret_message) {
        const Plugin *p = s->plugin;

        if (!p->ops.probe) {
                report_note(s->report, "no probe: the core treats the plugin as usable everywhere");
                return CHECK_PASS;
        }
        if (!p->probe_reason[0])
                return check_fail(ret_message, g_strdup_printf("probe returned %d (%s) and gave no reason",
                                                               p->probe_result,
                                                               p->probe_result < 0 ? g_strerror(-p->probe_result)
                                                                                   : "usable"));
        if (p->probe_result < 0) {
                s->unusable = g_strdup_printf("plugin not usable on this host: %s", p->probe_reason);
                report_note(s->report, "skipped: %s", s->unusable);
        } else
                report_note(s->report, "probe: usable: %s", p->probe_reason);
        if ((p->ops.flags & BW_PLUGIN_FLAG_NEEDS_ROOT) && geteuid() != 0)
                s->cannot_apply = g_strdup_printf("the plugin needs root to apply changes, and this is uid %u",
                                                  (unsigned) geteuid());
        return CHECK_PASS;
}

static CheckResult check_load_unchanged(Suite *s, char **ret_message) {
        char *diff = suite_host_diff(s, s->pristine, true);
        return diff ? check_fail(ret_message, diff) : CHECK_PASS;
}

static CheckResult check_init(Suite *s, char **ret_message) {
        BwError err = {};
        int r = plugin_init(s->plugin, s->fixture->settings, &err);
        if (r < 0)
                return check_fail(ret_message, g_strdup(err.message));
        s->initialized = true;
        r = fd_census_take(&s->fds_init);
        if (r < 0)
                return check_fail(ret_message, g_strdup_printf("cannot list /proc/self/fd: %s", g_strerror(-r)));
        char *failure = suite_take(s, &s->baseline);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* ---- Checks: plan ------------------------------------------------------ */

static CheckResult check_plan_valid(Suite *s, char **ret_message) {
        g_autoptr(BwPlan) plan = NULL;
        char *failure = suite_take(s, &s->before_plan);
        if (!failure)
                failure = suite_plan(s, PLAN_GUEST, s->guest, NULL, &plan);
        if (failure)
                return check_fail(ret_message, failure);
        suite_note_plan(s, "plan", plan);
        s->plan = g_steal_pointer(&plan);
        return CHECK_PASS;
}

static CheckResult check_plan_deterministic(Suite *s, char **ret_message) {
        g_autoptr(BwPlan) again = NULL;
        char *failure = suite_plan(s, PLAN_GUEST, s->guest, NULL, &again);
        if (!failure)
                failure = plan_check_compare(s->plan, again);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

static CheckResult check_plan_no_side_effects(Suite *s, char **ret_message) {
        char *diff = suite_host_diff(s, s->before_plan, true);
        return diff ? check_fail(ret_message, diff) : CHECK_PASS;
}

/* ---- Checks: apply and undo -------------------------------------------- */

static CheckResult check_apply_undo(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL, applied = NULL;
        g_autoptr(GPtrArray) records = NULL;
        char *failure = suite_take(s, &start);

        if (!failure)
                failure = suite_apply(s, s->plan, s->guest, &records);
        if (failure)
                return check_fail(ret_message, failure);
        if (s->verbose) {
                g_autofree char *unrecorded = suite_take(s, &applied);
                g_autofree char *made = applied ? snapshot_diff(start, applied, NULL) : NULL;
                report_note(s->report, "apply changed: %s", unrecorded ? unrecorded : made ? made : "nothing");
        }
        failure = suite_undo(s, s->plan, s->guest, records, records->len, "undo");
        if (!failure)
                failure = suite_host_diff(s, start, false);
        if (failure)
                return check_fail(ret_message, failure);
        s->records = g_steal_pointer(&records);
        return CHECK_PASS;
}

static CheckResult check_undo_twice(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        char *failure = suite_take(s, &start);
        if (!failure)
                failure = suite_undo(s, s->plan, s->guest, s->records, s->records->len, "second undo");
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

static char *suite_release(Suite *s, const BwGuestInfo *guest) {
        BwError err = {};
        return plugin_release(s->plugin, guest, &err) < 0 ? g_strdup(err.message) : NULL;
}

static CheckResult check_release(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        char *failure = suite_take(s, &start);
        if (!failure)
                failure = suite_release(s, s->guest);
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* A crash after apply: the journal has the change, not its undo record. */
static CheckResult check_undo_unrecorded(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        g_autoptr(GPtrArray) records = NULL;
        char *failure = suite_take(s, &start);

        if (!failure)
                failure = suite_apply(s, s->plan, s->guest, &records);
        if (failure)
                return check_fail(ret_message, failure);
        failure = suite_undo(s, s->plan, s->guest, NULL, records->len, "undo without a record");
        if (!failure)
                failure = suite_release(s, s->guest);
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* A crash between journal and apply: undo of changes never made. */
static CheckResult check_undo_unapplied(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        char *failure = suite_take(s, &start);

        if (!failure)
                failure = suite_undo(s, s->plan, s->guest, NULL, s->plan->changes->len, "undo without a record");
        if (!failure)
                failure = suite_release(s, s->guest);
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* The core journals a whole plan before its first change, so a crash
 * halfway leaves changes applied and changes never applied, all of them
 * undone by recover; a host crash may lose UNDONE records, so recover may
 * undo them all once more, without records. */
static CheckResult check_undo_interrupted_batch(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        g_autoptr(GPtrArray) records = NULL;
        guint n = s->plan->changes->len, applied = (n + 1) / 2;
        /* Views of the plan's changes (borrowed): the half applied, the rest. */
        g_autoptr(GPtrArray) first = g_ptr_array_new(), rest = g_ptr_array_new();
        for (guint i = 0; i < n; i++)
                g_ptr_array_add(i < applied ? first : rest, s->plan->changes->pdata[i]);
        BwPlan half = { .changes = first }, never = { .changes = rest };

        char *failure = suite_take(s, &start);
        if (!failure)
                failure = suite_apply(s, &half, s->guest, &records);
        if (failure)
                return check_fail(ret_message, failure);
        /* Newest first: the changes never applied, from the change alone,
         * then the applied ones with their records. */
        failure = suite_undo(s, &never, s->guest, NULL, never.changes->len, "undo of a change never applied");
        if (!failure)
                failure = suite_undo(s, &half, s->guest, records, records->len, "undo");
        if (!failure)
                failure = suite_undo(s, s->plan, s->guest, NULL, n, "second undo without a record");
        if (!failure)
                failure = suite_release(s, s->guest);
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* ---- Checks: attach and detach ----------------------------------------- */

/* Sets of changes applied, undone last first when a step fails. */
typedef struct AppliedSet {
        BwPlan *plan;
        const BwGuestInfo *guest;
        GPtrArray *records;
} AppliedSet;

static void suite_unwind(Suite *s, GArray *applied) {
        for (guint i = applied->len; i > 0; i--) {
                AppliedSet *a = &g_array_index(applied, AppliedSet, i - 1);
                g_free(suite_undo(s, a->plan, a->guest, a->records, a->records->len, "undo"));
                bw_plan_free(a->plan);
                g_ptr_array_unref(a->records);
        }
        g_array_set_size(applied, 0);
}

/* Plans one step, checks it changed nothing, applies it. */
static char *suite_step(Suite *s, PlanOp op, const BwGuestInfo *guest, const BwResource *res, GArray *applied) {
        static const char *const names[] = { "plan of the guest without it", "attach", "detach" };
        g_autoptr(Snapshot) before = NULL;
        g_autoptr(BwPlan) plan = NULL;
        g_autoptr(GPtrArray) records = NULL;
        char *failure = suite_take(s, &before);

        if (!failure)
                failure = suite_plan(s, op, guest, res, &plan);
        if (!failure) {
                g_autofree char *diff = suite_host_diff(s, before, true);
                if (diff)
                        failure = g_strdup_printf("%s changed the host: %s", names[op], diff);
        }
        if (!failure)
                failure = suite_apply(s, plan, guest, &records);
        if (failure) {
                char *msg = g_strdup_printf("%s '%s': %s", names[op], res->id, failure);
                g_free(failure);
                return msg;
        }
        if (op != PLAN_GUEST)
                report_note(s->report, "%s '%s': %u change%s", names[op], res->id, plan->changes->len,
                            plan->changes->len == 1 ? "" : "s");
        AppliedSet a = { g_steal_pointer(&plan), guest, g_steal_pointer(&records) };
        g_array_append_val(applied, a);
        return NULL;
}

/* Undoes the last set applied and checks the host is as `expected`. */
static char *suite_step_undo(Suite *s, GArray *applied, const Snapshot *expected, const char *what) {
        AppliedSet a = g_array_index(applied, AppliedSet, applied->len - 1);
        g_array_set_size(applied, applied->len - 1);
        char *failure = suite_undo(s, a.plan, a.guest, a.records, a.records->len, "undo");
        if (!failure) {
                g_autofree char *diff = suite_host_diff(s, expected, false);
                if (diff)
                        failure = g_strdup_printf("undo of the %s changes did not restore the host: %s", what, diff);
        }
        bw_plan_free(a.plan);
        g_ptr_array_unref(a.records);
        return failure;
}

/* The guest starts without its last resource; it is attached (changes
 * applied), detached (changes applied), and each set undone in turn. */
static CheckResult check_attach_detach(Suite *s, char **ret_message) {
        g_autoptr(BwGuest) base = NULL;
        g_autoptr(Snapshot) start = NULL, started = NULL, attached = NULL;
        g_autoptr(GArray) applied = g_array_new(FALSE, FALSE, sizeof(AppliedSet));
        BwError err = {};

        if (!s->plugin->ops.attach && !s->plugin->ops.detach) {
                *ret_message = g_strdup("the plugin plans no attach or detach");
                return CHECK_SKIP;
        }
        if (s->guest->n_resources == 0) {
                *ret_message = g_strdup("the test guest has no resource");
                return CHECK_SKIP;
        }
        size_t index = s->guest->n_resources - 1;
        const BwResource *res = s->guest->resources[index];
        if (fixture_guest_without(s->fixture, index, &base, &err) < 0)
                return check_fail(ret_message, g_strdup(err.message));

        char *failure = suite_take(s, &start);
        if (!failure)
                failure = suite_step(s, PLAN_GUEST, bw_guest_info(base), res, applied);
        if (!failure)
                failure = suite_take(s, &started);
        if (!failure)
                failure = suite_step(s, PLAN_ATTACH, s->guest, res, applied);
        if (!failure)
                failure = suite_take(s, &attached);
        if (!failure)
                failure = suite_step(s, PLAN_DETACH, s->guest, res, applied);
        if (!failure)
                failure = suite_step_undo(s, applied, attached, "detach");
        if (!failure)
                failure = suite_step_undo(s, applied, started, "attach");
        if (!failure)
                failure = suite_step_undo(s, applied, start, "started guest's");
        if (!failure)
                failure = suite_release(s, bw_guest_info(base));
        suite_unwind(s, applied);
        if (!failure)
                failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* ---- Checks: descriptors and restarts ---------------------------------- */

static char *suite_fd_diff(const FdCensus *before) {
        g_autoptr(FdCensus) now = NULL;
        int r = fd_census_take(&now);
        if (r < 0)
                return g_strdup_printf("cannot list /proc/self/fd: %s", g_strerror(-r));
        return fd_census_diff(before, now);
}

static CheckResult check_fd_cycle(Suite *s, char **ret_message) {
        char *diff = suite_fd_diff(s->fds_init);
        return diff ? check_fail(ret_message, diff) : CHECK_PASS;
}

static CheckResult check_adopt_nothing(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        BwError err = {};
        char *failure = suite_take(s, &start);

        if (failure)
                return check_fail(ret_message, failure);
        int r = plugin_adopt(s->plugin, s->guest, &err);
        if (r < 0 && r != -ENOENT)
                return check_fail(ret_message, g_strdup_printf("adopt returned %d, not 0 or -ENOENT: %s", r,
                                                               err.message));
        failure = suite_host_diff(s, start, false);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* Applies with this instance, frees it like an exiting daemon, loads a
 * new one that adopts the guest and undoes its changes. */
static CheckResult check_restart(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL, applied = NULL;
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(BwGuest) copy = NULL;
        BwError err = {};
        char *failure = suite_take(s, &start);

        if (!failure)
                failure = suite_apply(s, s->plan, s->guest, &records);
        if (!failure)
                failure = suite_take(s, &applied);
        if (failure)
                return check_fail(ret_message, failure);

        g_clear_pointer(&s->plugin, plugin_free);
        g_autofree char *lost = suite_host_diff(s, applied, false);
        if (lost)
                failure = g_strdup_printf("fini (a daemon exit) changed what apply made: %s", lost);

        /* The new daemon sees the guest afresh, as re-read from its journal. */
        if (plugin_load(s->plugin_path, NULL, s->fixture->settings, &s->plugin, &err) < 0 ||
            plugin_init(s->plugin, s->fixture->settings, &err) < 0 ||
            guest_copy(s->fixture->guest, &copy, &err) < 0) {
                g_free(failure);
                return check_fail(ret_message, g_strdup_printf("cannot start a second instance: %s", err.message));
        }
        const BwGuestInfo *guest = bw_guest_info(copy);
        if (plugin_adopt(s->plugin, guest, &err) < 0 && !failure)
                failure = g_strdup(err.message);
        char *undone = suite_undo(s, s->plan, guest, records, records->len, "undo through the new instance");
        if (!undone)
                undone = suite_release(s, guest);
        if (!undone) {
                g_autofree char *diff = suite_host_diff(s, start, false);
                if (diff)
                        undone = g_strdup_printf("undo through the new instance did not restore the host: %s", diff);
        }
        if (!failure)
                failure = g_steal_pointer(&undone);
        g_free(undone);
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

/* ---- Checks: query and exec_attrs -------------------------------------- */

static CheckResult check_op(char *failure, char *skip, char **ret_message) {
        if (skip) {
                *ret_message = skip;
                return CHECK_SKIP;
        }
        return failure ? check_fail(ret_message, failure) : CHECK_PASS;
}

static CheckResult check_query_unknown(Suite *s, char **ret_message) {
        char *skip = NULL;
        char *failure = op_check_query_unknown(s->plugin, &skip);
        return check_op(failure, skip, ret_message);
}

static CheckResult check_query_sink_error(Suite *s, char **ret_message) {
        char *skip = NULL;
        char *failure = op_check_query_sink_error(s->plugin, NULL, &skip);
        return check_op(failure, skip, ret_message);
}

static CheckResult check_exec_attrs(Suite *s, char **ret_message) {
        g_autoptr(Snapshot) start = NULL;
        char *skip = NULL;
        char *failure = suite_take(s, &start);

        if (!failure)
                failure = op_check_exec_attrs(s->plugin, s->guest, &skip);
        if (!failure && !skip) {
                g_autofree char *diff = suite_host_diff(s, start, true);
                if (diff)
                        failure = g_strdup_printf("exec_attrs changed the host: %s", diff);
        }
        return check_op(failure, skip, ret_message);
}

static CheckResult check_fini_fds(Suite *s, char **ret_message) {
        g_clear_pointer(&s->plugin, plugin_free);
        char *diff = suite_fd_diff(s->fds_start);
        return diff ? check_fail(ret_message, diff) : CHECK_PASS;
}

/* ---- Running ----------------------------------------------------------- */

static const SuiteCheck suite_checks[] = {
        { "entry table fields are valid", NEEDS_LOADED, check_table },
        { "probe answers with a reason", NEEDS_LOADED, check_probe },
        { "load and probe leave the host unchanged", NEEDS_LOADED, check_load_unchanged },
        { "init succeeds", NEEDS_USABLE, check_init },
        { "plan emits valid changes", NEEDS_INIT, check_plan_valid },
        { "plan is deterministic", NEEDS_PLAN, check_plan_deterministic },
        { "plan has no side effects", NEEDS_PLAN, check_plan_no_side_effects },
        { "apply+undo restores the host", NEEDS_APPLY, check_apply_undo },
        { "undo twice is harmless", NEEDS_RECORDS, check_undo_twice },
        { "release after apply+undo leaves the host restored", NEEDS_RECORDS, check_release },
        { "undo without a record restores the host (crash after apply)", NEEDS_APPLY, check_undo_unrecorded },
        { "undo without a record of a change never applied is harmless (crash before apply)", NEEDS_APPLY,
          check_undo_unapplied },
        { "a batch interrupted halfway is undone cleanly, twice (crash inside a batch, UNDONE lost)", NEEDS_APPLY,
          check_undo_interrupted_batch },
        { "attach+detach plan valid changes that apply and undo cleanly", NEEDS_APPLY, check_attach_detach },
        { "plan, apply, undo and release leak no descriptor", NEEDS_INIT, check_fd_cycle },
        { "adopt of a guest that never started finds nothing", NEEDS_INIT, check_adopt_nothing },
        { "adopt after a simulated restart, then undo, restores the host", NEEDS_APPLY, check_restart },
        { "query answers an unknown command with -EOPNOTSUPP", NEEDS_INIT, check_query_unknown },
        { "query stops writing at the sink's first error", NEEDS_INIT, check_query_sink_error },
        { "exec_attrs only calls setters, succeeds and leaves the host unchanged", NEEDS_INIT, check_exec_attrs },
        { "fini closes every descriptor the plugin opened", NEEDS_LOADED, check_fini_fds },
};

/* NULL when the check can run; otherwise why it is skipped. */
static char *suite_unready(Suite *s, SuiteNeeds needs) {
        if (!s->plugin)
                return g_strdup("no instance of the plugin is loaded");
        if (needs >= NEEDS_USABLE && s->unusable)
                return g_strdup(s->unusable);
        if (needs >= NEEDS_INIT && !s->initialized)
                return g_strdup("init failed");
        if (needs >= NEEDS_PLAN && !s->plan)
                return g_strdup("the plan failed or was invalid");
        if (needs >= NEEDS_APPLY && s->cannot_apply)
                return g_strdup(s->cannot_apply);
        if (needs >= NEEDS_APPLY) {
                g_autofree char *diff = suite_host_diff(s, s->baseline, false);
                if (diff)
                        return g_strdup("an earlier check left the host changed");
        }
        if (needs >= NEEDS_RECORDS && !s->records)
                return g_strdup("apply+undo failed");
        return NULL;
}

static void suite_run_check(Suite *s, const SuiteCheck *check) {
        g_autofree char *message = suite_unready(s, check->needs);
        if (message) {
                report_skip(s->report, check->name, message);
                return;
        }
        report_begin(s->report, check->name);
        switch (check->run(s, &message)) {
        case CHECK_PASS:
                report_pass(s->report, check->name);
                break;
        case CHECK_FAIL:
                report_fail(s->report, check->name, message);
                break;
        case CHECK_SKIP:
                report_skip(s->report, check->name, message);
                break;
        }
}

static void suite_done(Suite *s) {
        plugin_free(s->plugin);
        snapshot_free(s->pristine);
        snapshot_free(s->baseline);
        snapshot_free(s->before_plan);
        fd_census_free(s->fds_start);
        fd_census_free(s->fds_init);
        bw_plan_free(s->plan);
        if (s->records)
                g_ptr_array_unref(s->records);
        g_free(s->unusable);
        g_free(s->cannot_apply);
}

void suite_run(Fixture *fixture, Report *report, const char *plugin_path, bool verbose) {
        static const char *const loads = "plugin loads through the loader";
        Suite s = {
                .fixture = fixture,
                .report = report,
                .plugin_path = plugin_path,
                .verbose = verbose,
                .guest = bw_guest_info(fixture->guest),
        };
        BwError err = {};
        int r;

        report_begin(report, loads);
        g_autofree char *failure = suite_take(&s, &s.pristine);
        if (!failure && (r = fd_census_take(&s.fds_start)) < 0)
                failure = g_strdup_printf("cannot list /proc/self/fd: %s", g_strerror(-r));
        if (!failure && plugin_load(plugin_path, NULL, fixture->settings, &s.plugin, &err) < 0)
                failure = g_strdup(err.message);
        if (failure)
                report_fail(report, loads, failure);
        else {
                report_pass(report, loads);
                for (size_t i = 0; i < G_N_ELEMENTS(suite_checks); i++)
                        suite_run_check(&s, &suite_checks[i]);
        }
        suite_done(&s);
        report_done(report);
}
