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

/* ---- Exec: starting the guest's process confined ------------------------
 *
 * bw_manager_exec_prepare() runs in the host daemon: it presets the
 * identity from the running guest's definition (user, group, no
 * supplementary group), asks every initialized plugin for its exec
 * attributes in plugin order (a second plugin giving a different value
 * fails with -EEXIST naming both), and prepares everything the child needs:
 * the cgroup directory and its cgroup.procs opened, each LSM label's bytes
 * and /proc/thread-self path, the groups array, a duplicate of the
 * Landlock ruleset descriptor.  Every descriptor is close-on-exec.
 *
 * bw_exec_apply() runs in the daemon's child, between fork and exec.  It
 * makes only async-signal-safe system calls (no allocation, no lock, no
 * stdio, no logging) and applies, in this order:
 *   1 BW_EXEC_STEP_CGROUP        write "0" to the cgroup's cgroup.procs
 *   2 BW_EXEC_STEP_GROUPS        setgroups() (none unless a plugin gave some)
 *   3 BW_EXEC_STEP_GID           setresgid(gid, gid, gid), checked with getresgid()
 *   4 BW_EXEC_STEP_UID           setresuid(uid, uid, uid), checked with getresuid()
 *   5 BW_EXEC_STEP_LSM_LABEL     each label written to /proc/thread-self/attr/…/exec
 *   6 BW_EXEC_STEP_NO_NEW_PRIVS  prctl(PR_SET_NO_NEW_PRIVS, 1)
 *   7 BW_EXEC_STEP_LANDLOCK      landlock_restrict_self() with the ruleset, last
 * A step with nothing to apply is skipped.  It returns 0, or the negative
 * step number of the first step that failed, with errno telling why.
 * Writing cgroup.procs again is harmless when the child was created in the
 * cgroup already (clone3 with CLONE_INTO_CGROUP).  The uid and gid steps
 * use the raw system calls, which change only the calling thread: call it
 * in a single-threaded child (after fork, never in a threaded process).
 * A child whose apply fails must _exit() without exec'ing: a guest process
 * is never exec'd half-confined.  The convention is status
 * BW_EXEC_EXIT_BASE + step.
 *
 * bw_exec_spawn() is the library's own fork + apply + exec: clone3() with
 * CLONE_INTO_CGROUP and CLONE_CLEAR_SIGHAND where the kernel has it, else
 * fork().  The child restores the caller's signal mask, applies, and
 * execve()s `path` (no PATH search) with argv and envp (NULL: the
 * caller's environment).  A child that fails writes (step, errno) to a
 * close-on-exec pipe and exits with BW_EXEC_EXIT_BASE + step (step
 * BW_EXEC_STEP_EXEC when execve() failed); the parent reaps it and returns
 * -errno with a message such as
 *   "guest 'demo': exec: cannot join cgroup '/sys/fs/cgroup/bulwark/demo': Permission denied".
 * On success *ret_pid is the running child, the caller's to wait for.  On
 * a failure in the child, *ret_pid is set to the negative step (never a
 * pid), so a caller can tell "could not exec" (-BW_EXEC_STEP_EXEC) from
 * "could not confine"; on any other failure it is left alone. */

typedef struct BwExec BwExec;

typedef enum BwExecStep {
        BW_EXEC_STEP_CGROUP = 1,
        BW_EXEC_STEP_GROUPS = 2,
        BW_EXEC_STEP_GID = 3,
        BW_EXEC_STEP_UID = 4,
        BW_EXEC_STEP_LSM_LABEL = 5,
        BW_EXEC_STEP_NO_NEW_PRIVS = 6,
        BW_EXEC_STEP_LANDLOCK = 7,
        BW_EXEC_STEP_EXEC = 8,        /* bw_exec_spawn() only: execve() itself */
} BwExecStep;

/* Exit status of a child that failed at a step: BW_EXEC_EXIT_BASE + step. */
#define BW_EXEC_EXIT_BASE 110

/* -ENOENT (with a message) when no guest of that name is running;
 * -ESRCH when its last transaction did not complete (recover first);
 * -EEXIST when two plugins disagree. */
BW_PUBLIC int bw_manager_exec_prepare(BwManager *manager, const char *name, BwExec **ret,
                                      BwError *reterr);
/* Closes every descriptor and frees the rest; accepts NULL. */
BW_PUBLIC void bw_exec_free(BwExec *exec);
/* Async-signal-safe; see above. */
BW_PUBLIC int bw_exec_apply(const BwExec *exec);
BW_PUBLIC int bw_exec_spawn(const BwExec *exec, const char *path, char *const argv[],
                            char *const envp[], pid_t *ret_pid, BwError *reterr);
/* The cgroup the process starts in, NULL when no plugin gave one; owned
 * by exec. */
BW_PUBLIC const char *bw_exec_cgroup(const BwExec *exec);
/* "join cgroup", "set user id", ...: what a step does, for messages;
 * async-signal-safe.  "unknown step" for anything else. */
BW_PUBLIC const char *bw_exec_step_to_string(int step);

/* ---- Logging ----------------------------------------------------------- */

/* Messages at or above `level` (BW_LOG_*) go to stderr; the default is
 * BW_LOG_WARNING, or BULWARK_LOG_LEVEL ("debug", "info", ...). */
BW_PUBLIC void bw_log_set_level(int level);

#ifdef __cplusplus
}
#endif
