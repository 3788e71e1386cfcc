/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this kernel supports for device programs.  Probing creates only
 * short-lived objects (a trivial program, tiny maps) and attaches nothing
 * to any cgroup. */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "cgroup-root.h"

typedef struct DevProbe {
        char root[PATH_MAX];       /* cgroup2 root, "" when none */
        CgroupMode mode;
        bool query;                /* BPF_PROG_QUERY on the cgroup2 root works */
        bool device_programs;      /* a device program loads */
        bool replace;              /* BPF_F_REPLACE is known */
        bool links;                /* bpf_link for cgroup device programs */
        bool denial_log;           /* ring buffer + the log helpers in device programs */
        bool usable;               /* query && device_programs && replace */
        char reason[512];          /* why not usable; "" when usable */
        char log_reason[256];      /* why no denial log; "" when available */
} DevProbe;

/* Fills *ret; returns 0 when usable, -EOPNOTSUPP (or -ENOMEDIUM without a
 * cgroup2 root) when not, with the reason in ret->reason. */
int dev_probe_run(const char *configured_root, DevProbe *ret);
