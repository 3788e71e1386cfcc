/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Landlock denials of a guest's processes, read from audit's read-only
 * multicast group (AUDIT_NLGRP_READLOG, CAP_AUDIT_READ).  Landlock (ABI 7)
 * writes an AUDIT_LANDLOCK_ACCESS record per denial, naming its domain,
 * and an AUDIT_LANDLOCK_DOMAIN record when a domain is first seen, naming
 * the process that made it; a domain is the guest's when that process was
 * in the guest's cgroup.  The records of one event (one audit serial,
 * closed by AUDIT_EOE) are read together: the SYSCALL record names the
 * process refused.  The maker's cgroup is read from /proc when its record
 * arrives: a process that made a domain and exited before the reader got
 * the record cannot be placed, and its denials are not reported.   Records exist only while audit is enabled in
 * the kernel (`auditctl -e 1`, or an audit daemon): with audit disabled
 * Landlock writes none, and the reader says so instead of waiting. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/plugin-error.h"

/* One denial of the guest, as printed. */
typedef struct AuditDenial {
        char time[32];             /* audit's "seconds.millis" */
        char domain[32];           /* Landlock domain id, hex */
        char blockers[128];        /* "fs.read_file" */
        char object[512];          /* path="..." and the rest of the record */
        long pid;                  /* the process refused (0: unknown) */
        char comm[64];
} AuditDenial;

/* Called for each denial; a negative return ends the follow with it. */
typedef int (*AuditDenialFn)(const AuditDenial *denial, void *userdata);
/* Called about every quarter of a second with nothing to say; a negative
 * return ends the follow with it (-EPIPE: the reader went away). */
typedef int (*AuditIdleFn)(void *userdata);

/* 1 when audit is enabled in the kernel, 0 when not, or -errno. */
int audit_denials_enabled(PluginError *err);

/* Follows the denials of processes in cgroup `cgroup_rel` (as
 * /proc/PID/cgroup names it, "/bulwark/demo") until `count` were reported
 * (0: no limit) or a callback ends it.  `ready` is called once the
 * multicast group is joined. */
int audit_denials_follow(const char *cgroup_rel, size_t count, AuditDenialFn denial, AuditIdleFn idle,
                         void (*ready)(void *userdata), void *userdata, PluginError *err);
