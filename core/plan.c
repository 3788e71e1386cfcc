/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "plan.h"

static void plan_change_free(PlanChange *c) {
        if (!c)
                return;
        g_free(c->kind);
        g_free(c->object);
        g_free(c->detail);
        g_free(c->lock_path);
        if (c->data)
                g_bytes_unref(c->data);
        g_free(c);
}

BwPlan *plan_new(void) {
        BwPlan *p = g_new0(BwPlan, 1);
        p->changes = g_ptr_array_new_with_free_func((GDestroyNotify) plan_change_free);
        return p;
}

/* A string from a plugin: present, bounded, printable enough to journal. */
static bool plan_string_ok(const char *s, bool required) {
        if (!s)
                return !required;
        size_t n = strnlen(s, 4097);
        return n <= 4096 && (n > 0 || !required);
}

int plan_add(BwPlan *plan, Plugin *plugin, const BwChange *change) {
        if (!change || !plan_string_ok(change->kind, true) || !plan_string_ok(change->object, true) ||
            !plan_string_ok(change->detail, false) || !plan_string_ok(change->lock_path, false) ||
            change->data_len > BW_CHANGE_DATA_MAX || (change->data_len > 0 && !change->data))
                return -EINVAL;
        if (change->lock_path && change->lock_path[0] != '/')
                return -EINVAL;

        PlanChange *c = g_new0(PlanChange, 1);
        c->plugin = plugin;
        c->kind = g_strdup(change->kind);
        c->object = g_strdup(change->object);
        c->detail = g_strdup(change->detail ? change->detail : "");
        c->lock_path = change->lock_path && *change->lock_path ? g_strdup(change->lock_path) : NULL;
        c->data = g_bytes_new(change->data, change->data_len);
        g_ptr_array_add(plan->changes, c);
        return 0;
}

static int plan_sink_emit(BwChangeSink *sink, const BwChange *change) {
        PlanSink *s = (PlanSink *) sink;
        return plan_add(s->plan, s->plugin, change);
}

void plan_sink_init(PlanSink *s, BwPlan *plan, Plugin *plugin) {
        *s = (PlanSink) { .sink = { .emit = plan_sink_emit, .userdata = s }, .plan = plan, .plugin = plugin };
}

void plan_change_view(const PlanChange *c, BwChange *ret) {
        gsize len = 0;
        const void *data = g_bytes_get_data(c->data, &len);
        *ret = (BwChange) {
                .kind = c->kind,
                .object = c->object,
                .detail = c->detail,
                .lock_path = c->lock_path,
                .data = len ? data : NULL,
                .data_len = len,
        };
}

static int plan_compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char **plan_lock_paths(const BwPlan *plan) {
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        for (guint i = 0; i < plan->changes->len; i++) {
                const PlanChange *c = plan->changes->pdata[i];
                if (c->lock_path)
                        g_ptr_array_add(out, c->lock_path);
        }
        g_ptr_array_sort(out, plan_compare_strings);
        GPtrArray *uniq = g_ptr_array_new();
        for (guint i = 0; i < out->len; i++) {
                const char *cur = out->pdata[i];
                if (i == 0 || strcmp(cur, out->pdata[i - 1]) != 0)
                        g_ptr_array_add(uniq, g_strdup(cur));
        }
        g_ptr_array_add(uniq, NULL);
        return (char **) g_ptr_array_free(uniq, FALSE);
}

BW_PUBLIC size_t bw_plan_count(const BwPlan *plan) {
        return plan ? plan->changes->len : 0;
}

BW_PUBLIC int bw_plan_change(const BwPlan *plan, size_t index, BwPlanChange *ret_change) {
        if (!plan || !ret_change || index >= plan->changes->len)
                return -EINVAL;
        const PlanChange *c = plan->changes->pdata[index];
        *ret_change = (BwPlanChange) {
                .plugin = c->plugin ? c->plugin->name : "",
                .kind = c->kind,
                .object = c->object,
                .detail = c->detail,
                .lock_path = c->lock_path,
        };
        return 0;
}

BW_PUBLIC void bw_plan_free(BwPlan *plan) {
        if (!plan)
                return;
        g_ptr_array_unref(plan->changes);
        g_free(plan);
}
