/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockd tests that need root: bind mounts, other uids and groups, and
 * two "hosts" (two daemons in their own mount and network namespaces)
 * sharing one filesystem, as hosts share storage. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

static char *scratch;

static int setup_all(void **state) {
        scratch = test_scratch_new("lockd-root");
        /* Other uids must be able to reach the sockets below. */
        assert_int_equal(chmod(scratch, 0755), 0);
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_remove(scratch);
        g_free(scratch);
        return 0;
}

static void test_bind_mount_is_one_lock(void **state) {
        TestDaemon d;
        test_daemon_start(&d, scratch, "bind", NULL, NULL);
        g_autofree char *dir = g_build_filename(scratch, "bind-files", NULL);
        g_autofree char *view = g_build_filename(scratch, "bind-view", NULL);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(mkdir(view, 0700), 0);
        g_auto(GStrv) f = test_make_files(dir, "f", 2);
        /* A directory bind mount and a file bind mount over another file. */
        assert_int_equal(mount(dir, view, NULL, MS_BIND, NULL), 0);
        g_autofree char *through_dir = g_build_filename(view, "f0", NULL);
        assert_int_equal(mount(f[0], f[1], NULL, MS_BIND, NULL), 0);
        BwLockdClient *a = test_client_new(&d, "a"), *b = test_client_new(&d, "b");
        BwLockdHandle *ha, *hb;

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) &through_dir, 1, BW_LOCKD_EXCLUSIVE, 0, &hb,
                                          NULL), -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f + 1, 1, BW_LOCKD_SHARED, 0, &hb, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        const char *three[] = { f[0], f[1], through_dir };
        assert_int_equal(bw_lockd_acquire(b, three, 3, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_ping(a, &info, NULL), 0);
        assert_int_equal(info.locks, 1);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
        assert_int_equal(umount(f[1]), 0);
        assert_int_equal(umount(view), 0);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

/* Runs a client as uid/gid 65534 with the given supplementary groups;
 * returns what bw_lockd_acquire returned and its message. */
static int acquire_as_nobody(const char *socket_path, const char *path, const gid_t *groups, size_t n_groups,
                             char *message, size_t size) {
        int out[2];
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwLockdClient *c;
                BwLockdHandle *h;
                BwError err = {};
                if (setgroups(n_groups, groups) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                    setresuid(65534, 65534, 65534) < 0)
                        _exit(100);
                bw_lockd_client_new(socket_path, "nobody", &c);
                int r = bw_lockd_acquire(c, &path, 1, BW_LOCKD_EXCLUSIVE, 0, &h, &err);
                (void) !write(out[1], err.message, strlen(err.message));
                _exit(r == 0 ? 0 : -r);
        }
        close(out[1]);
        ssize_t n = read(out[0], message, size - 1);
        message[n > 0 ? n : 0] = '\0';
        close(out[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 100);
        return -WEXITSTATUS(status);
}

static void open_up(const TestDaemon *d) {
        g_autofree char *run = g_path_get_dirname(d->socket_path);
        assert_int_equal(chmod(d->dir, 0755), 0);
        assert_int_equal(chmod(run, 0755), 0);
        assert_int_equal(chmod(d->socket_path, 0666), 0);
}

static void test_unauthorized_uid(void **state) {
        TestDaemon d;
        char message[1024];
        test_daemon_start(&d, scratch, "uid", NULL, NULL);
        g_autofree char *f = test_write_file(scratch, "uid-file", "", 0);

        /* The socket's mode alone keeps others out... */
        assert_int_equal(acquire_as_nobody(d.socket_path, f, NULL, 0, message, sizeof(message)), -EACCES);
        assert_non_null(strstr(message, "cannot connect"));
        /* ...and when it does not, SO_PEERCRED does. */
        open_up(&d);
        assert_int_equal(acquire_as_nobody(d.socket_path, f, NULL, 0, message, sizeof(message)), -EACCES);
        assert_non_null(strstr(message, "uid 65534 may not use lockd: only root may"));
        /* The same through setpriv(1) and bulwarkctl, as an admin would. */
        g_autofree char *ctl = test_builddir_path("bulwarkctl");
        if (access("/usr/bin/setpriv", X_OK) == 0 && access(ctl, X_OK) == 0) {
                const char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ctl,
                                       "locks", "--socket", d.socket_path, NULL };
                g_autofree char *err = NULL;
                int status;
                assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                                         &err, &status, NULL));
                assert_false(g_spawn_check_wait_status(status, NULL));
                assert_non_null(strstr(err, "uid 65534 may not use lockd"));
        }
        assert_true(test_daemon_wait_ready(&d, 1000));
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

