/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark-lockd end to end: a real daemon, real sockets, real files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

#if defined(__SANITIZE_ADDRESS__)
#define LOCKD_TEST_SANITIZED 1
#else
#define LOCKD_TEST_SANITIZED 0
#endif

static char *scratch;
static TestDaemon daemon_;

static int setup_all(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "lockd-daemon");
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        return 0;
}

static size_t count_locks(void) {
        BwLockdClient *c = test_client_new(&daemon_, "counter");
        BwLockdLock *locks;
        size_t n;
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, NULL), 0);
        bw_lockd_lock_list_free(locks, n);
        bw_lockd_client_free(c);
        return n;
}

static void test_acquire_exclusive_between_clients(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "excl");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *a = test_client_new(&daemon_, "client-a"), *b = test_client_new(&daemon_, "client-b");
        BwLockdHandle *ha, *hb;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, &err),
                         -ETIMEDOUT);
        /* The message names the path and the holder. */
        assert_non_null(strstr(err.message, f[0]));
        assert_non_null(strstr(err.message, "'client-a'"));
        g_autofree char *pid = g_strdup_printf("pid %d", (int) getpid());
        assert_non_null(strstr(err.message, pid));
        /* A shared request conflicts with an exclusive hold too. */
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &hb, NULL),
                         -ETIMEDOUT);
        /* The kernel lock is there for everyone else. */
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_int_equal(test_posix_probe(f[0]), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
}

static void test_acquire_between_processes(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "procs");
        g_auto(GStrv) f = test_make_files(dir, "f", 3);
        int ready[2], go[2];
        char byte;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwLockdClient *c;
                BwLockdHandle *h;
                if (bw_lockd_client_new(daemon_.socket_path, "child", &c) < 0 ||
                    bw_lockd_acquire(c, (const char *const *) f, 3, BW_LOCKD_EXCLUSIVE, 0, &h, NULL) < 0)
                        _exit(1);
                (void) !write(ready[1], "r", 1);
                (void) !read(go[0], &byte, 1);
                _exit(bw_lockd_release_sync(h) == 0 ? 0 : 2);
        }
        assert_int_equal(read(ready[0], &byte, 1), 1);
        BwLockdClient *c = test_client_new(&daemon_, "parent");
        BwLockdHandle *h;
        BwError err = {};
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f + 1, 1, BW_LOCKD_EXCLUSIVE, 0, &h, &err),
                         -ETIMEDOUT);
        g_autofree char *who = g_strdup_printf("'child' (pid %d)", (int) pid);
        assert_non_null(strstr(err.message, who));
        assert_int_equal(write(go[1], "g", 1), 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 3, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        bw_lockd_client_free(c);
        close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static void test_shared_vs_exclusive(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "shared");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *a = test_client_new(&daemon_, "a"), *b = test_client_new(&daemon_, "b"),
                      *c = test_client_new(&daemon_, "c");
        BwLockdHandle *ha, *hb, *hc;

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hc, NULL),
                         -ETIMEDOUT);
        /* A shared hold is a kernel read lock: writers elsewhere wait. */
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hc, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hc, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hc), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
        bw_lockd_client_free(c);
}

static void test_all_or_nothing(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "aon");
        g_auto(GStrv) f = test_make_files(dir, "f", 5);
        BwLockdClient *a = test_client_new(&daemon_, "a"), *b = test_client_new(&daemon_, "b");
        BwLockdHandle *ha, *hb;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f + 2, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 5, BW_LOCKD_EXCLUSIVE, 0, &hb, &err),
                         -ETIMEDOUT);
        assert_non_null(strstr(err.message, f[2]));
        /* Nothing of the failed request is held, in the table or the kernel. */
        assert_int_equal(count_locks(), 1);
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(test_posix_probe(f[i]), i == 2 ? -EAGAIN : 0);
        /* A kernel conflict late in the sorted order rolls back the
         * earlier kernel locks of the same request. */
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        int fd = open(f[4], O_RDWR | O_CLOEXEC);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 5, BW_LOCKD_EXCLUSIVE, 0, &hb, &err),
                         -ETIMEDOUT);
        assert_int_equal(count_locks(), 0);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(test_posix_probe(f[i]), 0);
        close(fd);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 5, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(count_locks(), 5);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
}

