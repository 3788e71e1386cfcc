/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The landlock plugin through the library's API, as a host management
 * daemon uses it: bw_manager_start(), bw_manager_exec_prepare(), fork(),
 * bw_exec_apply() in the child, then the child opens files itself and
 * reports each errno through a pipe (no exec: the child is the daemon's
 * own code, confined).  Only the landlock plugin is configured.  Every
 * guest is stopped and the scratch directory removed afterwards. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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

#define OPENS_MAX 16

typedef struct Open {
        const char *path;
        int flags;
        int want;                  /* 0 or an errno */
} Open;

typedef struct Fixture {
        char *scratch;
        char *disk, *iso, *beside;
        BwManager *m;
        char *started;             /* the guest to stop */
} Fixture;

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->scratch = test_scratch_new("landlock-exec");
        f->disk = test_write_file(f->scratch, "disk.img", "", 0);
        f->iso = test_write_file(f->scratch, "install.iso", "", 0);
        f->beside = test_write_file(f->scratch, "beside.img", "", 0);
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;
        if (f->started)
                (void) bw_manager_stop(f->m, f->started, NULL);
        bw_manager_free(f->m);
        test_scratch_remove(f->scratch);
        free(f->started);
        free(f->disk);
        free(f->iso);
        free(f->beside);
        free(f->scratch);
        free(f);
        return 0;
}

