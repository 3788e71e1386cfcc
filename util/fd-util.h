/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scope cleanup for file descriptors (GLib 2.74 has no g_autofd). */
#pragma once

#include <errno.h>
#include <unistd.h>

static inline void close_fdp(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

#define _cleanup_close_ __attribute__((cleanup(close_fdp)))

/* Hands ownership of *fd on: returns it and leaves -1 behind. */
static inline int steal_fd(int *fd) {
        int r = *fd;
        *fd = -1;
        return r;
}