static void test_two_paths_one_file(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "alias");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        g_autofree char *hard = g_build_filename(dir, "hardlink", NULL);
        g_autofree char *sym = g_build_filename(dir, "symlink", NULL);
        assert_int_equal(link(f[0], hard), 0);
        assert_int_equal(symlink(f[0], sym), 0);
        BwLockdClient *a = test_client_new(&daemon_, "a"), *b = test_client_new(&daemon_, "b");
        BwLockdHandle *ha, *hb;

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) &hard, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) &sym, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        /* One request naming the file three ways takes one lock. */
        const char *three[] = { sym, f[0], hard };
        assert_int_equal(bw_lockd_acquire(a, three, 3, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(count_locks(), 1);
        const BwLockdPathInfo *i0 = bw_lockd_handle_path_info(ha, 0), *i2 = bw_lockd_handle_path_info(ha, 2);
        assert_true(i0->dev == i2->dev && i0->ino == i2->ino);
        /* The first of the three in (dev, ino, request) order is the lock;
         * the others are marked as duplicates. */
        unsigned dups = 0;
        for (size_t i = 0; i < 3; i++)
                dups += !!(bw_lockd_handle_path_info(ha, i)->flags & LOCKD_PATH_DUPLICATE);
        assert_int_equal(dups, 2);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_int_equal(count_locks(), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
}

static void test_foreign_posix_lock(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "foreign");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        int ready[2], go[2];
        char byte;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(f[0], O_RDWR | O_CLOEXEC);
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
                if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                (void) !write(ready[1], "r", 1);
                (void) !read(go[0], &byte, 1);
                _exit(0);
        }
        assert_int_equal(read(ready[0], &byte, 1), 1);
        BwLockdClient *c = test_client_new(&daemon_, "c");
        BwLockdHandle *h;
        BwError err = {};
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, &err),
                         -ETIMEDOUT);
        /* The kernel names a POSIX lock's holder. */
        g_autofree char *who = g_strdup_printf("process %d", (int) pid);
        assert_non_null(strstr(err.message, who));
        assert_int_equal(write(go[1], "g", 1), 1);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        /* And lockd's lock makes that process's F_SETLK fail. */
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        bw_lockd_client_free(c);
        close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static int compare_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return x < y ? -1 : x > y;
}

/* One SIGKILLed holder of 100 locks; returns µs from kill() until another
 * client holds all 100. */
static int64_t crash_release_once(char **f) {
        pid_t pid = test_fork_lock_holder(&daemon_, "victim", f, 100);
        BwLockdClient *c = test_client_new(&daemon_, "taker");
        BwLockdHandle *h;
        /* Connected before the kill, so the clock measures the release. */
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 100, BW_LOCKD_EXCLUSIVE, 0, &h, NULL),
                         -ETIMEDOUT);
        int64_t t0 = test_now_usec();
        kill(pid, SIGKILL);
        while (bw_lockd_acquire(c, (const char *const *) f, 100, BW_LOCKD_EXCLUSIVE, 0, &h, NULL) == -ETIMEDOUT)
                assert_true(test_now_usec() - t0 < 5 * 1000 * 1000);
        int64_t dt = test_now_usec() - t0;
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        bw_lockd_client_free(c);
        return dt;
}

