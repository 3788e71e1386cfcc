/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbulwark: the manager API.
 *
 * Rules of this header:
 *  - Every fallible function returns 0 (or a count) on success and a
 *    negative errno on failure.  Entry points that can fail for reasons a
 *    person must read take an optional last `BwError *reterr`; when it is
 *    non-NULL and the call fails, it receives a message naming the object
 *    and the cause.  The message never replaces the return value.
 *  - Constructors are `bw_<thing>_new(..., BwThing **ret)` (or `_load`);
 *    every object has a `bw_<thing>_free()` that accepts NULL.  Pointers
 *    returned by accessors are owned by the object they came from and live
 *    as long as it does.
 *  - Symbols not declared in bulwark.h or plugin.h are not exported.
 *  - ABI: the soname changes when an entry point changes incompatibly;
 *    new entry points are added in a new version node of the version script.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulwark/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BW_PUBLIC __attribute__((visibility("default")))

/* ---- Errors ------------------------------------------------------------ */

#define BW_ERROR_MESSAGE_MAX 1024

typedef struct BwError {
        int code;                              /* negative errno, 0 when unset */
        char message[BW_ERROR_MESSAGE_MAX];    /* NUL-terminated, for people */
} BwError;

/* ---- Options ----------------------------------------------------------- */

/* Where the manager finds its configuration and keeps its state.  NULL
 * fields take the value from the environment (BULWARK_CONFIG,
 * BULWARK_PLUGIN_DIR, BULWARK_STATE_DIR, BULWARK_RUN_DIR,
 * BULWARK_CGROUP_ROOT), then from the configuration file, then the
 * built-in defaults. */
typedef struct BwOptions {
        const char *config_path;
        const char *plugin_dir;
        const char *state_dir;
        const char *run_dir;
        const char *cgroup_root;
        /* Overrides the configured plugin list ("dac,cgroup-bpf"). */
        const char *plugins;
} BwOptions;

/* ---- Guest definitions ------------------------------------------------- */

typedef struct BwGuest BwGuest;

/* Parses a guest definition keyfile.  `source` names the text in messages
 * (a file name, "<dbus>"). */
BW_PUBLIC int bw_guest_load_file(const char *path, BwGuest **ret, BwError *reterr);
BW_PUBLIC int bw_guest_load_data(const char *data, size_t len, const char *source,
                                 BwGuest **ret, BwError *reterr);
BW_PUBLIC void bw_guest_free(BwGuest *guest);
/* The plugin view of the guest: valid while the guest lives. */
BW_PUBLIC const BwGuestInfo *bw_guest_info(const BwGuest *guest);
BW_PUBLIC const char *bw_resource_type_to_string(BwResourceType type);
BW_PUBLIC const char *bw_path_role_to_string(BwPathRole role);

/* ---- The manager ------------------------------------------------------- */

typedef struct BwManager BwManager;

BW_PUBLIC int bw_manager_new(const BwOptions *options, BwManager **ret, BwError *reterr);
BW_PUBLIC void bw_manager_free(BwManager *manager);

/* Effective paths after options, environment and configuration. */
BW_PUBLIC const char *bw_manager_state_dir(const BwManager *manager);
BW_PUBLIC const char *bw_manager_cgroup_root(const BwManager *manager);

/* Loaded plugins, in the configured order. */
typedef struct BwPluginInfo {
        const char *name;
        const char *path;
        uint32_t abi_major;
        uint32_t abi_minor;
        uint32_t flags;
        int probe_result;          /* 0 usable, -errno not */
        const char *probe_reason;  /* "" when the plugin gave none */
} BwPluginInfo;

BW_PUBLIC size_t bw_manager_plugin_count(const BwManager *manager);
BW_PUBLIC int bw_manager_plugin_info(const BwManager *manager, size_t index,
                                     BwPluginInfo *ret_info);

/* ---- Plans ------------------------------------------------------------- */

typedef struct BwPlan BwPlan;

typedef struct BwPlanChange {
        const char *plugin;
        const char *kind;
        const char *object;
        const char *detail;
        const char *lock_path;     /* NULL when the change needs no path lock */
} BwPlanChange;

/* Asks every usable plugin what starting the guest would change.
 * Nothing on the host is changed. */
BW_PUBLIC int bw_manager_plan(BwManager *manager, const BwGuest *guest, BwPlan **ret,
                              BwError *reterr);
BW_PUBLIC size_t bw_plan_count(const BwPlan *plan);
BW_PUBLIC int bw_plan_change(const BwPlan *plan, size_t index, BwPlanChange *ret_change);
BW_PUBLIC void bw_plan_free(BwPlan *plan);

/* ---- Guest lifecycle --------------------------------------------------- */

/* Plans, locks every path of the plan, applies the changes in plugin order
 * (each journaled before it is made) and commits.  On any failure every
 * applied change is undone in reverse order and the error returned. */
BW_PUBLIC int bw_manager_start(BwManager *manager, const BwGuest *guest, BwError *reterr);
/* Undoes every change of a started guest in reverse order and releases it. */
BW_PUBLIC int bw_manager_stop(BwManager *manager, const char *name, BwError *reterr);
/* Undoes the changes of every transaction a crash interrupted.  Returns
 * the number of transactions rolled back. */
BW_PUBLIC int bw_manager_recover(BwManager *manager, BwError *reterr);

/* ---- Plugin queries ---------------------------------------------------- */

/* Where a query's answer goes: called with each piece of the answer as
 * the plugin produces it (text for people, or JSON with BW_QUERY_JSON);
 * `data` is valid only during the call.  Returns 0, or -errno to stop the query; -EPIPE means "the reader went
 * away" and ends a query that follows events without an error.  A query
 * that follows events also calls it with len 0 about every quarter of a
 * second, so a reader can end it between events. */
typedef int (*BwQueryWriteFn)(void *userdata, const char *data, size_t len);

/* A flag of bw_manager_query() only, never passed to the plugin: when the
 * plugin is not in the configured plugin list, load it from the plugin
 * directories for this one call (and unload it after).  Commands that
 * name a cgroup rather than a guest (`bulwarkctl devices ...`) use it so
 * they work whatever the plugin list says; a plugin loaded this way never
 * takes part in starting or stopping guests. */
#define BW_MANAGER_QUERY_LOAD (1u << 31)

/* Runs a plugin-specific command (`command` and its argc arguments, both
 * the plugin's own; flags BW_QUERY_* and BW_MANAGER_QUERY_LOAD) in the
 * loaded plugin named `plugin`, and hands its answer to write().
 * Errors: -ENOENT when no such plugin is loaded (the message lists the
 * loaded ones); the plugin's probe error when it is not usable here;
 * -EOPNOTSUPP for a command the plugin does not know (the message lists
 * the commands it knows); otherwise what the plugin or write() returned.
 * A query that follows events ends with 0 when write() returns -EPIPE.
 * The call returns when the plugin is done: a query that follows events
 * (`devices-denials --follow`) blocks until its subject goes or write()
 * stops it. */
BW_PUBLIC int bw_manager_query(BwManager *manager, const char *plugin, const char *command,
                               size_t argc, const char *const *argv, unsigned flags,
                               BwQueryWriteFn write, void *userdata, BwError *reterr);

/* ---- Logging ----------------------------------------------------------- */

/* Messages at or above `level` (BW_LOG_*) go to stderr; the default is
 * BW_LOG_WARNING, or BULWARK_LOG_LEVEL ("debug", "info", ...). */
BW_PUBLIC void bw_log_set_level(int level);

#ifdef __cplusplus
}
#endif
