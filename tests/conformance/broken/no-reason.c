/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks probe: answers "usable" without saying why.  Every probe
 * answer carries a reason, so that 'bulwarkctl plugins' can show it. */
#include "config.h"

#include "broken.h"

static int no_reason_probe(const BwHost *host, char *reason, size_t reason_size) {
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "no-reason",
        .probe = no_reason_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
