/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin's query op: the `bulwarkctl devices ...` commands, answered
 * in the plugin and written to the core's sink as text for people or, with
 * BW_QUERY_JSON, as JSON.
 *
 * Commands (BwQuery.command, then its arguments):
 *   devices-probe
 *   devices-list CGROUP
 *   devices-explain CGROUP TYPE MAJOR:MINOR ACCESS
 *   devices-allow [--log-ring-size BYTES] CGROUP RULE...  (one word or three)
 *   devices-deny [--log-ring-size BYTES] CGROUP RULE...
 *   devices-remove CGROUP
 *   devices-denials [--follow | -f | --summary] CGROUP
 * CGROUP is a path below the cgroup2 root the core configures
 * (config("cgroup-root"); discovered when unset) or an absolute path inside
 * it; anything else is refused naming both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <bulwark/plugin.h>

#include "device-cgroup.h"

/* One running query: the host (for configuration and messages) and the
 * answer being written. */
typedef struct PluginQuery {
        const BwHost *host;
        BwQuerySink *sink;
        bool json;
        char *buf;                 /* answer not yet handed to the sink */
        size_t len, allocated;
        int error;                 /* the sink's first error; later output is dropped */
} PluginQuery;

/* The plugin's query op: the `bulwarkctl devices ...` commands on a
 * cgroup's policy, answered for `host` (its configuration and log).
 * cgroup-bpf.c's op passes its state's host. */
int plugin_query_run(const BwHost *host, const BwQuery *query, BwQuerySink *sink);

/* Logs err's message (or strerror) at error level and returns r. */
int plugin_query_fail(PluginQuery *q, const DevError *err, int r);
/* Logs a warning for people. */
void plugin_query_warn(PluginQuery *q, const char *message);
/* Resolves a CGROUP argument against the configured root and opens it. */
int plugin_query_open(PluginQuery *q, const char *name, const DeviceCgroupOptions *options, DeviceCgroup **ret,
                      DevError *reterr);
/* The cgroup2 root the core configured for the plugin, or NULL. */
const char *plugin_query_root(PluginQuery *q);

/* Writing the answer (plugin-query-print.c).  Output is buffered and
 * handed to the sink by plugin_query_flush() (and when the buffer grows
 * large); after the sink failed once, everything is dropped and the
 * error is kept in q->error. */
void plugin_query_print(PluginQuery *q, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string (escaped, quoted), or null for NULL. */
void plugin_query_print_json_string(PluginQuery *q, const char *s);
int plugin_query_flush(PluginQuery *q);
/* Flushes, then writes nothing: the reader's chance to end a query that
 * follows events (its write returns -EPIPE). */
int plugin_query_alive(PluginQuery *q);

/* The commands (plugin-query-policy.c, plugin-query-denials.c).  argv
 * starts after the command name. */
int plugin_query_probe(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_list(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_explain(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_allow(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_deny(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_remove(PluginQuery *q, size_t argc, const char *const *argv);
int plugin_query_denials(PluginQuery *q, size_t argc, const char *const *argv);
