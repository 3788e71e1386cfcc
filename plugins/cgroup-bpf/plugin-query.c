/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The query op: dispatches a command to its answer and names the
 * commands when it does not know one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-root.h"
#include "dev-error.h"
#include "plugin-query.h"

typedef struct PluginQueryCommand {
        const char *name;
        int (*run)(PluginQuery *q, size_t argc, const char *const *argv);
} PluginQueryCommand;

static const PluginQueryCommand plugin_query_commands[] = {
        { "devices-probe", plugin_query_probe },
        { "devices-list", plugin_query_list },
        { "devices-explain", plugin_query_explain },
        { "devices-allow", plugin_query_allow },
        { "devices-deny", plugin_query_deny },
        { "devices-remove", plugin_query_remove },
        { "devices-denials", plugin_query_denials },
};

#define PLUGIN_QUERY_N_COMMANDS (sizeof(plugin_query_commands) / sizeof(plugin_query_commands[0]))

static void plugin_query_log(const PluginQuery *q, int level, const char *message) {
        if (q->host && q->host->log)
                q->host->log(q->host, level, message);
}

int plugin_query_fail(PluginQuery *q, const DevError *err, int r) {
        plugin_query_log(q, BW_LOG_ERR, err && err->message[0] ? err->message : strerror(-r));
        return r;
}

void plugin_query_warn(PluginQuery *q, const char *message) {
        plugin_query_log(q, BW_LOG_WARNING, message);
}

const char *plugin_query_root(PluginQuery *q) {
        return q->host && q->host->config ? q->host->config(q->host, "cgroup-root") : NULL;
}

int plugin_query_open(PluginQuery *q, const char *name, const DeviceCgroupOptions *options, DeviceCgroup **ret,
                      DevError *reterr) {
        char *root = NULL, *path = NULL;
        int r = cgroup_root_discover(plugin_query_root(q), &root, NULL, reterr);
        if (r >= 0)
                r = cgroup_root_resolve(root, name, &path, reterr);
        if (r >= 0)
                r = device_cgroup_open(path, options, ret, reterr);
        free(root);
        free(path);
        return r;
}

static int plugin_query_unknown(PluginQuery *q, const char *command) {
        char list[512] = "";
        DevError err = {};

        for (size_t i = 0; i < PLUGIN_QUERY_N_COMMANDS; i++)
                dev_format(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                           plugin_query_commands[i].name);
        dev_error_set(&err, EOPNOTSUPP, "unknown command '%s'; the commands are: %s", command, list);
        return plugin_query_fail(q, &err, -EOPNOTSUPP);
}

static bool plugin_query_sink_usable(const BwQuerySink *sink) {
        return sink && sink->size >= offsetof(BwQuerySink, write) + sizeof(sink->write) && sink->write;
}

int plugin_query_run(const BwHost *host, const BwQuery *query, BwQuerySink *sink) {
        PluginQuery q = { .host = host, .sink = sink };
        int r;

        if (!query || query->size < offsetof(BwQuery, flags) + sizeof(query->flags) || !query->command ||
            !plugin_query_sink_usable(sink)) {
                DevError err = {};
                dev_error_set(&err, EINVAL, "query: incomplete query or sink");
                return plugin_query_fail(&q, &err, -EINVAL);
        }
        q.json = query->flags & BW_QUERY_JSON;
        for (size_t i = 0; i < PLUGIN_QUERY_N_COMMANDS; i++) {
                if (strcmp(query->command, plugin_query_commands[i].name) != 0)
                        continue;
                r = plugin_query_commands[i].run(&q, query->argc, query->argv);
                /* What a failing command wrote before it failed goes out too. */
                int f = plugin_query_flush(&q);
                free(q.buf);
                return r < 0 ? r : f < 0 ? f : 0;
        }
        return plugin_query_unknown(&q, query->command);
}
