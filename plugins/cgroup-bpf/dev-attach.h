/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attaching, replacing, detaching and listing device programs on one
 * cgroup.  Always BPF_F_ALLOW_MULTI: programs of systemd, runc or a nested
 * guest stay attached beside ours and the kernel requires all of them to
 * allow.  A program is swapped with BPF_F_REPLACE, never detached first. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dev-error.h"

/* The ids of the device programs attached to the cgroup itself, or with
 * `effective` those that run for it (its own and its ancestors').
 * *ret_ids is malloc'd (NULL when there are none). */
int dev_attach_query(int cgroup_fd, const char *path, bool effective, uint32_t **ret_ids, uint32_t *ret_n,
                     uint32_t *ret_attach_flags, DevError *reterr);

int dev_attach_add(int cgroup_fd, const char *path, int prog_fd, DevError *reterr);
/* Swaps old for new in one step (BPF_F_ALLOW_MULTI | BPF_F_REPLACE). */
int dev_attach_replace(int cgroup_fd, const char *path, int old_prog_fd, int new_prog_fd, DevError *reterr);
/* -ENOENT (no message) when the program is not attached there. */
int dev_attach_remove(int cgroup_fd, const char *path, int prog_fd, DevError *reterr);