static void test_crash_release(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "crash");
        g_auto(GStrv) f = test_make_files(dir, "f", 100);
        int64_t t[7];

        for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
                t[i] = crash_release_once(f);
        qsort(t, G_N_ELEMENTS(t), sizeof(t[0]), compare_i64);
        printf("# crash release of 100 locks: median %.2f ms, max %.2f ms (%zu runs)\n", t[3] / 1000.0,
               t[6] / 1000.0, G_N_ELEMENTS(t));
        /* The figure, 10 ms, is checked by bench-lockd ("crash
         * release 100": 0.33 ms median there).  Measured medians here are
         * 2-6 ms with the rest of the suite running beside.  The bound is
         * looser than the figure so a loaded CI machine cannot turn a
         * scheduling hiccup into a red build; it still fails any release
         * that is polled or delayed.
         * A sanitizer build is several times slower at everything, and a
         * single run on a loaded 2-core VM may be descheduled: those only
         * have to show the release is event-driven, not polled or delayed
         * (virtlockd's kill-the-owner path takes up to 3 s). */
        assert_true(t[3] <= (LOCKD_TEST_SANITIZED ? 60 : 25) * 1000);
        assert_true(t[6] <= (LOCKD_TEST_SANITIZED ? 600 : 250) * 1000);
}

/* The row for path; fails the test when there is none. */
static BwLockdLock *find_row(BwLockdLock *locks, size_t n, const char *path) {
        static BwLockdLock none;
        for (size_t i = 0; i < n; i++)
                if (strcmp(locks[i].path, path) == 0)
                        return &locks[i];
        fail_msg("no LIST row for '%s'", path);
        return &none;
}

static void test_list_and_kinds(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "list");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        g_autofree char *sub = test_make_dir(dir, "sub");
        g_autofree char *missing = g_build_filename(dir, "not-yet", NULL);
        BwLockdClient *a = test_client_new(&daemon_, "lister"), *b = test_client_new(&daemon_, "other");
        BwLockdHandle *h, *hb;
        BwLockdLock *locks, *row;
        struct stat st;
        size_t n;
        bool truncated;

        const char *paths[] = { f[0], sub, "/dev/null", missing };
        assert_int_equal(bw_lockd_acquire(a, paths, 3, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_acquire(a, paths + 3, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), -ENOENT);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        assert_int_equal(bw_lockd_acquire(a, paths, 4, BW_LOCKD_EXCLUSIVE | BW_LOCKD_ALLOW_MISSING, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_handle_path_info(h, 0)->flags, 0);
        assert_int_equal(bw_lockd_handle_path_info(h, 1)->flags, LOCKD_PATH_TABLE_ONLY);
        assert_int_equal(bw_lockd_handle_path_info(h, 2)->flags, LOCKD_PATH_TABLE_ONLY);
        assert_int_equal(bw_lockd_handle_path_info(h, 3)->flags, LOCKD_PATH_MISSING);

        /* Directories and devices conflict in the table. */
        assert_int_equal(bw_lockd_acquire(b, paths + 1, 1, BW_LOCKD_SHARED, 0, &hb, NULL), -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire(b, paths + 2, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), -ETIMEDOUT);
        /* The name lock covers the file once it is created. */
        assert_int_equal(bw_lockd_acquire(b, paths + 3, 1, BW_LOCKD_ALLOW_MISSING, 0, &hb, NULL), -ETIMEDOUT);
        g_free(test_write_file(dir, "not-yet", "x", 1));
        assert_int_equal(bw_lockd_acquire(b, paths + 3, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), -ETIMEDOUT);

        assert_int_equal(bw_lockd_list(a, &locks, &n, &truncated, NULL), 0);
        assert_int_equal(n, 4);
        assert_false(truncated);
        row = find_row(locks, n, f[0]);
        assert_int_equal(stat(f[0], &st), 0);
        assert_true(row->dev == (uint64_t) st.st_dev && row->ino == (uint64_t) st.st_ino);
        assert_false(row->shared);
        assert_string_equal(row->owner, "lister");
        assert_int_equal(row->pid, getpid());
        assert_int_equal(row->uid, getuid());
        assert_true(row->since > 0 && row->held_for < 60ull * 1000 * 1000);
        row = find_row(locks, n, "/dev/null");
        assert_int_equal(row->flags, LOCKD_PATH_TABLE_ONLY);
        row = find_row(locks, n, missing);
        assert_int_equal(row->flags, LOCKD_PATH_MISSING);
        bw_lockd_lock_list_free(locks, n);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        assert_int_equal(count_locks(), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
}

static void test_locks_not_reentrant(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "reentrant");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *a = test_client_new(&daemon_, "a");
        BwLockdHandle *h1, *h2, *h3;

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h1, NULL), 0);
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h2, NULL),
                         -ETIMEDOUT);
        /* Releases that do not wait: the same connection's next request
         * is read after them, so it finds the lock free or shared. */
        assert_int_equal(bw_lockd_release(h1), 0);
        /* Shared holds of one connection count. */
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &h1, NULL), 0);
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &h2, NULL), 0);
        assert_int_equal(bw_lockd_release(h1), 0);
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h3, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(h2), 0);
        assert_int_equal(count_locks(), 0);
        bw_lockd_client_free(a);
}

