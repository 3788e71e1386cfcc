/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_adopt_all() after a simulated daemon restart (a new BwManager
 * on the same state directory), without root: nop, fake-files (markers
 * for each resource) and adopt-check (whose adopt() looks for those
 * markers).  Every running guest is adopted from its journal's record; an
 * interrupted transaction is rolled back first; a guest whose host state
 * is gone is reported lost with the plugin's message and keeps its
 * journal byte for byte; a guest whose lock another process holds is
 * reported busy; a corrupt journal is reported and kept. */
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

#include <glib.h>

#include <bulwark/bulwark.h>

#include "journal-damage.h"
#include "manager-fixture.h"
#include "test-util.h"

#define PLUGINS "nop,fake-files,adopt-check"

typedef struct Fixture {
        ManagerFixture *mf;
        char *log;                 /* adopt-check's record of its adopt() calls */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->mf = manager_fixture_new("adopt");
        f->log = g_build_filename(f->mf->dir, "adopt.log", NULL);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        manager_fixture_free(f->mf);
        g_free(f->log);
        free(f);
        return 0;
}

/* A manager ("a daemon") on the fixture's state directory; `extra` is
 * appended to [plugin:fake-files], `check` to [plugin:adopt-check]. */
static BwManager *daemon_with(Fixture *f, const char *extra, const char *check) {
        g_autofree char *conf = g_strdup_printf("%s[plugin:adopt-check]\ndir=%s\nlog=%s\n%s", extra ? extra : "",
                                                f->mf->markers, f->log, check ? check : "");
        return manager_fixture_manager(f->mf, PLUGINS, conf);
}

static void start_guest(Fixture *f, BwManager *m, const char *name, int n) {
        BwGuest *g = manager_fixture_guest(f->mf, name, n, NULL);
        BwError err = {};
        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start '%s': %s", name, err.message);
        bw_guest_free(g);
}

/* The daemon before its restart: starts each guest, then goes away. */
static void first_daemon_starts(Fixture *f, const char *const *names, int disks) {
        BwManager *m = daemon_with(f, NULL, NULL);
        for (size_t i = 0; names[i]; i++)
                start_guest(f, m, names[i], disks);
        bw_manager_free(m);
}

static bool marker_exists(Fixture *f, const char *name, int i) {
        g_autofree char *m = g_strdup_printf("%s/%s-d%d", f->mf->markers, name, i);
        return access(m, F_OK) == 0;
}

static char *file_text(const char *path) {
        char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return g_strdup("");
        return text;
}

/* The report's entry for a guest, by name; fails the test when absent. */
static size_t report_find(const BwAdoptReport *report, const char *name, BwAdoptGuest *ret) {
        for (size_t i = 0; i < bw_adopt_report_count(report); i++) {
                assert_int_equal(bw_adopt_report_guest(report, i, ret), 0);
                if (strcmp(ret->name, name) == 0)
                        return i;
        }
        fail_msg("the adopt report has no guest '%s'", name);
        return 0;
}

static void assert_outcome(const BwAdoptReport *report, const char *name, BwAdoptOutcome want) {
        BwAdoptGuest g;
        report_find(report, name, &g);
        if (g.outcome != want)
                fail_msg("guest '%s': adopt outcome %s, want %s (%s)", name, bw_adopt_outcome_to_string(g.outcome),
                         bw_adopt_outcome_to_string(want), g.message);
}

