/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The apparmor plugin through the real manager: the plan lists every rule
 * (the dry run) under the profile directory's lock; start writes the
 * profile; attaching a VFIO device adds its group and the container, and
 * no other group; detach takes them away; hotplug-vfio grants the
 * container from the start; stop removes the profile; all of it again
 * with helper=, bulwark-aa-helper making the changes.  Needs
 * apparmor_parser (profiles are compiled), not AppArmor in the kernel. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "guest-parse.h"
#include "manager.h"
#include "manager-fixture.h"
#include "test-util.h"

typedef struct Fixture {
        ManagerFixture *mf;
        char *sysfs;               /* PCI device 0000:01:00.0 in IOMMU group 12 */
        char *profiles;
        BwManager *m;
} Fixture;

/* helper: NULL, or the program the plugin's helper= names. */
static int setup_with(void **state, const char *helper) {
        Fixture *f = g_new0(Fixture, 1);
        f->mf = manager_fixture_new("aa-plugin");
        f->sysfs = g_build_filename(f->mf->dir, "sys", NULL);
        f->profiles = g_build_filename(f->mf->dir, "profiles", NULL);
        g_autofree char *dev = g_build_filename(f->sysfs, "bus/pci/devices/0000:01:00.0", NULL);
        g_autofree char *link = g_build_filename(dev, "iommu_group", NULL);
        assert_int_equal(g_mkdir_with_parents(dev, 0755), 0);
        assert_int_equal(symlink("../../../../kernel/iommu_groups/12", link), 0);
        assert_int_equal(g_mkdir_with_parents(f->profiles, 0755), 0);
        g_autofree char *aa = test_builddir_path("security/apparmor/.libs");
        char *dirs = g_strdup_printf("%s:%s", f->mf->plugin_dir, aa);
        g_free(f->mf->plugin_dir);
        f->mf->plugin_dir = dirs;
        g_autofree char *tpl = test_srcdir_path("policy/apparmor/TEMPLATE.guest");
        g_autofree char *inc = test_srcdir_path("policy/apparmor");
        g_autofree char *with = helper ? g_strdup_printf("helper=%s\n", helper) : g_strdup("");
        g_autofree char *extra = g_strdup_printf("[plugin:apparmor]\nprofile-dir=%s\ntemplate=%s\ninclude-dir=%s\n%s",
                                                 f->profiles, tpl, inc, with);
        f->m = manager_fixture_manager(f->mf, "apparmor", extra);
        if (helper) {
                /* The helper finds the same configuration and plugin. */
                g_autofree char *conf = g_build_filename(f->mf->dir, "bulwark.conf", NULL);
                g_setenv("BULWARK_CONFIG", conf, TRUE);
                g_setenv("BULWARK_PLUGIN_DIR", f->mf->plugin_dir, TRUE);
        }
        *state = f;
        return 0;
}

static int setup(void **state) {
        return setup_with(state, NULL);
}

static int setup_helper(void **state) {
        g_autofree char *bin = test_builddir_path("bulwark-aa-helper");
        return setup_with(state, bin);
}

/* A helper that exits without reading its input. */
static int setup_helper_false(void **state) {
        return setup_with(state, "/bin/false");
}

static int teardown(void **state) {
        Fixture *f = *state;
        bw_manager_free(f->m);
        manager_fixture_free(f->mf);
        g_unsetenv("BULWARK_CONFIG");
        g_free(f->sysfs);
        g_free(f->profiles);
        g_free(f);
        return 0;
}

