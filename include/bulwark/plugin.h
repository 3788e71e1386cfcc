/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bulwark plugin ABI.
 *
 * Rules of this header:
 *  - A plugin is a shared object that exports exactly one symbol, the const
 *    table `bw_plugin_entry` (type BwPluginEntry).  Everything else in the
 *    plugin is hidden.
 *  - The table opens with abi_major, abi_minor, struct_size, flags and name.
 *    The loader rejects another abi_major, unknown flags and a struct_size
 *    smaller than the fixed head.  An operation whose slot lies beyond
 *    struct_size is treated as absent; a NULL operation means "not supported".
 *    New operations are only ever appended (abi_minor goes up); removing or
 *    reordering one bumps abi_major.
 *  - Errors: every fallible operation returns 0 (or a count) on success and a
 *    negative errno on failure.  A plugin may add a human message with
 *    host->log() before returning.
 *  - Memory: nothing allocated on one side is freed on the other.  Every
 *    pointer the core passes in (guest, resources, changes, buffers) stays
 *    owned by the core and is valid only for the duration of the call; a
 *    plugin copies what it keeps.  Changes a plugin emits are copied by the
 *    core before emit() returns.  No GLib type crosses this boundary.
 *  - Threads: the core calls one plugin from one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BW_PLUGIN_ABI_MAJOR 1
#define BW_PLUGIN_ABI_MINOR 1

/* The only symbol a plugin exports. */
#define BW_PLUGIN_ENTRY_SYMBOL "bw_plugin_entry"

/* Plugin flags.  The loader rejects a table with any other bit set. */
enum {
        /* The plugin changes security-relevant metadata of host paths
         * (owners, labels): its changes are taken under path locks. */
        BW_PLUGIN_FLAG_LABELS_PATHS = 1u << 0,
        /* The plugin needs root to apply changes. */
        BW_PLUGIN_FLAG_NEEDS_ROOT = 1u << 1,
};
#define BW_PLUGIN_FLAGS_KNOWN (BW_PLUGIN_FLAG_LABELS_PATHS | BW_PLUGIN_FLAG_NEEDS_ROOT)

/* Log levels, the syslog numbers. */
enum {
        BW_LOG_ERR = 3,
        BW_LOG_WARNING = 4,
        BW_LOG_NOTICE = 5,
        BW_LOG_INFO = 6,
        BW_LOG_DEBUG = 7,
};

/* ---- The guest as plugins see it (read-only, owned by the core) ------- */

typedef enum BwResourceType {
        BW_RESOURCE_DISK = 1,
        BW_RESOURCE_HOSTDEV,
        BW_RESOURCE_DEVICE,
        BW_RESOURCE_CHARDEV,
        BW_RESOURCE_KERNEL,
        BW_RESOURCE_FIRMWARE,
        BW_RESOURCE_TPM,
        BW_RESOURCE_MEMORY,
} BwResourceType;

typedef enum BwHostdevType {
        BW_HOSTDEV_NONE = 0,
        BW_HOSTDEV_VFIO_PCI,
        BW_HOSTDEV_USB,
        BW_HOSTDEV_SCSI_GENERIC,
} BwHostdevType;

typedef enum BwChardevType {
        BW_CHARDEV_NONE = 0,
        BW_CHARDEV_FILE,
        BW_CHARDEV_SOCKET,
        BW_CHARDEV_PIPE,
        BW_CHARDEV_PTY,
} BwChardevType;

/* Access bits, the kernel's BPF_DEVCG_ACC_* values. */
enum {
        BW_ACCESS_MKNOD = 1u << 0,
        BW_ACCESS_READ = 1u << 1,
        BW_ACCESS_WRITE = 1u << 2,
};

/* What a path is used for; several roles may share one path. */
typedef enum BwPathRole {
        BW_PATH_IMAGE = 1,         /* a disk image or device, read-write */
        BW_PATH_IMAGE_READONLY,    /* a read-only disk */
        BW_PATH_BACKING,           /* a backing file of a disk (always read-only) */
        BW_PATH_DEVICE_NODE,       /* a device node the guest opens */
        BW_PATH_CHARDEV,           /* a chardev file, socket or pipe */
        BW_PATH_KERNEL,            /* kernel, initrd, loader: read-only */
        BW_PATH_NVRAM,             /* firmware variable store: read-write */
        BW_PATH_STATE_DIR,         /* TPM state directory */
        BW_PATH_MEMORY,            /* memory backing file or directory */
} BwPathRole;

