/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Transactions with the fake-files plugin, whose changes are real files:
 * a failure at every step N undoes everything applied; a SIGKILL at every
 * step N leaves a journal that recover rolls back; stop undoes a start. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "test-util.h"

#define N_RESOURCES 5

typedef struct Fixture {
        char *dir;
        char *markers;
        char *state;
        char *guest_path;
        char *plugin_dir;
        pid_t reader;              /* a lock-holding child, killed by teardown */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->dir = test_scratch_new("txn");
        f->markers = g_build_filename(f->dir, "markers", NULL);
        f->state = g_build_filename(f->dir, "state", NULL);
        f->plugin_dir = test_builddir_path("tests/plugins/.libs");
        mkdir(f->markers, 0700);

        GString *guest = g_string_new("[guest]\nname=txn\nuser=0\ngroup=0\n");
        for (int i = 1; i <= N_RESOURCES; i++) {
                g_autofree char *name = g_strdup_printf("d%d.img", i);
                g_autofree char *img = test_write_file(f->dir, name, "raw image", -1);
                g_string_append_printf(guest, "[disk:d%d]\npath=%s\n", i, img);
        }
        f->guest_path = test_write_file(f->dir, "txn.guest", guest->str, -1);
        g_string_free(guest, TRUE);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        if (f->reader > 0) {
                kill(f->reader, SIGKILL);
                waitpid(f->reader, NULL, 0);
        }
        test_scratch_remove(f->dir);
        g_free(f->markers);
        g_free(f->state);
        free(f->guest_path);
        free(f->plugin_dir);
        free(f->dir);
        free(f);
        return 0;
}

/* A manager whose fake-files plugin has the given extra settings. */
static BwManager *fixture_manager(Fixture *f, const char *extra) {
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\n%s", f->markers, extra);
        g_autofree char *conf_path = test_write_file(f->dir, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "fake-files",
                        .state_dir = f->state, .cgroup_root = f->dir };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
}

