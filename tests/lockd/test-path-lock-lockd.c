/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's lock step through the lockd backend (core/path-lock.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "lockd-test.h"
#include "path-lock.h"
#include "test-util.h"

static char *scratch;
static TestDaemon daemon_;

static int setup_all(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "path-lock-lockd");
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        return 0;
}

static void test_backend_locks_through_daemon(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "plan");
        g_auto(GStrv) f = test_make_files(dir, "disk", 2);
        g_autofree char *nvram = g_build_filename(dir, "nvram.fd", NULL);
        PathLocker *l1, *l2;
        PathLockHandle *h1, *h2;
        BwError err = {};

        assert_int_equal(path_locker_new_lockd(daemon_.socket_path, &l1), 0);
        assert_int_equal(path_locker_new_lockd(daemon_.socket_path, &l2), 0);
        assert_string_equal(l1->name, "lockd");
        /* A plan's paths, one of them about to be created. */
        const char *plan[] = { f[1], nvram, f[0] };
        PathLockInfo infos[3];
        struct stat st;
        assert_int_equal(path_locker_acquire(l1, plan, 3, PATH_LOCK_EXCLUSIVE, 1000, infos, &h1, &err), 0);
        /* What the daemon locked, per path in request order. */
        assert_int_equal(stat(f[1], &st), 0);
        assert_true(infos[0].existed && infos[0].dev == st.st_dev && infos[0].ino == st.st_ino);
        assert_false(infos[1].existed);
        assert_int_equal(stat(f[0], &st), 0);
        assert_true(infos[2].existed && infos[2].dev == st.st_dev && infos[2].ino == st.st_ino);
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(path_locker_acquire(l2, plan + 1, 1, PATH_LOCK_EXCLUSIVE, 100, NULL, &h2, &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, nvram));
        path_locker_release(l1, h1);
        assert_int_equal(test_posix_probe(f[0]), 0);
        assert_int_equal(path_locker_acquire(l2, plan, 3, PATH_LOCK_SHARED, 0, NULL, &h2, &err), 0);
        assert_int_equal(path_locker_acquire(l1, plan, 2, PATH_LOCK_SHARED, 0, NULL, &h1, &err), 0);
        path_locker_release(l2, h2);
        path_locker_release(l1, h1);
        /* n == 0 is a valid empty handle. */
        assert_int_equal(path_locker_acquire(l1, NULL, 0, PATH_LOCK_EXCLUSIVE, 0, NULL, &h1, &err), 0);
        path_locker_release(l1, h1);
        path_locker_free(l1);
        path_locker_free(l2);
        assert_int_equal(path_locker_new_lockd("not/absolute", &l1), -EINVAL);
}

static BwManager *lockd_manager(const char *dir, const char *socket_path, const char *extra) {
        g_autofree char *markers = g_build_filename(dir, "markers", NULL);
        g_autofree char *state = g_build_filename(dir, "state", NULL);
        g_autofree char *conf = g_strdup_printf("[bulwark]\nlock-backend=lockd\nlock-timeout=0.3\n[lockd]\nsocket=%s\n"
                                                "[plugin:fake-files]\ndir=%s\n%s",
                                                socket_path, markers, extra);
        g_autofree char *conf_path = test_write_file(dir, "bulwark.conf", conf, -1);
        g_autofree char *plugin_dir = test_builddir_path("tests/plugins/.libs");
        BwOptions o = { .config_path = conf_path, .plugin_dir = plugin_dir, .plugins = "fake-files",
                        .state_dir = state, .cgroup_root = dir };
        BwManager *m = NULL;
        BwError err = {};
        g_mkdir_with_parents(markers, 0700);
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
}

/* lockd killed in the middle of a start: the manager must not commit
 * changes made after its locks were gone; recover undoes them. */
/* The check before commit asks the daemon, which re-asserts the locks:
 * one the filesystem dropped (another host took it) fails the check. */
