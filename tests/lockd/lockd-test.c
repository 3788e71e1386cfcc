/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

int64_t test_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool test_daemon_wait_ready(TestDaemon *d, int timeout_ms) {
        int64_t end = test_now_usec() + (int64_t) timeout_ms * 1000;
        BwLockdClient *c;
        bool ok = false;

        assert_int_equal(bw_lockd_client_new(d->socket_path, "test-ready", &c), 0);
        while (test_now_usec() < end) {
                BwLockdDaemonInfo info;
                if (bw_lockd_ping(c, &info, NULL) == 0) {
                        ok = true;
                        break;
                }
                if (d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == d->pid) {
                        d->pid = 0;
                        break;
                }
                usleep(5000);
        }
        bw_lockd_client_free(c);
        return ok;
}

static void dump_log(const TestDaemon *d) {
        g_autofree char *log = NULL;
        if (g_file_get_contents(d->log, &log, NULL, NULL))
                fprintf(stderr, "# daemon log %s:\n%s\n", d->log, log);
}

void test_daemon_start(TestDaemon *d, const char *scratch, const char *name, const char *config_extra,
                       const char *const *wrapper) {
        test_daemon_start_at(d, scratch, name, NULL, NULL, NULL, config_extra, wrapper);
}

void test_daemon_start_at(TestDaemon *d, const char *scratch, const char *name, const char *socket_path,
                          const char *pidfile, const char *state_dir, const char *config_extra,
                          const char *const *wrapper) {
        *d = (TestDaemon) {};
        d->dir = g_build_filename(scratch, name, NULL);
        assert_int_equal(mkdir(d->dir, 0700), 0);
        d->socket_path = socket_path ? g_strdup(socket_path) : g_build_filename(d->dir, "run", "lockd.sock", NULL);
        d->state_dir = state_dir ? g_strdup(state_dir) : g_build_filename(d->dir, "state", NULL);
        d->pidfile = pidfile ? g_strdup(pidfile) : g_build_filename(d->dir, "run", "lockd.pid", NULL);
        d->config = g_build_filename(d->dir, "bulwark.conf", NULL);
        d->log = g_build_filename(d->dir, "lockd.log", NULL);
        g_autofree char *conf = g_strdup_printf("[bulwark]\n[lockd]\n%s", config_extra ? config_extra : "");
        assert_true(g_file_set_contents(d->config, conf, -1, NULL));
        g_autofree char *binary = test_builddir_path("bulwark-lockd");

        GPtrArray *argv = g_ptr_array_new();
        for (size_t i = 0; wrapper && wrapper[i]; i++)
                g_ptr_array_add(argv, (char *) wrapper[i]);
        const char *args[] = { binary, "--foreground", "--config", d->config, "--socket", d->socket_path,
                               "--state-dir", d->state_dir, "--pidfile", d->pidfile, NULL };
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (char *) args[i]);
        if (getenv("LOCKD_TEST_DEBUG"))
                g_ptr_array_add(argv, (char *) "-vv");
        g_ptr_array_add(argv, NULL);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* A test that fails half-way must not leave daemons behind. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd >= 0)
                        dup2(fd, STDERR_FILENO);
                int null = open("/dev/null", O_RDWR);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                execvp(argv->pdata[0], (char **) argv->pdata);
                _exit(127);
        }
        g_ptr_array_unref(argv);
        d->pid = pid;
        if (!test_daemon_wait_ready(d, 10000)) {
                dump_log(d);
                fail_msg("bulwark-lockd did not come up on '%s'", d->socket_path);
        }
}