static void test_adopt_all_after_restart(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-a", "vm-b", "vm-c", NULL };
        first_daemon_starts(f, names, 2);

        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 3);
        assert_int_equal(bw_adopt_report_count(report), 3);
        assert_int_equal(bw_adopt_report_recovered(report), 0);
        for (size_t i = 0; i < 3; i++) {
                BwAdoptGuest g;
                assert_int_equal(bw_adopt_report_guest(report, i, &g), 0);
                assert_string_equal(g.name, names[i]); /* sorted by name */
                assert_int_equal(g.outcome, BW_ADOPT_ADOPTED);
                assert_false(g.recovered);
                assert_string_equal(g.message, "");
                assert_int_equal(g.n_plugins, 3);
                const char *order[] = { "nop", "fake-files", "adopt-check" };
                for (size_t k = 0; k < 3; k++) {
                        BwAdoptPlugin p;
                        assert_int_equal(bw_adopt_report_plugin(report, i, k, &p), 0);
                        assert_string_equal(p.plugin, order[k]);
                        assert_int_equal(p.result, 0);
                }
        }
        BwAdoptGuest g;
        BwAdoptPlugin p;
        assert_int_equal(bw_adopt_report_guest(report, 3, &g), -ERANGE);
        assert_int_equal(bw_adopt_report_plugin(report, 0, 3, &p), -ERANGE);

        /* Each plugin was told the guest as it started: the record's cgroup
         * and resources. */
        g_autofree char *log = file_text(f->log);
        for (size_t i = 0; names[i]; i++) {
                g_autofree char *line = g_strdup_printf(" %s/bulwark/%s 2\n", f->mf->cgroot, names[i]);
                g_autofree char *head = g_strdup_printf("adopt %s ", names[i]);
                const char *at = strstr(log, head);
                assert_non_null(at);
                assert_non_null(strstr(at, line));
        }
        /* Adopting changes nothing: every guest still runs and stops. */
        for (size_t i = 0; names[i]; i++) {
                assert_true(marker_exists(f, names[i], 1) && marker_exists(f, names[i], 2));
                assert_int_equal(bw_manager_stop(m, names[i], &err), 0);
        }
        assert_int_equal(test_count_entries(f->mf->markers), 0);
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

/* Starts `name` in a child that fake-files kills (kill-at, kill-pid = the
 * child itself) right after its change number n: a daemon crash. */
static void start_killed_at(Fixture *f, const char *name, int disks, int n) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                g_autofree char *extra = g_strdup_printf("kill-at=%d\nkill-pid=%d\n", n, (int) getpid());
                BwManager *m = daemon_with(f, extra, NULL);
                BwGuest *g = manager_fixture_guest(f->mf, name, disks, NULL);
                BwError err = {};
                bw_manager_start(m, g, &err);
                _exit(3); /* not reached */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_adopt_recovers_first(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-ok", NULL };
        first_daemon_starts(f, names, 1);
        start_killed_at(f, "vm-cut", 3, 2);
        assert_true(marker_exists(f, "vm-cut", 1) && marker_exists(f, "vm-cut", 2));
        g_autofree char *cut = manager_fixture_journal(f->mf, "vm-cut");
        assert_int_equal(access(cut, F_OK), 0);

        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 1);
        assert_int_equal(bw_adopt_report_recovered(report), 1);
        assert_outcome(report, "vm-ok", BW_ADOPT_ADOPTED);
        assert_outcome(report, "vm-cut", BW_ADOPT_ROLLED_BACK);
        BwAdoptGuest g;
        report_find(report, "vm-cut", &g);
        assert_true(g.recovered);
        assert_int_equal(g.n_plugins, 0);
        /* Rolled back in full before any adopt: no marker, no journal, and
         * no plugin was asked to adopt it. */
        assert_false(marker_exists(f, "vm-cut", 1) || marker_exists(f, "vm-cut", 2));
        assert_int_equal(access(cut, F_OK), -1);
        g_autofree char *log = file_text(f->log);
        assert_null(strstr(log, "adopt vm-cut "));
        assert_non_null(strstr(log, "adopt vm-ok "));
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

static void test_adopt_lost_is_reported_and_kept(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-here", "vm-lost", NULL };
        first_daemon_starts(f, names, 2);
        g_autofree char *marker = g_strdup_printf("%s/vm-lost-d2", f->mf->markers);
        assert_int_equal(unlink(marker), 0); /* host state removed behind bulwark's back */
        g_autofree char *journal = manager_fixture_journal(f->mf, "vm-lost");
        g_autofree char *before = file_text(journal);

        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 1);
        assert_outcome(report, "vm-here", BW_ADOPT_ADOPTED);
        assert_outcome(report, "vm-lost", BW_ADOPT_LOST);
        BwAdoptGuest g;
        size_t i = report_find(report, "vm-lost", &g);
        assert_non_null(strstr(g.message, "marker '"));
        assert_non_null(strstr(g.message, "vm-lost-d2' is gone"));
        assert_non_null(strstr(g.message, "guest stop vm-lost"));
        BwAdoptPlugin p;
        assert_int_equal(bw_adopt_report_plugin(report, i, 2, &p), 0);
        assert_string_equal(p.plugin, "adopt-check");
        assert_int_equal(p.result, -ENOENT);
        assert_non_null(strstr(p.message, "plugin 'adopt-check'"));
        assert_int_equal(bw_adopt_report_plugin(report, i, 0, &p), 0);
        assert_int_equal(p.result, 0);
        assert_string_equal(p.message, "");

        /* Nothing undone: the other marker and the journal stay as they were. */
        assert_true(marker_exists(f, "vm-lost", 1));
        g_autofree char *after = file_text(journal);
        assert_string_equal(before, after);
        BwGuestState *gs = NULL;
        assert_int_equal(bw_manager_get_guest(m, "vm-lost", &gs, &err), 0);
        assert_int_equal(bw_guest_state_status(gs), BW_GUEST_RUNNING);
        bw_guest_state_free(gs);
        /* What the report tells a person to do works. */
        assert_int_equal(bw_manager_stop(m, "vm-lost", &err), 0);
        assert_false(marker_exists(f, "vm-lost", 1));
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

