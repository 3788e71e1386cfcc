/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the table: sets a flag bit no bulwark knows.  The loader must
 * refuse the plugin and say which bits are unknown. */
#include "config.h"

#include "broken.h"

/* A bit far above BW_PLUGIN_FLAGS_KNOWN. */
#define BAD_TABLE_UNKNOWN_FLAG (1u << 7)

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_LABELS_PATHS | BAD_TABLE_UNKNOWN_FLAG,
        .name = "bad-table",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
