/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `bulwarkctl landlock denials NAME` for real: a guest with the cgroup-bpf
 * and landlock plugins is started, the follower (bulwarkctl, --count 1)
 * runs with its stdout on a pipe, and once it has joined audit's log group
 * (its header line) a process of the guest (bw_exec_spawn of ll-open) is
 * refused /etc/hostname; the follower must print that denial, naming the
 * process and the path, and exit 0.  Audit must be enabled for Landlock to
 * write records: the test enables it (tests/landlock/ll-audit) and puts
 * back what it found, and skips where it may not.  With audit disabled
 * the command must say so and fail.  The guest is stopped afterwards. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "test-util.h"
#include "util/cgroup2-root.h"

typedef struct Fixture {
        char *scratch, *config, *state, *name;
        char *cgroot;              /* a cgroup root of the test's own, removed after */
        BwManager *m;
        bool started;
        int audit_was;             /* -1: unknown */
} Fixture;

/* Runs argv, returns its exit status; its stdout in *ret_out. */
static int run_capture(char **argv, char **ret_out) {
        g_autofree char *err = NULL;
        int status = -1;
        GError *e = NULL;
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, ret_out, &err, &status, &e)) {
                fail_msg("%s: %s", argv[0], e->message);
        }
        if (err && *err)
                fprintf(stderr, "# %s: %s", argv[0], err);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The build's landlock and cgroup-bpf plugin directories. */
static char *plugin_dirs(void) {
        g_autofree char *landlock = test_builddir_path("security/landlock/.libs");
        g_autofree char *cgroup_bpf = test_builddir_path("plugins/cgroup-bpf/.libs");
        return g_strdup_printf("%s:%s", landlock, cgroup_bpf);
}

static int audit_get(void) {
        g_autofree char *helper = test_builddir_path("tests/landlock/ll-audit");
        g_autofree char *out = NULL;
        char *argv[] = { helper, "get", NULL };
        return run_capture(argv, &out) == 0 ? atoi(out) : -1;
}