static int wait_status(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_daemon_stop(TestDaemon *d) {
        if (d->pid <= 0)
                return -1;
        kill(d->pid, SIGTERM);
        int r = wait_status(d->pid);
        d->pid = 0;
        if (r != 0)
                dump_log(d);
        return r;
}

void test_daemon_kill(TestDaemon *d) {
        if (d->pid <= 0)
                return;
        kill(d->pid, SIGKILL);
        wait_status(d->pid);
        d->pid = 0;
}

void test_daemon_clear(TestDaemon *d) {
        test_daemon_kill(d);
        g_free(d->dir);
        g_free(d->socket_path);
        g_free(d->state_dir);
        g_free(d->pidfile);
        g_free(d->config);
        g_free(d->log);
        *d = (TestDaemon) {};
}

char *test_scratch_daemon_start(TestDaemon *d, const char *scratch_name) {
        char *scratch = test_scratch_new(scratch_name);
        test_daemon_start(d, scratch, "daemon", NULL, NULL);
        return scratch;
}

void test_scratch_daemon_stop(TestDaemon *d, char *scratch) {
        assert_int_equal(test_daemon_stop(d), 0);
        test_daemon_clear(d);
        test_scratch_remove(scratch);
        g_free(scratch);
}

BwLockdClient *test_client_new(const TestDaemon *d, const char *owner) {
        BwLockdClient *c;
        assert_int_equal(bw_lockd_client_new(d->socket_path, owner, &c), 0);
        return c;
}

char *test_make_dir(const char *parent, const char *name) {
        char *dir = g_build_filename(parent, name, NULL);
        assert_int_equal(mkdir(dir, 0700), 0);
        return dir;
}

char **test_make_files(const char *dir, const char *prefix, size_t n) {
        char **paths = g_new0(char *, n + 1);
        for (size_t i = 0; i < n; i++) {
                paths[i] = g_strdup_printf("%s/%s%zu", dir, prefix, i);
                int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                close(fd);
        }
        return paths;
}

pid_t test_fork_lock_holder(const TestDaemon *d, const char *owner, char **files, size_t n) {
        int ready[2];
        char byte;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwLockdClient *c;
                BwLockdHandle *h;
                if (bw_lockd_client_new(d->socket_path, owner, &c) < 0 ||
                    bw_lockd_acquire(c, (const char *const *) files, n, BW_LOCKD_EXCLUSIVE, 0, &h, NULL) < 0)
                        _exit(1);
                (void) !write(ready[1], "r", 1);
                pause();
                _exit(0);
        }
        assert_int_equal(read(ready[0], &byte, 1), 1);
        close(ready[0]);
        close(ready[1]);
        return pid;
}

int test_posix_probe(const char *path) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(path, O_RDWR | O_CLOEXEC);
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
                if (fd < 0)
                        _exit(2);
                _exit(fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
        }
        int r = wait_status(pid);
        assert_true(r == 0 || r == 1);
        return r == 0 ? 0 : -EAGAIN;
}

int test_raw_connect(const char *socket_path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        g_strlcpy(sa.sun_path, socket_path, sizeof(sa.sun_path));
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

void test_raw_send(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n > 0);
                p += n;
                len -= (size_t) n;
        }
}

GByteArray *test_raw_frame(uint8_t type, uint32_t serial, GVariant *payload) {
        GByteArray *b = g_byte_array_new();
        g_autoptr(GVariant) v = g_variant_ref_sink(payload);
        assert_int_equal(protocol_frame_append(b, type, serial, v), 0);
        return b;
}

static int read_exact(int fd, void *buf, size_t len, int64_t deadline) {
        char *p = buf;
        while (len > 0) {
                int64_t left = deadline - test_now_usec();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int k = poll(&pfd, 1, (int) ((left + 999) / 1000));
                if (k == 0)
                        return -ETIMEDOUT;
                ssize_t n = recv(fd, p, len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                p += n;
                len -= (size_t) n;
        }
        return 1;
}

int test_raw_read_reply(int fd, int timeout_ms, LockdHeader *ret_header, LockdReply *ret_reply) {
        int64_t deadline = test_now_usec() + (int64_t) timeout_ms * 1000;
        uint8_t header[LOCKD_HEADER_SIZE];
        int r = read_exact(fd, header, sizeof(header), deadline);
        if (r <= 0)
                return r;
        if (protocol_header_decode(header, ret_header) < 0 || ret_header->type != LOCKD_MSG_REPLY)
                return -EPROTO;
        g_autofree uint8_t *payload = g_malloc(ret_header->length + 1);
        r = read_exact(fd, payload, ret_header->length, deadline);
        if (r <= 0)
                return r == 0 ? -EPROTO : r;
        g_autofree char *message = NULL;
        g_autoptr(GVariant) v = protocol_payload_parse(payload, ret_header->length, G_VARIANT_TYPE("(uisv)"),
                                                       &message);
        if (!v || protocol_reply_decode(v, ret_reply, &message) < 0)
                return -EPROTO;
        return 1;
}

int test_raw_wait_closed(int fd, int timeout_ms) {
        int64_t deadline = test_now_usec() + (int64_t) timeout_ms * 1000;
        char buf[4096];
        for (;;) {
                int64_t left = deadline - test_now_usec();
                if (left <= 0)
                        return 0;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                if (poll(&pfd, 1, (int) ((left + 999) / 1000)) == 0)
                        return 0;
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        return 1;
        }
}

/* ---- An impostor daemon -------------------------------------------------- */

struct TestFakeDaemon {
        int listen_fd;
        int stop_pipe[2];
        GThread *thread;
        TestFakeHandler handler;
        void *userdata;
};

/* Serves one connection until the peer closes it (or the stop pipe is
 * readable); never asserts: it runs beside cmocka's thread. */
static void fake_serve(TestFakeDaemon *f, int fd) {
        g_autoptr(GByteArray) in = g_byte_array_new();
        g_autoptr(GByteArray) out = g_byte_array_new();
        for (;;) {
                LockdHeader h;
                size_t len;
                int k;
                while ((k = protocol_frame_next(in->data, in->len, &h, &len)) > 0) {
                        f->handler(&h, in->data + LOCKD_HEADER_SIZE, out, f->userdata);
                        g_byte_array_remove_range(in, 0, (guint) len);
                }
                if (k < 0)
                        return;
                for (size_t sent = 0; sent < out->len;) {
                        ssize_t n = send(fd, out->data + sent, out->len - sent, MSG_NOSIGNAL);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return;
                        sent += (size_t) n;
                }
                g_byte_array_set_size(out, 0);
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = f->stop_pipe[0], .events = POLLIN } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return;
                if (p[1].revents)
                        return;
                uint8_t buf[64 * 1024];
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                g_byte_array_append(in, buf, (guint) n);
        }
}

