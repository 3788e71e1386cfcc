/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark.conf: a GLib keyfile.
 *
 *   [bulwark]
 *   plugins=cgroup-bpf          plugins to load, in apply order
 *   plugin-dir=DIR[:DIR...]     where plugin .so files are found
 *   state-dir=, run-dir=        journal/guest state; sockets
 *   cgroup-root=                cgroup2 mount (empty: discovered here, once)
 *   lock-backend=local|lockd    how transactions lock paths
 *   lock-timeout=60             seconds to wait for path locks
 *   [lockd]                     the daemon's own settings (socket=...)
 *   [plugin:NAME]               keys the plugin declares, and the core's
 *                               allow-unsupported=true|false
 *
 * Precedence: BwOptions, then environment (BULWARK_*), then the file,
 * then built-in defaults.  Unknown keys in [bulwark] are errors, and so
 * are keys of [plugin:NAME] the plugin does not declare (checked when it
 * is loaded).  The file must be a regular file (or /dev/null): a FIFO is
 * refused without blocking. */
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
        char *cgroup_root;         /* configured, else discovered; NULL: no cgroup2 here */
        LockBackendType lock_backend;
        char *lockd_socket;
        unsigned lock_timeout_ms;
        GKeyFile *keyfile;         /* empty when no file was read */
        GHashTable *lookups;       /* "group\nkey" -> value, owned, stable */
        GMutex lookups_lock;       /* plugin instances of several threads look up keys */
} Settings;

int settings_load(const BwOptions *options, Settings **ret, BwError *reterr);
void settings_free(Settings *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Settings, settings_free)

/* A plugin's view: its own "[plugin:NAME] key", or the core keys
 * "cgroup-root", "state-dir", "run-dir" and "allow-unsupported" ("true"
 * or "false").  The string lives as long as the Settings; NULL when unset. */
const char *settings_plugin_value(Settings *config, const char *plugin, const char *key);
/* "[plugin:NAME] allow-unsupported=true" (parsed strictly at load). */
bool settings_plugin_allow_unsupported(Settings *config, const char *plugin);
/* -EINVAL naming file, group and key when [plugin:NAME] holds a key that
 * is neither in `keys` (NULL-terminated, may be NULL) nor the core's. */
int settings_check_plugin_keys(Settings *config, const char *plugin, const char *const *keys,
                               BwError *reterr);

/* The cgroup root, when none is configured, is found by
 * cgroup2_root_discover() (util/cgroup2-root.h), once, at load. */
