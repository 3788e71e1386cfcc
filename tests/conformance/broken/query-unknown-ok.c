/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks query: answers every command, known or not, with success and an
 * empty answer, so a front end cannot tell a typo from "nothing to say". */
#include "config.h"

#include "broken.h"

static int query_unknown_ok_query(void *state, const BwQuery *query, BwQuerySink *sink) {
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "query-unknown-ok",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .plan = broken_plan,
        .query = query_unknown_ok_query,
};
