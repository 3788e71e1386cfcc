/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager with the cgroup-bpf plugin on real cgroups (root only), under
 * a uniquely named child of the cgroup2 root:
 *  - a stop works on the cgroup the guest started with, whatever cgroup
 *    root the stopping manager is configured with;
 *  - a guest cannot be given another running guest's cgroup;
 *  - stop refuses while the cgroup holds a process (which stays confined)
 *    and, with BW_STOP_KILL, kills it and stops. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "cgroup-bpf/cgtest.h"
#include "test-util.h"

typedef struct Fixture {
        CgFixture *cg;             /* our child of the cgroup2 root, a scratch dir */
        char *node;                /* c 1:11 (kmsg), denied by the default rules */
} Fixture;

static char *arg_cg2;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->cg = cgtest_fixture_new(arg_cg2, "mgr");
        f->node = g_build_filename(f->cg->scratch, "kmsg", NULL);
        assert_int_equal(mknod(f->node, S_IFCHR | 0600, makedev(1, 11)), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cgtest_fixture_free(f->cg);
        g_free(f->node);
        free(f);
        return 0;
}

/* A manager whose state and cgroup root are <scratch>/<state> and <top>/<root>. */
static BwManager *manager_at(Fixture *f, const char *state_name, const char *root_name) {
        g_autofree char *root = g_build_filename(f->cg->cgroup, root_name, NULL);
        (void) mkdir(root, 0755);
        return cgtest_manager(f->cg, "cgroup-bpf", state_name, root, NULL);
}