static void test_handle_outlives_client(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "outlive");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *a = test_client_new(&daemon_, "a"), *b = test_client_new(&daemon_, "b");
        BwLockdHandle *ha, *hb;

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        bw_lockd_client_free(a);
        /* The handle's duplicate keeps the connection, so the lock, alive. */
        assert_int_equal(bw_lockd_handle_check(ha), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(b);
}

static bool lock_listed_lost(BwLockdClient *c, const char *path) {
        BwLockdLock *locks;
        size_t n;
        bool lost = false;
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, NULL), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(locks[i].path, path) == 0 && (locks[i].flags & LOCKD_PATH_LOST))
                        lost = true;
        bw_lockd_lock_list_free(locks, n);
        return lost;
}

/* A lock the filesystem drops under the daemon, as a shared filesystem
 * does for a partitioned host: done here by unlocking byte 1 through a
 * duplicate of the daemon's own open file description and taking it from
 * another one (another host).  The daemon's re-assertion finds it: LOST
 * in LIST, logged, CHECK names it, a new request is refused. */
static void test_lost_lock_found(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "lost");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        TestDaemon d;
        test_daemon_start(&d, scratch, "lost-daemon", "reassert-interval-ms=50\n", NULL);
        BwLockdClient *a = test_client_new(&d, "a"), *b = test_client_new(&d, "b");
        BwLockdHandle *ha, *hb;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        int other = test_daemon_lose_lock(&d, f[0]);
        if (other < 0) {
                bw_lockd_release_sync(ha);
                bw_lockd_client_free(a);
                bw_lockd_client_free(b);
                assert_int_equal(test_daemon_stop(&d), 0);
                test_daemon_clear(&d);
                skip(); /* pidfd_getfd needs ptrace rights over the daemon */
        }

        for (int i = 0; i < 200 && !lock_listed_lost(b, f[0]); i++)
                g_usleep(10000);
        assert_true(lock_listed_lost(b, f[0]));
        assert_int_equal(bw_lockd_handle_verify(ha, &err), -ENOLCK);
        g_autofree char *want = g_strdup_printf("path '%s': the lock was lost", f[0]);
        assert_non_null(strstr(err.message, want));
        assert_int_equal(bw_lockd_handle_check(ha), -ENOLCK);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &hb, &err),
                         -ETIMEDOUT);
        assert_non_null(strstr(err.message, "was lost"));
        g_autofree char *log = NULL;
        assert_true(g_file_get_contents(d.log, &log, NULL, NULL));
        assert_non_null(strstr(log, "lock on byte 1 lost: Resource temporarily unavailable"));

        /* Released, it is gone; the file is the other holder's alone. */
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_false(lock_listed_lost(b, f[0]));
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, &err),
                         -ETIMEDOUT);
        close(other);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

