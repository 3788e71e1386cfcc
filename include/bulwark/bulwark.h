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
 *  - Threads: a BwManager may be used from several threads at once.  Calls
 *    on one guest are serialized: each start, stop, attach, detach, recover
 *    or adopt of a guest holds that guest's lock
 *    (<state-dir>/guests/.<name>.lock, an flock) for its whole transaction,
 *    which excludes other threads and other processes alike; start, stop,
 *    attach and detach wait for it up to the lock timeout, recover skips a
 *    guest whose lock is held.  Plugins are called from one thread at a
 *    time (the manager serializes them with a mutex); a query runs on a
 *    plugin instance of its own and may take as long as it likes without
 *    holding up other calls.  A BwGuest, BwPlan or BwExec
 *    is not shared between threads unless the caller serializes its use;
 *    bw_manager_free() must not race with calls on the same manager.
 *  - Symbols not declared in bulwark.h or plugin.h are not exported.
 *  - ABI: the soname changes when an entry point changes incompatibly.
 *    Until the first release every entry point sits in the version node
 *    BULWARK_0.1 (core/libbulwark.sym); from the first release on, new
 *    entry points go into a new version node.
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

/* The socket of bulwark-lockd the library would use with these options
 * (NULL: none given): BULWARK_LOCKD_SOCKET, else `[lockd] socket=` in the
 * configuration file, else <run-dir>/lockd.sock, the run directory taken
 * from the options, the environment, the file or the default, like
 * everything else.  Reads the configuration only: no plugin is loaded
 * and nothing is created.  Fails as bw_manager_new() does on a bad
 * configuration.  *ret_path is freed with bw_free(). */
BW_PUBLIC int bw_config_lockd_socket(const BwOptions *options, char **ret_path, BwError *reterr);

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
/* Host objects the definition names that could not be found when it was
 * loaded: a PCI device missing from sysfs (its VFIO group is unknown), a
 * disk image or backing file that does not exist (its backing chain is
 * unknown).  Loading does not fail for them, so a definition can be
 * checked or explained on a host that lacks the device; starting the guest
 * refuses while any remain.  Each entry is a message for people, located
 * like a parse error ("demo.guest:14: [hostdev:gpu] ..."), in resource
 * order; bw_guest_unresolved() returns NULL for an index past the count.
 * The string lives as long as the guest. */
BW_PUBLIC size_t bw_guest_unresolved_count(const BwGuest *guest);
BW_PUBLIC const char *bw_guest_unresolved(const BwGuest *guest, size_t index);

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
        const char *resource;      /* "type:id" of its resource, NULL: guest-wide */
        uint32_t flags;            /* BW_CHANGE_* of <bulwark/plugin.h> */
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
 * applied change is undone in reverse order and the error returned.
 * The journal records the guest as resolved now (cgroup and cgroup root,
 * every host path with its role, uid/gid, uuid, start time): stop and
 * recover work from that record, never from today's host or settings.
 * Refused: a cgroup outside the configured cgroup root (compared by path
 * components), the root itself, a path with "." or ".." components, and a
 * cgroup that another running guest of this state directory owns or that
 * is nested with its cgroup (-EPERM, -EINVAL, -EBUSY).  -EEXIST: the guest
 * is already started; -ETIMEDOUT: another transaction on the guest did not
 * finish within the lock timeout. */
BW_PUBLIC int bw_manager_start(BwManager *manager, const BwGuest *guest, BwError *reterr);
/* Undoes every change of a started guest in reverse order and releases it.
 * The same as bw_manager_stop_with_flags(manager, name, 0, reterr). */
BW_PUBLIC int bw_manager_stop(BwManager *manager, const char *name, BwError *reterr);

enum {
        /* Kill the processes left in the guest's cgroup (cgroup.kill), wait
         * until it is empty, then stop. */
        BW_STOP_KILL = 1u << 0,
};
/* Stops a guest.  Before anything is undone, its cgroup (and every
 * descendant) must hold no process, since undoing the device program
 * would leave them unconfined: -EBUSY naming the guest, the cgroup and a
 * pid, with every change left in place, unless BW_STOP_KILL is given. */
