/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_exec_new_from_attrs() and the accessors bulwarkd's ExecAttributes
 * reads a BwExec with: what goes in comes out (the client's BwExec is the
 * daemon's), and a bad attribute is refused naming the guest. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include <bulwark/bulwark.h>

/* A Landlock ruleset handling file writes (ABI 1), or -1 without Landlock. */
static int landlock_ruleset(void) {
        struct { uint64_t handled_access_fs; } attr = { .handled_access_fs = 1ull << 1 };
        return (int) syscall(444 /* landlock_create_ruleset */, &attr, sizeof(attr), 0);
}

static void test_exec_new_from_attrs_round_trip(void **state) {
        (void) state;
        const gid_t groups[] = { 10, 20 };
        const BwExecLabelAttr labels[] = { { "selinux", "system_u:system_r:svirt_t:s0:c1,c2" } };
        int ruleset = landlock_ruleset();
        BwExecAttrs a = {
                .guest = "demo", .uid = 107, .gid = 108, .n_groups = 2, .groups = groups,
                .n_labels = 1, .labels = labels, .landlock_fd = ruleset,
        };
        BwExec *e = NULL;
        BwError err = {};

        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), 0);
        uid_t uid;
        gid_t gid;
        size_t n;
        const gid_t *g;
        bw_exec_identity(e, &uid, &gid, &n, &g);
        assert_int_equal(uid, 107);
        assert_int_equal(gid, 108);
        assert_int_equal(n, 2);
        assert_int_equal(g[1], 20);
        assert_string_equal(bw_exec_guest(e), "demo");
        assert_null(bw_exec_cgroup(e));
        assert_int_equal(bw_exec_label_count(e), 1);
        BwExecLabelAttr l;
        assert_int_equal(bw_exec_label(e, 0, &l), 0);
        assert_string_equal(l.lsm, "selinux");
        assert_string_equal(l.label, labels[0].label);
        assert_int_equal(bw_exec_label(e, 1, &l), -ENOENT);
        if (ruleset >= 0) {
                /* Its own descriptor, close-on-exec. */
                assert_true(bw_exec_landlock_fd(e) >= 0);
                assert_int_not_equal(bw_exec_landlock_fd(e), ruleset);
                assert_true(fcntl(bw_exec_landlock_fd(e), F_GETFD) & FD_CLOEXEC);
                close(ruleset);
        } else
                assert_int_equal(bw_exec_landlock_fd(e), -1);
        bw_exec_free(e);
}

static void test_exec_new_from_attrs_refuses(void **state) {
        (void) state;
        const BwExecLabelAttr bad_lsm[] = { { "SELinux!", "x" } };
        const BwExecLabelAttr twice[] = { { "apparmor", "a" }, { "apparmor", "b" } };
        BwExec *e = NULL;
        BwError err = {};

        BwExecAttrs a = { .guest = "demo", .cgroup = "relative/cg", .landlock_fd = -1 };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -EINVAL);
        assert_non_null(strstr(err.message, "guest 'demo': exec attributes: cgroup 'relative/cg'"));

        a = (BwExecAttrs) { .guest = "demo", .cgroup = "/proc", .landlock_fd = -1 };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -ENOTDIR);
        assert_non_null(strstr(err.message, "'/proc'"));

        a = (BwExecAttrs) { .guest = "demo", .n_labels = 1, .labels = bad_lsm, .landlock_fd = -1 };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -EINVAL);
        assert_non_null(strstr(err.message, "LSM 'SELinux!'"));

        a = (BwExecAttrs) { .guest = "demo", .n_labels = 2, .labels = twice, .landlock_fd = -1 };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -EINVAL);
        assert_non_null(strstr(err.message, "two labels for LSM 'apparmor'"));

        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        a = (BwExecAttrs) { .guest = "demo", .landlock_fd = fd };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -EBADF);
        assert_non_null(strstr(err.message, "not a Landlock ruleset"));
        close(fd);

        a = (BwExecAttrs) { .guest = NULL, .landlock_fd = -1 };
        assert_int_equal(bw_exec_new_from_attrs(&a, &e, &err), -EINVAL);
        assert_null(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exec_new_from_attrs_round_trip),
                cmocka_unit_test(test_exec_new_from_attrs_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
