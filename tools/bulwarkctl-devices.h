/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl devices: the parts that differ over the bus. */
#pragma once

#include <stdbool.h>

#include "bulwarkctl.h"

/* `devices denials [--follow] CGROUP` over the bus when CGROUP is a running
 * guest's: its exit status; -ENOENT when it is no running guest's (the
 * plugin's query serves it then). */
int devices_denials_bus(CtlContext *ctx, const char *cgroup, bool follow);
