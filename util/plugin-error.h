/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages of plugin code, in plain C (no GLib): plugin logic is
 * linked into the plugin module, tests and benchmarks, none of which may
 * call libbulwark's hidden log functions.  A fallible function returns
 * -errno and, when the caller passed a PluginError, a message naming the
 * object first; the caller decides who sees it (host->log in a plugin,
 * stderr in bulwarkctl, a test or a benchmark).  The same shape and size
 * as libbulwark's BwError, so a message cut at the same length reads the
 * same wherever it ends up.  A plugin compiles plugin-error.c in (as
 * cgroup-bpf does cgroup2-root.c). */
#pragma once

#include <stddef.h>

#include <bulwark/plugin.h>

#define PLUGIN_ERROR_MESSAGE_MAX 1024

typedef struct PluginError {
        int code;                                  /* negative errno, 0 when unset */
        char message[PLUGIN_ERROR_MESSAGE_MAX];    /* NUL-terminated, for people */
} PluginError;

/* Formats a message into *err (when non-NULL) and returns `code` as a
 * negative errno (-EIO when it is 0).  %m means `code`. */
int plugin_error_set(PluginError *err, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Formats a message and hands it to the core's log for this plugin
 * (host->log, which prefixes the plugin's name); nothing when the host
 * gives no log. */
void plugin_log(const BwHost *host, int level, const char *format, ...) __attribute__((format(printf, 3, 4)));