static void *fake_thread(void *userdata) {
        TestFakeDaemon *f = userdata;
        for (;;) {
                struct pollfd p[2] = { { .fd = f->listen_fd, .events = POLLIN },
                                       { .fd = f->stop_pipe[0], .events = POLLIN } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                if (!p[0].revents)
                        continue;
                int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                fake_serve(f, fd);
                close(fd);
        }
        return NULL;
}

TestFakeDaemon *test_fake_daemon_start(const char *socket_path, TestFakeHandler handler, void *userdata) {
        TestFakeDaemon *f = g_new0(TestFakeDaemon, 1);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        f->handler = handler;
        f->userdata = userdata;
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(f->listen_fd >= 0);
        g_strlcpy(sa.sun_path, socket_path, sizeof(sa.sun_path));
        assert_int_equal(bind(f->listen_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(f->listen_fd, 16), 0);
        assert_int_equal(pipe2(f->stop_pipe, O_CLOEXEC), 0);
        f->thread = g_thread_new("fake-lockd", fake_thread, f);
        return f;
}

void test_fake_daemon_stop(TestFakeDaemon *f) {
        (void) !write(f->stop_pipe[1], "x", 1);
        g_thread_join(f->thread);
        close(f->listen_fd);
        close(f->stop_pipe[0]);
        close(f->stop_pipe[1]);
        g_free(f);
}

GVariant *test_list_rows(const char *const *paths, size_t n, const char *owner) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a" LOCKD_LIST_ROW));
        for (size_t i = 0; i < n; i++)
                g_variant_builder_add(&b, "(@ayttuusuuxt)", protocol_path_to_variant(paths[i]), (guint64) 1,
                                      (guint64) (100 + i), (guint32) LOCKD_MODE_EXCLUSIVE, 0u, owner, 42u, 0u,
                                      (gint64) 1700000000000000, (guint64) 1000000);
        return g_variant_builder_end(&b);
}

int test_daemon_lose_lock(const TestDaemon *d, const char *path) {
        g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int) d->pid);
        g_autoptr(GDir) fds = g_dir_open(dir, 0, NULL);
        const char *name;
        int target = -1;
        assert_non_null(fds);
        while ((name = g_dir_read_name(fds))) {
                g_autofree char *link = g_strdup_printf("%s/%s", dir, name);
                g_autofree char *to = g_file_read_link(link, NULL);
                if (to && strcmp(to, path) == 0)
                        target = atoi(name);
        }
        assert_true(target >= 0);
        int pidfd = (int) syscall(SYS_pidfd_open, d->pid, 0);
        if (pidfd < 0)
                return -errno;
        int dup = (int) syscall(SYS_pidfd_getfd, pidfd, target, 0);
        int r = dup < 0 ? -errno : 0;
        close(pidfd);
        if (r < 0)
                return r;
        struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        assert_int_equal(fcntl(dup, F_OFD_SETLK, &fl), 0);
        close(dup);
        int other = open(path, O_RDWR | O_CLOEXEC);
        assert_true(other >= 0);
        fl.l_type = F_WRLCK;
        assert_int_equal(fcntl(other, F_OFD_SETLK, &fl), 0);
        return other;
}
