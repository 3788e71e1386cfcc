/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl locks and bulwarkctl lock against a real daemon. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

static char *scratch;
static char *ctl;
static TestDaemon daemon_;

static int setup_all(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "lockd-ctl");
        ctl = test_builddir_path("bulwarkctl");
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        g_free(ctl);
        return 0;
}

/* Runs bulwarkctl with argv (NULL-terminated); returns its exit status. */
static int run_ctl(const char *const *args, char **ret_out, char **ret_err) {
        GPtrArray *argv = g_ptr_array_new();
        g_ptr_array_add(argv, ctl);
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (char *) args[i]);
        g_ptr_array_add(argv, NULL);
        int status;
        g_autoptr(GError) error = NULL;
        assert_true(g_spawn_sync(NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, ret_out, ret_err,
                                 &status, &error));
        g_ptr_array_unref(argv);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_lock_runs_command_and_returns_status(void **state) {
        g_autofree char *f = test_write_file(scratch, "disk.img", "", 0);
        g_autofree char *inner = g_strdup_printf("'%s' locks --socket '%s'; exit 7", ctl, daemon_.socket_path);
        const char *args[] = { "lock", "--socket", daemon_.socket_path, f, "--", "sh", "-c", inner, NULL };
        g_autofree char *out = NULL, *err = NULL;

        assert_int_equal(run_ctl(args, &out, &err), 7);
        /* While the command ran, the lock was held by bulwarkctl. */
        assert_non_null(strstr(out, f));
        assert_non_null(strstr(out, "exclusive"));
        assert_non_null(strstr(out, "bulwarkctl"));
        /* And released after. */
        assert_int_equal(test_posix_probe(f), 0);
        const char *args2[] = { "lock", "--socket", daemon_.socket_path, f, "--", "true", NULL };
        g_autofree char *out2 = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &out2, &err2), 0);
        const char *args3[] = { "lock", "--socket", daemon_.socket_path, f, "--", "/nonexistent/cmd", NULL };
        g_autofree char *out3 = NULL, *err3 = NULL;
        assert_int_equal(run_ctl(args3, &out3, &err3), 127);
        const char *args4[] = { "lock", "--socket", daemon_.socket_path, f, NULL };
        g_autofree char *out4 = NULL, *err4 = NULL;
        assert_int_equal(run_ctl(args4, &out4, &err4), 2);
}

static void test_lock_timeout_exits_75(void **state) {
        g_autofree char *f = test_write_file(scratch, "busy.img", "", 0);
        BwLockdClient *c = test_client_new(&daemon_, "the-holder");
        BwLockdHandle *h;
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) &f, 1, BW_LOCKD_SHARED, 0, &h, NULL), 0);

        const char *args[] = { "lock", "--timeout", "0.2", "--socket", daemon_.socket_path, f, "--", "true", NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 75);
        assert_non_null(strstr(err, "'the-holder'"));
        assert_non_null(strstr(err, f));
        /* Shared next to shared is fine. */
        const char *args2[] = { "lock", "--shared", "--timeout", "0", "--socket", daemon_.socket_path, f, "--",
                                "true", NULL };
        g_autofree char *out2 = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &out2, &err2), 0);
        assert_int_equal(bw_lockd_release(h), 0);
        bw_lockd_client_free(c);
}

static void test_locks_table_and_json(void **state) {
        g_autofree char *f = test_write_file(scratch, "listed \"quoted\".img", "", 0);
        BwLockdClient *c = test_client_new(&daemon_, "lister");
        BwLockdHandle *h;
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) &f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);

        const char *args[] = { "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 0);
        assert_non_null(strstr(out, "MODE"));
        assert_non_null(strstr(out, "lister"));
        assert_non_null(strstr(out, f));

        const char *args2[] = { "--json", "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *json = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &json, &err2), 0);
        assert_non_null(strstr(json, "\"owner\":\"lister\""));
        assert_non_null(strstr(json, "listed \\\"quoted\\\".img"));
        g_autofree char *pid = g_strdup_printf("\"pid\":%d", (int) getpid());
        assert_non_null(strstr(json, pid));
        /* A real JSON parser agrees, where python3 is around. */
        if (access("/usr/bin/python3", X_OK) == 0) {
                g_autofree char *jf = test_write_file(scratch, "locks.json", json, -1);
                g_autofree char *cmd = g_strdup_printf("/usr/bin/python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); assert d['locks'][0]['mode']=='exclusive'\" '%s'", jf);
                int status;
                assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
                assert_true(g_spawn_check_wait_status(status, NULL));
        }
        assert_int_equal(bw_lockd_release(h), 0);
        bw_lockd_client_free(c);

        /* The socket can come from the configuration file. */
        g_autofree char *conf_text = g_strdup_printf("[lockd]\nsocket=%s\n", daemon_.socket_path);
        g_autofree char *conf = test_write_file(scratch, "ctl.conf", conf_text, -1);
        const char *args3[] = { "--config", conf, "locks", NULL };
        g_autofree char *out3 = NULL, *err3 = NULL;
        assert_int_equal(run_ctl(args3, &out3, &err3), 0);
        assert_non_null(strstr(out3, "MODE"));
        /* A socket with no daemon is a clear failure. */
        const char *args4[] = { "locks", "--socket", "/nonexistent/lockd.sock", NULL };
        g_autofree char *out4 = NULL, *err4 = NULL;
        assert_int_equal(run_ctl(args4, &out4, &err4), 1);
        assert_non_null(strstr(err4, "/nonexistent/lockd.sock"));
}

static void test_lock_forwards_signals(void **state) {
        g_autofree char *f = test_write_file(scratch, "signal.img", "", 0);
        g_autofree char *ready = g_build_filename(scratch, "signal.ready", NULL);
        g_autofree char *script = g_strdup_printf("touch '%s'; exec sleep 30", ready);
        const char *argv[] = { ctl, "lock", "--socket", daemon_.socket_path, f, "--", "sh", "-c", script, NULL };
        GPid pid;
        assert_true(g_spawn_async(NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL));
        /* The command runs: bulwarkctl holds the lock and forwards signals. */
        int64_t end = test_now_usec() + 10 * 1000 * 1000;
        while (access(ready, F_OK) < 0) {
                assert_true(test_now_usec() < end);
                usleep(1000);
        }
        assert_int_equal(test_posix_probe(f), -EAGAIN);
        kill(pid, SIGTERM);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* The command died of the forwarded SIGTERM; bulwarkctl reports it. */
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
        assert_int_equal(test_posix_probe(f), 0);
}

static void test_lock_reports_lost_locks(void **state) {
        TestDaemon d;
        test_daemon_start(&d, scratch, "doomed", NULL, NULL);
        g_autofree char *f = test_write_file(scratch, "lost.img", "", 0);
        g_autofree char *kill_cmd = g_strdup_printf("kill -9 %d; sleep 0.2", (int) d.pid);
        const char *args[] = { "lock", "--socket", d.socket_path, f, "--", "sh", "-c", kill_cmd, NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 1);
        assert_non_null(strstr(err, "lockd went away"));
        waitpid(d.pid, NULL, 0);
        d.pid = 0;
        test_daemon_clear(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lock_runs_command_and_returns_status),
                cmocka_unit_test(test_lock_timeout_exits_75),
                cmocka_unit_test(test_locks_table_and_json),
                cmocka_unit_test(test_lock_forwards_signals),
                cmocka_unit_test(test_lock_reports_lost_locks),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
