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
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "test-util.h"

typedef struct Fixture {
        char *scratch;
        char *top;                 /* our child of the cgroup2 root: the manager's cgroup root */
        char *plugin_dir;
} Fixture;

static char *arg_cg2;

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
        f->scratch = test_scratch_new("mgrforce");
        f->top = g_strdup_printf("%s/bulwark-test-force-%d", arg_cg2, (int) getpid());
        assert_int_equal(mkdir(f->top, 0755), 0);
        f->plugin_dir = test_builddir_path("plugins/cgroup-bpf/.libs");
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cgroup_remove_tree(f->top);
        test_scratch_remove(f->scratch);
        g_free(f->top);
        free(f->plugin_dir);
        free(f->scratch);
        free(f);
        return 0;
}

static BwManager *manager_new(Fixture *f) {
        g_autofree char *rules = test_srcdir_path("policy/devices/default.rules");
        g_autofree char *state = g_build_filename(f->scratch, "state", NULL);
        g_autofree char *conf = g_strdup_printf("[plugin:cgroup-bpf]\ndefault-rules=%s\n", rules);
        g_autofree char *conf_path = test_write_file(f->scratch, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "cgroup-bpf",
                        .state_dir = state, .cgroup_root = f->top };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
}

/* Flips the first payload byte of record 1, the GUEST record. */
static void flip_guest_record(const char *path) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        uint32_t len;
        uint8_t c;
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &len, 4, 8), 4);
        off_t at = 16 + (off_t) len + 16;
        assert_int_equal(pread(fd, &c, 1, at), 1);
        c ^= 0xff;
        assert_int_equal(pwrite(fd, &c, 1, at), 1);
        close(fd);
}

/* The reproduction of issue 14: start, damage the GUEST record, plain
 * recover refuses, --force leaves neither cgroup nor journal behind. */
static void test_force_lost_guest_record_removes_cgroup(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_new(f);
        g_autofree char *img = test_write_file(f->scratch, "hx.img", "raw image", -1);
        g_autofree char *text = g_strdup_printf("[guest]\nname=hx\nuser=0\ngroup=0\n[disk:root]\npath=%s\n", img);
        g_autofree char *cgroup = g_build_filename(f->top, "bulwark", "hx", NULL);
        g_autofree char *journal = g_build_filename(f->scratch, "state", "guests", "hx.journal", NULL);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_data(text, strlen(text), "hx", &g, &err), 0);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_true(g_file_test(cgroup, G_FILE_TEST_IS_DIR));
        flip_guest_record(journal);

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

static void require_cgroup_bpf(void) {
        g_autofree char *plugins = test_builddir_path("plugins/cgroup-bpf/.libs");
        char *scratch = test_scratch_new("mgrforce-probe");
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
                cmocka_unit_test_setup_teardown(test_force_lost_guest_record_removes_cgroup, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
