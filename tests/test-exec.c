/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec on the real kernel: a guest is started with the cgroup-bpf plugin
 * (its cgroup below a test cgroup) and the exec-attrs test plugin, then
 * bw_manager_exec_prepare() collects what the process needs and
 * bw_exec_spawn()/bw_exec_apply() start processes that report their own
 * uid, gid, groups and cgroup from /proc/self.  A child that cannot be
 * confined never runs its command: a marker file it would create stays
 * absent.  Every guest is stopped and its cgroup gone afterwards. */
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

#include "cgroup-bpf/cgtest.h"
#include "exec.h"
#include "test-util.h"

#define UID 4321
#define GID 5432

static char *arg_root;

typedef struct Fixture {
        char *cgroup_root;         /* a test cgroup: the manager's cgroup root */
        char *scratch;
        char *out;                 /* writable by the guest's user */
        char *guest_cgroup;
        BwManager *m;
        bool started;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->cgroup_root = cgtest_create(arg_root, "exec");
        f->scratch = test_scratch_new("exec");
        f->out = g_build_filename(f->scratch, "out", NULL);
        f->guest_cgroup = g_build_filename(f->cgroup_root, "bulwark", "ex", NULL);
        if (mkdir(f->out, 0755) < 0 || chown(f->out, UID, GID) < 0 || chmod(f->scratch, 0755) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        if (f->started && f->m)
                (void) bw_manager_stop(f->m, "ex", NULL);
        bw_manager_free(f->m);
        cgtest_remove(f->cgroup_root);
        test_scratch_remove(f->scratch);
        free(f->cgroup_root);
        free(f->scratch);
        g_free(f->out);
        g_free(f->guest_cgroup);
        free(f);
        return 0;
}

/* Opens a manager loading `plugins` with `conf` as [plugin:exec-attrs]
 * (and [plugin:exec-attrs-b] after a "\n--\n"), and starts guest "ex". */
static void start_guest(Fixture *f, const char *plugins, const char *conf) {
        g_autofree char *rules = test_srcdir_path("policy/devices/default.rules");
        g_autofree char *cgb = test_builddir_path("plugins/cgroup-bpf/.libs");
        g_autofree char *test_plugins = test_builddir_path("tests/plugins/.libs");
        g_autofree char *dirs = g_strdup_printf("%s:%s", cgb, test_plugins);
        g_auto(GStrv) parts = g_strsplit(conf ? conf : "", "\n--\n", 2);
        g_autofree char *text = g_strdup_printf("[plugin:cgroup-bpf]\ndefault-rules=%s\n[plugin:exec-attrs]\n%s\n"
                                                "[plugin:exec-attrs-b]\n%s\n",
                                                rules, parts[0] ? parts[0] : "", parts[0] && parts[1] ? parts[1] : "");
        g_autofree char *config = test_write_file(f->scratch, "bulwark.conf", text, -1);
        g_autofree char *state_dir = g_build_filename(f->scratch, "state", NULL);
        BwOptions o = { .config_path = config, .plugin_dir = dirs, .plugins = plugins, .state_dir = state_dir,
                        .cgroup_root = f->cgroup_root };
        BwError err = {};
        bw_manager_free(f->m);
        f->m = NULL;
        if (bw_manager_new(&o, &f->m, &err) < 0)
                fail_msg("%s", err.message);

        const char *def = "[guest]\nname=ex\nuser=4321\ngroup=5432\n";
        BwGuest *g = NULL;
        assert_int_equal(bw_guest_load_data(def, strlen(def), "<test>", &g, &err), 0);
        int r = bw_manager_start(f->m, g, &err);
        bw_guest_free(g);
        if (r < 0)
                fail_msg("%s", err.message);
        f->started = true;
}

static BwExec *prepare(Fixture *f) {
        BwExec *e = NULL;
        BwError err = {};
        if (bw_manager_exec_prepare(f->m, "ex", &e, &err) < 0)
                fail_msg("%s", err.message);
        return e;
}

/* Runs `script` with /bin/sh through bw_exec_spawn(); returns its wait status. */
static int spawn_sh(const BwExec *e, const char *script) {
        char *argv[] = { "sh", "-c", (char *) script, NULL };
        BwError err = {};
        BwExecStep failed = BW_EXEC_STEP_EXEC;
        pid_t pid = 0;
        int status;
        if (bw_exec_spawn(e, "/bin/sh", argv, NULL, &pid, &failed, &err) < 0)
                fail_msg("%s", err.message);
        assert_true(pid > 0);
        assert_int_equal(failed, 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static char *read_out(const Fixture *f, const char *name) {
        g_autofree char *path = g_build_filename(f->out, name, NULL);
        char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return text;
}

static bool out_exists(const Fixture *f, const char *name) {
        g_autofree char *path = g_build_filename(f->out, name, NULL);
        return access(path, F_OK) == 0;
}

/* Stops the guest and checks nothing is left of it. */
static void stop_guest(Fixture *f) {
        BwError err = {};
        if (bw_manager_stop(f->m, "ex", &err) < 0)
                fail_msg("%s", err.message);
        f->started = false;
        assert_int_equal(access(f->guest_cgroup, F_OK), -1);
}

static void test_exec_prepare_not_running(void **state) {
        Fixture *f = *state;
        BwExec *e = NULL;
        BwError err = {};
        start_guest(f, "cgroup-bpf", NULL);
        assert_int_equal(bw_manager_exec_prepare(f->m, "other", &e, &err), -ENOENT);
        assert_null(e);
        assert_non_null(strstr(err.message, "guest 'other': not running"));
        assert_int_equal(bw_manager_exec_prepare(f->m, "../ex", &e, &err), -EINVAL);
        stop_guest(f);
        assert_int_equal(bw_manager_exec_prepare(f->m, "ex", &e, &err), -ENOENT);
}

static void test_exec_prepare_presets_identity_and_opens_cgroup(void **state) {
        Fixture *f = *state;
        start_guest(f, "cgroup-bpf", NULL);
        BwExec *e = prepare(f);
        assert_int_equal(e->uid, UID);
        assert_int_equal(e->gid, GID);
        assert_int_equal(e->n_groups, 0);
        assert_null(e->identity_plugin);
        assert_string_equal(e->cgroup, f->guest_cgroup);
        assert_string_equal(e->cgroup_plugin, "cgroup-bpf");
        assert_true(e->cgroup_fd >= 0 && e->cgroup_procs_fd >= 0);
        assert_int_equal(fcntl(e->cgroup_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(fcntl(e->cgroup_procs_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(e->landlock_fd, -1);
        int fds = test_count_fds();
        bw_exec_free(e);
        assert_int_equal(test_count_fds(), fds - 2);
        stop_guest(f);
}

static void test_exec_prepare_conflicts_name_both_plugins(void **state) {
        Fixture *f = *state;
        BwExec *e = NULL;
        BwError err = {};
        start_guest(f, "cgroup-bpf,exec-attrs,exec-attrs-b", "cgroup=/sys/fs/cgroup/elsewhere\n--\nidentity=1:1");
        assert_int_equal(bw_manager_exec_prepare(f->m, "ex", &e, &err), -EEXIST);
        assert_null(e);
        assert_non_null(strstr(err.message, "plugins 'cgroup-bpf' and 'exec-attrs' give different cgroups"));
        stop_guest(f);

        start_guest(f, "exec-attrs,exec-attrs-b", "identity=7:8:9\n--\nidentity=7:8:10");
        assert_int_equal(bw_manager_exec_prepare(f->m, "ex", &e, &err), -EEXIST);
        assert_non_null(strstr(err.message, "plugins 'exec-attrs' and 'exec-attrs-b' give different identities ('7:8 groups 9' and '7:8 groups 10')"));
        stop_guest(f);

        /* Agreeing plugins are no conflict. */
        start_guest(f, "cgroup-bpf,exec-attrs,exec-attrs-b", "lsm=selinux\nlabel=a\n--\nlsm=selinux\nlabel=a");
        e = prepare(f);
        assert_int_equal(e->n_labels, 1);
        assert_string_equal(e->labels[0].path, "/proc/thread-self/attr/exec");
        assert_memory_equal(e->labels[0].bytes, "a", 2);
        assert_int_equal(e->labels[0].len, 1);
        bw_exec_free(e);
        stop_guest(f);

        /* AppArmor's attribute takes the command, not the bare profile. */
        start_guest(f, "exec-attrs", "lsm=apparmor\nlabel=bulwark-ex");
        e = prepare(f);
        assert_string_equal(e->labels[0].path, "/proc/thread-self/attr/apparmor/exec");
        assert_string_equal(e->labels[0].bytes, "exec bulwark-ex");
        assert_int_equal(e->labels[0].len, strlen("exec bulwark-ex"));
        bw_exec_free(e);
        stop_guest(f);

        start_guest(f, "exec-attrs,exec-attrs-b", "lsm=apparmor\nlabel=a\n--\nlsm=apparmor\nlabel=b");
        assert_int_equal(bw_manager_exec_prepare(f->m, "ex", &e, &err), -EEXIST);
        assert_non_null(strstr(err.message, "different apparmor exec labels ('a' and 'b')"));
        stop_guest(f);
}

static void test_exec_spawn_identity_groups_and_cgroup(void **state) {
        Fixture *f = *state;
        start_guest(f, "cgroup-bpf,exec-attrs", "identity=4321:5432:77,88");
        BwExec *e = prepare(f);
        g_autofree char *script = g_strdup_printf("cat /proc/self/status /proc/self/cgroup > %s/status", f->out);
        int status = spawn_sh(e, script);
        bw_exec_free(e);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        g_autofree char *text = read_out(f, "status");
        assert_non_null(text);
        assert_non_null(strstr(text, "\nUid:\t4321\t4321\t4321\t4321\n"));
        assert_non_null(strstr(text, "\nGid:\t5432\t5432\t5432\t5432\n"));
        assert_non_null(strstr(text, "\nGroups:\t77 88 \n"));
        assert_non_null(strstr(text, "\nNoNewPrivs:\t1\n"));
        g_autofree char *line = g_strdup_printf("\n0::%s\n", f->guest_cgroup + strlen(arg_root));
        assert_non_null(strstr(text, line));
        stop_guest(f);
}

static void test_exec_spawn_exit_status_and_signal(void **state) {
        Fixture *f = *state;
        start_guest(f, "cgroup-bpf", NULL);
        BwExec *e = prepare(f);
        int status = spawn_sh(e, "exit 3");
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
        status = spawn_sh(e, "kill -9 $$");
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        bw_exec_free(e);
        stop_guest(f);
}

static void test_exec_spawn_landlock_restricts(void **state) {
        Fixture *f = *state;
        g_autofree char *conf = g_strdup_printf("landlock-write=%s", f->out);
        g_autofree char *denied = g_build_filename(f->scratch, "denied", NULL);
        assert_int_equal(mkdir(denied, 0777), 0);
        assert_int_equal(chmod(denied, 0777), 0);
        start_guest(f, "cgroup-bpf,exec-attrs", conf);
        BwExec *e = prepare(f);
        assert_true(e->landlock_fd >= 0);
        assert_string_equal(e->landlock_plugin, "exec-attrs");
        assert_int_equal(fcntl(e->landlock_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        g_autofree char *script = g_strdup_printf("echo in > %s/inside; echo out 2>%s/err >%s/x", f->out, f->out, denied);
        spawn_sh(e, script);
        bw_exec_free(e);
        g_autofree char *err = read_out(f, "err");
        assert_true(out_exists(f, "inside"));
        assert_non_null(err);
        assert_non_null(strstr(err, "Permission denied"));
        g_autofree char *x = g_build_filename(denied, "x", NULL);
        assert_int_equal(access(x, F_OK), -1);
        /* Without the ruleset the same write succeeds: the refusal was Landlock's. */
        stop_guest(f);
        start_guest(f, "cgroup-bpf", NULL);
        e = prepare(f);
        spawn_sh(e, script);
        bw_exec_free(e);
        assert_int_equal(access(x, F_OK), 0);
        stop_guest(f);
}

/* The command would create out/ran; a failed step must keep it absent. */
static void expect_confine_failure(Fixture *f, BwExec *e, int step, int error, const char *message) {
        g_autofree char *script = g_strdup_printf("touch %s/ran", f->out);
        char *argv[] = { "sh", "-c", script, NULL };
        BwError err = {};
        BwExecStep failed = 0;
        pid_t pid = 12345;
        assert_int_equal(bw_exec_spawn(e, "/bin/sh", argv, NULL, &pid, &failed, &err), -error);
        assert_int_equal(pid, 0);
        assert_int_equal(failed, step);
        if (!strstr(err.message, message))
                fail_msg("message '%s' lacks '%s'", err.message, message);
        assert_false(out_exists(f, "ran"));
}

static void test_exec_spawn_never_runs_unconfined(void **state) {
        Fixture *f = *state;
        /* (uid_t) -1 means "leave unchanged" to setresuid(): only the
         * check after it catches that the uid was not set. */
        start_guest(f, "cgroup-bpf,exec-attrs", "identity=4294967295:5432");
        BwExec *e = prepare(f);
        expect_confine_failure(f, e, BW_EXEC_STEP_UID, EPERM, "guest 'ex': exec: cannot set user id 4294967295: Operation not permitted");
        bw_exec_free(e);
        stop_guest(f);

        start_guest(f, "cgroup-bpf,exec-attrs", "lsm=apparmor\nlabel=bulwark-ex");
        e = prepare(f);
        expect_confine_failure(f, e, BW_EXEC_STEP_LSM_LABEL, ENOENT,
                               "cannot write LSM exec label 'bulwark-ex' to '/proc/thread-self/attr/apparmor/exec'");
        bw_exec_free(e);
        stop_guest(f);

        /* The cgroup went away after prepare: neither clone3 nor the
         * cgroup.procs write can place the child. */
        start_guest(f, "cgroup-bpf", NULL);
        e = prepare(f);
        assert_int_equal(rmdir(f->guest_cgroup), 0);
        g_autofree char *msg = g_strdup_printf("guest 'ex': exec: cannot join cgroup '%s': No such device", f->guest_cgroup);
        expect_confine_failure(f, e, BW_EXEC_STEP_CGROUP, ENODEV, msg);
        bw_exec_free(e);
        stop_guest(f);
}

static void test_exec_spawn_exec_failure(void **state) {
        Fixture *f = *state;
        char *argv[] = { "missing", NULL };
        BwError err = {};
        BwExecStep failed = 0;
        pid_t pid = 12345;
        start_guest(f, "cgroup-bpf", NULL);
        BwExec *e = prepare(f);
        g_autofree char *missing = g_build_filename(f->scratch, "missing", NULL);
        assert_int_equal(bw_exec_spawn(e, missing, argv, NULL, &pid, &failed, &err), -ENOENT);
        assert_int_equal(pid, 0);
        assert_int_equal(failed, BW_EXEC_STEP_EXEC);
        assert_non_null(strstr(err.message, "cannot exec"));
        /* The step is optional. */
        pid = 12345;
        assert_int_equal(bw_exec_spawn(e, missing, argv, NULL, &pid, NULL, &err), -ENOENT);
        assert_int_equal(pid, 0);
        bw_exec_free(e);
        stop_guest(f);
}

/* A failure in the parent is no step of the child's, and leaves no pid. */
static void test_exec_spawn_parent_failure(void **state) {
        Fixture *f = *state;
        char *argv[] = { NULL };
        BwError err = {};
        BwExecStep failed = BW_EXEC_STEP_EXEC;
        pid_t pid = 12345;
        start_guest(f, "cgroup-bpf", NULL);
        BwExec *e = prepare(f);
        assert_int_equal(bw_exec_spawn(e, "/bin/true", argv, NULL, &pid, &failed, &err), -EINVAL);
        assert_int_equal(pid, 0);
        assert_int_equal(failed, 0);
        assert_non_null(strstr(err.message, "bw_exec_spawn: missing argument"));
        bw_exec_free(e);
        stop_guest(f);
}

/* bw_exec_apply() in a child of our own fork(): the order and the codes.
 * The child waits (on a pipe) until the parent has looked at it; when
 * `cgroup_procs` is given, the child's pid must be listed there. */
static int apply_in_child(const BwExec *e, const char *cgroup_procs, int *ret_errno) {
        int report[2], hold[2], status, rec[2] = { 0, 0 };
        assert_int_equal(pipe(report), 0);
        assert_int_equal(pipe(hold), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(hold[1]);
                int r = bw_exec_apply(e);
                int out[2] = { r, errno };
                char c;
                (void) !write(report[1], out, sizeof(out));
                (void) !read(hold[0], &c, 1);
                _exit(0);
        }
        close(report[1]);
        close(hold[0]);
        assert_int_equal(read(report[0], rec, sizeof(rec)), sizeof(rec));
        close(report[0]);
        g_autofree char *procs = NULL;
        if (cgroup_procs)
                assert_true(g_file_get_contents(cgroup_procs, &procs, NULL, NULL));
        close(hold[1]);
        waitpid(pid, &status, 0);
        if (procs) {
                g_autofree char *line = g_strdup_printf("%d\n", (int) pid);
                g_autofree char *inner = g_strdup_printf("\n%d\n", (int) pid);
                assert_true(g_str_has_prefix(procs, line) || strstr(procs, inner));
        }
        *ret_errno = rec[1];
        return rec[0];
}

static void test_exec_apply_steps_in_order(void **state) {
        Fixture *f = *state;
        int error;
        /* The uid step fails before the label step is reached. */
        start_guest(f, "cgroup-bpf,exec-attrs", "identity=4294967295:5432\nlsm=apparmor\nlabel=x");
        BwExec *e = prepare(f);
        assert_int_equal(apply_in_child(e, NULL, &error), -BW_EXEC_STEP_UID);
        assert_int_equal(error, EPERM);
        bw_exec_free(e);
        stop_guest(f);

        start_guest(f, "cgroup-bpf,exec-attrs", "lsm=apparmor\nlabel=x");
        e = prepare(f);
        assert_int_equal(apply_in_child(e, NULL, &error), -BW_EXEC_STEP_LSM_LABEL);
        assert_int_equal(error, ENOENT);
        bw_exec_free(e);
        stop_guest(f);

        start_guest(f, "cgroup-bpf", NULL);
        e = prepare(f);
        g_autofree char *procs = g_build_filename(f->guest_cgroup, "cgroup.procs", NULL);
        assert_int_equal(apply_in_child(e, procs, &error), 0);
        bw_exec_free(e);
        stop_guest(f);
        assert_string_equal(bw_exec_step_to_string(BW_EXEC_STEP_CGROUP), "join cgroup");
        assert_string_equal(bw_exec_step_to_string(99), "unknown step");
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_exec_prepare_not_running, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_prepare_presets_identity_and_opens_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_prepare_conflicts_name_both_plugins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_identity_groups_and_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_exit_status_and_signal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_landlock_restricts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_never_runs_unconfined, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_exec_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_spawn_parent_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exec_apply_steps_in_order, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
