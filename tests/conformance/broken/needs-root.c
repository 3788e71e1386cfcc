/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Not broken: a plugin flagged BW_PLUGIN_FLAG_NEEDS_ROOT whose apply
 * refuses to run without root.  As root the suite must pass it; without,
 * it must skip the checks that apply changes, and pass the rest. */
#include "config.h"

#include <unistd.h>

#include "broken.h"

static int needs_root_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                            const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        *ret_undo_len = 0;
        if (geteuid() != 0) {
                broken_log(state, BW_LOG_ERR, "apply needs root");
                return -EPERM;
        }
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_NEEDS_ROOT,
        .name = "needs-root",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = needs_root_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
