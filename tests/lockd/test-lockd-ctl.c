/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl locks and bulwarkctl lock against a real daemon. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "protocol-writer.h"
#include "test-util.h"

static char *scratch;
static char *ctl;
static TestDaemon daemon_;

#define MANY_LOCKS 10000

static int setup_all(void **state) {
        /* The daemon keeps a descriptor per locked file and inherits our
         * limit: make room for MANY_LOCKS. */
        struct rlimit rl;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < MANY_LOCKS + 1024) {
                rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? MANY_LOCKS + 1024 : MIN(rl.rlim_max, MANY_LOCKS + 1024);
                assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        }
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

/* A lease: KIND lease, owner "guest UUID" in the table, kind and flag in
 * the JSON. */
static void test_locks_shows_leases(void **state) {
        static const char uuid[] = "3d0c5a9e-1b2f-4e6a-8c7d-5f4e3d2c1b0a";
        g_autofree char *f = test_write_file(scratch, "leased.img", "", 0);
        BwLockdClient *c = test_client_new(&daemon_, "leaser");
        assert_int_equal(bw_lockd_lease(c, uuid, (const char *const *) &f, 1, BW_LOCKD_EXCLUSIVE, 0, NULL), 0);

        const char *args[] = { "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 0);
        g_autofree char *row = g_strdup_printf("exclusive lease     guest %s", uuid);
        assert_non_null(strstr(out, row));
        assert_non_null(strstr(out, f));
        const char *args2[] = { "--json", "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *json = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &json, &err2), 0);
        g_autofree char *owner = g_strdup_printf("\"kind\":\"lease\",\"owner\":\"%s\"", uuid);
        assert_non_null(strstr(json, owner));
        assert_non_null(strstr(json, "\"lease\":true"));
        assert_int_equal(bw_lockd_release_lease(c, uuid, NULL, 0, NULL), 1);
        bw_lockd_client_free(c);
}

/* Moves set's entries named by the listing out; fails on a path it does
 * not hold (listed twice, or never locked). */
static void take_listed(GHashTable *set, const char *path) {
        if (!g_hash_table_remove(set, path))
                fail_msg("'%s' listed but not expected (or listed twice)", path);
}

static GHashTable *path_set(char **paths, size_t n) {
        GHashTable *set = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; i < n; i++)
                g_hash_table_add(set, paths[i]);
        return set;
}

/* Where the many files go: creating 10,000 files takes seconds on a
 * slow disk and a blink on tmpfs, so /dev/shm when it is there (unless
 * TMPDIR names a place), else the scratch directory.  *ret_own: the
 * caller removes it. */
static char *many_dir(bool *ret_own) {
        const char *tmp = getenv("TMPDIR");
        *ret_own = false;
        if ((!tmp || !*tmp) && access("/dev/shm", W_OK | X_OK) == 0) {
                char *dir = g_strdup("/dev/shm/bulwark-test-lockd-ctl-XXXXXX");
                if (mkdtemp(dir)) {
                        *ret_own = true;
                        return dir;
                }
                g_free(dir);
        }
        return test_make_dir(scratch, "many");
}

/* 10,000 locks of one client: bulwarkctl locks pages through all of them,
 * in the table and in JSON; the library too; an unpaged LIST (a client
 * that predates pages) still gets one reply of what fits, marked
 * truncated. */
static void test_locks_lists_every_lock(void **state) {
        int64_t start = test_now_usec();
        bool own_dir;
        g_autofree char *dir = many_dir(&own_dir);
        g_auto(GStrv) files = test_make_files(dir, "lock-", MANY_LOCKS);
        BwLockdClient *c = test_client_new(&daemon_, "many-holder");
        BwLockdHandle *handles[(MANY_LOCKS + LOCKD_PATHS_MAX - 1) / LOCKD_PATHS_MAX];
        size_t n_handles = 0;

        for (size_t i = 0; i < MANY_LOCKS; i += LOCKD_PATHS_MAX) {
                size_t n = MIN((size_t) LOCKD_PATHS_MAX, MANY_LOCKS - i);
                assert_int_equal(bw_lockd_acquire(c, (const char *const *) files + i, n, BW_LOCKD_EXCLUSIVE, 0,
                                                  &handles[n_handles++], NULL), 0);
        }
        int64_t locked = test_now_usec();

        /* The table: a header, then one row per lock, each path once. */
        const char *args[] = { "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 0);
        assert_null(strstr(err, "truncated"));
        /* Cut into lines by hand: a sanitizer's strstr() measures the
         * whole haystack on every call, which over a megabyte of output
         * makes a split by strstr() (g_strsplit() too) take seconds. */
        g_autoptr(GHashTable) set = path_set(files, MANY_LOCKS);
        size_t rows = 0;
        for (char *line = out, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                assert_non_null(nl);
                *nl = '\0';
                if (line == out) {
                        assert_non_null(strstr(line, "MODE"));
                        continue;
                }
                const char *path = strstr(line, "  /");
                assert_non_null(path);
                assert_non_null(strstr(line, "many-holder"));
                take_listed(set, path + 2);
                rows++;
        }
        assert_int_equal(rows, MANY_LOCKS);
        assert_int_equal(g_hash_table_size(set), 0);

        /* JSON: every path once, not truncated. */
        const char *args2[] = { "--json", "locks", "--socket", daemon_.socket_path, NULL };
        g_autofree char *json = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &json, &err2), 0);
        assert_true(g_str_has_prefix(json, "{\"truncated\":false,"));
        g_autoptr(GHashTable) set2 = path_set(files, MANY_LOCKS);
        rows = 0;
        for (const char *p = strchr(json, '{'); p; p = strchr(p, '{')) {
                p++;
                if (!g_str_has_prefix(p, "\"path\":\""))
                        continue;
                p += strlen("\"path\":\"");
                const char *end = strchr(p, '"');
                assert_non_null(end);
                g_autofree char *path = g_strndup(p, (size_t) (end - p));
                take_listed(set2, path);
                rows++;
        }
        assert_int_equal(rows, MANY_LOCKS);
        assert_int_equal(g_hash_table_size(set2), 0);

        /* The library: all of them, oldest first. */
        BwLockdLock *locks;
        size_t n;
        bool truncated = true;
        assert_int_equal(bw_lockd_list(c, &locks, &n, &truncated, NULL), 0);
        assert_int_equal(n, MANY_LOCKS);
        assert_false(truncated);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(locks[i].path, files[i]);
        bw_lockd_lock_list_free(locks, n);

        /* An unpaged LIST, as a client that predates pages sends it: the
         * reply it knows, what fits, marked truncated. */
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) list = test_raw_frame(LOCKD_MSG_LIST, 1, g_variant_new("()"));
        test_raw_send(fd, list->data, list->len);
        {
                LockdHeader h;
                g_auto(LockdReply) r = {};
                g_autoptr(GVariant) old_rows = NULL;
                gboolean old_truncated;
                assert_int_equal(test_raw_read_reply(fd, 10000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_LIST)));
                g_variant_get(r.body, "(b@a" LOCKD_LIST_ROW ")", &old_truncated, &old_rows);
                assert_true(old_truncated);
                assert_true(g_variant_n_children(old_rows) > 1000);
                assert_true(g_variant_n_children(old_rows) < MANY_LOCKS);
        }
        close(fd);

        for (size_t i = 0; i < n_handles; i++)
                assert_int_equal(bw_lockd_release_sync(handles[i]), 0);
        bw_lockd_client_free(c);
        if (own_dir)
                test_scratch_remove(dir);
        print_message("# %d locks taken in %.2f s, listed and checked in %.2f s\n", MANY_LOCKS,
                      (double) (locked - start) / 1e6, (double) (test_now_usec() - locked) / 1e6);
}