static void test_socket_and_pidfile(void **state) {
        struct stat st;
        g_autofree char *run = g_path_get_dirname(daemon_.socket_path);
        g_autofree char *pid = NULL;

        assert_int_equal(stat(daemon_.socket_path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(run, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_true(g_file_get_contents(daemon_.pidfile, &pid, NULL, NULL));
        assert_int_equal(atoi(pid), daemon_.pid);

        /* A second instance with the same pid file refuses to start. */
        g_autofree char *binary = test_builddir_path("bulwark-lockd");
        g_autofree char *other = g_build_filename(scratch, "second.sock", NULL);
        g_autofree char *cmd = g_strdup_printf("'%s' --foreground --config '%s' --socket '%s' --state-dir '%s' --pidfile '%s'",
                                               binary, daemon_.config, other, daemon_.state_dir, daemon_.pidfile);
        g_autofree char *out = NULL;
        int status;
        assert_true(g_spawn_command_line_sync(cmd, NULL, &out, &status, NULL));
        assert_false(g_spawn_check_wait_status(status, NULL));
        assert_non_null(strstr(out, "locked by another bulwark-lockd"));
        g_autofree char *pidtext = g_strdup_printf("pid %d", daemon_.pid);
        assert_non_null(strstr(out, pidtext));
        /* So does one with another pid file on a socket in use. */
        g_autofree char *pidfile2 = g_build_filename(scratch, "second.pid", NULL);
        g_autofree char *cmd2 = g_strdup_printf("'%s' --foreground --config '%s' --socket '%s' --state-dir '%s' --pidfile '%s'",
                                                binary, daemon_.config, daemon_.socket_path, daemon_.state_dir,
                                                pidfile2);
        g_autofree char *out2 = NULL;
        assert_true(g_spawn_command_line_sync(cmd2, NULL, &out2, &status, NULL));
        assert_false(g_spawn_check_wait_status(status, NULL));
        assert_non_null(strstr(out2, "another daemon is listening"));
        /* The daemon still serves. */
        assert_true(test_daemon_wait_ready(&daemon_, 1000));
}

static mode_t dir_mode(const char *path) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        return st.st_mode & 07777;
}

/* Runs bulwark-lockd in the foreground with these paths, expects it to
 * refuse to start and returns what it said. */
static char *lockd_refuses(const char *socket_path, const char *pidfile, const char *state_dir) {
        g_autofree char *binary = test_builddir_path("bulwark-lockd");
        const char *argv[] = { binary, "--foreground", "--config", "/dev/null", "--socket", socket_path,
                               "--pidfile", pidfile, "--state-dir", state_dir, NULL };
        char *err = NULL;
        int status;
        assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                                 &status, NULL));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
        return err;
}

static void expect_refusal(const char *socket_path, const char *pidfile, const char *state_dir,
                           const char *what, const char *culprit) {
        g_autofree char *err = lockd_refuses(socket_path, pidfile, state_dir);
        g_autofree char *needle = g_strdup_printf("'%s' exists but is not a directory", culprit);
        if (!strstr(err, what) || !strstr(err, needle))
                fail_msg("expected \"%s\" and \"%s\", got: %s", what, needle, err);
}

/* The socket's and the pid file's directories are created with every
 * missing parent, 0755 whatever the umask (like systemd's
 * RuntimeDirectory=), the state directory 0700 under 0755 parents; what
 * exists is used as it is; a component that is not a directory stops the
 * daemon with its name. */