typedef struct BwResource {
        BwResourceType type;
        const char *id;            /* "root" for [disk:root]; the type name for [kernel] etc. */
        const char *path;          /* main path, NULL when the resource has none */
        bool readonly;
        bool shared;
        BwHostdevType hostdev_type;
        const char *pci_address;   /* vfio-pci: "0000:01:00.0" */
        unsigned usb_bus;          /* usb */
        unsigned usb_device;
        BwChardevType chardev_type;
        unsigned access;           /* device: BW_ACCESS_* bits */
        /* Every host path this resource uses, with its role: a qcow2 disk
         * lists its whole backing chain, a kernel lists kernel and initrd. */
        size_t n_paths;
        const char *const *paths;
        const BwPathRole *roles;
} BwResource;

typedef struct BwGuestInfo {
        const char *name;
        const char *uuid;          /* canonical 36-character form */
        uid_t uid;
        gid_t gid;
        const char *cgroup;        /* absolute cgroup2 directory of the guest */
        bool cgroup_given;         /* true: named by the definition, not created by bulwark */
        bool hotplug_vfio;
        size_t n_resources;
        const BwResource *resources;
} BwGuestInfo;

/* ---- Changes ----------------------------------------------------------- */

/* Largest plugin-private payload of one change, and of one undo record. */
#define BW_CHANGE_DATA_MAX 4096

/* One change a plugin intends to make.  The core journals it verbatim
 * before apply() and hands it back to apply() and undo(), possibly in
 * another process after a crash: `data` must hold everything needed. */
typedef struct BwChange {
        const char *kind;          /* short verb: "chown", "label", "device-rule" */
        const char *object;        /* what it touches: a path or a cgroup */
        const char *detail;        /* for people: "0:0 -> 107:107" */
        const char *lock_path;     /* path to lock before applying, or NULL */
        const void *data;          /* plugin-private, at most BW_CHANGE_DATA_MAX bytes */
        size_t data_len;
} BwChange;

/* Where plan(), attach() and detach() put the changes they intend. */
typedef struct BwChangeSink BwChangeSink;
struct BwChangeSink {
        /* Copies *change; returns 0 or -errno (-EINVAL for an oversized
         * or incomplete change, -ENOMEM). */
        int (*emit)(BwChangeSink *sink, const BwChange *change);
        void *userdata;            /* the core's */
};

/* ---- Host services the core hands to a plugin ------------------------- */

typedef struct BwHost BwHost;
struct BwHost {
        /* Logs one message for this plugin; the core prefixes the plugin name. */
        void (*log)(const BwHost *host, int level, const char *message);
        /* Looks up a key in the plugin's configuration group
         * ("[plugin:<name>]" of bulwark.conf) or a global key
         * ("cgroup-root", "state-dir", "run-dir").  NULL when unset.
         * The string is owned by the core and lives until fini(). */
        const char *(*config)(const BwHost *host, const char *key);
        void *userdata;            /* the core's */
};

/* ---- Queries ----------------------------------------------------------- */

/* Plugin-specific commands (`bulwarkctl devices ...`, `label show`,
 * `profile`) reach a plugin through the manager's query(), so front ends
 * never link a plugin.  The command names and arguments are the plugin's
 * own; the answer is written to the sink as it is produced. */
enum {
        /* The caller wants JSON instead of text for people. */
        BW_QUERY_JSON = 1u << 0,
};

typedef struct BwQuery {
        size_t size;               /* sizeof(BwQuery) the core was built with */
        const char *command;       /* e.g. "devices-list" */
        size_t argc;
        const char *const *argv;   /* argc strings, none NULL */
        uint32_t flags;            /* BW_QUERY_* */
        const BwGuestInfo *guest;  /* the running guest the query names, or NULL */
} BwQuery;

typedef struct BwQuerySink BwQuerySink;
struct BwQuerySink {
        size_t size;               /* sizeof(BwQuerySink) the core was built with */
        /* Appends len bytes to the answer.  0, or -errno: the plugin stops
         * and returns it.  -EPIPE means the reader went away, which ends a
         * query that follows events without being an error. */
        int (*write)(BwQuerySink *sink, const char *data, size_t len);
        void *userdata;            /* the core's */
};

