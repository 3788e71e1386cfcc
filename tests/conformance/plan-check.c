/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "plan-check.h"

/* plan.c refuses longer strings; say so before it does. */
#define PLAN_CHECK_STRING_MAX 4096

static char *plan_check_string_problem(const char *field, const char *s, bool required) {
        if (!s)
                return required ? g_strdup_printf("%s is NULL", field) : NULL;
        if (required && !*s)
                return g_strdup_printf("%s is empty", field);
        if (strnlen(s, PLAN_CHECK_STRING_MAX + 1) > PLAN_CHECK_STRING_MAX)
                return g_strdup_printf("%s is longer than %d bytes", field, PLAN_CHECK_STRING_MAX);
        return NULL;
}

/* The first rule of plugin.h ("Changes") the change breaks, or NULL. */
static char *plan_check_problem(const Plugin *plugin, const BwChange *c) {
        char *p;

        if (c->size < BW_CHANGE_SIZE_MIN)
                return g_strdup_printf("size %zu is smaller than a BwChange of ABI %u.0 (%zu bytes): set size = sizeof(BwChange)",
                                       c->size, BW_PLUGIN_ABI_MAJOR, (size_t) BW_CHANGE_SIZE_MIN);
        if ((p = plan_check_string_problem("kind", c->kind, true)) ||
            (p = plan_check_string_problem("object", c->object, true)) ||
            (p = plan_check_string_problem("detail", c->detail, false)) ||
            (p = plan_check_string_problem("lock_path", c->lock_path, false)))
                return p;
        if (c->lock_path && c->lock_path[0] != '/')
                return g_strdup_printf("lock_path '%s' is not absolute", c->lock_path);
        if (c->data_len > plugin->record_max)
                return g_strdup_printf("data of %zu bytes is larger than the plugin's record_max of %zu bytes",
                                       c->data_len, plugin->record_max);
        if (c->flags & ~(uint32_t) BW_CHANGE_FLAGS_KNOWN)
                return g_strdup_printf("unknown flags 0x%x", c->flags & ~(uint32_t) BW_CHANGE_FLAGS_KNOWN);
        if ((plugin->ops.flags & BW_PLUGIN_FLAG_LABELS_PATHS) && !(c->lock_path && *c->lock_path))
                return g_strdup("no lock_path, but the plugin is flagged LABELS_PATHS: every change must lock a path");
        if (c->data_len > 0 && !c->data)
                return g_strdup_printf("data is NULL but data_len is %zu", c->data_len);
        return NULL;
}

static int plan_check_emit(BwChangeSink *sink, const BwChange *change) {
        PlanCheck *check = (PlanCheck *) sink;
        g_autofree char *problem = NULL;
        unsigned n = ++check->emitted;
        int r = -EINVAL;

        if (!change)
                problem = g_strdup_printf("change %u is a NULL pointer", n);
        else {
                g_autofree char *why = plan_check_problem(check->plugin, change);
                if (!why) {
                        g_autofree char *core = NULL;
                        r = plan_add(check->plan, check->plugin, change, &core);
                        if (r < 0)
                                why = g_strdup_printf("the core refused it: %s", core ? core : g_strerror(-r));
                }
                if (why)
                        problem = g_strdup_printf("change %u (%s '%s'): %s", n,
                                                  change->kind ? change->kind : "(null)",
                                                  change->object ? change->object : "(null)", why);
        }
        if (!problem)
                return 0;
        if (check->invalid++ == 0)
                check->problem = g_steal_pointer(&problem);
        return r;
}

void plan_check_init(PlanCheck *check, BwPlan *plan, Plugin *plugin) {
        *check = (PlanCheck) {
                .sink = { .emit = plan_check_emit, .userdata = check },
                .plan = plan,
                .plugin = plugin,
        };
}

void plan_check_done(PlanCheck *check) {
        g_clear_pointer(&check->problem, g_free);
}

char *plan_check_describe(const BwPlan *plan, guint index) {
        const PlanChange *c = plan->changes->pdata[index];
        return g_strdup_printf("change %u (%s '%s')", index + 1, c->kind, c->object);
}

static bool plan_check_same(const char *a, const char *b) {
        return g_strcmp0(a, b) == 0;
}

char *plan_check_compare(const BwPlan *a, const BwPlan *b) {
        if (a->changes->len != b->changes->len)
                return g_strdup_printf("the first plan has %u changes, the second %u", a->changes->len,
                                       b->changes->len);
        for (guint i = 0; i < a->changes->len; i++) {
                const PlanChange *x = a->changes->pdata[i], *y = b->changes->pdata[i];
                g_autofree char *what = plan_check_describe(a, i);
                if (!plan_check_same(x->kind, y->kind) || !plan_check_same(x->object, y->object))
                        return g_strdup_printf("%s became %s '%s'", what, y->kind, y->object);
                if (!plan_check_same(x->detail, y->detail))
                        return g_strdup_printf("%s: detail '%s' became '%s'", what, x->detail, y->detail);
                if (!plan_check_same(x->lock_path, y->lock_path))
                        return g_strdup_printf("%s: lock path '%s' became '%s'", what,
                                               x->lock_path ? x->lock_path : "(none)",
                                               y->lock_path ? y->lock_path : "(none)");
                if (!g_bytes_equal(x->data, y->data))
                        return g_strdup_printf("%s: its data differs (%zu and %zu bytes)", what,
                                               g_bytes_get_size(x->data), g_bytes_get_size(y->data));
        }
        return NULL;
}