static void test_run_directory_created(void **state) {
        g_autofree char *top = test_make_dir(scratch, "rundir");
        g_autofree char *a = g_build_filename(top, "a", NULL);
        g_autofree char *b = g_build_filename(a, "b", NULL);
        g_autofree char *c = g_build_filename(b, "c", NULL);
        g_autofree char *p = g_build_filename(b, "p", NULL);
        g_autofree char *sock = g_build_filename(c, "lockd.sock", NULL);
        g_autofree char *pidfile = g_build_filename(p, "lockd.pid", NULL);
        g_autofree char *state_parent = g_build_filename(a, "state", NULL);
        g_autofree char *state_dir = g_build_filename(state_parent, "lockd", NULL);
        BwLockdDaemonInfo info;
        TestDaemon d;
        struct stat st;

        assert_int_equal(access(a, F_OK), -1);
        mode_t old = umask(0077);
        test_daemon_start_at(&d, top, "first", sock, pidfile, state_dir, NULL, NULL);
        umask(old);
        BwLockdClient *client = test_client_new(&d, "rundir");
        assert_int_equal(bw_lockd_ping(client, &info, NULL), 0);
        assert_int_equal(info.pid, d.pid);
        bw_lockd_client_free(client);
        const char *made[] = { a, b, c, p, state_parent };
        for (size_t i = 0; i < G_N_ELEMENTS(made); i++)
                if (dir_mode(made[i]) != 0755)
                        fail_msg("'%s' has mode %04o, expected 0755", made[i], dir_mode(made[i]));
        assert_int_equal(dir_mode(state_dir), 0700);
        assert_int_equal(stat(sock, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(access(pidfile, F_OK), 0);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);

        /* Directories that exist keep their modes. */
        assert_int_equal(chmod(a, 0711), 0);
        assert_int_equal(chmod(c, 0700), 0);
        assert_int_equal(chmod(state_dir, 0750), 0);
        test_daemon_start_at(&d, top, "second", sock, pidfile, state_dir, NULL, NULL);
        assert_int_equal(dir_mode(a), 0711);
        assert_int_equal(dir_mode(c), 0700);
        assert_int_equal(dir_mode(state_dir), 0750);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);

        /* A file, or a dangling symlink, where a directory must be. */
        g_autofree char *file = test_write_file(top, "file", "", 0);
        g_autofree char *dangling = g_build_filename(top, "dangling", NULL);
        assert_int_equal(symlink("nowhere", dangling), 0);
        g_autofree char *ok_sock = g_build_filename(top, "ok", "lockd.sock", NULL);
        g_autofree char *ok_pid = g_build_filename(top, "ok", "lockd.pid", NULL);
        g_autofree char *ok_state = g_build_filename(top, "ok", "state", NULL);
        g_autofree char *under_file = g_build_filename(file, "x", "y", "lockd.sock", NULL);
        g_autofree char *file_itself = g_build_filename(file, "lockd.pid", NULL);
        g_autofree char *under_dangling = g_build_filename(dangling, "lockd.sock", NULL);
        g_autofree char *state_file = g_build_filename(file, "state", NULL);
        expect_refusal(under_file, ok_pid, ok_state, "socket", file);
        expect_refusal(ok_sock, file_itself, ok_state, "pid file", file);
        expect_refusal(under_dangling, ok_pid, ok_state, "socket", dangling);
        expect_refusal(ok_sock, ok_pid, state_file, "state directory", file);
        expect_refusal(ok_sock, ok_pid, file, "state directory", file);
        /* Nothing was created under the file or through the symlink. */
        assert_int_equal(lstat(under_dangling, &st), -1);
        assert_int_equal(access(ok_sock, F_OK), -1);
}

static void test_sigterm_releases_everything(void **state) {
        TestDaemon d;
        g_autofree char *dir = test_make_dir(scratch, "sigterm");
        g_auto(GStrv) f = test_make_files(dir, "f", 3);
        test_daemon_start(&d, scratch, "sigterm-daemon", NULL, NULL);
        BwLockdClient *c = test_client_new(&d, "c");
        BwLockdHandle *h;

        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 3, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(test_posix_probe(f[1]), -EAGAIN);
        assert_int_equal(test_daemon_stop(&d), 0);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(test_posix_probe(f[i]), 0);
        assert_int_equal(access(d.socket_path, F_OK), -1);
        assert_int_equal(access(d.pidfile, F_OK), -1);
        /* The client learns its locks are gone. */
        assert_int_equal(bw_lockd_handle_check(h), -ECONNRESET);
        assert_int_equal(bw_lockd_release_sync(h), -ECONNRESET);
        bw_lockd_client_free(c);
        test_daemon_clear(&d);
}

