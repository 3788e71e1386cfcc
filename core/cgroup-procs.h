/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The processes in a guest's cgroup.  Stopping a guest detaches its device
 * program, so stop first makes sure no process is left that would keep
 * running unconfined. */
#pragma once

#include <sys/types.h>

#include <bulwark/bulwark.h>

/* 1 when the cgroup or a descendant holds a process (*ret_pid: one of
 * them, 0 if none could be named), 0 when it holds none, does not exist
 * or is not a cgroup2 directory (no cgroup.events), -errno otherwise. */
int cgroup_procs_populated(const char *cgroup, pid_t *ret_pid);

/* Writes 1 to cgroup.kill and waits, up to timeout_ms, for cgroup.events
 * to say "populated 0" (inotify on the file, no polling). */
int cgroup_procs_kill(const char *guest, const char *cgroup, unsigned timeout_ms, BwError *reterr);