static void test_adopt_failure_is_not_lost(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-x", NULL };
        first_daemon_starts(f, names, 1);

        BwManager *m = daemon_with(f, NULL, "fail-guest=vm-x\n");
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 0);
        assert_outcome(report, "vm-x", BW_ADOPT_FAILED);
        BwAdoptPlugin p;
        assert_int_equal(bw_adopt_report_plugin(report, 0, 2, &p), 0);
        assert_int_equal(p.result, -EIO);
        assert_non_null(strstr(p.message, "injected adopt failure"));
        assert_true(marker_exists(f, "vm-x", 1));
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

/* A child holding the guest's lock (another process's transaction). */
static pid_t hold_guest_lock(Fixture *f, const char *name) {
        g_autofree char *file = g_strdup_printf(".%s.lock", name);
        g_autofree char *path = g_build_filename(f->mf->state, "guests", file, NULL);
        return test_hold_flock(path);
}

static void test_adopt_busy_is_skipped(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-busy", "vm-free", NULL };
        first_daemon_starts(f, names, 1);
        pid_t holder = hold_guest_lock(f, "vm-busy");

        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        int r = bw_manager_adopt_all(m, &report, &err);
        kill(holder, SIGKILL);
        waitpid(holder, NULL, 0);
        assert_int_equal(r, 1);
        assert_outcome(report, "vm-free", BW_ADOPT_ADOPTED);
        assert_outcome(report, "vm-busy", BW_ADOPT_BUSY);
        BwAdoptGuest g;
        report_find(report, "vm-busy", &g);
        assert_non_null(strstr(g.message, "vm-busy"));
        assert_int_equal(g.n_plugins, 0);
        g_autofree char *log = file_text(f->log);
        assert_null(strstr(log, "adopt vm-busy "));
        bw_adopt_report_free(report);

        /* Once the other transaction is over, it is adopted. */
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 2);
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

static void test_adopt_corrupt_is_reported(void **state) {
        Fixture *f = *state;
        const char *const names[] = { "vm-bad", NULL };
        first_daemon_starts(f, names, 2);
        g_autofree char *journal = manager_fixture_journal(f->mf, "vm-bad");
        journal_flip_record(journal, 1); /* the GUEST record: more records follow it */
        g_autofree char *before = file_text(journal);

        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 0);
        assert_outcome(report, "vm-bad", BW_ADOPT_CORRUPT);
        BwAdoptGuest g;
        report_find(report, "vm-bad", &g);
        assert_non_null(strstr(g.message, "recover --force vm-bad"));
        g_autofree char *after = file_text(journal);
        assert_string_equal(before, after);
        assert_true(marker_exists(f, "vm-bad", 1) && marker_exists(f, "vm-bad", 2));
        bw_adopt_report_free(report);
        bw_manager_free(m);
}

static void test_adopt_empty_state(void **state) {
        Fixture *f = *state;
        BwManager *m = daemon_with(f, NULL, NULL);
        BwAdoptReport *report = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 0);
        assert_int_equal(bw_adopt_report_count(report), 0);
        bw_adopt_report_free(report);
        assert_int_equal(bw_manager_adopt_all(m, NULL, &err), -EINVAL);
        bw_adopt_report_free(NULL);
        bw_manager_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_adopt_all_after_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_recovers_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_lost_is_reported_and_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_failure_is_not_lost, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_busy_is_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_corrupt_is_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(test_adopt_empty_state, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
