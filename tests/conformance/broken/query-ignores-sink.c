/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks query: its one command, 'status', writes three lines whatever
 * the sink answers, so a reader that went away (-EPIPE) keeps being
 * written to. */
#include "config.h"

#include "broken.h"

static int query_ignores_sink_query(void *state, const BwQuery *query, BwQuerySink *sink) {
        if (strcmp(query->command, "status") != 0) {
                broken_log(state, BW_LOG_ERR, "unknown command '%s'; commands: status", query->command);
                return -EOPNOTSUPP;
        }
        for (int i = 0; i < 3; i++)
                (void) sink->write(sink, "line\n", 5);
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "query-ignores-sink",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .plan = broken_plan,
        .query = query_ignores_sink_query,
};
