/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the record-size declaration on the other side: declares undo
 * records of at most 1 KiB and writes 16 bytes more into the undo buffer. */
#include "config.h"

#include "broken.h"

#define UNDO_OVERFLOW_MAX 1024

static int undo_overflow_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                               const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        memset(undo, 'u', UNDO_OVERFLOW_MAX + 16); /* ignores undo_size */
        *ret_undo_len = undo_size;
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "undo-overflow",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = undo_overflow_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .record_max = UNDO_OVERFLOW_MAX,
        .plan = broken_plan,
};
