/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks determinism: each plan names its call number in the change
 * details.  A plan is journaled and shown by 'explain': planning the same
 * guest twice must give the same changes. */
#include "config.h"

#include "broken.h"

static int unstable_plan_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        BrokenState *s = state;
        char detail[64];
        snprintf(detail, sizeof(detail), "touch (plan call %u)", ++s->plans);
        return broken_plan_with(guest, sink, NULL, detail);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "unstable-plan",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = unstable_plan_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