/* A daemon from before paged LIST: HELLO offers no LIST_PAGES, a LIST
 * with the page flag is refused as the old daemon refuses it, and an
 * unpaged LIST answers three of the locks, truncated. */
static void old_daemon_handler(const LockdHeader *h, const uint8_t *payload, GByteArray *out, void *userdata) {
        static const char *const paths[] = { "/old/a", "/old/b", "/old/c" };
        unsigned *listed = userdata;
        const uint32_t old_features = LOCKD_FEATURE_NO_REPLY_RELEASE | LOCKD_FEATURE_TEXT_PATHS |
                                      LOCKD_FEATURE_RELEASE_BY_KEY;
        if (h->flags) {
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_INVALID, EINVAL,
                                                         "header flags are not defined", NULL);
                return;
        }
        switch (h->type) {
        case LOCKD_MSG_HELLO:
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_OK, 0, "",
                                                         g_variant_new_uint32(old_features));
                break;
        case LOCKD_MSG_LIST:
                (*listed)++;
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_OK, 0, "",
                                                         g_variant_new("(b@a" LOCKD_LIST_ROW ")", TRUE,
                                                                       test_list_rows(paths, 3, "old-owner")));
                break;
        default:
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_UNKNOWN_REQUEST, EOPNOTSUPP,
                                                         "not here", NULL);
        }
}

static void test_locks_from_old_daemon(void **state) {
        g_autofree char *sock = g_build_filename(scratch, "old-lockd.sock", NULL);
        unsigned listed = 0;
        TestFakeDaemon *fake = test_fake_daemon_start(sock, old_daemon_handler, &listed);

        const char *args[] = { "locks", "--socket", sock, NULL };
        g_autofree char *out = NULL, *err = NULL;
        assert_int_equal(run_ctl(args, &out, &err), 0);
        assert_non_null(strstr(out, "/old/a"));
        assert_non_null(strstr(out, "/old/b"));
        assert_non_null(strstr(out, "/old/c"));
        assert_non_null(strstr(err, "the list is truncated"));
        assert_non_null(strstr(err, "sent only the 3 lock(s)"));

        const char *args2[] = { "--json", "locks", "--socket", sock, NULL };
        g_autofree char *json = NULL, *err2 = NULL;
        assert_int_equal(run_ctl(args2, &json, &err2), 0);
        assert_true(g_str_has_prefix(json, "{\"truncated\":true,"));
        assert_non_null(strstr(json, "\"owner\":\"old-owner\""));
        assert_non_null(strstr(err2, "the list is truncated"));
        test_fake_daemon_stop(fake);
        /* One unpaged LIST per run, never refused. */
        assert_int_equal(listed, 2);
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
                cmocka_unit_test(test_locks_shows_leases),
                cmocka_unit_test(test_locks_lists_every_lock),
                cmocka_unit_test(test_locks_from_old_daemon),
                cmocka_unit_test(test_lock_forwards_signals),
                cmocka_unit_test(test_lock_reports_lost_locks),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
