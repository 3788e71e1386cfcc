/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIGUSR1: bulwark-lockd re-executes itself keeping every lock and every
 * client connection.  A prober process tries F_SETLK on byte 1 of every
 * locked file in a loop the whole time and must never succeed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

#define N_FILES 1000
#define N_CLIENTS 4

static char *scratch;
static TestDaemon daemon_;

static int setup(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "lockd-reexec");
        return 0;
}

static int teardown(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        return 0;
}

typedef struct Prober {
        pid_t pid;
        int report;                /* reads "passes successes" when the prober stops */
        int progress;              /* one byte per pass */
} Prober;

static volatile sig_atomic_t prober_stop_flag;

static void prober_on_term(int sig) {
        prober_stop_flag = 1;
}

/* A separate process: F_SETLK write on byte 1 of every file, over and
 * over, until SIGTERM; then reports passes and successes. */
static void prober_start(Prober *p, char **files, size_t n) {
        int report[2], progress[2];
        assert_int_equal(pipe2(report, O_CLOEXEC), 0);
        assert_int_equal(pipe2(progress, O_CLOEXEC | O_NONBLOCK), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                signal(SIGTERM, prober_on_term);
                int *fds = calloc(n, sizeof(int));
                for (size_t i = 0; i < n; i++)
                        if ((fds[i] = open(files[i], O_RDWR | O_CLOEXEC)) < 0)
                                _exit(2);
                unsigned long passes = 0, successes = 0;
                while (!prober_stop_flag) {
                        for (size_t i = 0; i < n; i++) {
                                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
                                if (fcntl(fds[i], F_SETLK, &fl) == 0) {
                                        successes++;
                                        fl.l_type = F_UNLCK;
                                        fcntl(fds[i], F_SETLK, &fl);
                                }
                        }
                        passes++;
                        (void) !write(progress[1], "p", 1);
                }
                char buf[64];
                int len = snprintf(buf, sizeof(buf), "%lu %lu", passes, successes);
                (void) !write(report[1], buf, (size_t) len);
                _exit(0);
        }
        close(report[1]);
        close(progress[1]);
        *p = (Prober) { .pid = pid, .report = report[0], .progress = progress[0] };
}

/* Waits until the prober has finished `passes` more passes. */
static void prober_wait_passes(Prober *p, unsigned passes) {
        char buf[256];
        unsigned seen = 0;
        int64_t end = test_now_usec() + 30 * 1000 * 1000;
        while (seen < passes) {
                ssize_t k = read(p->progress, buf, sizeof(buf));
                if (k > 0)
                        seen += (unsigned) k;
                else
                        usleep(1000);
                assert_true(test_now_usec() < end);
        }
}

static void prober_stop(Prober *p, unsigned long *ret_passes, unsigned long *ret_successes) {
        char buf[64] = "";
        kill(p->pid, SIGTERM);
        assert_true(read(p->report, buf, sizeof(buf) - 1) > 0);
        assert_int_equal(waitpid(p->pid, NULL, 0), p->pid);
        assert_int_equal(sscanf(buf, "%lu %lu", ret_passes, ret_successes), 2);
        close(p->report);
        close(p->progress);
}

static int compare_lock(const void *a, const void *b) {
        return strcmp(((const BwLockdLock *) a)->path, ((const BwLockdLock *) b)->path);
}

static void list_sorted(BwLockdClient *c, BwLockdLock **ret, size_t *ret_n) {
        assert_int_equal(bw_lockd_list(c, ret, ret_n, NULL, NULL), 0);
        qsort(*ret, *ret_n, sizeof(**ret), compare_lock);
}

static uint32_t ping_generation(BwLockdClient *c, uint32_t *ret_pid) {
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_ping(c, &info, NULL), 0);
        if (ret_pid)
                *ret_pid = info.pid;
        return info.generation;
}

/* Signals are asynchronous: a PING sent right after kill() may still be
 * answered by the old image.  Polls until the new one answers. */
static void wait_generation(BwLockdClient *c, uint32_t want, uint32_t *ret_pid) {
        int64_t end = test_now_usec() + 10 * 1000 * 1000;
        while (ping_generation(c, ret_pid) != want) {
                assert_true(test_now_usec() < end);
                usleep(200);
        }
}

