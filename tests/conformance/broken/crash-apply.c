/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks everything at once: apply crashes.  The suite must report the
 * crash against the check that was running and still clean up. */
#include "config.h"

#include <signal.h>

#include "broken.h"

static int crash_apply_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                             const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        raise(SIGSEGV);
        return -EFAULT;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "crash-apply",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = crash_apply_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