static void test_configured_group(void **state) {
        struct group *g = getgrnam("users");
        if (!g)
                g = getgrnam("nogroup");
        assert_non_null(g);
        gid_t gid = g->gr_gid;
        g_autofree char *name = g_strdup(g->gr_name);
        g_autofree char *conf = g_strdup_printf("group=%s\n", name);
        TestDaemon d;
        char message[1024];
        struct stat st;

        test_daemon_start(&d, scratch, "group", conf, NULL);
        g_autofree char *f = test_write_file(scratch, "group-file", "", 0);
        assert_int_equal(stat(d.socket_path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(st.st_gid, gid);
        /* The run directory is 0755 like any run directory: the socket's
         * own mode and group are the gate. */
        g_autofree char *run = g_path_get_dirname(d.socket_path);
        assert_int_equal(stat(run, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(chmod(d.dir, 0755), 0);

        /* A member (supplementary group) may lock. */
        assert_int_equal(acquire_as_nobody(d.socket_path, f, &gid, 1, message, sizeof(message)), 0);
        /* A non-member is stopped by the socket's mode... */
        assert_int_equal(acquire_as_nobody(d.socket_path, f, NULL, 0, message, sizeof(message)), -EACCES);
        /* ...and one who gets past it is refused by name. */
        assert_int_equal(chmod(d.socket_path, 0666), 0);
        assert_int_equal(acquire_as_nobody(d.socket_path, f, NULL, 0, message, sizeof(message)), -EACCES);
        g_autofree char *needle = g_strdup_printf("only root and members of group '%s' may", name);
        assert_non_null(strstr(message, needle));
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

static char *netns_of(pid_t pid) {
        g_autofree char *p = g_strdup_printf("/proc/%d/ns/net", (int) pid);
        char *target = g_file_read_link(p, NULL);
        assert_non_null(target);
        return target;
}

static void test_two_hosts_conflict(void **state) {
        const char *const wrapper[] = { "unshare", "-m", "-n", "--", NULL };
        TestDaemon h1, h2;
        test_daemon_start(&h1, scratch, "host1", NULL, wrapper);
        test_daemon_start(&h2, scratch, "host2", NULL, wrapper);
        g_autofree char *me = netns_of(getpid()), *n1 = netns_of(h1.pid), *n2 = netns_of(h2.pid);
        assert_string_not_equal(me, n1);
        assert_string_not_equal(n1, n2);

        g_autofree char *dir = g_build_filename(scratch, "shared-storage", NULL);
        assert_int_equal(mkdir(dir, 0700), 0);
        g_auto(GStrv) f = test_make_files(dir, "disk", 3);
        BwLockdClient *a = test_client_new(&h1, "on-host1"), *b = test_client_new(&h2, "on-host2");
        BwLockdHandle *ha, *hb;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 2, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f + 1, 2, BW_LOCKD_EXCLUSIVE, 0, &hb, &err),
                         -ETIMEDOUT);
        /* The other host is seen through byte 1, not through lockd. */
        assert_non_null(strstr(err.message, "locked outside lockd"));
        /* All or nothing across hosts too: disk2 was not kept. */
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f + 2, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        /* Shared on both hosts is fine; exclusive against shared is not. */
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &ha, NULL), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_SHARED, 0, &hb, NULL), 0);
        BwLockdHandle *hx;
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f + 1, 1, BW_LOCKD_EXCLUSIVE, 0, &hx, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(ha), 0);
        assert_int_equal(bw_lockd_release_sync(hx), 0);
        /* A host whose daemon dies frees its locks for the other host. */
        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 3, BW_LOCKD_EXCLUSIVE, 0, &ha, NULL), 0);
        test_daemon_kill(&h1);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 3, BW_LOCKD_EXCLUSIVE, 0, &hb, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(ha), -ECONNRESET);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
        assert_int_equal(test_daemon_stop(&h2), 0);
        test_daemon_clear(&h1);
        test_daemon_clear(&h2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bind_mount_is_one_lock),
                cmocka_unit_test(test_unauthorized_uid),
                cmocka_unit_test(test_configured_group),
                cmocka_unit_test(test_two_hosts_conflict),
        };
        test_require_root();
        if (access("/usr/bin/unshare", X_OK) != 0 && access("/bin/unshare", X_OK) != 0)
                test_skip_all("unshare(1) from util-linux is not installed");
        /* A private mount namespace for the bind mounts; the daemons this
         * test starts inherit it, and nothing leaks to the host. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                test_skip_all("cannot make a private mount namespace: %s", strerror(errno));
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
