/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup-bpf plugin's exec_attrs operation (plugin-exec.c). */
#pragma once

#include <bulwark/plugin.h>

/* The guest's process starts in the guest's cgroup, where bw_devices
 * confines its device accesses. */
int cgb_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink);