static BwGuest *guest_named(const char *name, const char *cgroup) {
        g_autofree char *text = g_strdup_printf("[guest]\nname=%s\nuser=0\ngroup=0\n%s%s%s", name,
                                                cgroup ? "cgroup=" : "", cgroup ? cgroup : "", cgroup ? "\n" : "");
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_data(text, strlen(text), name, &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        return g;
}

/* A child that joins `cgroup`, then on each byte from its command pipe
 * tries to open the probe node and answers with the errno (0: opened). */
typedef struct Prisoner {
        pid_t pid;
        int cmd, answer;
} Prisoner;

static void prisoner_start(Prisoner *p, const char *cgroup, const char *node) {
        int cmd[2], ans[2];
        assert_int_equal(pipe2(cmd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(ans, O_CLOEXEC), 0);
        p->pid = fork();
        assert_true(p->pid >= 0);
        if (p->pid == 0) {
                close(cmd[1]); /* EOF on the command pipe when the test goes */
                close(ans[0]);
                g_autofree char *procs = g_build_filename(cgroup, "cgroup.procs", NULL);
                int fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(2);
                close(fd);
                int e = 0;
                if (write(ans[1], &e, sizeof(e)) != sizeof(e))
                        _exit(3);
                char c;
                while (read(cmd[0], &c, 1) == 1) {
                        int n = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                        e = n < 0 ? errno : 0;
                        if (n >= 0)
                                close(n);
                        if (write(ans[1], &e, sizeof(e)) != sizeof(e))
                                _exit(3);
                }
                _exit(0);
        }
        close(cmd[0]);
        close(ans[1]);
        p->cmd = cmd[1];
        p->answer = ans[0];
        int ready = -1;
        assert_int_equal(read(p->answer, &ready, sizeof(ready)), sizeof(ready));
}

static int prisoner_probe(Prisoner *p) {
        int e = -1;
        assert_int_equal(write(p->cmd, "p", 1), 1);
        assert_int_equal(read(p->answer, &e, sizeof(e)), sizeof(e));
        return e;
}

static void test_stop_uses_the_recorded_cgroup(void **state) {
        Fixture *f = *state;
        BwManager *a = manager_at(f, "state-a", "r1"), *b = manager_at(f, "state-b", "r2");
        BwGuest *g = guest_named("same", NULL);
        BwError err = {};
        g_autofree char *cg1 = g_build_filename(f->cg->cgroup, "r1", "bulwark", "same", NULL);
        g_autofree char *cg2 = g_build_filename(f->cg->cgroup, "r2", "bulwark", "same", NULL);

        assert_int_equal(bw_manager_start(a, g, &err), 0);
        assert_int_equal(bw_manager_start(b, g, &err), 0);
        assert_true(cgtest_is_cgroup2(cg1) && cgtest_is_cgroup2(cg2));
        bw_manager_free(a);

        /* Instance A's state, but configured with B's cgroup root today. */
        a = manager_at(f, "state-a", "r2");
        assert_int_equal(bw_manager_stop(a, "same", &err), 0);
        assert_int_equal(access(cg1, F_OK), -1);
        assert_int_equal(access(cg2, F_OK), 0);
        Prisoner p;
        prisoner_start(&p, cg2, f->node);
        assert_int_equal(prisoner_probe(&p), EPERM); /* B's program is still there */
        kill(p.pid, SIGKILL);
        waitpid(p.pid, NULL, 0);
        close(p.cmd);
        close(p.answer);
        assert_int_equal(bw_manager_stop(b, "same", &err), 0);
        assert_int_equal(access(cg2, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(a);
        bw_manager_free(b);
}

static void test_cgroup_takeover_refused(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_at(f, "state", "r");
        BwGuest *first = guest_named("first", NULL);
        BwError err = {};
        g_autofree char *cg = g_build_filename(f->cg->cgroup, "r", "bulwark", "first", NULL);
        assert_int_equal(bw_manager_start(m, first, &err), 0);

        BwGuest *second = guest_named("second", cg);
        assert_int_equal(bw_manager_start(m, second, &err), -EBUSY);
        assert_non_null(strstr(err.message, "guest 'second'"));
        assert_non_null(strstr(err.message, "running guest 'first'"));
        Prisoner p;
        prisoner_start(&p, cg, f->node);
        assert_int_equal(prisoner_probe(&p), EPERM);
        kill(p.pid, SIGKILL);
        waitpid(p.pid, NULL, 0);
        close(p.cmd);
        close(p.answer);
        assert_int_equal(bw_manager_stop(m, "first", &err), 0);
        bw_guest_free(second);
        bw_guest_free(first);
        bw_manager_free(m);
}

static void test_stop_refuses_populated_cgroup(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_at(f, "state", "r");
        BwGuest *g = guest_named("busy", NULL);
        BwError err = {};
        g_autofree char *cg = g_build_filename(f->cg->cgroup, "r", "bulwark", "busy", NULL);
        g_autofree char *journal = g_build_filename(f->cg->scratch, "state", "guests", "busy.journal", NULL);
        assert_int_equal(bw_manager_start(m, g, &err), 0);

        Prisoner p;
        prisoner_start(&p, cg, f->node);
        assert_int_equal(prisoner_probe(&p), EPERM);
        assert_int_equal(bw_manager_stop(m, "busy", &err), -EBUSY);
        g_autofree char *pid = g_strdup_printf("pid %d", (int) p.pid);
        assert_non_null(strstr(err.message, "guest 'busy'"));
        assert_non_null(strstr(err.message, cg));
        assert_non_null(strstr(err.message, pid));
        assert_int_equal(access(journal, F_OK), 0);
        assert_int_equal(prisoner_probe(&p), EPERM); /* still confined */

        assert_int_equal(bw_manager_stop_with_flags(m, "busy", BW_STOP_KILL, &err), 0);
        int status;
        assert_int_equal(waitpid(p.pid, &status, 0), p.pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(p.cmd);
        close(p.answer);
        assert_int_equal(access(cg, F_OK), -1);
        assert_int_equal(access(journal, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

int main(void) {
        arg_cg2 = cgtest_require();
        cgtest_require_plugin(arg_cg2);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stop_uses_the_recorded_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_takeover_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_refuses_populated_cgroup, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_cg2);
        return r;
}