BW_PUBLIC int bw_manager_stop_with_flags(BwManager *manager, const char *name, unsigned flags,
                                         BwError *reterr);

/* Undoes the changes of every transaction a crash interrupted.  Returns
 * the number of transactions rolled back.  A guest whose transaction is
 * running (its lock is held) is skipped with a warning.  A corrupt
 * journal (a bad record followed by more data) is refused with -EBADMSG,
 * naming the file and the offset, and left byte for byte as it is; the
 * other guests are still recovered. */
BW_PUBLIC int bw_manager_recover(BwManager *manager, BwError *reterr);

/* ---- Attach and detach ------------------------------------------------ */

/* Gives a running guest one resource more: `resource_text` is keyfile
 * text holding exactly one resource group ("[disk:data]\npath=/x.img\n").
 * Under the guest's lock, the definition is parsed again with the group
 * added (host lookups done: whatever start refuses for the resource, such
 * as a missing image, is refused), and a transaction of its own runs: each
 * plugin's attach changes in plugin order, locked, applied under the
 * journal, committed.  The journal's record of the guest gains the
 * resource; the other resources stay as resolved at start.  On failure
 * every change of this transaction is undone and the guest is exactly as
 * before, its record too.  Errors name the guest and the resource
 * ("guest 'demo': attach [disk:data]: ..."): -ENOENT when the guest is
 * not running, -EBUSY when its last transaction did not finish (recover
 * first), -EEXIST when it already has the resource, -EINVAL for a text
 * with no group, two groups or [guest], -ENODEV for a host object that
 * is missing, -ETIMEDOUT when another transaction on the guest did not
 * finish within the lock timeout. */
BW_PUBLIC int bw_manager_attach(BwManager *manager, const char *name, const char *resource_text,
                                BwError *reterr);
/* Takes one resource from a running guest: `resource_ref` is "type:id"
 * ("disk:data"), or "kernel", "firmware", "tpm", "memory".  Each plugin's
 * detach changes, in reverse plugin order, run like an attach's; the
 * plugins are handed the guest that still has the resource, and the
 * journal's record loses it.  Once committed, the detach's changes and
 * the earlier changes they took back (same plugin, resource and object)
 * are retired: a later stop undoes neither, so it never grants the
 * resource again.  -ENOENT naming the resource when the guest has none
 * such, -EINVAL for what is no resource reference; otherwise as attach. */
BW_PUBLIC int bw_manager_detach(BwManager *manager, const char *name, const char *resource_ref,
                                BwError *reterr);

/* ---- JSON -------------------------------------------------------------- */

/* The JSON `bulwarkctl --json` prints (and the D-Bus service returns),
 * produced here so every front end prints the same.  Each function
 * returns 0 and sets *ret_json to a NUL-terminated UTF-8 document that
 * the caller releases with bw_free(), or -EINVAL for a missing argument.
 *
 * Strings: JSON escapes for '"', '\' and control characters; valid UTF-8
 * is kept as is.  A byte that is not valid UTF-8 (a path may hold any)
 * is written as the text \xHH, and a backslash that would read as such
 * text as \x5c: in every string value, \xHH stands for the byte 0xHH, so
 * the exact bytes can be recovered.
 *
 * Keys are only ever added, never renamed or removed. */

/* Releases memory the library handed over (the JSON strings).  NULL is
 * accepted. */
BW_PUBLIC void bw_free(void *p);

/* A guest definition as loaded: {"guest": GUEST, "unresolved": [...]}.
 * GUEST has name, uuid, uid, gid, cgroup (null unless the definition
 * names one or the guest was placed), cgroup_given, hotplug_vfio,
 * hotplug_dirs (an array of paths), groups (an array of gids) and resources: each with type, id, path (null when none), readonly,
 * shared, paths ([{"path", "role"}], backing chains included) and, by
 * type, hostdev_type with pci_address or usb_bus/usb_device, chardev_type,
 * or access ("rwm" letters).  "unresolved" lists, as messages, the host
 * objects that could not be found (a start would refuse). */
BW_PUBLIC int bw_guest_to_json(const BwGuest *guest, char **ret_json);

