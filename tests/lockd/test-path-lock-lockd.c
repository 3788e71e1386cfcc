/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's lock step through the lockd backend (core/path-lock.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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
        assert_int_equal(path_locker_acquire(l1, plan, 3, PATH_LOCK_EXCLUSIVE, 1000, &h1, &err), 0);
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(path_locker_acquire(l2, plan + 1, 1, PATH_LOCK_EXCLUSIVE, 100, &h2, &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, nvram));
        path_locker_release(l1, h1);
        assert_int_equal(test_posix_probe(f[0]), 0);
        assert_int_equal(path_locker_acquire(l2, plan, 3, PATH_LOCK_SHARED, 0, &h2, &err), 0);
        assert_int_equal(path_locker_acquire(l1, plan, 2, PATH_LOCK_SHARED, 0, &h1, &err), 0);
        path_locker_release(l2, h2);
        path_locker_release(l1, h1);
        /* n == 0 is a valid empty handle. */
        assert_int_equal(path_locker_acquire(l1, NULL, 0, PATH_LOCK_EXCLUSIVE, 0, &h1, &err), 0);
        path_locker_release(l1, h1);
        path_locker_free(l1);
        path_locker_free(l2);
        assert_int_equal(path_locker_new_lockd("not/absolute", &l1), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backend_locks_through_daemon),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