static BwGuest *fixture_guest(Fixture *f) {
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_file(f->guest_path, &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        return g;
}

static int journal_files(Fixture *f) {
        g_autofree char *dir = g_build_filename(f->state, "guests", NULL);
        return test_count_entries(dir);
}

static void test_start_stop_undoes_everything(void **state) {
        Fixture *f = *state;
        BwManager *m = fixture_manager(f, "");
        BwGuest *g = fixture_guest(f);
        BwError err = {};

        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(test_count_entries(f->markers), N_RESOURCES);
        assert_int_equal(journal_files(f), 1);

        assert_int_equal(bw_manager_start(m, g, &err), -EEXIST);
        assert_non_null(strstr(err.message, "guest 'txn': already started"));
        assert_int_equal(test_count_entries(f->markers), N_RESOURCES);

        assert_int_equal(bw_manager_stop(m, "txn", &err), 0);
        assert_int_equal(test_count_entries(f->markers), 0);
        assert_int_equal(journal_files(f), 0);

        assert_int_equal(bw_manager_stop(m, "txn", &err), -ENOENT);
        assert_non_null(strstr(err.message, "guest 'txn': not started"));
        bw_guest_free(g);
        bw_manager_free(m);
}

static void test_start_fails_at_every_step(void **state) {
        Fixture *f = *state;
        for (int n = 1; n <= N_RESOURCES; n++) {
                g_autofree char *extra = g_strdup_printf("fail-at=%d\n", n);
                BwManager *m = fixture_manager(f, extra);
                BwGuest *g = fixture_guest(f);
                BwError err = {};

                assert_int_equal(bw_manager_start(m, g, &err), -EIO);
                assert_non_null(strstr(err.message, "plugin 'fake-files': touch"));
                assert_non_null(strstr(err.message, "injected failure"));
                if (test_count_entries(f->markers) != 0 || journal_files(f) != 0)
                        fail_msg("failure at step %d left %d marker(s) and %d journal(s)", n,
                                 test_count_entries(f->markers), journal_files(f));
                bw_guest_free(g);
                bw_manager_free(m);
        }
}

/* Starts the guest in a child that the plugin kills at step n. */
static void crash_child_with(Fixture *f, int n, const char *settings) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                g_autofree char *extra = g_strdup_printf("crash-at=%d\n%s", n, settings);
                BwManager *m = fixture_manager(f, extra);
                BwGuest *g = fixture_guest(f);
                BwError err = {};
                bw_manager_start(m, g, &err);
                _exit(3); /* not reached: the plugin kills us */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void crash_child_at(Fixture *f, int n) {
        crash_child_with(f, n, "");
}

static void test_recover_after_sigkill_at_every_step(void **state) {
        Fixture *f = *state;
        for (int n = 1; n <= N_RESOURCES; n++) {
                crash_child_at(f, n);
                assert_int_equal(test_count_entries(f->markers), n);
                assert_int_equal(journal_files(f), 1);

                BwManager *m = fixture_manager(f, "");
                BwError err = {};
                int r = bw_manager_recover(m, &err);
                if (r != 1)
                        fail_msg("recover after a crash at step %d: %d %s", n, r, err.message);
                assert_int_equal(test_count_entries(f->markers), 0);
                assert_int_equal(journal_files(f), 0);
                /* Nothing left to recover. */
                assert_int_equal(bw_manager_recover(m, &err), 0);
                bw_manager_free(m);
        }
}

/* Killed after the batch's INTENTs were made durable and before the
 * first apply: recover undoes all five changes that were never made, and
 * the host is as before the start. */
static void test_recover_after_sigkill_before_first_apply(void **state) {
        Fixture *f = *state;
        g_autofree char *log = g_build_filename(f->dir, "ctx.log", NULL);
        g_autofree char *extra = g_strdup_printf("crash-before=1\nctx-log=%s\n", log);
        g_autofree char *journal = g_build_filename(f->state, "guests", "txn.journal", NULL);
        struct stat st;

        crash_child_with(f, 0, extra);
        assert_int_equal(test_count_entries(f->markers), 0);
        assert_int_equal(stat(journal, &st), 0);
        assert_true(st.st_size > 0);
        assert_false(g_file_test(log, G_FILE_TEST_EXISTS)); /* no apply began */

        BwManager *m = fixture_manager(f, extra);
        BwError err = {};
        int r = bw_manager_recover(m, &err);
        if (r != 1)
                fail_msg("recover after a crash before the first apply: %d %s", r, err.message);
        g_autofree char *undos = NULL;
        assert_true(g_file_get_contents(log, &undos, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(g_strstrip(undos), "\n", -1);
        assert_int_equal(g_strv_length(lines), N_RESOURCES);
        for (guint i = 0; lines[i]; i++)
                assert_true(g_str_has_prefix(lines[i], "undo "));
        assert_int_equal(test_count_entries(f->markers), 0);
        assert_int_equal(journal_files(f), 0);
        assert_int_equal(bw_manager_recover(m, &err), 0);
        bw_manager_free(m);
}

/* A crash that tears the journal's last record still recovers. */
static void test_recover_with_torn_tail(void **state) {
        Fixture *f = *state;
        crash_child_at(f, 3);
        g_autofree char *path = g_build_filename(f->state, "guests", "txn.journal", NULL);
        FILE *j = fopen(path, "ae");
        assert_non_null(j);
        /* A header promising more payload than follows. */
        const unsigned char torn[] = { 0x42, 0x57, 0x4a, 0x31, 2, 0, 0, 0, 0xff, 0, 0, 0, 1, 2, 3, 4, 9 };
        fwrite(torn, 1, sizeof(torn), j);
        fclose(j);

        BwManager *m = fixture_manager(f, "");
        BwError err = {};
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_int_equal(test_count_entries(f->markers), 0);
        assert_int_equal(journal_files(f), 0);
        bw_manager_free(m);
}

/* An undo that fails during rollback keeps the journal, so recover can
 * finish the job once the cause is gone. */
static void test_failed_rollback_is_recovered_later(void **state) {
        Fixture *f = *state;
        BwManager *m = fixture_manager(f, "fail-at=4\nfail-undo=d2\n");
        BwGuest *g = fixture_guest(f);
        BwError err = {};
        assert_int_equal(bw_manager_start(m, g, &err), -EIO);
        assert_int_equal(test_count_entries(f->markers), 1); /* d2's marker could not be removed */
        assert_int_equal(journal_files(f), 1);
        bw_manager_free(m);

        m = fixture_manager(f, "");
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_int_equal(test_count_entries(f->markers), 0);
        assert_int_equal(journal_files(f), 0);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A started guest survives recover untouched. */
static void test_recover_leaves_running_guests(void **state) {
        Fixture *f = *state;
        BwManager *m = fixture_manager(f, "");
        BwGuest *g = fixture_guest(f);
        BwError err = {};
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(bw_manager_recover(m, &err), 0);
        assert_int_equal(test_count_entries(f->markers), N_RESOURCES);
        assert_int_equal(bw_manager_stop(m, "txn", &err), 0);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A corrupt journal is reported, never silently dropped. */
static void test_recover_reports_corrupt_journal(void **state) {
        Fixture *f = *state;
        g_autofree char *dir = g_build_filename(f->state, "guests", NULL);
        g_mkdir_with_parents(dir, 0700);
        g_autofree char *path = test_write_file(dir, "broken.journal", "this is not a journal record", -1);
        BwManager *m = fixture_manager(f, "");
        BwError err = {};
        assert_int_equal(bw_manager_recover(m, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "broken.journal': corrupt record at offset 0"));
        assert_int_equal(access(path, F_OK), 0);
        unlink(path);
        bw_manager_free(m);
}

/* ---- ABI 2: what apply and undo are told -------------------------------- */

/* The lines of the fake-files plugin's ctx-log for `op`, with the inode
 * they say was locked; fails unless every one names `st` and `holder`. */
static int ctx_lines(const char *log, const char *op, const struct stat *st, const char *holder) {
        g_autofree char *text = NULL;
        int n = 0;
        if (!g_file_get_contents(log, &text, NULL, NULL))
                return 0;
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autofree char *want = g_strdup_printf("locked=1 existed=1 dev=%" PRIu64 " ino=%" PRIu64 " holder=%s",
                                                (uint64_t) st->st_dev, (uint64_t) st->st_ino, holder);
        for (char **l = lines; *l; l++) {
                if (!g_str_has_prefix(*l, op) || (*l)[strlen(op)] != ' ')
                        continue;
                if (!strstr(*l, want))
                        fail_msg("'%s' does not say '%s'", *l, want);
                n++;
        }
        return n;
}

/* apply gets the inode the lock step locked and the guest's uuid; after a
 * crash, recover's undo gets what its own fresh locks found. */
static void test_apply_context_names_locked_inode(void **state) {
        Fixture *f = *state;
        g_autofree char *lock = test_write_file(f->dir, "label-target", "x", -1);
        g_autofree char *log = g_build_filename(f->dir, "ctx.log", NULL);
        g_autofree char *extra = g_strdup_printf("lock=%s\nctx-log=%s\n", lock, log);
        BwGuest *g = fixture_guest(f);
        const char *uuid = bw_guest_info(g)->uuid;
        struct stat before, after;
        assert_int_equal(stat(lock, &before), 0);

        crash_child_with(f, 3, extra);
        assert_int_equal(ctx_lines(log, "apply", &before, uuid), 3);

        /* The path now names another inode: recover must lock and report it. */
        g_autofree char *moved = g_strdup_printf("%s.old", lock);
        assert_int_equal(rename(lock, moved), 0);
        g_free(test_write_file(f->dir, "label-target", "y", -1));
        assert_int_equal(stat(lock, &after), 0);
        assert_true(after.st_ino != before.st_ino);
        BwManager *m = fixture_manager(f, extra);
        BwError err = {};
        assert_int_equal(bw_manager_recover(m, &err), 1);
        /* All 5 INTENTs were one durable batch: the 2 never applied are
         * undone too, harmlessly. */
        assert_int_equal(ctx_lines(log, "undo", &after, uuid), 5);
        assert_int_equal(test_count_entries(f->markers), 0);
        bw_manager_free(m);
        bw_guest_free(g);
}

/* Changes that only read their lock path ask for a shared lock, which a
 * reader elsewhere does not block; an exclusive one waits and times out. */
static void test_shared_lock_flag(void **state) {
        Fixture *f = *state;
        g_autofree char *lock = test_write_file(f->dir, "read-only-input", "x", -1);
        g_autofree char *shared = g_strdup_printf("lock=%s\nlock-shared=true\n[bulwark]\nlock-timeout=0.2\n", lock);
        g_autofree char *exclusive = g_strdup_printf("lock=%s\n[bulwark]\nlock-timeout=0.2\n", lock);
        BwGuest *g = fixture_guest(f);
        BwError err = {};
        f->reader = test_hold_byte1_lock(lock, F_RDLCK);

        BwManager *m = fixture_manager(f, exclusive);
        assert_int_equal(bw_manager_start(m, g, &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, lock));
        bw_manager_free(m);

        m = fixture_manager(f, shared);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(test_count_entries(f->markers), N_RESOURCES);
        assert_int_equal(bw_manager_stop(m, "txn", &err), 0);
        bw_manager_free(m);
        bw_guest_free(g);
}

/* A plugin's record_max sizes the undo buffer and the journaled record. */
static void test_records_larger_than_default(void **state) {
        Fixture *f = *state;
        BwManager *m = fixture_manager(f, "big-undo=true\n");
        BwGuest *g = fixture_guest(f);
        BwError err = {};
        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        bw_manager_free(m);
        /* A new manager undoes from the journaled records (checked by size). */
        m = fixture_manager(f, "big-undo=true\n");
        if (bw_manager_stop(m, "txn", &err) < 0)
                fail_msg("stop: %s", err.message);
        assert_int_equal(test_count_entries(f->markers), 0);
        bw_manager_free(m);
        bw_guest_free(g);
}

/* A plugin left out by allow-unsupported=true is never called: not to
 * plan, apply, undo nor release. */
static void test_unusable_plugin_never_called(void **state) {
        Fixture *f = *state;
        g_autofree char *log = g_build_filename(f->dir, "probe-fails.calls", NULL);
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\n[plugin:probe-fails]\nallow-unsupported=true\n",
                                                f->markers);
        g_autofree char *conf_path = test_write_file(f->dir, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "probe-fails, fake-files",
                        .state_dir = f->state, .cgroup_root = f->dir };
        BwManager *m = NULL;
        BwGuest *g = fixture_guest(f);
        BwError err = {};
        g_setenv("BW_PROBE_FAILS_LOG", log, TRUE);
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(bw_manager_stop(m, "txn", &err), 0);
        bw_manager_free(m);
        g_unsetenv("BW_PROBE_FAILS_LOG");
        g_autofree char *calls = NULL;
        if (g_file_get_contents(log, &calls, NULL, NULL))
                fail_msg("the unusable plugin was called: %s", calls);
        bw_guest_free(g);
}

/* A typo in a plugin's group is an error when the manager is created. */
static void test_plugin_key_typo_refused(void **state) {
        Fixture *f = *state;
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\nfail_at=2\n", f->markers);
        g_autofree char *conf_path = test_write_file(f->dir, "typo.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "fake-files",
                        .state_dir = f->state, .cgroup_root = f->dir };
        BwManager *m = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_new(&o, &m, &err), -EINVAL);
        g_autofree char *expected = g_strdup_printf("configuration '%s': [plugin:fake-files] unknown key 'fail_at'",
                                                    conf_path);
        if (!strstr(err.message, expected))
                fail_msg("'%s' does not contain '%s'", err.message, expected);
        assert_null(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_stop_undoes_everything, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_fails_at_every_step, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_after_sigkill_at_every_step, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_after_sigkill_before_first_apply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_with_torn_tail, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_rollback_is_recovered_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_leaves_running_guests, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_reports_corrupt_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_apply_context_names_locked_inode, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_lock_flag, setup, teardown),
                cmocka_unit_test_setup_teardown(test_records_larger_than_default, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unusable_plugin_never_called, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_key_typo_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
