/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bulwarkctl.h"

int ctl_query_write(bool follow, const char *data, size_t len) {
        if (follow) {
                sigset_t pending;
                struct pollfd pfd = { .fd = STDOUT_FILENO };
                sigpending(&pending);
                if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
                        return -EPIPE;
                if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP)))
                        return -EPIPE;
        }
        if (len > 0 && fwrite(data, 1, len, stdout) != len)
                return -errno ?: -EIO;
        return fflush(stdout) == 0 ? 0 : (-errno ?: -EIO);
}
