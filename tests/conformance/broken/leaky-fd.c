/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the descriptor rule: every apply opens /dev/null and forgets it. */
#include "config.h"

#include <fcntl.h>

#include "broken.h"

static int leaky_fd_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                          const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        *ret_undo_len = 0;
        return open("/dev/null", O_RDONLY | O_CLOEXEC) < 0 ? -errno : 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "leaky-fd",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = leaky_fd_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
