/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the LABELS_PATHS rule: flagged as changing the labels of host
 * paths, it plans changes without a lock path, so two managers could
 * label one file at once. */
#include "config.h"

#include "broken.h"

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "labels-no-lock",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .flags = BW_PLUGIN_FLAG_LABELS_PATHS,
        .plan = broken_plan,
};
