/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding bulwark's program on a cgroup (after a restart, or from another
 * process) and telling it apart from everyone else's.
 *
 * A program is ours when it is a device program named bw_devices that
 * references exactly one map named bw_dev_rules of the rule layout (hash,
 * 8-byte key, 4-byte value) and, if any, the three log maps with their
 * layouts.  Anything else, a program that merely borrows the name
 * included, is foreign: listed, never changed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "dev-error.h"

#include "dev-log.h"

typedef struct DevProgramEntry {
        uint32_t id;
        char name[BPF_OBJ_NAME_LEN];
        bool ours;
        bool inherited;            /* attached to an ancestor, runs here too */
} DevProgramEntry;

/* Our objects on one cgroup; fds are -1 when absent. */
typedef struct DevObjects {
        int prog_fd;
        uint32_t prog_id;
        int rules_fd;
        uint32_t rules_id;
        uint32_t max_entries;
        DevLogMaps log;
} DevObjects;

#define DEV_OBJECTS_NONE ((DevObjects) { -1, 0, -1, 0, 0, { -1, -1, -1, 0 } })

void dev_objects_close(DevObjects *objects);

/* Lists the device programs that run for the cgroup (its own, then the
 * inherited ones); *ret_list is malloc'd.  When `ours` is non-NULL it
 * receives our program's objects, or DEV_OBJECTS_NONE.  Returns 1 when
 * ours is there, 0 when not; -ENOTUNIQ when two programs both look like
 * ours (refused: nothing is changed). */
int dev_adopt_scan(int cgroup_fd, const char *path, DevObjects *ours, DevProgramEntry **ret_list,
                   size_t *ret_n, DevError *reterr);

/* Checks one program by id: 1 ours (then *ret, when non-NULL, holds its
 * objects), 0 foreign or unreadable.  `name` receives its name ("?" when
 * unreadable). */
int dev_adopt_program(uint32_t prog_id, DevObjects *ret, char name[static BPF_OBJ_NAME_LEN]);

/* Detaches every program of ours from the cgroup; returns how many. */
int dev_adopt_detach_ours(int cgroup_fd, const char *path, DevError *reterr);