static void test_reexec_keeps_locks(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "files");
        g_auto(GStrv) files = test_make_files(dir, "f", N_FILES);
        g_autofree char *sub = test_make_dir(dir, "subdir");
        BwLockdClient *clients[N_CLIENTS];
        BwLockdHandle *handles[N_CLIENTS];
        BwLockdClient *observer = test_client_new(&daemon_, "observer");
        const size_t per = N_FILES / N_CLIENTS;

        /* Four clients, a quarter each; the last one shares its files and
         * also holds a directory, so every kind of entry crosses over. */
        for (size_t i = 0; i < N_CLIENTS; i++) {
                g_autofree char *owner = g_strdup_printf("holder-%zu", i);
                clients[i] = test_client_new(&daemon_, owner);
                unsigned mode = i == N_CLIENTS - 1 ? BW_LOCKD_SHARED : BW_LOCKD_EXCLUSIVE;
                assert_int_equal(bw_lockd_acquire(clients[i], (const char *const *) files + i * per, per, mode, 0,
                                                  &handles[i], NULL), 0);
        }
        BwLockdHandle *dirh, *shared2;
        assert_int_equal(bw_lockd_acquire(clients[0], (const char *const *) &sub, 1, BW_LOCKD_EXCLUSIVE, 0, &dirh,
                                          NULL), 0);
        assert_int_equal(bw_lockd_acquire(observer, (const char *const *) files + (N_CLIENTS - 1) * per, 2,
                                          BW_LOCKD_SHARED, 0, &shared2, NULL), 0);
        /* A raw client that has sent half a PING when the signal comes. */
        int raw = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 77, g_variant_new("()"));
        test_raw_send(raw, ping->data, 10);

        BwLockdLock *before, *after;
        size_t n_before, n_after;
        list_sorted(observer, &before, &n_before);
        assert_int_equal(n_before, N_FILES + 1 + 2);
        uint32_t pid_before, pid_after;
        assert_int_equal(ping_generation(observer, &pid_before), 0);

        Prober prober;
        prober_start(&prober, files, N_FILES);
        prober_wait_passes(&prober, 2);
        g_autofree char *state_file = g_build_filename(daemon_.state_dir, "lockd-reexec.state", NULL);
        int64_t t0 = test_now_usec();
        assert_int_equal(kill(daemon_.pid, SIGUSR1), 0);
        /* Requests wait in the socket while the daemon re-executes. */
        wait_generation(observer, 1, &pid_after);
        int64_t dt = test_now_usec() - t0;
        prober_wait_passes(&prober, 3);
        unsigned long passes, successes;
        prober_stop(&prober, &passes, &successes);
        printf("# re-exec with %d locks: %.1f ms until answered; prober: %lu passes, %lu successes\n",
               N_FILES + 3, dt / 1000.0, passes, successes);
        assert_int_equal(successes, 0);
        assert_true(passes >= 5);
        assert_int_equal(pid_after, pid_before);
        assert_int_equal(access(state_file, F_OK), -1);

        /* The half frame survived: the rest of it gets its answer. */
        test_raw_send(raw, ping->data + 10, ping->len - 10);
        LockdHeader h;
        g_auto(LockdReply) reply = {};
        assert_int_equal(test_raw_read_reply(raw, 5000, &h, &reply), 1);
        assert_int_equal(h.serial, 77);
        assert_int_equal(reply.status, LOCKD_STATUS_OK);
        close(raw);

        /* The same locks, the same owners. */
        list_sorted(observer, &after, &n_after);
        assert_int_equal(n_after, n_before);
        for (size_t i = 0; i < n_after; i++) {
                assert_string_equal(after[i].path, before[i].path);
                assert_true(after[i].dev == before[i].dev && after[i].ino == before[i].ino);
                assert_int_equal(after[i].shared, before[i].shared);
                assert_int_equal(after[i].flags, before[i].flags);
                assert_string_equal(after[i].owner, before[i].owner);
                assert_int_equal(after[i].pid, before[i].pid);
                assert_true(after[i].since == before[i].since);
                assert_true(after[i].held_for >= before[i].held_for);
        }
        bw_lockd_lock_list_free(before, n_before);
        bw_lockd_lock_list_free(after, n_after);

        /* Conflicts still hold after the re-exec, in the table and the kernel. */
        BwLockdHandle *h2;
        assert_int_equal(bw_lockd_acquire(observer, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, &h2, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire(observer, (const char *const *) &sub, 1, BW_LOCKD_SHARED, 0, &h2, NULL),
                         -ETIMEDOUT);

        /* A second re-exec works too. */
        assert_int_equal(kill(daemon_.pid, SIGUSR1), 0);
        wait_generation(observer, 2, NULL);

        /* The clients release what they hold. */
        assert_int_equal(bw_lockd_release_sync(dirh), 0);
        assert_int_equal(bw_lockd_release_sync(shared2), 0);
        for (size_t i = 0; i < N_CLIENTS; i++) {
                assert_int_equal(bw_lockd_release_sync(handles[i]), 0);
                bw_lockd_client_free(clients[i]);
        }
        list_sorted(observer, &after, &n_after);
        assert_int_equal(n_after, 0);
        bw_lockd_lock_list_free(after, n_after);
        /* The prober was able to see a free file all along. */
        assert_int_equal(test_posix_probe(files[0]), 0);
        bw_lockd_client_free(observer);
}

static void test_reexec_drops_dead_clients(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "dead");
        g_auto(GStrv) files = test_make_files(dir, "f", 2);
        BwLockdClient *b = test_client_new(&daemon_, "b");
        BwLockdHandle *hb;

        pid_t pid = test_fork_lock_holder(&daemon_, "doomed", files, 2);
        uint32_t gen = ping_generation(b, NULL);
        /* The holder dies while the daemon re-executes: the new image
         * finds its connection closed and releases its locks. */
        assert_int_equal(kill(daemon_.pid, SIGUSR1), 0);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        wait_generation(b, gen + 1, NULL);
        int64_t end = test_now_usec() + 5 * 1000 * 1000;
        while (bw_lockd_acquire(b, (const char *const *) files, 2, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL) < 0)
                assert_true(test_now_usec() < end);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reexec_keeps_locks),
                cmocka_unit_test(test_reexec_drops_dead_clients),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
