/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device policy of one cgroup: bulwark's program, its rule map and
 * the in-memory image of that map, found on the cgroup (adopted) or
 * created on the first change.
 *
 * The kernel map is the single source of truth: opening reads it back, so
 * any process (the daemon after a restart, bulwarkctl) sees and changes
 * the same policy.  Changes hold flock(LOCK_EX) on the cgroup directory,
 * listing LOCK_SH, so two writers never interleave.
 *
 * A change that needs more entries than the map holds makes a map twice
 * the size (or more), copies the entries, applies the change there, loads
 * a new program referencing it (and the same log maps) and swaps it in
 * with BPF_F_ALLOW_MULTI | BPF_F_REPLACE: the cgroup always runs either
 * the complete old policy or the complete new one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulwark/plugin.h>

#include "dev-adopt.h"
#include "dev-error.h"
#include "device-rule.h"
#include "rule-table.h"

typedef struct DeviceCgroupOptions {
        bool readonly;             /* shared lock; changes are refused */
        bool nonblocking;          /* fail with -EWOULDBLOCK instead of waiting for the lock */
        /* For a program this object creates: the denial log's ring size in
         * bytes (0: no denial log).  Adopted programs keep what they have. */
        uint32_t log_ring_size;
} DeviceCgroupOptions;

typedef struct DeviceCgroup DeviceCgroup;

int device_cgroup_open(const char *path, const DeviceCgroupOptions *options, DeviceCgroup **ret,
                       DevError *reterr);
void device_cgroup_free(DeviceCgroup *dc);

const char *device_cgroup_path(const DeviceCgroup *dc);
bool device_cgroup_has_program(const DeviceCgroup *dc);
uint32_t device_cgroup_prog_id(const DeviceCgroup *dc);
uint32_t device_cgroup_map_size(const DeviceCgroup *dc);
const RuleTable *device_cgroup_table(const DeviceCgroup *dc);
/* The log maps, or NULL when the program has none. */
const DevLogMaps *device_cgroup_log(const DeviceCgroup *dc);
/* Every device program that runs for the cgroup, ours included, as found
 * when it was opened. */
const DevProgramEntry *device_cgroup_programs(const DeviceCgroup *dc, size_t *ret_n);
/* A warning for people about the last change ("denial log off: ..."), or NULL. */
const char *device_cgroup_warning(const DeviceCgroup *dc);

/* Appends rules to the live policy, one at a time (each one atomic).
 * Creates and attaches our program when the cgroup has none. */
int device_cgroup_apply(DeviceCgroup *dc, const DeviceRule *rules, size_t n, DevError *reterr);
/* Replaces the whole policy by `rules` in one swap (or installs it). */
int device_cgroup_reset(DeviceCgroup *dc, const DeviceRule *rules, size_t n, DevError *reterr);
/* Sets the exact entry of one device and type to `mask`. */
int device_cgroup_set_exact(DeviceCgroup *dc, unsigned type, uint32_t major, uint32_t minor, unsigned mask,
                            DevError *reterr);
/* Which entry decides for a device, per the map as last read or written. */
void device_cgroup_decide(const DeviceCgroup *dc, unsigned type, uint32_t major, uint32_t minor,
                          RuleDecision *ret);
/* Detaches our program (every one of ours, should there be several). */
int device_cgroup_remove(DeviceCgroup *dc, DevError *reterr);
