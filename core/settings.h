/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark.conf: a GLib keyfile.
 *
 *   [bulwark]
 *   plugins=cgroup-bpf          plugins to load, in apply order
 *   plugin-dir=DIR[:DIR...]     where plugin .so files are found
 *   state-dir=, run-dir=        journal/guest state; sockets
 *   cgroup-root=                cgroup2 mount (empty: discovered)
 *   lock-backend=local|lockd    how transactions lock paths
 *   lock-timeout=60             seconds to wait for path locks
 *   [lockd]                     the daemon's own settings (socket=...)
 *   [plugin:NAME]               keys handed to that plugin
 *
 * Precedence: BwOptions, then environment (BULWARK_*), then the file,
 * then built-in defaults.  Unknown keys in [bulwark] are errors. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

typedef enum LockBackendType {
        LOCK_BACKEND_LOCAL,
        LOCK_BACKEND_LOCKD,
} LockBackendType;

typedef struct Settings {
        char *path;                /* the file read, NULL when none was */
        char **plugins;
        char **plugin_dirs;
        char *state_dir;
        char *run_dir;
        char *cgroup_root;         /* NULL: discover */
        LockBackendType lock_backend;
        char *lockd_socket;
        unsigned lock_timeout_ms;
        GKeyFile *keyfile;         /* empty when no file was read */
        GHashTable *lookups;       /* "group\nkey" -> value, owned, stable */
} Settings;

int settings_load(const BwOptions *options, Settings **ret, BwError *reterr);
void settings_free(Settings *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Settings, settings_free)

/* A plugin's view: its own "[plugin:NAME] key", or the global keys
 * "cgroup-root", "state-dir", "run-dir".  The string lives as long as the
 * Settings; NULL when unset. */
const char *settings_plugin_value(Settings *config, const char *plugin, const char *key);

/* Discovers the cgroup2 mount: /sys/fs/cgroup when unified, else
 * /sys/fs/cgroup/unified on a hybrid host.  -ENOENT when neither. */
int cgroup2_root_discover(char **ret);
