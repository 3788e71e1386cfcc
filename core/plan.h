/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A plan: the ordered list of changes plugins intend, each copied out of
 * the plugin at emit() time and tagged with the plugin that made it. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "plugin-loader.h"

typedef struct PlanChange {
        Plugin *plugin;            /* borrowed from the manager */
        char *kind;
        char *object;
        char *detail;
        char *lock_path;           /* NULL when none */
        GBytes *data;
        char *resource;            /* "type:id", NULL for a guest-wide change */
        uint32_t flags;            /* BW_CHANGE_* */
} PlanChange;

struct BwPlan {
        GPtrArray *changes;        /* PlanChange*, in apply order */
};

BwPlan *plan_new(void);

/* A sink that appends to `plan`, tagging changes with `plugin`. */
typedef struct PlanSink {
        BwChangeSink sink;
        BwPlan *plan;
        Plugin *plugin;
} PlanSink;

void plan_sink_init(PlanSink *s, BwPlan *plan, Plugin *plugin);

/* Adds a copy of a change `plugin` (NULL in tests) emitted, after checking
 * it against the ABI's rules: its size, strings, flags, data within the
 * plugin's record_max and, for a LABELS_PATHS plugin, a lock path.
 * -EINVAL with *ret_why (may be NULL) saying which rule it broke. */
int plan_add(BwPlan *plan, Plugin *plugin, const BwChange *change, char **ret_why);

/* The plugin view of a planned change; pointers live with the plan. */
void plan_change_view(const PlanChange *c, BwChange *ret);

/* Every distinct lock path of the plan that `shared` asks for, sorted:
 * a path is shared only when every change locking it says
 * BW_CHANGE_LOCK_SHARED.  Free with g_strfreev(). */
char **plan_lock_paths(const BwPlan *plan, bool shared);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwPlan, bw_plan_free)
