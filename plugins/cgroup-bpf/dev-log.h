/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The denial log: what a guest tried and what refused it.
 *
 * On the deny path the program writes one DevLogEvent to the ring buffer
 * bw_dev_log, adds 1 to the counter of (type, major, minor, access) in the
 * LRU hash bw_dev_denied, and to the totals in the array bw_dev_totals
 * (slot 0: denied, and dropped when the ring was full).  The totals live
 * in an array because an LRU hash may evict any key, and the totals must
 * stay exact.  Slot 1 of the array belongs to readers: the dropped count
 * they last reported. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev-error.h" /* DevError */

#define DEV_LOG_MAP_NAME "bw_dev_log"
#define DEV_LOG_DENIED_MAP_NAME "bw_dev_denied"
#define DEV_LOG_TOTALS_MAP_NAME "bw_dev_totals"
#define DEV_LOG_RING_DEFAULT (256u * 1024u)
#define DEV_LOG_DENIED_ENTRIES 4096u

/* One event, 56 bytes, no implicit padding. */
typedef struct DevLogEvent {
        uint64_t boot_ns;          /* bpf_ktime_get_boot_ns() */
        uint64_t cgroup_id;        /* the task's own cgroup */
        uint32_t tgid;
        uint32_t uid;
        uint32_t major;
        uint32_t minor;
        char comm[16];
        uint8_t type;              /* BPF_DEVCG_DEV_BLOCK or _CHAR */
        uint8_t access;            /* requested BW_ACCESS_* bits */
        uint8_t level;             /* deciding entry: RULE_LEVEL_* (0 none) */
        uint8_t entry_mask;        /* its access bits */
        uint32_t reserved;         /* always 0 */
} DevLogEvent;
_Static_assert(sizeof(DevLogEvent) == 56, "DevLogEvent layout");

typedef struct DevLogCountKey {
        uint32_t major;
        uint32_t minor;
        uint8_t type;
        uint8_t access;
        uint16_t reserved;         /* always 0 */
} DevLogCountKey;
_Static_assert(sizeof(DevLogCountKey) == 12, "DevLogCountKey layout");

typedef struct DevLogTotals {
        uint64_t denied;
        uint64_t dropped;
} DevLogTotals;

enum { DEV_LOG_TOTALS_SLOT = 0, DEV_LOG_READER_SLOT = 1 };

/* Where the deny path keeps things on the BPF stack. */
#define DEV_LOG_EVENT_STACK_OFF (-64)
#define DEV_LOG_KEY_STACK_OFF (-80)
#define DEV_LOG_ONE_STACK_OFF (-88)
#define DEV_LOG_SLOT_STACK_OFF (-92)

/* The three log maps of one cgroup; -1 when absent. */
typedef struct DevLogMaps {
        int log_fd;
        int denied_fd;
        int totals_fd;
        uint32_t ring_size;
} DevLogMaps;

#define DEV_LOG_MAPS_NONE ((DevLogMaps) { -1, -1, -1, 0 })

static inline bool dev_log_maps_present(const DevLogMaps *m) {
        return m->log_fd >= 0 && m->denied_fd >= 0 && m->totals_fd >= 0;
}
void dev_log_maps_close(DevLogMaps *maps);
/* Duplicates the descriptors, so the maps outlive whoever found them. */
int dev_log_maps_dup(const DevLogMaps *maps, DevLogMaps *ret, DevError *reterr);
/* The kernel's id of the ring map (0 when it cannot be read): the same
 * id on a cgroup later means the same log. */
uint32_t dev_log_maps_id(const DevLogMaps *maps);

/* True when `size` is a valid ring size: a power of two, at least a page. */
bool dev_log_ring_size_is_valid(uint32_t size);

/* Creates the three maps with a ring of `ring_size` bytes. */
int dev_log_maps_create(uint32_t ring_size, DevLogMaps *ret, DevError *reterr);

/* Totals and the reader's mark. */
int dev_log_read_totals(const DevLogMaps *maps, DevLogTotals *ret_totals, uint64_t *ret_reported_dropped,
                        DevError *reterr);
int dev_log_mark_reported(const DevLogMaps *maps, uint64_t dropped, DevError *reterr);

/* One per-device counter. */
typedef struct DevLogCount {
        DevLogCountKey key;
        uint64_t count;
} DevLogCount;

/* Every per-device counter, sorted by count (highest first), then device.
 * *ret is malloc'd. */
int dev_log_read_counts(const DevLogMaps *maps, DevLogCount **ret, size_t *ret_n, DevError *reterr);

/* Consumes every event waiting in the ring, calling cb for each; with
 * timeout_ms > 0 waits up to that long for the first.  Returns the number
 * consumed, or a negative errno (also when cb returns one). */
typedef int (*DevLogEventFn)(const DevLogEvent *event, void *userdata);
int dev_log_consume(const DevLogMaps *maps, int timeout_ms, DevLogEventFn cb, void *userdata,
                    DevError *reterr);

/* The node name of a device from /sys/dev/{char,block}/M:m/uevent DEVNAME
 * ("null", "vfio/vfio"), written as "/dev/<name>"; "-" when there is none. */
void dev_log_node_name(unsigned type, uint32_t major, uint32_t minor, char *buf, size_t size);

/* Boot clock to wall clock: the offset to add to a boot_ns value to get
 * CLOCK_REALTIME nanoseconds. */
int64_t dev_log_boot_to_realtime_offset(void);