static void test_check_finds_lost_lock(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "check-lost");
        g_auto(GStrv) f = test_make_files(dir, "disk", 2);
        PathLocker *l;
        PathLockHandle *h;
        BwError err = {};

        assert_int_equal(path_locker_new_lockd(daemon_.socket_path, &l), 0);
        assert_int_equal(path_locker_acquire(l, (const char *const *) f, 2, PATH_LOCK_EXCLUSIVE, 0, NULL, &h, &err), 0);
        assert_int_equal(path_locker_check(l, h), 0);
        int other = test_daemon_lose_lock(&daemon_, f[1]);
        if (other < 0) {
                path_locker_release(l, h);
                path_locker_free(l);
                skip(); /* pidfd_getfd needs ptrace rights over the daemon */
        }
        assert_int_equal(path_locker_check(l, h), -ENOLCK);
        path_locker_release(l, h);
        close(other);
        path_locker_free(l);
}

static void test_start_does_not_commit_without_locks(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "lost");
        g_autofree char *markers = g_build_filename(dir, "markers", NULL);
        g_autofree char *journals = g_build_filename(dir, "state", "guests", NULL);
        GString *text = g_string_new("[guest]\nname=lost\nuser=0\ngroup=0\n");
        for (int i = 1; i <= 3; i++) {
                g_autofree char *name = g_strdup_printf("d%d.img", i);
                g_autofree char *img = test_write_file(dir, name, "raw", -1);
                g_string_append_printf(text, "[disk:d%d]\npath=%s\n", i, img);
        }
        g_autofree char *guest_path = test_write_file(dir, "lost.guest", text->str, -1);
        g_string_free(text, TRUE);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_file(guest_path, &g, &err), 0);

        TestDaemon d;
        test_daemon_start(&d, dir, "lockd", NULL, NULL);
        g_autofree char *socket_path = g_strdup(d.socket_path);
        g_autofree char *extra = g_strdup_printf("kill-at=2\nkill-pid=%d\n", (int) d.pid);
        BwManager *m = lockd_manager(dir, socket_path, extra);
        assert_int_equal(bw_manager_start(m, g, &err), -ENOLCK);
        assert_non_null(strstr(err.message, "guest 'lost': the locks on its paths were lost"));
        assert_non_null(strstr(err.message, "bulwarkctl recover"));
        assert_int_equal(test_count_entries(markers), 3);
        assert_int_equal(test_count_entries(journals), 1);
        bw_manager_free(m);
        test_daemon_kill(&d);
        test_daemon_clear(&d);

        /* A new daemon; recover undoes the uncommitted start. */
        g_autofree char *olddir = g_build_filename(dir, "lockd", NULL);
        test_scratch_remove(olddir);
        test_daemon_start(&d, dir, "lockd", NULL, NULL);
        assert_string_equal(d.socket_path, socket_path);
        m = lockd_manager(dir, socket_path, "");
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_int_equal(test_count_entries(markers), 0);
        assert_int_equal(test_count_entries(journals), 0);
        /* With the daemon alive, start and stop go through. */
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(test_count_entries(markers), 3);
        assert_int_equal(bw_manager_stop(m, "lost", &err), 0);
        assert_int_equal(test_count_entries(markers), 0);
        bw_manager_free(m);
        bw_guest_free(g);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

#define UUID_A "0f5e3c1a-8d7b-4c2e-9a61-3b2d1e0f0a01"
#define UUID_B "0f5e3c1a-8d7b-4c2e-9a61-3b2d1e0f0b02"

/* A guest with a read-write disk `img` and a read-only disk `base`. */
static BwGuest *lease_guest(const char *dir, const char *name, const char *uuid, const char *img, const char *base) {
        g_autofree char *text = g_strdup_printf("[guest]\nname=%s\nuuid=%s\nuser=0\ngroup=0\n"
                                                "[disk:root]\npath=%s\n[disk:base]\npath=%s\nreadonly=true\n",
                                                name, uuid, img, base);
        g_autofree char *file = g_strdup_printf("%s.guest", name);
        g_autofree char *path = test_write_file(dir, file, text, -1);
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_file(path, &g, &err) < 0)
                fail_msg("%s", err.message);
        return g;
}

