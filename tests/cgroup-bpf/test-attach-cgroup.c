/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and detach with the cgroup-bpf plugin on the real kernel (root
 * only; skips otherwise), in a uniquely named child cgroup of the cgroup2
 * root given to the guest: attaching [device:kmsg] (c 1:11, denied by the
 * default rules) lets a process in the guest's cgroup open /dev/kmsg,
 * detaching it refuses it again, an attach that fails after cgroup-bpf's
 * change leaves it refused, and stop removes the device program. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "cgtest.h"
#include "test-util.h"

#define KMSG "/dev/kmsg"

static char *arg_root;

typedef struct Fixture {
        CgFixture *cg;
        BwManager *m;
} Fixture;

/* fake-files' markers go to <scratch>/markers. */
static BwManager *manager_with(CgFixture *cg, const char *plugins, const char *extra) {
        g_autofree char *markers = g_build_filename(cg->scratch, "markers", NULL);
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\n%s", markers, extra ? extra : "");
        (void) g_mkdir_with_parents(markers, 0700);
        return cgtest_manager(cg, plugins, "state", arg_root, conf);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->cg = cgtest_fixture_new(arg_root, "attach");
        f->m = manager_with(f->cg, "cgroup-bpf", NULL);
        g_autofree char *text = g_strdup_printf("[guest]\nname=cgattach\nuser=0\ngroup=0\ncgroup=%s\n", f->cg->cgroup);
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_data(text, strlen(text), "cgattach", &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        if (bw_manager_start(f->m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        bw_guest_free(g);
        *state = f;
        return 0;
}

/* Stops the guest if a case left it running, then removes the cgroup and
 * the scratch directory (also when the case failed). */
static int teardown(void **state) {
        Fixture *f = *state;
        BwError err = {};
        (void) bw_manager_stop_with_flags(f->m, "cgattach", BW_STOP_KILL, &err);
        bw_manager_free(f->m);
        cgtest_fixture_free(f->cg);
        free(f);
        return 0;
}

static int try_kmsg(Fixture *f) {
        return cgtest_open(f->cg->cgroup, KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static void test_attach_grants_detach_refuses(void **state) {
        Fixture *f = *state;
        BwError err = {};

        assert_int_equal(try_kmsg(f), EPERM);
        if (bw_manager_attach(f->m, "cgattach", "[device:kmsg]\npath=" KMSG "\naccess=r\n", &err) < 0)
                fail_msg("attach: %s", err.message);
        assert_int_equal(try_kmsg(f), 0);
        if (bw_manager_detach(f->m, "cgattach", "device:kmsg", &err) < 0)
                fail_msg("detach: %s", err.message);
        assert_int_equal(try_kmsg(f), EPERM);
        /* Attached again, then stopped: the program goes with the guest. */
        assert_int_equal(bw_manager_attach(f->m, "cgattach", "[device:kmsg]\npath=" KMSG "\naccess=r\n", &err), 0);
        assert_int_equal(try_kmsg(f), 0);
        assert_int_equal(bw_manager_stop(f->m, "cgattach", &err), 0);
        assert_int_equal(cgtest_prog_count(f->cg->cgroup), 0);
}

/* fake-files fails after cgroup-bpf allowed the node: rolled back, the
 * node is refused again. */
static void test_failed_attach_leaves_node_refused(void **state) {
        Fixture *f = *state;
        BwError err = {};

        bw_manager_free(f->m);
        f->m = manager_with(f->cg, "cgroup-bpf,fake-files", "fail-at=1\n");
        assert_int_equal(bw_manager_attach(f->m, "cgattach", "[device:kmsg]\npath=" KMSG "\naccess=r\n", &err), -EIO);
        assert_non_null(strstr(err.message, "guest 'cgattach': attach [device:kmsg]: "));
        assert_int_equal(try_kmsg(f), EPERM);
        /* fake-files' second apply succeeds: the same resource attaches. */
        assert_int_equal(bw_manager_attach(f->m, "cgattach", "[device:kmsg]\npath=" KMSG "\naccess=r\n", &err), 0);
        assert_int_equal(try_kmsg(f), 0);
}

/* A detach that fails after cgroup-bpf took the node back (cgroup-bpf
 * runs after fake-files there: reverse order) leaves it allowed. */
static void test_failed_detach_leaves_node_allowed(void **state) {
        Fixture *f = *state;
        BwError err = {};

        bw_manager_free(f->m);
        /* fake-files' applies: 1 the attach's, 2 the detach's (fails) */
        f->m = manager_with(f->cg, "fake-files,cgroup-bpf", "fail-at=2\n");
        assert_int_equal(bw_manager_attach(f->m, "cgattach", "[device:kmsg]\npath=" KMSG "\naccess=r\n", &err), 0);
        assert_int_equal(try_kmsg(f), 0);
        /* detach order: cgroup-bpf (takes the node back), then fake-files (fails) */
        assert_int_equal(bw_manager_detach(f->m, "cgattach", "device:kmsg", &err), -EIO);
        assert_int_equal(try_kmsg(f), 0);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_attach_grants_detach_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_attach_leaves_node_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_detach_leaves_node_allowed, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
