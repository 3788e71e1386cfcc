/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bulwark plugin ABI.
 *
 * Rules of this header (ABI 2):
 *  - A plugin is a shared object that exports exactly one symbol, the const
 *    table `bw_plugin_entry` (type BwPluginEntry).  Everything else in the
 *    plugin is hidden.
 *  - The table opens with a fixed head: abi_major, abi_minor, struct_size,
 *    flags, name, record_max and config_keys.  The loader rejects another
 *    abi_major (ABI 1 plugins must be rebuilt), unknown flags, a
 *    struct_size smaller than the head and a record_max above
 *    BW_RECORD_LIMIT.  An operation whose slot lies beyond struct_size is
 *    treated as absent; a NULL operation means "not supported".  New
 *    operations are only ever appended (abi_minor goes up); removing or
 *    reordering one bumps abi_major.
 *  - Sized structs (libbpf's opts pattern): BwHost, BwGuestInfo,
 *    BwResource, BwChange, BwApplyContext, BwQuery and the sinks open with
 *    `size_t size`, the sizeof() their producer was built with.  Fields are
 *    only ever appended.  A reader touches a field only when the size
 *    covers it: BW_FIELD_VALID(ptr, field).  A plugin sets size =
 *    sizeof(BwChange) in every change it emits; the core refuses (-EINVAL,
 *    naming the plugin) one smaller than BW_CHANGE_SIZE_MIN.
 *    BwGuestInfo.resources is an array of pointers, so a plugin built with
 *    a smaller BwResource never indexes it with the wrong stride.
 *  - Records: the data of a change and the undo record apply() writes are
 *    at most record_max bytes (0 in the table: BW_RECORD_DEFAULT); the core
 *    sizes its buffers to it and refuses larger changes.
 *  - Locks: a change's lock_path is locked (exclusive, or shared with
 *    BW_CHANGE_LOCK_SHARED) before any change of the transaction is
 *    applied; apply() and undo() get the (dev, ino) that was locked in
 *    their BwApplyContext and act on that inode, not on whatever the path
 *    names by then.  A BW_PLUGIN_FLAG_LABELS_PATHS plugin gives every change
 *    a lock_path; the core refuses its plan otherwise.
 *  - Configuration: config_keys lists the keys of the plugin's
 *    "[plugin:NAME]" group; the core refuses any other key there except its
 *    own ("allow-unsupported", answered by config() as "true" or "false").
 *    config("cgroup-root") is the cgroup2 root the core found or was given
 *    (NULL only when the host has none): plugins never look for it.
 *  - Initialization: no operation but probe() runs before init() succeeded;
 *    a plugin left out by allow-unsupported sees none at all.
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

#define BW_PLUGIN_ABI_MAJOR 2
#define BW_PLUGIN_ABI_MINOR 0

/* True when the sized struct *ptr (its first member `size_t size`) was
 * built with `field`: read a field only when this holds. */
#define BW_FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *) 0)->field))
#define BW_FIELD_VALID(ptr, field) \
        ((ptr) != NULL && (ptr)->size >= BW_FIELD_END(__typeof__(*(ptr)), field))

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

/* The group name of a resource type in a guest definition ("disk"): with
 * the resource's id it makes the "type:id" a change names. */
static inline const char *bw_resource_type_name(BwResourceType type) {
        static const char *const names[] = {
                [BW_RESOURCE_DISK] = "disk",         [BW_RESOURCE_HOSTDEV] = "hostdev",
                [BW_RESOURCE_DEVICE] = "device",     [BW_RESOURCE_CHARDEV] = "chardev",
                [BW_RESOURCE_KERNEL] = "kernel",     [BW_RESOURCE_FIRMWARE] = "firmware",
                [BW_RESOURCE_TPM] = "tpm",           [BW_RESOURCE_MEMORY] = "memory",
        };
        return type >= BW_RESOURCE_DISK && type <= BW_RESOURCE_MEMORY ? names[type] : "unknown";
}

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
        size_t size;               /* sizeof(BwResource) the core was built with */
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
        size_t size;               /* sizeof(BwGuestInfo) the core was built with */
        const char *name;
        const char *uuid;          /* canonical 36-character form */
        uid_t uid;
        gid_t gid;
        const char *cgroup;        /* absolute cgroup2 directory of the guest */
        bool cgroup_given;         /* true: named by the definition, not created by bulwark */
        bool hotplug_vfio;
        size_t n_resources;
        const BwResource *const *resources; /* n_resources pointers */
        /* [guest] hotplug-dirs: directories whose files a running guest may
         * be given later (a Landlock domain cannot grow after start). */
        size_t n_hotplug_dirs;
        const char *const *hotplug_dirs; /* n_hotplug_dirs absolute paths */
        /* [guest] groups: supplementary groups of the guest's process (the
         * exec identity), looked up when the definition was loaded. */
        size_t n_groups;
        const gid_t *groups;       /* n_groups ids, no two alike */
} BwGuestInfo;

