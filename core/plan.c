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
        g_free(c->resource);
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

/* Why the change breaks a rule of plugin.h, or NULL. */
static char *plan_change_problem(Plugin *plugin, const BwChange *change) {
        size_t max = plugin ? plugin->record_max : BW_RECORD_DEFAULT;

        if (!change)
                return g_strdup("the change is a NULL pointer");
        if (change->size < BW_CHANGE_SIZE_MIN)
                return g_strdup_printf("BwChange of %zu bytes, smaller than the %zu bytes of ABI %u.0 (size unset?)",
                                       change->size, (size_t) BW_CHANGE_SIZE_MIN, BW_PLUGIN_ABI_MAJOR);
        if (!plan_string_ok(change->kind, true) || !plan_string_ok(change->object, true))
                return g_strdup("kind and object must be non-empty strings of at most 4096 bytes");
        const char *what = change->kind, *object = change->object;
        if (!plan_string_ok(change->detail, false) || !plan_string_ok(change->lock_path, false) ||
            !plan_string_ok(change->resource, false))
                return g_strdup_printf("change %s '%s': a string longer than 4096 bytes", what, object);
        if (change->lock_path && change->lock_path[0] != '/')
                return g_strdup_printf("change %s '%s': lock path '%s' is not absolute", what, object,
                                       change->lock_path);
        if (change->flags & ~(uint32_t) BW_CHANGE_FLAGS_KNOWN)
                return g_strdup_printf("change %s '%s': unknown flags 0x%x", what, object,
                                       change->flags & ~(uint32_t) BW_CHANGE_FLAGS_KNOWN);
        if (change->data_len > max || (change->data_len > 0 && !change->data))
                return g_strdup_printf("change %s '%s': data of %zu bytes (the plugin's record_max is %zu)",
                                       what, object, change->data_len, max);
        if (plugin && (plugin->ops.flags & BW_PLUGIN_FLAG_LABELS_PATHS) &&
            !(change->lock_path && *change->lock_path))
                return g_strdup_printf("change %s '%s' has no lock path (a LABELS_PATHS plugin locks every change)",
                                       what, object);
        return NULL;
}

int plan_add(BwPlan *plan, Plugin *plugin, const BwChange *change, char **ret_why) {
        g_autofree char *why = plan_change_problem(plugin, change);
        if (why) {
                if (ret_why)
                        *ret_why = g_steal_pointer(&why);
                return -EINVAL;
        }

        PlanChange *c = g_new0(PlanChange, 1);
        c->plugin = plugin;
        c->kind = g_strdup(change->kind);
        c->object = g_strdup(change->object);
        c->detail = g_strdup(change->detail ? change->detail : "");
        c->lock_path = change->lock_path && *change->lock_path ? g_strdup(change->lock_path) : NULL;
        c->data = g_bytes_new(change->data, change->data_len);
        if (BW_FIELD_VALID(change, resource) && change->resource && *change->resource)
                c->resource = g_strdup(change->resource);
        if (BW_FIELD_VALID(change, flags))
                c->flags = change->flags;
        g_ptr_array_add(plan->changes, c);
        return 0;
}

/* A refused change fails the plugin's plan with the reason, even when
 * the plugin ignores what emit() returns (plugin_fail() reports it). */
static int plan_sink_emit(BwChangeSink *sink, const BwChange *change) {
        PlanSink *s = (PlanSink *) sink;
        g_autofree char *why = NULL;
        int r = plan_add(s->plan, s->plugin, change, &why);
        if (r < 0 && s->plugin && !s->plugin->sink_error)
                s->plugin->sink_error = g_steal_pointer(&why);
        return r;
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
                .resource = c->resource,
                .flags = c->flags,
                .size = sizeof(BwChange),
        };
}

static int plan_compare_lock_paths(gconstpointer a, gconstpointer b) {
        const PlanChange *x = *(const PlanChange *const *) a, *y = *(const PlanChange *const *) b;
        return strcmp(x->lock_path, y->lock_path);
}

/* One sort of the changes by lock path, then one pass over each run of
 * equal paths (a search of the plan per path was quadratic). */
char **plan_lock_paths(const BwPlan *plan, bool shared) {
        g_autoptr(GPtrArray) locking = g_ptr_array_new();
        for (guint i = 0; i < plan->changes->len; i++) {
                const PlanChange *c = plan->changes->pdata[i];
                if (c->lock_path)
                        g_ptr_array_add(locking, (gpointer) c);
        }
        g_ptr_array_sort(locking, plan_compare_lock_paths);
        GPtrArray *uniq = g_ptr_array_new();
        for (guint i = 0; i < locking->len;) {
                const PlanChange *first = locking->pdata[i];
                /* A path is shared only when every change locking it says so. */
                bool all_shared = true;
                for (; i < locking->len && strcmp(((const PlanChange *) locking->pdata[i])->lock_path, first->lock_path) == 0; i++)
                        all_shared = all_shared && (((const PlanChange *) locking->pdata[i])->flags & BW_CHANGE_LOCK_SHARED);
                if (all_shared == shared)
                        g_ptr_array_add(uniq, g_strdup(first->lock_path));
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
                .resource = c->resource,
                .flags = c->flags,
        };
        return 0;
}

BW_PUBLIC void bw_plan_free(BwPlan *plan) {
        if (!plan)
                return;
        g_ptr_array_unref(plan->changes);
        g_free(plan);
}
