/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the change rules: plans changes whose lock path is relative.
 * Lock paths are absolute (lockd keys them by file, not by name). */
#include "config.h"

#include "broken.h"

static int bad_change_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        return broken_plan_with(guest, sink, "relative/lock", NULL);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "bad-change",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = bad_change_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
