/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking what a plugin emits: a change sink that names the first rule
 * an emitted change breaks before handing it to the core's plan, and a
 * comparison of two plans of the same guest. */
#pragma once

#include <bulwark/bulwark.h>

#include "plan.h"

typedef struct PlanCheck {
        BwChangeSink sink;         /* first: the sink is the PlanCheck */
        BwPlan *plan;              /* borrowed; receives every valid change */
        Plugin *plugin;
        unsigned emitted;
        unsigned invalid;
        char *problem;             /* the first invalid change and why */
} PlanCheck;

void plan_check_init(PlanCheck *check, BwPlan *plan, Plugin *plugin);
void plan_check_done(PlanCheck *check);

/* "change 3 (chown '/x')" for messages. */
char *plan_check_describe(const BwPlan *plan, guint index);

/* NULL when both plans hold the same changes in the same order (kind,
 * object, detail, lock path and data); otherwise the first difference. */
char *plan_check_compare(const BwPlan *a, const BwPlan *b);