/* A plan: {"guest": NAME, "changes": [{"plugin", "kind", "object",
 * "detail", "lock", "resource", "flags"}]} in apply order; "lock" is null
 * when the change needs no path lock, "resource" ("disk:root") null for a
 * guest-wide change, "flags" the change's flags by name ("lock-shared").  `guest` is the planned guest, for its name (NULL
 * writes null). */
BW_PUBLIC int bw_plan_to_json(const BwPlan *plan, const BwGuest *guest, char **ret_json);

/* The loaded plugins in order: [{"name", "abi" ("2.0"), "flags" (the
 * BW_PLUGIN_FLAG_* number), "flag_names" (["labels-paths",
 * "needs-root"]), "usable", "reason" ("" when none), "path"}]. */
BW_PUBLIC int bw_manager_plugins_to_json(const BwManager *manager, char **ret_json);

enum {
        /* Recover a guest whose journal is damaged (what a plain recover
         * refuses with -EBADMSG; a sound journal is recovered as without
         * the flag): keep a copy <name>.journal.corrupt-<time> of the
         * damaged file, read past each damaged span (the next record whose
         * magic, length, CRC and form check out), undo every change the
         * readable records list (the guest from its last readable record,
         * else its definition re-read), and say every damaged span and
         * every change that could not be undone.  The journal is removed
         * only when everything readable was undone and no damaged span can
         * have held a change still in place; otherwise the call fails
         * (-EBADMSG or the first undo error) naming what may still be on
         * the host.  Refused (-EBUSY) while the recorded cgroup holds a
         * process. */
        BW_RECOVER_FORCE = 1u << 0,
};
/* Recovers one guest: 1 when a transaction (or with BW_RECOVER_FORCE, the
 * guest) was rolled back, 0 when its last transaction was complete,
 * -EBUSY when a transaction on it is running. */
BW_PUBLIC int bw_manager_recover_guest(BwManager *manager, const char *name, unsigned flags,
                                       BwError *reterr);

/* ---- Guests the state directory knows ------------------------------- */

/* Names of the guests that have a journal (started, or left by an
 * interrupted transaction), sorted; NULL-terminated, free with
 * bw_strv_free(). */
BW_PUBLIC int bw_manager_list_guests(BwManager *manager, char ***ret_names, BwError *reterr);
BW_PUBLIC void bw_strv_free(char **strv);

typedef struct BwGuestState BwGuestState;

typedef enum BwGuestStatus {
        BW_GUEST_RUNNING = 1,      /* its last transaction finished */
        BW_GUEST_INTERRUPTED,      /* a transaction is running, or a crash interrupted one */
        BW_GUEST_CORRUPT,          /* its journal is damaged: see bw_manager_recover_guest() */
} BwGuestStatus;

/* What the journal of a guest says, read without changing it.  -ENOENT
 * when the guest has no journal. */
BW_PUBLIC int bw_manager_get_guest(BwManager *manager, const char *name, BwGuestState **ret,
                                   BwError *reterr);
BW_PUBLIC BwGuestStatus bw_guest_state_status(const BwGuestState *state);
/* The guest as resolved when it started (the journal's record); NULL when
 * the journal holds no readable record. */
BW_PUBLIC const BwGuestInfo *bw_guest_state_info(const BwGuestState *state);
/* Its cgroup (NULL when none or unknown), and its start time in
 * microseconds since the epoch (CLOCK_REALTIME; 0 when unknown). */
BW_PUBLIC const char *bw_guest_state_cgroup(const BwGuestState *state);
BW_PUBLIC int64_t bw_guest_state_start_time(const BwGuestState *state);
BW_PUBLIC void bw_guest_state_free(BwGuestState *state);
/* The guest's name (never NULL), and its status as a word: "running",
 * "interrupted", "corrupt" ("unknown" for anything else). */
BW_PUBLIC const char *bw_guest_state_name(const BwGuestState *state);
BW_PUBLIC const char *bw_guest_status_to_string(BwGuestStatus status);

/* One change the journal lists as made and not undone, in the order the
 * changes were made.  `done` is false for a change whose apply was begun
 * and never reported back (an interrupted transaction): it may or may not
 * be on the host.  Strings as in BwPlanChange. */
