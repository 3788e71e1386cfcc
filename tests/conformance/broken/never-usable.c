/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Not broken: a plugin whose probe says it cannot run here, with a
 * reason.  The suite must pass it, skipping every check that needs an
 * initialized plugin with that reason, and count those as skipped. */
#include "config.h"

#include "broken.h"

static int never_usable_probe(const BwHost *host, char *reason, size_t reason_size) {
        snprintf(reason, reason_size, "a test plugin that is never usable");
        return -EOPNOTSUPP;
}

/* The core never calls these on an unusable plugin; neither may the suite. */
static int never_usable_init(const BwHost *host, void **ret_state) {
        abort();
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "never-usable",
        .probe = never_usable_probe,
        .init = never_usable_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