static BwGuest *guest_vm(Fixture *f, bool hotplug) {
        g_autofree char *text = g_strdup_printf("[guest]\nname=vm\nuuid=9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d\n"
                                                "user=0\ngroup=0\nhotplug-vfio=%s\n[disk:d1]\npath=%s/d1 *.img\n",
                                                hotplug ? "true" : "false", f->mf->dir);
        g_autofree char *img = g_strdup_printf("%s/d1 *.img", f->mf->dir);
        BwGuest *g = NULL;
        BwError err = {};
        assert_true(g_file_set_contents(img, "raw", -1, NULL));
        if (bw_guest_load_data(text, strlen(text), "vm.guest", &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        return g;
}

static char *files_text(Fixture *f) {
        g_autofree char *p = g_build_filename(f->profiles, "bulwark-9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.files", NULL);
        char *text = NULL;
        return g_file_get_contents(p, &text, NULL, NULL) ? text : NULL;
}

static void test_plugin_plan_lists_rules(void **state) {
        Fixture *f = *state;
        g_autoptr(BwGuest) g = guest_vm(f, false);
        BwPlan *plan = NULL;
        BwPlanChange c;
        BwError err = {};

        if (bw_manager_plan(f->m, g, &plan, &err) < 0)
                fail_msg("plan: %s", err.message);
        assert_int_equal(bw_plan_count(plan), 2);
        assert_int_equal(bw_plan_change(plan, 0, &c), 0);
        assert_string_equal(c.kind, "profile-rules");
        assert_string_equal(c.resource, "disk:d1");
        assert_string_equal(c.lock_path, f->profiles);
        g_autofree char *rule = g_strdup_printf("\"%s/d1\\040\\052.img\" rwk,", f->mf->dir);
        assert_string_equal(c.detail, rule);
        assert_int_equal(bw_plan_change(plan, 1, &c), 0);
        assert_string_equal(c.kind, "profile");
        assert_null(c.resource);
        assert_non_null(strstr(c.detail, "not loaded (AppArmor is not enabled in this kernel)"));
        bw_plan_free(plan);
        assert_int_equal(test_count_entries(f->profiles), 0);
}

static void test_plugin_vfio_attach_detach(void **state) {
        Fixture *f = *state;
        g_autoptr(BwGuest) g = guest_vm(f, false);
        GuestParseOptions o = { .sysfs_root = f->sysfs };
        BwError err = {};

        if (bw_manager_start(f->m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        g_autofree char *before = files_text(f);
        assert_non_null(before);
        assert_null(strstr(before, "/dev/vfio"));

        if (manager_attach_with_options(f->m, "vm", "[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n", &o, &err) < 0)
                fail_msg("attach: %s", err.message);
        g_autofree char *attached = files_text(f);
        assert_non_null(strstr(attached, "# section hostdev:gpu\n  \"/dev/vfio/12\" rw,\n  \"/dev/vfio/vfio\" rw,\n"));
        /* Its own group only: no other group node, no glob. */
        assert_null(strstr(attached, "/dev/vfio/["));
        assert_null(strstr(attached, "/dev/vfio/*"));

        if (bw_manager_detach(f->m, "vm", "hostdev:gpu", &err) < 0)
                fail_msg("detach: %s", err.message);
        g_autofree char *detached = files_text(f);
        assert_null(strstr(detached, "/dev/vfio"));

        if (bw_manager_stop(f->m, "vm", &err) < 0)
                fail_msg("stop: %s", err.message);
        assert_int_equal(test_count_entries(f->profiles), 0);
}

static void test_plugin_hotplug_container_from_start(void **state) {
        Fixture *f = *state;
        g_autoptr(BwGuest) g = guest_vm(f, true);
        BwError err = {};

        if (bw_manager_start(f->m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        g_autofree char *text = files_text(f);
        assert_non_null(strstr(text, "# section guest\n  \"/dev/vfio/vfio\" rw,\n"));
        assert_int_equal(bw_manager_stop(f->m, "vm", &err), 0);
        assert_int_equal(test_count_entries(f->profiles), 0);
}

/* A path the lists refuse fails the plan, naming guest, resource, path. */
static void test_plugin_refused_path(void **state) {
        Fixture *f = *state;
        const char *text = "[guest]\nname=bad\nuser=0\ngroup=0\n[device:mem]\npath=/dev/mem\naccess=rw\n";
        g_autoptr(BwGuest) g = NULL;
        BwPlan *plan = NULL;
        BwError err = {};

        assert_int_equal(bw_guest_load_data(text, strlen(text), "bad.guest", &g, &err), 0);
        assert_int_equal(bw_manager_plan(f->m, g, &plan, &err), -EPERM);
        assert_non_null(strstr(err.message, "path '/dev/mem': refused: '/dev/mem' is never allowed"));
}

/* A helper that fails, or dies before reading, fails the start with its
 * name, and every change is rolled back; this process lives on. */
static void test_plugin_helper_fails(void **state) {
        Fixture *f = *state;
        g_autoptr(BwGuest) g = guest_vm(f, false);
        BwError err = {};

        assert_int_equal(bw_manager_start(f->m, g, &err), -EIO);
        assert_non_null(strstr(err.message, "helper '/bin/false'"));
        assert_int_equal(test_count_entries(f->profiles), 0);
}

int main(void) {
        if (access(APPARMOR_PARSER, X_OK) < 0)
                test_skip_all("%s is not installed (Debian package apparmor)", APPARMOR_PARSER);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_plugin_plan_lists_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_vfio_attach_detach, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_hotplug_container_from_start, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_refused_path, setup, teardown),
                /* The same with helper=: bulwark-aa-helper makes every change. */
                cmocka_unit_test_setup_teardown(test_plugin_vfio_attach_detach, setup_helper, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_hotplug_container_from_start, setup_helper, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_helper_fails, setup_helper_false, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