typedef struct BwGuestChange {
        const char *plugin;
        const char *kind;
        const char *object;
        const char *detail;
        const char *lock_path;     /* NULL when the change needs no path lock */
        const char *resource;      /* "type:id", NULL: guest-wide */
        uint32_t flags;            /* BW_CHANGE_* */
        bool done;
} BwGuestChange;

BW_PUBLIC size_t bw_guest_state_change_count(const BwGuestState *state);
BW_PUBLIC int bw_guest_state_change(const BwGuestState *state, size_t index, BwGuestChange *ret_change);

/* A guest's state as JSON: {"name", "status" ("running", "interrupted",
 * "corrupt"), "started" (RFC 3339 UTC with microseconds,
 * "2026-12-03T08:46:55.123456Z", null when unknown), "started_us"
 * (microseconds since the epoch, null when unknown), "cgroup" (null when
 * none), "guest" (the resolved guest as in bw_guest_to_json()'s "guest",
 * null when the journal holds no readable record), "plugins": [{"name",
 * "changes": [{"kind", "object", "detail", "resource", "lock", "flags",
 * "done"}]}]}: per plugin, in the order each first made a change, the
 * changes made and not undone (see BwGuestChange). */
BW_PUBLIC int bw_guest_state_to_json(const BwGuestState *state, char **ret_json);
/* Every guest of bw_manager_list_guests() as an array of those objects,
 * sorted by name.  A journal that cannot be read gives {"name", "status":
 * "unreadable", "error": MESSAGE}; a guest stopped meanwhile is left out. */
BW_PUBLIC int bw_manager_guests_to_json(BwManager *manager, char **ret_json, BwError *reterr);

/* ---- Adopting the running guests at daemon start -----------------------
 *
 * A host daemon that restarts calls bw_manager_adopt_all() once, before it
 * takes new requests.  In this order, per guest the state directory knows
 * (sorted by name):
 *   1 recover: a transaction a crash interrupted is rolled back, as
 *     bw_manager_recover_guest() does (an interrupted start leaves no
 *     guest: BW_ADOPT_ROLLED_BACK);
 *   2 under the guest's lock (one try: a held lock means another
 *     transaction runs, BW_ADOPT_BUSY) the guest is rebuilt from its
 *     journal's record, and
 *   3 every initialized plugin's adopt() is called in plugin order (under
 *     the manager's plugin lock), each told the guest as it started.
 * A plugin whose adopt() returns -ENOENT found its state gone from the
 * host (the guest's cgroup or device program removed behind bulwark's
 * back): the guest is BW_ADOPT_LOST.  Nothing is undone or removed for a
 * lost, failed or corrupt guest, and its journal is kept: a person
 * decides.  Either the guest is gone and what is left is to be cleaned up
 * (`bulwarkctl guest stop NAME`, which undoes what the journal lists;
 * `recover --force NAME` for a corrupt journal), or the host state is
 * restored and the daemon restarted.
 *
 * Returns the number of guests adopted and sets *ret to the report (free
 * with bw_adopt_report_free()), or -errno when the state directory could
 * not be read (no report).  A lost, busy, failed or corrupt guest is in
 * the report, never in the return value. */

typedef struct BwAdoptReport BwAdoptReport;

typedef enum BwAdoptOutcome {
        BW_ADOPT_ADOPTED = 1,      /* every plugin's adopt() succeeded */
        BW_ADOPT_LOST,             /* a plugin found its host state gone (-ENOENT) */
        BW_ADOPT_FAILED,           /* recover, the record or a plugin's adopt() failed otherwise */
        BW_ADOPT_BUSY,             /* its lock is held: a transaction on it is running */
        BW_ADOPT_CORRUPT,          /* its journal is damaged: see BW_RECOVER_FORCE */
        BW_ADOPT_ROLLED_BACK,      /* an interrupted start was rolled back: not running */
} BwAdoptOutcome;

