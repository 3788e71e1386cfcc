/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_adopt_all() with the cgroup-bpf plugin on real cgroups (root
 * only; skips with the reason elsewhere), under a uniquely named child of
 * the cgroup2 root that is removed even when a case fails:
 *  - a guest started by one manager is adopted by a new one (a daemon
 *    restart): the plugin finds its bw_devices program on the cgroup;
 *  - once the cgroup is removed behind bulwark's back the guest is
 *    reported lost, with the plugin's -ENOENT, and its journal is kept. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "cgtest.h"
#include "test-util.h"

static char *arg_cg2;

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_cg2, "adopt");
        return 0;
}

static int teardown(void **state) {
        cgtest_fixture_free(*state);
        return 0;
}

/* A manager ("a daemon") whose state is <scratch>/state and whose cgroup
 * root is our child of the cgroup2 root. */
static BwManager *daemon_new(CgFixture *f) {
        return cgtest_manager(f, "cgroup-bpf", "state", f->cgroup, NULL);
}

static void start_guest(BwManager *m, const char *name) {
        g_autofree char *text = g_strdup_printf("[guest]\nname=%s\nuser=0\ngroup=0\n", name);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_data(text, strlen(text), name, &g, &err), 0);
        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        bw_guest_free(g);
}

static BwAdoptOutcome outcome_of(const BwAdoptReport *report, const char *name, BwAdoptGuest *ret) {
        for (size_t i = 0; i < bw_adopt_report_count(report); i++) {
                assert_int_equal(bw_adopt_report_guest(report, i, ret), 0);
                if (strcmp(ret->name, name) == 0)
                        return ret->outcome;
        }
        fail_msg("no guest '%s' in the report", name);
        return 0;
}

static void test_adopt_finds_program_then_lost(void **state) {
        CgFixture *f = *state;
        BwManager *m = daemon_new(f);
        BwAdoptReport *report = NULL;
        BwAdoptGuest g;
        BwAdoptPlugin p;
        BwError err = {};
        g_autofree char *cgroup = g_build_filename(f->cgroup, "bulwark", "cg-vm", NULL);

        start_guest(m, "cg-vm");
        assert_true(cgtest_is_cgroup2(cgroup));
        bw_manager_free(m);

        m = daemon_new(f); /* the daemon restarts */
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 1);
        if (outcome_of(report, "cg-vm", &g) != BW_ADOPT_ADOPTED)
                fail_msg("not adopted: %s", g.message);
        assert_int_equal(bw_adopt_report_plugin(report, 0, 0, &p), 0);
        assert_string_equal(p.plugin, "cgroup-bpf");
        assert_int_equal(p.result, 0);
        bw_adopt_report_free(report);

        /* Removed behind bulwark's back (the program goes with it). */
        assert_int_equal(rmdir(cgroup), 0);
        g_autofree char *journal = g_build_filename(f->scratch, "state", "guests", "cg-vm.journal", NULL);
        g_autofree char *before = NULL, *after = NULL;
        assert_true(g_file_get_contents(journal, &before, NULL, NULL));
        bw_manager_free(m);
        m = daemon_new(f);
        assert_int_equal(bw_manager_adopt_all(m, &report, &err), 0);
        if (outcome_of(report, "cg-vm", &g) != BW_ADOPT_LOST)
                fail_msg("not reported lost: %s %s", bw_adopt_outcome_to_string(g.outcome), g.message);
        assert_int_equal(bw_adopt_report_plugin(report, 0, 0, &p), 0);
        assert_int_equal(p.result, -ENOENT);
        assert_non_null(strstr(g.message, "guest stop cg-vm"));
        assert_true(g_file_get_contents(journal, &after, NULL, NULL));
        assert_string_equal(before, after);
        bw_adopt_report_free(report);
        /* What the report tells a person to do works on what is left. */
        if (bw_manager_stop(m, "cg-vm", &err) < 0)
                fail_msg("stop of a lost guest: %s", err.message);
        assert_int_equal(access(journal, F_OK), -1);
        bw_manager_free(m);
}

int main(void) {
        arg_cg2 = cgtest_require();
        cgtest_require_plugin(arg_cg2);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_adopt_finds_program_then_lost, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_cg2);
        return r;
}
