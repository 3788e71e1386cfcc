/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device program bw_devices, built from raw BPF instructions.
 *
 * It reads (type, major, minor, access) from the context and looks up the
 * rule map at major:minor, major:*, *:minor and *:* (DESIGN.md value
 * layout); the first entry present for the type decides.  When log maps
 * are given, the deny path (and only the deny path) records an event in
 * the ring buffer and counts it (see dev-log.h): the allow path runs the
 * same instructions with or without logging. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "dev-error.h"

#define DEV_PROGRAM_NAME "bw_devices"
#define DEV_PROGRAM_MAX_INSNS 256

/* Map descriptors the program references; log_fd < 0 means no logging
 * (then denied_fd and totals_fd are ignored). */
typedef struct DevProgramMaps {
        int rules_fd;
        int log_fd;
        int denied_fd;
        int totals_fd;
} DevProgramMaps;

/* Writes the program into insns[]; returns the instruction count. */
int dev_program_build(const DevProgramMaps *maps, struct bpf_insn insns[static DEV_PROGRAM_MAX_INSNS]);

/* Builds and loads the program; returns its fd (O_CLOEXEC).  On a
 * verifier refusal the message carries the end of the verifier log. */
int dev_program_load(const DevProgramMaps *maps, DevError *reterr);