typedef struct BwAdoptGuest {
        const char *name;
        BwAdoptOutcome outcome;
        bool recovered;            /* an interrupted transaction was rolled back first */
        const char *message;       /* why, for people; "" when adopted */
        size_t n_plugins;          /* plugins asked (see bw_adopt_report_plugin()) */
} BwAdoptGuest;

typedef struct BwAdoptPlugin {
        const char *plugin;
        int result;                /* what its adopt() returned: 0, -ENOENT, ... */
        const char *message;       /* the plugin's message; "" when it succeeded */
} BwAdoptPlugin;

BW_PUBLIC int bw_manager_adopt_all(BwManager *manager, BwAdoptReport **ret, BwError *reterr);
BW_PUBLIC size_t bw_adopt_report_count(const BwAdoptReport *report);
BW_PUBLIC int bw_adopt_report_guest(const BwAdoptReport *report, size_t index, BwAdoptGuest *ret_guest);
BW_PUBLIC int bw_adopt_report_plugin(const BwAdoptReport *report, size_t guest, size_t plugin,
                                     BwAdoptPlugin *ret_plugin);
/* Transactions rolled back by step 1, over every guest. */
BW_PUBLIC unsigned bw_adopt_report_recovered(const BwAdoptReport *report);
/* "adopted", "lost", "failed", "busy", "corrupt", "rolled-back". */
BW_PUBLIC const char *bw_adopt_outcome_to_string(BwAdoptOutcome outcome);
BW_PUBLIC void bw_adopt_report_free(BwAdoptReport *report);
/* {"recovered": N, "adopted": N, "guests": [{"name", "outcome", "recovered",
 * "message", "plugins": [{"name", "result" (0 or the negative errno),
 * "error" (its symbolic name, "ENOENT"; null when 0), "message"}]}]}. */
BW_PUBLIC int bw_adopt_report_to_json(const BwAdoptReport *report, char **ret_json);

/* ---- Exec: starting the guest's process confined ------------------------
 *
 * bw_manager_exec_prepare() runs in the host daemon: it presets the
 * identity from the running guest's definition (user, group, and the
 * supplementary groups of [guest] groups=, none without it), asks every initialized plugin for its exec
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
 *   2 BW_EXEC_STEP_GROUPS        setgroups() (the definition's groups=, or a plugin's)
 *   3 BW_EXEC_STEP_GID           setresgid(gid, gid, gid), checked with getresgid()
 *   4 BW_EXEC_STEP_UID           setresuid(uid, uid, uid), checked with getresuid()
 *   5 BW_EXEC_STEP_LSM_LABEL     each label written to /proc/thread-self/attr/…/exec
 *   6 BW_EXEC_STEP_NO_NEW_PRIVS  prctl(PR_SET_NO_NEW_PRIVS, 1)
 *   7 BW_EXEC_STEP_LANDLOCK      landlock_restrict_self() with the ruleset, last
 *                                (at Landlock ABI 7 with LOG_NEW_EXEC_ON: denials of
 *                                what the process execs reach audit, where enabled)
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
 * Both out-parameters are set on every return.  *ret_pid (required) is the
 * running child on success, the caller's to wait for, and 0 on any
 * failure.  *ret_failed_step (optional, may be NULL) is the step the child
 * failed at: BW_EXEC_STEP_EXEC when execve() failed ("could not exec",
 * the command was confined), one of the apply steps when it could not be
 * confined (the command never ran); 0 on success and when the failure was
 * in the parent (arguments, pipe, fork). */

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
                            char *const envp[], pid_t *ret_pid, BwExecStep *ret_failed_step,
                            BwError *reterr);
/* The cgroup the process starts in, NULL when no plugin gave one; owned
 * by exec. */
BW_PUBLIC const char *bw_exec_cgroup(const BwExec *exec);
/* "join cgroup", "set user id", ...: what a step does, for messages;
 * async-signal-safe.  "unknown step" for anything else. */
BW_PUBLIC const char *bw_exec_step_to_string(int step);

/* ---- Exec attributes: a BwExec taken apart and made again ----------------
 *
 * A host daemon that does not fork the guest's process itself (bulwarkd
 * answering `ExecAttributes`) hands its client what bw_manager_exec_prepare()
 * collected; the client makes the same BwExec from it with
 * bw_exec_new_from_attrs() and applies it in its own child.  Strings and
 * arrays returned by the accessors are owned by the BwExec. */

