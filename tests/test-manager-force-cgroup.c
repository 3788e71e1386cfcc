/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recover --force with the cgroup-bpf plugin on real cgroups (root only),
 * under a uniquely named child of the cgroup2 root: a guest whose GUEST
 * record is damaged is undone from the definition BEGIN kept, and its
 * cgroup with its device program is gone afterwards, not orphaned. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "cgroup-bpf/cgtest.h"
#include "journal-damage.h"
#include "test-util.h"

typedef CgFixture Fixture;     /* cgroup: the manager's cgroup root */

static char *arg_cg2;

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_cg2, "mgrforce");
        return 0;
}

static int teardown(void **state) {
        cgtest_fixture_free(*state);
        return 0;
}

/* The reproduction of issue 14: start, damage the GUEST record, plain
 * recover refuses, --force leaves neither cgroup nor journal behind. */
static void test_force_lost_guest_record_removes_cgroup(void **state) {
        Fixture *f = *state;
        BwManager *m = cgtest_manager(f, "cgroup-bpf", "state", f->cgroup, NULL);
        g_autofree char *img = test_write_file(f->scratch, "hx.img", "raw image", -1);
        g_autofree char *text = g_strdup_printf("[guest]\nname=hx\nuser=0\ngroup=0\n[disk:root]\npath=%s\n", img);
        g_autofree char *cgroup = g_build_filename(f->cgroup, "bulwark", "hx", NULL);
        g_autofree char *journal = g_build_filename(f->scratch, "state", "guests", "hx.journal", NULL);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_data(text, strlen(text), "hx", &g, &err), 0);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_true(g_file_test(cgroup, G_FILE_TEST_IS_DIR));
        journal_flip_record(journal, 1); /* the GUEST record */

        assert_int_equal(bw_manager_recover(m, &err), -EBADMSG);
        assert_true(g_file_test(cgroup, G_FILE_TEST_IS_DIR));
        int r = bw_manager_recover_guest(m, "hx", BW_RECOVER_FORCE, &err);
        if (r != 1)
                fail_msg("recover --force: %d: %s", r, err.message);
        assert_false(g_file_test(cgroup, G_FILE_TEST_EXISTS));
        assert_int_equal(access(journal, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

int main(void) {
        arg_cg2 = cgtest_require();
        cgtest_require_plugin(arg_cg2);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_force_lost_guest_record_removes_cgroup, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
