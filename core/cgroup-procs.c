/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "util/strv-util.h"
#include "cgroup-procs.h"

/* "populated" of cgroup.events: 1, 0, or -errno (-ENOENT: not a cgroup). */
static int cgroup_events_populated(const char *cgroup) {
        g_autofree char *path = g_build_filename(cgroup, "cgroup.events", NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return -ENOENT;
        const char *p = strstr(text, "populated ");
        if (!p || (p != text && p[-1] != '\n'))
                return -EBADMSG;
        return p[strlen("populated ")] == '1';
}

/* The first pid of cgroup.procs in the cgroup or a descendant; 0: none. */
static pid_t cgroup_first_pid(const char *cgroup, unsigned depth) {
        g_autofree char *procs = g_build_filename(cgroup, "cgroup.procs", NULL);
        g_autofree char *text = NULL;
        if (g_file_get_contents(procs, &text, NULL, NULL) && text[0])
                return (pid_t) strtol(text, NULL, 10);
        g_autoptr(GDir) d = depth < 32 ? g_dir_open(cgroup, 0, NULL) : NULL;
        for (const char *f; d && (f = g_dir_read_name(d));) {
                g_autofree char *child = g_build_filename(cgroup, f, NULL);
                if (!g_file_test(child, G_FILE_TEST_IS_DIR) || g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        continue;
                pid_t pid = cgroup_first_pid(child, depth + 1);
                if (pid > 0)
                        return pid;
        }
        return 0;
}

int cgroup_procs_populated(const char *cgroup, pid_t *ret_pid) {
        *ret_pid = 0;
        if (!cgroup)
                return 0;
        int r = cgroup_events_populated(cgroup);
        if (r == -ENOENT)
                return 0;
        if (r <= 0)
                return r;
        *ret_pid = cgroup_first_pid(cgroup, 0);
        return 1;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cgroup_procs_kill(const char *guest, const char *cgroup, unsigned timeout_ms, BwError *reterr) {
        g_autofree char *kill_path = g_build_filename(cgroup, "cgroup.kill", NULL);
        g_autofree char *events = g_build_filename(cgroup, "cgroup.events", NULL);
        int64_t deadline = now_ms() + timeout_ms;

        /* Watch first, so the change from populated 1 to 0 cannot slip by. */
        _cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in < 0 || inotify_add_watch(in, events, IN_MODIFY) < 0)
                return error_set(reterr, -errno, "guest '%s': cgroup '%s': cannot watch cgroup.events: %m", guest,
                                 cgroup);
        _cleanup_close_ int fd = open(kill_path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || write_all(fd, "1", 1) < 0)
                return error_set(reterr, -errno, "guest '%s': cgroup '%s': cannot write cgroup.kill: %m", guest,
                                 cgroup);
        for (;;) {
                int r = cgroup_events_populated(cgroup);
                if (r <= 0)
                        return r == -ENOENT ? 0 : r;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return error_set(reterr, -ETIMEDOUT,
                                         "guest '%s': cgroup '%s': processes still there %u ms after cgroup.kill",
                                         guest, cgroup, timeout_ms);
                struct pollfd p = { .fd = in, .events = POLLIN };
                if (poll(&p, 1, (int) left) < 0 && errno != EINTR)
                        return error_set(reterr, -errno, "guest '%s': cgroup '%s': cannot wait: %m", guest, cgroup);
                char buf[4096];
                while (read(in, buf, sizeof(buf)) > 0)
                        ;
        }
}