static bool pid_alive(pid_t pid) {
        g_autofree char *stat = NULL, *path = g_strdup_printf("/proc/%d/stat", (int) pid);
        /* A zombie waiting for init to reap it counts as gone. */
        if (!g_file_get_contents(path, &stat, NULL, NULL))
                return false;
        const char *close_paren = strrchr(stat, ')');
        return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

static void test_detached_daemon(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "detached");
        g_autofree char *conf = test_write_file(dir, "bulwark.conf", "[lockd]\n", -1);
        g_autofree char *sock = g_build_filename(dir, "run", "lockd.sock", NULL);
        g_autofree char *pidfile = g_build_filename(dir, "run", "lockd.pid", NULL);
        g_autofree char *binary = test_builddir_path("bulwark-lockd");
        const char *argv[] = { binary, "--config", conf, "--socket", sock, "--state-dir", dir, "--pidfile",
                               pidfile, NULL };
        g_autofree char *pidtext = NULL;
        int status;

        /* The starting process returns once the daemon listens. */
        assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                                 &status, NULL));
        assert_true(g_spawn_check_wait_status(status, NULL));
        assert_true(g_file_get_contents(pidfile, &pidtext, NULL, NULL));
        pid_t pid = atoi(pidtext);
        assert_true(pid > 0 && pid != getpid());
        assert_true(pid_alive(pid));
        BwLockdClient *c;
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_client_new(sock, "detached", &c), 0);
        assert_int_equal(bw_lockd_ping(c, &info, NULL), 0);
        assert_int_equal(info.pid, pid);
        /* Signals reach the detached daemon: SIGUSR1 re-executes it... */
        assert_int_equal(kill(pid, SIGUSR1), 0);
        int64_t end = test_now_usec() + 10 * 1000 * 1000;
        while (bw_lockd_ping(c, &info, NULL) < 0 || info.generation != 1) {
                if (test_now_usec() > end) {
                        kill(pid, SIGKILL);
                        fail_msg("the detached daemon did not re-execute on SIGUSR1");
                }
                usleep(1000);
        }
        /* ...and SIGTERM stops it, removing its socket and pid file. */
        assert_int_equal(kill(pid, SIGTERM), 0);
        while (pid_alive(pid)) {
                if (test_now_usec() > end) {
                        kill(pid, SIGKILL);
                        fail_msg("the detached daemon did not stop on SIGTERM");
                }
                usleep(1000);
        }
        assert_int_equal(access(sock, F_OK), -1);
        assert_int_equal(access(pidfile, F_OK), -1);
        bw_lockd_client_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_acquire_exclusive_between_clients),
                cmocka_unit_test(test_acquire_between_processes),
                cmocka_unit_test(test_shared_vs_exclusive),
                cmocka_unit_test(test_all_or_nothing),
                cmocka_unit_test(test_two_paths_one_file),
                cmocka_unit_test(test_foreign_posix_lock),
                cmocka_unit_test(test_crash_release),
                cmocka_unit_test(test_list_and_kinds),
                cmocka_unit_test(test_locks_not_reentrant),
                cmocka_unit_test(test_handle_outlives_client),
                cmocka_unit_test(test_lost_lock_found),
                cmocka_unit_test(test_socket_and_pidfile),
                cmocka_unit_test(test_run_directory_created),
                cmocka_unit_test(test_sigterm_releases_everything),
                cmocka_unit_test(test_detached_daemon),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
