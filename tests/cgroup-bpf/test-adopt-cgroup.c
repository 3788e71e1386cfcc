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
#include <sys/statfs.h>
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
                g_usleep(1000); /* killed processes leave the cgroup asynchronously */
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->scratch = test_scratch_new("adoptcg");
        f->top = g_strdup_printf("%s/bulwark-test-adopt-%d-%u", arg_cg2, (int) getpid(), counter++);
        if (mkdir(f->top, 0755) < 0) {
                fprintf(stderr, "cannot create '%s': %s\n", f->top, strerror(errno));
                return -1;
        }
        f->rules = test_srcdir_path("policy/devices/default.rules");
        f->plugin_dir = test_builddir_path("plugins/cgroup-bpf/.libs");
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
        free(f->scratch);
        free(f);
        return 0;
}

/* A manager ("a daemon") whose state is <scratch>/state and whose cgroup
 * root is our child of the cgroup2 root. */
static BwManager *daemon_new(Fixture *f) {
        g_autofree char *state = g_build_filename(f->scratch, "state", NULL);
        g_autofree char *conf = g_strdup_printf("[plugin:cgroup-bpf]\ndefault-rules=%s\n", f->rules);
        g_autofree char *conf_path = test_write_file(f->scratch, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "cgroup-bpf",
                        .state_dir = state, .cgroup_root = f->top };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
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
        Fixture *f = *state;
        BwManager *m = daemon_new(f);
        BwAdoptReport *report = NULL;
        BwAdoptGuest g;
        BwAdoptPlugin p;
        BwError err = {};
        g_autofree char *cgroup = g_build_filename(f->top, "bulwark", "cg-vm", NULL);

        start_guest(m, "cg-vm");
        assert_true(is_cgroup2(cgroup));
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

static void require_cgroup_bpf(void) {
        g_autofree char *plugins = test_builddir_path("plugins/cgroup-bpf/.libs");
        char *scratch = test_scratch_new("adoptcg-probe");
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
                test_skip_all("cgroup-bpf is not usable here: %s", reason);
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
                cmocka_unit_test_setup_teardown(test_adopt_finds_program_then_lost, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