/* ---- Exec attributes --------------------------------------------------- */

/* What the guest's process needs from one plugin.  The core collects these
 * in the host daemon (bw_manager_exec_prepare()); the daemon's child applies
 * them between fork and exec.  Each setter copies what it is given (the
 * Landlock ruleset descriptor is duplicated) and returns 0 or -errno:
 * -EEXIST when another plugin already set a different value. */
typedef struct BwExecSink BwExecSink;
struct BwExecSink {
        size_t size;               /* sizeof(BwExecSink) the core was built with */
        /* The cgroup2 directory the process starts in. */
        int (*set_cgroup)(BwExecSink *sink, const char *path);
        /* User, group and supplementary groups (the core presets the
         * guest definition's user and group, with no supplementary group). */
        int (*set_identity)(BwExecSink *sink, uid_t uid, gid_t gid, size_t n_groups,
                            const gid_t *groups);
        /* A label written to /proc/thread-self/attr/<lsm>/exec before exec
         * ("selinux", "apparmor"). */
        int (*set_lsm_label)(BwExecSink *sink, const char *lsm, const char *label);
        /* A Landlock ruleset the child restricts itself with, last. */
        int (*set_landlock_ruleset)(BwExecSink *sink, int ruleset_fd);
        void *userdata;            /* the core's */
};

/* ---- The entry table --------------------------------------------------- */

typedef struct BwPluginEntry {
        uint32_t abi_major;
        uint32_t abi_minor;
        uint32_t struct_size;      /* sizeof(BwPluginEntry) the plugin was built with */
        uint32_t flags;            /* BW_PLUGIN_FLAG_* */
        const char *name;          /* [a-z0-9-]{1,32}, unique among loaded plugins */

        /* Is the plugin usable on this host?  0 yes; -errno no.  Either way
         * it may write a reason ("kernel lacks BPF_PROG_QUERY") into
         * reason[0..reason_size), NUL-terminated. */
        int (*probe)(char *reason, size_t reason_size);

        /* Creates the plugin's state; *ret_state is passed to every later call. */
        int (*init)(const BwHost *host, void **ret_state);
        void (*fini)(void *state);

        /* Emits every change starting the guest would make.  Must not
         * change anything on the host. */
        int (*plan)(void *state, const BwGuestInfo *guest, BwChangeSink *sink);

        /* Makes one change.  It may write an undo record of up to
         * undo_size bytes (the state it replaced) and set *ret_undo_len. */
        int (*apply)(void *state, const BwGuestInfo *guest, const BwChange *change,
                     void *undo, size_t undo_size, size_t *ret_undo_len);

        /* Reverts one change.  undo_len == 0 means apply() may or may not
         * have run (a crash between journal and apply): undo from the
         * change alone.  Must be idempotent: undoing twice is harmless. */
        int (*undo)(void *state, const BwGuestInfo *guest, const BwChange *change,
                    const void *undo, size_t undo_len);

        /* The guest stopped and every change was undone: drop any per-guest
         * state the plugin still holds. */
        int (*release)(void *state, const BwGuestInfo *guest);

        /* Emits the changes attaching or detaching one resource of a running
         * guest makes.  `guest` already includes (attach) or still includes
         * (detach) the resource. */
        int (*attach)(void *state, const BwGuestInfo *guest, const BwResource *resource,
                      BwChangeSink *sink);
        int (*detach)(void *state, const BwGuestInfo *guest, const BwResource *resource,
                      BwChangeSink *sink);

        /* Takes over a running guest after a daemon restart: finds what
         * apply() left on the host.  -ENOENT when nothing is there. */
        int (*adopt)(void *state, const BwGuestInfo *guest);

        /* Answers one plugin-specific command.  -EOPNOTSUPP (with a log
         * message listing the commands) for a command it does not know. */
        int (*query)(void *state, const BwQuery *query, BwQuerySink *sink);

        /* Tells what the guest's process needs (see BwExecSink).  Runs in
         * the host daemon, never in the child. */
        int (*exec_attrs)(void *state, const BwGuestInfo *guest, BwExecSink *sink);
} BwPluginEntry;

/* Size of the fixed head every table must cover. */
#define BW_PLUGIN_ENTRY_HEAD_SIZE offsetof(BwPluginEntry, probe)

/* Marks the entry table exported in a plugin built with -fvisibility=hidden. */
#define BW_PLUGIN_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