/* A manager with only the landlock plugin; `extra`: more [plugin:landlock] keys. */
static void fixture_manager(Fixture *f, const char *extra) {
        g_autofree char *rules = test_srcdir_path("policy/landlock/base.rules");
        g_autofree char *plugins = test_builddir_path("security/landlock/.libs");
        g_autofree char *text = g_strdup_printf("[bulwark]\nplugins=landlock\n[plugin:landlock]\nbase-rules=%s\n%s\n",
                                                rules, extra);
        g_autofree char *config = test_write_file(f->scratch, "bulwark.conf", text, -1);
        g_autofree char *state = g_build_filename(f->scratch, "state", NULL);
        BwOptions o = { .config_path = config, .plugin_dir = plugins, .state_dir = state };
        BwError err = {};
        if (bw_manager_new(&o, &f->m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
}

static char *fixture_guest_text(Fixture *f, const char *name, const char *extra) {
        return g_strdup_printf("[guest]\nname=%s\nuser=0\ngroup=0\n"
                               "[disk:root]\npath=%s\nformat=raw\n"
                               "[disk:install]\npath=%s\nreadonly=true\nformat=raw\n"
                               "[device:null]\npath=/dev/null\n%s",
                               name, f->disk, f->iso, extra);
}

static int fixture_start(Fixture *f, const char *name, const char *extra, BwError *err) {
        g_autofree char *text = fixture_guest_text(f, name, extra);
        BwGuest *g = NULL;
        if (bw_guest_load_data(text, strlen(text), "landlock.guest", &g, err) < 0)
                fail_msg("guest: %s", err->message);
        int r = bw_manager_start(f->m, g, err);
        bw_guest_free(g);
        if (r == 0)
                f->started = strdup(name);
        return r;
}

/* The child: bw_exec_apply(), then each open; its errno (0: opened)
 * goes to the pipe.  Async-signal-safe calls only. */
static _Noreturn void child_opens(const BwExec *exec, const Open *opens, size_t n, int fd) {
        int results[OPENS_MAX];
        if (bw_exec_apply(exec) < 0)
                _exit(125);
        for (size_t i = 0; i < n; i++) {
                int o = open(opens[i].path, opens[i].flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                results[i] = o < 0 ? errno : 0;
                if (o >= 0)
                        close(o);
        }
        _exit(write(fd, results, n * sizeof(int)) == (ssize_t) (n * sizeof(int)) ? 0 : 1);
}

/* Prepares, forks, applies, opens; checks every outcome. */
static void check_opens(Fixture *f, const char *name, const Open *opens, size_t n) {
        BwExec *exec = NULL;
        BwError err = {};
        int fds[2], results[OPENS_MAX] = {}, status;
        assert_true(n <= OPENS_MAX);
        if (bw_manager_exec_prepare(f->m, name, &exec, &err) < 0)
                fail_msg("exec prepare: %s", err.message);
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child_opens(exec, opens, n, fds[1]);
        close(fds[1]);
        bw_exec_free(exec);
        ssize_t got = read(fds[0], results, sizeof(results));
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(got, (ssize_t) (n * sizeof(int)));
        for (size_t i = 0; i < n; i++)
                if (results[i] != opens[i].want)
                        fail_msg("open('%s', %#x) in the guest: %s, expected %s", opens[i].path, (unsigned) opens[i].flags,
                                 results[i] ? strerror(results[i]) : "success",
                                 opens[i].want ? strerror(opens[i].want) : "success");
}

static void test_landlock_exec_apply_confines(void **state) {
        Fixture *f = *state;
        BwError err = {};
        bool tun = access("/dev/net/tun", F_OK) == 0;
        fixture_manager(f, "");
        if (fixture_start(f, "llexec", tun ? "[device:tun]\npath=/dev/net/tun\naccess=rw\n" : "", &err) < 0)
                fail_msg("start: %s", err.message);
        const Open opens[] = {
                { f->disk, O_RDWR, 0 },
                { f->iso, O_RDONLY, 0 },
                { f->iso, O_WRONLY, EACCES },
                { f->beside, O_RDONLY, EACCES },
                { "/etc/hostname", O_RDONLY, EACCES },
                { "/dev/zero", O_RDONLY, EACCES },
                { "/dev/null", O_RDWR, 0 },
                { tun ? "/dev/net/tun" : "/dev/null", O_RDWR, 0 },
        };
        check_opens(f, "llexec", opens, G_N_ELEMENTS(opens));
}

/* ABI 1 still confines: no truncate or ioctl rights, but files. */
static void test_landlock_exec_abi1_confines(void **state) {
        Fixture *f = *state;
        BwError err = {};
        fixture_manager(f, "max-abi=1");
        if (fixture_start(f, "llabi1", "", &err) < 0)
                fail_msg("start: %s", err.message);
        const Open opens[] = {
                { f->disk, O_RDWR | O_TRUNC, 0 },
                { f->iso, O_WRONLY, EACCES },
                { f->beside, O_RDONLY, EACCES },
                { "/etc/hostname", O_RDONLY, EACCES },
        };
        check_opens(f, "llabi1", opens, G_N_ELEMENTS(opens));
}

static void test_landlock_exec_missing_file_refused_at_start(void **state) {
        Fixture *f = *state;
        BwError err = {};
        g_autofree char *gone = g_build_filename(f->scratch, "gone.img", NULL);
        g_autofree char *extra = g_strdup_printf("[disk:gone]\npath=%s\nformat=raw\n", gone);
        fixture_manager(f, "");
        assert_int_equal(fixture_start(f, "llgone", extra, &err), -ENOENT);
        if (!strstr(err.message, "disk:gone") || !strstr(err.message, gone))
                fail_msg("the error names neither the resource nor the path: %s", err.message);
}

/* A file gone between start and exec: the ruleset cannot be made, the
 * exec is refused naming it, and no process is started unconfined. */
static void test_landlock_exec_file_gone_refused(void **state) {
        Fixture *f = *state;
        BwError err = {};
        BwExec *exec = NULL;
        fixture_manager(f, "");
        if (fixture_start(f, "llgone2", "", &err) < 0)
                fail_msg("start: %s", err.message);
        assert_int_equal(unlink(f->iso), 0);
        assert_int_equal(bw_manager_exec_prepare(f->m, "llgone2", &exec, &err), -ENOENT);
        assert_null(exec);
        if (!strstr(err.message, "disk:install") || !strstr(err.message, f->iso))
                fail_msg("the error names neither the resource nor the path: %s", err.message);
}

int main(void) {
        test_require_root();
        long abi = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1);
        if (abi < 1)
                test_skip_all("Landlock is not usable in this kernel: %s", strerror(errno));
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_landlock_exec_apply_confines, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_landlock_exec_abi1_confines, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_landlock_exec_missing_file_refused_at_start, fixture_setup,
                                                fixture_teardown),
                cmocka_unit_test_setup_teardown(test_landlock_exec_file_gone_refused, fixture_setup, fixture_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