static int audit_set(int on) {
        g_autofree char *helper = test_builddir_path("tests/landlock/ll-audit");
        g_autofree char *out = NULL;
        char *argv[] = { helper, "set", on ? "1" : "0", NULL };
        return run_capture(argv, &out);
}

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->scratch = test_scratch_new("landlock-denials");
        f->name = g_strdup_printf("lldeny-%d", (int) getpid());
        g_autofree char *base = test_srcdir_path("policy/landlock/base.rules");
        g_autofree char *devices = test_srcdir_path("policy/devices/default.rules");
        g_autofree char *helper = test_builddir_path("tests/landlock/ll-open");
        g_autofree char *text = NULL;
        g_autofree char *base_text = NULL;
        if (!g_file_get_contents(base, &base_text, NULL, NULL))
                fail_msg("cannot read %s", base);
        g_autofree char *rules_text = g_strdup_printf("%srx %s\n", base_text, helper);
        g_autofree char *rules = test_write_file(f->scratch, "base.rules", rules_text, -1);
        text = g_strdup_printf("[bulwark]\nplugins=cgroup-bpf,landlock\n[plugin:cgroup-bpf]\ndefault-rules=%s\n"
                               "[plugin:landlock]\nbase-rules=%s\n", devices, rules);
        f->config = test_write_file(f->scratch, "bulwark.conf", text, -1);
        f->state = g_build_filename(f->scratch, "state", NULL);
        /* The guest's cgroup below a root of this test's own, so the
         * plugin's bulwark/ parent goes with it. */
        g_autofree char *root = NULL;
        if (cgroup2_root_discover(&root) < 0)
                fail_msg("no cgroup2 mount");
        f->cgroot = g_strdup_printf("%s/bulwark-test-lldeny-%d", root, (int) getpid());
        if (mkdir(f->cgroot, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %m", f->cgroot);
        f->audit_was = audit_get();
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;
        if (f->started)
                (void) bw_manager_stop_with_flags(f->m, f->name, BW_STOP_KILL, NULL);
        bw_manager_free(f->m);
        if (f->audit_was >= 0 && audit_get() != f->audit_was)
                (void) audit_set(f->audit_was);
        g_autofree char *parent = g_build_filename(f->cgroot, "bulwark", NULL);
        (void) rmdir(parent);
        (void) rmdir(f->cgroot);
        g_free(f->cgroot);
        test_scratch_remove(f->scratch);
        g_free(f->scratch);
        g_free(f->config);
        g_free(f->state);
        g_free(f->name);
        free(f);
        return 0;
}

static void fixture_start(Fixture *f) {
        g_autofree char *plugins = plugin_dirs();
        BwOptions o = { .config_path = f->config, .plugin_dir = plugins, .state_dir = f->state,
                        .cgroup_root = f->cgroot };
        BwError err = {};
        if (bw_manager_new(&o, &f->m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        g_autofree char *text = g_strdup_printf("[guest]\nname=%s\nuser=0\ngroup=0\n", f->name);
        BwGuest *g = NULL;
        if (bw_guest_load_data(text, strlen(text), "deny.guest", &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        int r = bw_manager_start(f->m, g, &err);
        bw_guest_free(g);
        if (r < 0)
                fail_msg("start: %s", err.message);
        f->started = true;
}

/* bulwarkctl ... landlock denials NAME --count 1, stdout on *ret_fd. */
static GPid follower_start(Fixture *f, int *ret_fd) {
        g_autofree char *ctl = test_builddir_path("bulwarkctl");
        g_autofree char *plugins = plugin_dirs();
        char *argv[] = { ctl, "--config", f->config, "--plugin-dir", plugins, "--state-dir", f->state,
                         "--cgroup-root", f->cgroot, "landlock", "denials", f->name, "--count", "1", NULL };
        GPid pid;
        GError *e = NULL;
        if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL, ret_fd,
                                      NULL, &e))
                fail_msg("bulwarkctl: %s", e->message);
        return pid;
}

/* Reads from fd until `want` appears, EOF, or 20 s: what was read. */
static GString *read_until(int fd, GString *got, const char *want) {
        for (int waited = 0; waited < 200 && !strstr(got->str, want); waited++) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                char buf[4096];
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                g_string_append_len(got, buf, n);
        }
        return got;
}

static void test_landlock_denials_follow(void **state) {
        Fixture *f = *state;
        if (f->audit_was < 0)
                skip();
        if (audit_set(1) != 0) {
                print_message("# cannot enable audit here (ll-audit set 1 failed): skipped\n");
                skip();
        }
        fixture_start(f);
        int fd;
        GPid pid = follower_start(f, &fd);
        g_autoptr(GString) out = g_string_new(NULL);
        read_until(fd, out, "OBJECT\n");
        if (!strstr(out->str, "following Landlock denials")) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("the follower did not start: '%s'", out->str);
        }
        BwExec *exec = NULL;
        BwError err = {};
        if (bw_manager_exec_prepare(f->m, f->name, &exec, &err) < 0)
                fail_msg("exec prepare: %s", err.message);
        g_autofree char *helper = test_builddir_path("tests/landlock/ll-open");
        /* It stays (pause) until the follower printed: the follower reads
         * the cgroup of the process that made the domain from /proc. */
        char *argv[] = { helper, "r", "/etc/hostname", "EACCES", "pause", NULL };
        pid_t child;
        int r = bw_exec_spawn(exec, helper, argv, NULL, &child, NULL, &err);
        bw_exec_free(exec);
        if (r < 0)
                fail_msg("spawn: %s", err.message);
        int status;
        read_until(fd, out, "hostname");
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        read_until(fd, out, "\n\xff"); /* to EOF: the follower stops after one */
        close(fd);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        g_spawn_close_pid(pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !strstr(out->str, "fs.read_file") ||
            !strstr(out->str, "path=\"/etc/hostname\"") || !strstr(out->str, "ll-open"))
                fail_msg("status %d, the follower printed: '%s'", status, out->str);
}

static void test_landlock_denials_audit_disabled(void **state) {
        Fixture *f = *state;
        if (f->audit_was < 0 || audit_set(0) != 0)
                skip();
        fixture_start(f);
        g_autofree char *ctl = test_builddir_path("bulwarkctl");
        g_autofree char *plugins = plugin_dirs();
        char *argv[] = { ctl, "--config", f->config, "--plugin-dir", plugins, "--state-dir", f->state,
                         "--cgroup-root", f->cgroot, "landlock", "denials", f->name, NULL };
        g_autofree char *out = NULL, *errout = NULL;
        int status;
        assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout, &status, NULL));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !strstr(errout, "audit is disabled in the kernel"))
                fail_msg("status %d: %s", status, errout);
}

int main(void) {
        test_require_root();
        if (syscall(444 /* landlock_create_ruleset */, NULL, 0, 1) < 7)
                test_skip_all("Landlock ABI 7 (audit records) is not in this kernel");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_landlock_denials_follow, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_landlock_denials_audit_disabled, fixture_setup, fixture_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
