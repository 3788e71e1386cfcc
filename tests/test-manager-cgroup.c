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
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "test-util.h"

typedef struct Fixture {
        char *scratch;
        char *top;                 /* our child of the cgroup2 root */
        char *rules;
        char *plugin_dir;
        char *node;                /* c 1:11 (kmsg), denied by the default rules */
} Fixture;

static char *arg_cg2;
static unsigned counter;

static bool is_cgroup2(const char *path) {
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && (unsigned long) sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Kills what is left and removes the tree, leaves first. */
static void cgroup_remove_tree(const char *path) {
        g_autofree char *kill_file = g_build_filename(path, "cgroup.kill", NULL);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        int fd = open(kill_file, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void) !write(fd, "1", 1);
                close(fd);
        }
        for (const char *e; d && (e = g_dir_read_name(d));) {
                g_autofree char *child = g_build_filename(path, e, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR))
                        cgroup_remove_tree(child);
        }
        for (int i = 0; i < 1000 && rmdir(path) < 0 && errno == EBUSY; i++)
                g_usleep(1000); /* the killed processes leave the cgroup asynchronously */
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->scratch = test_scratch_new("mgrcg");
        f->top = g_strdup_printf("%s/bulwark-test-mgr-%d-%u", arg_cg2, (int) getpid(), counter++);
        assert_int_equal(mkdir(f->top, 0755), 0);
        f->rules = test_srcdir_path("policy/devices/default.rules");
        f->plugin_dir = test_builddir_path("plugins/cgroup-bpf/.libs");
        f->node = g_build_filename(f->scratch, "kmsg", NULL);
        assert_int_equal(mknod(f->node, S_IFCHR | 0600, makedev(1, 11)), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cgroup_remove_tree(f->top);
        test_scratch_remove(f->scratch);
        g_free(f->top);
        free(f->rules);
        free(f->plugin_dir);
        g_free(f->node);
        free(f->scratch);
        free(f);
        return 0;
}

/* A manager whose state and cgroup root are <scratch>/<state> and <top>/<root>. */
static BwManager *manager_at(Fixture *f, const char *state_name, const char *root_name) {
        g_autofree char *state = g_build_filename(f->scratch, state_name, NULL);
        g_autofree char *root = g_build_filename(f->top, root_name, NULL);
        g_autofree char *conf = g_strdup_printf("[plugin:cgroup-bpf]\ndefault-rules=%s\n", f->rules);
        g_autofree char *conf_path = test_write_file(f->scratch, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "cgroup-bpf",
                        .state_dir = state, .cgroup_root = root };
        BwManager *m = NULL;
        BwError err = {};
        (void) mkdir(root, 0755);
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        BwPluginInfo info;
        assert_int_equal(bw_manager_plugin_info(m, 0, &info), 0);
        if (info.probe_result < 0)
                fail_msg("cgroup-bpf not usable: %s", info.probe_reason);
        return m;
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
        g_autofree char *cg1 = g_build_filename(f->top, "r1", "bulwark", "same", NULL);
        g_autofree char *cg2 = g_build_filename(f->top, "r2", "bulwark", "same", NULL);

        assert_int_equal(bw_manager_start(a, g, &err), 0);
        assert_int_equal(bw_manager_start(b, g, &err), 0);
        assert_true(is_cgroup2(cg1) && is_cgroup2(cg2));
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
        g_autofree char *cg = g_build_filename(f->top, "r", "bulwark", "first", NULL);
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
        g_autofree char *cg = g_build_filename(f->top, "r", "bulwark", "busy", NULL);
        g_autofree char *journal = g_build_filename(f->scratch, "state", "guests", "busy.journal", NULL);
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

/* Skips the binary when the kernel cannot run device programs. */
static void require_cgroup_bpf(void) {
        g_autofree char *plugins = test_builddir_path("plugins/cgroup-bpf/.libs");
        char *scratch = test_scratch_new("mgrcg-probe");
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = plugins, .plugins = "cgroup-bpf",
                        .state_dir = scratch, .cgroup_root = arg_cg2 };
        BwManager *m = NULL;
        BwPluginInfo info = { .probe_result = -ENOENT, .probe_reason = "the plugin did not load" };
        BwError err = {};
        char reason[BW_ERROR_MESSAGE_MAX];
        if (bw_manager_new(&o, &m, &err) == 0)
                bw_manager_plugin_info(m, 0, &info);
        snprintf(reason, sizeof(reason), "%s", m ? info.probe_reason : err.message);
        bw_manager_free(m);
        test_scratch_remove(scratch);
        free(scratch);
        if (info.probe_result < 0)
                test_skip_all("cgroup-bpf unusable here: %s", reason);
}

int main(void) {
        test_require_root();
        if (is_cgroup2("/sys/fs/cgroup"))
                arg_cg2 = "/sys/fs/cgroup";
        else if (is_cgroup2("/sys/fs/cgroup/unified"))
                arg_cg2 = "/sys/fs/cgroup/unified";
        else
                test_skip_all("no cgroup2 hierarchy");
        if (access(arg_cg2, W_OK) < 0)
                test_skip_all("cgroup2 root '%s' is not writable", arg_cg2);
        require_cgroup_bpf();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_stop_uses_the_recorded_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_takeover_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_refuses_populated_cgroup, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
