/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "aa-helper-exec.h"
#include "util/fd-util.h"
#include "util/strv-util.h"

char **aa_helper_argv(const char *helper, bool undo) {
        GPtrArray *a = g_ptr_array_new();
        g_ptr_array_add(a, g_strdup(helper));
        g_ptr_array_add(a, g_strdup("--change"));
        if (undo)
                g_ptr_array_add(a, g_strdup("--undo"));
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

static char *helper_read_all(int fd) {
        GString *out = g_string_new(NULL);
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                g_string_append_len(out, buf, n);
        }
        return g_string_free(out, FALSE);
}

/* Writes the change with SIGPIPE blocked in this thread: a helper that
 * died before reading must fail the change, not kill the daemon.  A
 * SIGPIPE this write raised is taken back before the mask is restored. */
static int helper_write(int fd, const void *data, size_t len) {
        sigset_t pipe_set, old;
        const struct timespec now = { 0, 0 };

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        int r = write_all(fd, data, len);
        if (r == -EPIPE)
                while (sigtimedwait(&pipe_set, NULL, &now) > 0)
                        ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

int aa_helper_run(const char *helper, bool undo, const void *data, size_t len, BwError *reterr) {
        g_auto(GStrv) argv = aa_helper_argv(helper, undo);
        g_autoptr(GError) gerr = NULL;
        _cleanup_close_ int in = -1, err_fd = -1;
        GPid pid;
        int status;

        if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                      NULL, &pid, &in, NULL, &err_fd, &gerr))
                return error_set(reterr, -ENOENT, "helper '%s': cannot run: %s", helper, gerr->message);
        int wr = helper_write(in, data, len);
        close_fdp(&in);
        in = -1;           /* closed: the helper sees the end of its input */
        g_autofree char *msg = helper_read_all(err_fd);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        g_strstrip(msg);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return error_set(reterr, -EIO, "helper '%s': %s", helper, msg[0] ? msg : "failed without a message");
        if (wr < 0)
                return error_set(reterr, wr, "helper '%s': cannot write the change: %m", helper);
        return 0;
}