/* ---- Changes ----------------------------------------------------------- */

/* Largest change data and undo record when a plugin declares none
 * (record_max 0), and the most a plugin may declare. */
#define BW_RECORD_DEFAULT 4096u
#define BW_RECORD_LIMIT (1u << 20)

/* Change flags. */
enum {
        /* The change only reads lock_path: a shared lock is enough.  A
         * path some change of the transaction locks exclusively stays
         * exclusive. */
        BW_CHANGE_LOCK_SHARED = 1u << 0,
};
#define BW_CHANGE_FLAGS_KNOWN (BW_CHANGE_LOCK_SHARED)

/* One change a plugin intends to make.  The core journals it verbatim
 * before apply() and hands it back to apply() and undo(), possibly in
 * another process after a crash: `data` must hold everything needed. */
typedef struct BwChange {
        size_t size;               /* sizeof(BwChange) the plugin was built with */
        const char *kind;          /* short verb: "chown", "label", "device-rule" */
        const char *object;        /* what it touches: a path or a cgroup */
        const char *detail;        /* for people: "0:0 -> 107:107" */
        const char *lock_path;     /* absolute path to lock before applying, or NULL */
        const void *data;          /* plugin-private, at most record_max bytes */
        size_t data_len;
        const char *resource;      /* "type:id" of its resource ("disk:root"), NULL: guest-wide */
        uint32_t flags;            /* BW_CHANGE_* */
} BwChange;

/* The smallest BwChange the core accepts: every field of ABI 2.0. */
#define BW_CHANGE_SIZE_MIN BW_FIELD_END(BwChange, flags)

/* What the lock step did for one change, handed to apply() and undo(). */
typedef struct BwApplyContext {
        size_t size;               /* sizeof(BwApplyContext) the core was built with */
        /* Stable for the guest's life and across daemon restarts (its
         * uuid): the holder of a reference-counted record. */
        const char *holder;
        bool locked;               /* the change has a lock_path and it is locked */
        bool existed;              /* ... and it existed then: dev and ino are valid */
        uint64_t dev;              /* st_dev and st_ino of what was locked */
        uint64_t ino;
} BwApplyContext;

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
        size_t size;               /* sizeof(BwHost) the core was built with */
        /* Logs one message for this plugin; the core prefixes the plugin name. */
        void (*log)(const BwHost *host, int level, const char *message);
        /* Looks up a key in the plugin's configuration group
         * ("[plugin:<name>]" of bulwark.conf, only keys of config_keys)
         * or a core key: "cgroup-root", "state-dir", "run-dir", and
         * "allow-unsupported" ("true" or "false", never NULL).  NULL when
         * unset.
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
         * guest definition's user, group and groups=; a plugin that sets
         * the identity replaces all three). */
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
        /* Largest change data and undo record, bytes; 0: BW_RECORD_DEFAULT.
         * At most BW_RECORD_LIMIT. */
        uint32_t record_max;
        /* The keys of "[plugin:NAME]", NULL-terminated; NULL: none. */
        const char *const *config_keys;

        /* Is the plugin usable on this host?  0 yes; -errno no.  Either way
         * it may write a reason ("kernel lacks BPF_PROG_QUERY") into
         * reason[0..reason_size), NUL-terminated.  host->config() works;
         * host->log() does not keep anything yet. */
        int (*probe)(const BwHost *host, char *reason, size_t reason_size);

        /* Creates the plugin's state; *ret_state is passed to every later call. */
        int (*init)(const BwHost *host, void **ret_state);
        void (*fini)(void *state);

        /* Emits every change starting the guest would make.  Must not
         * change anything on the host. */
        int (*plan)(void *state, const BwGuestInfo *guest, BwChangeSink *sink);

        /* Makes one change.  It may write an undo record of up to
         * undo_size bytes (the state it replaced) and set *ret_undo_len.
         * ctx says what the lock step locked for change->lock_path. */
        int (*apply)(void *state, const BwGuestInfo *guest, const BwChange *change,
                     const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len);

        /* Reverts one change.  undo_len == 0 means apply() may or may not
         * have run (a crash between journal and apply): undo from the
         * change alone.  Must be idempotent: undoing twice is harmless.
         * After a crash, ctx comes from the locks recover took afresh. */
        int (*undo)(void *state, const BwGuestInfo *guest, const BwChange *change,
                    const BwApplyContext *ctx, const void *undo, size_t undo_len);

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