typedef struct BwExecLabelAttr {
        const char *lsm;           /* "selinux", "apparmor", ... (a-z) */
        const char *label;         /* the label itself, as the plugin gave it */
} BwExecLabelAttr;

typedef struct BwExecAttrs {
        const char *guest;         /* for messages; required */
        const char *cgroup;        /* absolute cgroup2 directory; NULL: none */
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        const gid_t *groups;
        size_t n_labels;
        const BwExecLabelAttr *labels;
        int landlock_fd;           /* a Landlock ruleset (duplicated); -1: none */
} BwExecAttrs;

/* The guest's name, its identity (the groups array may be NULL when
 * n_groups is 0), its LSM exec labels by index (-ENOENT past the count),
 * and its Landlock ruleset descriptor (-1: none; owned by exec). */
BW_PUBLIC const char *bw_exec_guest(const BwExec *exec);
BW_PUBLIC void bw_exec_identity(const BwExec *exec, uid_t *ret_uid, gid_t *ret_gid, size_t *ret_n_groups,
                                const gid_t **ret_groups);
BW_PUBLIC size_t bw_exec_label_count(const BwExec *exec);
BW_PUBLIC int bw_exec_label(const BwExec *exec, size_t index, BwExecLabelAttr *ret_label);
BW_PUBLIC int bw_exec_landlock_fd(const BwExec *exec);

/* A BwExec from attributes, prepared as bw_manager_exec_prepare() prepares
 * one: the cgroup opened (it must be a cgroup2 directory), each label's
 * path and bytes, the ruleset duplicated close-on-exec (it must be a
 * Landlock ruleset).  -EINVAL naming the guest for a bad attribute. */
BW_PUBLIC int bw_exec_new_from_attrs(const BwExecAttrs *attrs, BwExec **ret, BwError *reterr);

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
 * stops it.  Each query runs on an instance of the plugin of its own (its
 * own init and fini), so it may run in any thread while other calls on the
 * manager go on: it never holds the manager's plugin lock. */
BW_PUBLIC int bw_manager_query(BwManager *manager, const char *plugin, const char *command,
                               size_t argc, const char *const *argv, unsigned flags,
                               BwQueryWriteFn write, void *userdata, BwError *reterr);

/* The same about a guest definition: the plugin sees it as BwQuery.guest
 * (`bulwarkctl landlock FILE`: the ruleset that guest would get;
 * `bulwarkctl profile FILE`, bulwark-aa-helper: its AppArmor profile).
 * The guest need not be running; its cgroup is resolved as a start would. */
BW_PUBLIC int bw_manager_query_guest(BwManager *manager, const char *plugin, const BwGuest *guest,
                                     const char *command, size_t argc, const char *const *argv,
                                     unsigned flags, BwQueryWriteFn write, void *userdata,
                                     BwError *reterr);

/* ---- Path locks outside a transaction -------------------------------- */

/* Exclusive locks on `paths`, as a transaction takes them: with the
 * manager's lock backend (lockd, or OFD locks on byte 1 in this process:
 * `lock-backend=`), all or nothing, waiting up to the lock timeout; a path
 * leased by a running guest is refused, naming the holder.  For front ends
 * that change what transactions change (`bulwarkctl label restore`).
 * Release them with bw_path_locks_release() before bw_manager_free(). */
typedef struct BwPathLocks BwPathLocks;
BW_PUBLIC int bw_manager_lock_paths(BwManager *manager, const char *const *paths, size_t n, BwPathLocks **ret,
                                    BwError *reterr);
BW_PUBLIC void bw_path_locks_release(BwPathLocks *locks);

/* ---- Logging ----------------------------------------------------------- */

/* Messages at or above `level` (BW_LOG_*) go to stderr; the default is
 * BW_LOG_WARNING, or BULWARK_LOG_LEVEL ("debug", "info", ...). */
BW_PUBLIC void bw_log_set_level(int level);

#ifdef __cplusplus
}
#endif
