/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks adopt: never finds what apply left, so a restarted daemon
 * could not take over a running guest. */
#include "config.h"

#include "broken.h"

static int no_adopt_adopt(void *state, const BwGuestInfo *guest) {
        broken_log(state, BW_LOG_ERR, "guest '%s': found nothing to adopt", guest->name);
        return -ENOENT;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "no-adopt",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = no_adopt_adopt,
};