/* The leases on path: how many, and the mode of the last. */
static size_t leases_on(const char *path, const char *uuid, bool *ret_shared) {
        BwLockdClient *c = test_client_new(&daemon_, "probe");
        BwLockdLock *locks;
        size_t n, found = 0;
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, NULL), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(locks[i].path, path) == 0 && (locks[i].flags & LOCKD_PATH_LEASE) &&
                    strcmp(locks[i].owner, uuid) == 0) {
                        found++;
                        if (ret_shared)
                                *ret_shared = locks[i].shared;
                }
        bw_lockd_lock_list_free(locks, n);
        bw_lockd_client_free(c);
        return found;
}

/* A running guest leases its images: a second guest naming the same
 * read-write disk is refused, naming it, until the first stops; attach
 * and detach lease and release a disk; a crash mid-start and recover
 * release them too. */
static void test_guest_leases(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "leases");
        g_autofree char *img = test_write_file(dir, "rw.img", "raw", -1);
        g_autofree char *base = test_write_file(dir, "base.img", "raw", -1);
        BwGuest *a = lease_guest(dir, "lease-a", UUID_A, img, base);
        BwGuest *b = lease_guest(dir, "lease-b", UUID_B, img, base);
        BwManager *m = lockd_manager(dir, daemon_.socket_path, "");
        BwError err = {};
        bool shared = false;

        assert_int_equal(bw_manager_start(m, a, &err), 0);
        assert_int_equal(leases_on(img, UUID_A, &shared), 1);
        assert_false(shared);
        assert_int_equal(leases_on(base, UUID_A, &shared), 1);
        assert_true(shared);
        /* The kernel's byte-1 lock is the lease's, as another host sees it. */
        assert_int_equal(test_posix_probe(img), -EAGAIN);
        assert_int_equal(bw_manager_start(m, b, &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, img));
        assert_non_null(strstr(err.message, UUID_A));
        assert_int_equal(leases_on(base, UUID_B, NULL), 0);
        /* Attach leases the new disk, detach releases it, and only it. */
        g_autofree char *extra = test_write_file(dir, "extra.img", "raw", -1);
        g_autofree char *res = g_strdup_printf("[disk:extra]\npath=%s\n", extra);
        if (bw_manager_attach(m, "lease-a", res, &err) < 0)
                fail_msg("attach: %s", err.message);
        assert_int_equal(leases_on(extra, UUID_A, &shared), 1);
        assert_false(shared);
        assert_int_equal(bw_manager_detach(m, "lease-a", "disk:extra", &err), 0);
        assert_int_equal(leases_on(extra, UUID_A, NULL), 0);
        assert_int_equal(leases_on(img, UUID_A, NULL), 1);
        /* Stop's own locks are granted over its leases, then released. */
        assert_int_equal(bw_manager_stop(m, "lease-a", &err), 0);
        assert_int_equal(leases_on(img, UUID_A, NULL) + leases_on(base, UUID_A, NULL), 0);
        assert_int_equal(test_posix_probe(img), 0);
        assert_int_equal(bw_manager_start(m, b, &err), 0);
        assert_int_equal(leases_on(img, UUID_B, NULL), 1);
        assert_int_equal(bw_manager_stop(m, "lease-b", &err), 0);
        bw_manager_free(m);

        /* A start killed after its first change: the leases outlive it,
         * and recover, which undoes the start, releases them. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwManager *cm = lockd_manager(dir, daemon_.socket_path, "crash-at=1\n");
                bw_manager_start(cm, a, NULL);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(leases_on(img, UUID_A, NULL), 1);
        m = lockd_manager(dir, daemon_.socket_path, "");
        assert_int_equal(bw_manager_start(m, b, &err), -ETIMEDOUT);
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_int_equal(leases_on(img, UUID_A, NULL) + leases_on(base, UUID_A, NULL), 0);
        assert_int_equal(bw_manager_start(m, b, &err), 0);
        assert_int_equal(bw_manager_stop(m, "lease-b", &err), 0);
        bw_manager_free(m);
        bw_guest_free(a);
        bw_guest_free(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backend_locks_through_daemon),
                cmocka_unit_test(test_check_finds_lost_lock),
                cmocka_unit_test(test_start_does_not_commit_without_locks),
                cmocka_unit_test(test_guest_leases),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
