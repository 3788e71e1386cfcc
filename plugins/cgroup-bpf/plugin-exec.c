/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "plugin-exec.h"

int cgb_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        (void) state;
        /* The cgroup was resolved by the core; whether it is there and is a
         * cgroup2 directory is checked (and reported) where it is opened.
         * With allow-unsupported=true on a kernel without device programs
         * the plugin made no cgroup, and the exec fails there: a process
         * is never started outside the cgroup its guest was given. */
        if (!guest->cgroup || guest->cgroup[0] != '/')
                return -EINVAL;
        return sink->set_cgroup(sink, guest->cgroup);
}
