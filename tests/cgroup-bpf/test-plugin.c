/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin module through its ABI on the real kernel: a guest's start
 * (cgroup, program, device rules), stop, resources attached to and
 * detached from a running guest with a node shared by two of them,
 * missing nodes, adoption by a new instance, and the unsupported-kernel
 * opt-out. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>

#include "cgtest.h"
#include "plugin-host.h"
#include "test-util.h"

typedef struct Fixture {
        char *root;                /* a test cgroup, used as the plugin's cgroup root */
        char *guest_cgroup;        /* <root>/bulwark/demo */
        char *scratch;
        char *rules;
        char *node_a, *node_shared, *node_missing;
        char *config[4];
        BwResource res[3];
        const BwResource *res_ptrs[3];  /* what guest.resources points to */
        const char *paths[3][1];
        BwPathRole roles[1];
        BwGuestInfo guest;
} Fixture;

static char *arg_root;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->root = cgtest_create(arg_root, "plugin");
        f->scratch = test_scratch_new("plugin");
        f->rules = test_srcdir_path("policy/devices/default.rules");
        assert_true(asprintf(&f->guest_cgroup, "%s/bulwark/demo", f->root) > 0);
        assert_true(asprintf(&f->config[0], "cgroup-root=%s", f->root) > 0);
        assert_true(asprintf(&f->config[1], "default-rules=%s", f->rules) > 0);
        f->node_a = cgtest_node(f->scratch, "a", false, 240, 1);
        f->node_shared = cgtest_node(f->scratch, "shared", false, 240, 2);
        assert_true(asprintf(&f->node_missing, "%s/missing", f->scratch) > 0);
        f->roles[0] = BW_PATH_DEVICE_NODE;
        const char *nodes[3] = { f->node_a, f->node_shared, f->node_shared };
        const char *ids[3] = { "a", "s1", "s2" };
        for (int i = 0; i < 3; i++) {
                f->paths[i][0] = nodes[i];
                f->res_ptrs[i] = &f->res[i];
                f->res[i] = (BwResource) { .size = sizeof(BwResource), .type = BW_RESOURCE_DEVICE, .id = ids[i], .path = nodes[i],
                                           .access = BW_ACCESS_READ | BW_ACCESS_WRITE, .n_paths = 1,
                                           .paths = f->paths[i], .roles = f->roles };
        }
        f->guest = (BwGuestInfo) { .size = sizeof(BwGuestInfo), .name = "demo", .uuid = "00000000-0000-0000-0000-000000000000",
                                   .cgroup = f->guest_cgroup, .cgroup_given = false, .n_resources = 1,
                                   .resources = f->res_ptrs };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cgtest_remove(f->root);
        test_scratch_remove(f->scratch);
        free(f->root);
        free(f->guest_cgroup);
        free(f->scratch);
        free(f->rules);
        free(f->node_a);
        free(f->node_shared);
        free(f->node_missing);
        for (int i = 0; i < 4; i++)
                free(f->config[i]);
        free(f);
        return 0;
}

static void open_host(Fixture *f, PluginHost *h) {
        const char *config[] = { f->config[0], f->config[1], f->config[2], NULL };
        assert_int_equal(plugin_host_open(h, config), 0);
}

static bool allowed(int result) {
        return result == 0 || result == ENXIO;
}

static void test_plugin_start_and_stop(void **state) {
        Fixture *f = *state;
        PluginHost h;
        char bulwark_dir[4096];

        open_host(f, &h);
        snprintf(bulwark_dir, sizeof(bulwark_dir), "%s/bulwark", f->root);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        /* Plan changed nothing. */
        assert_int_equal(access(bulwark_dir, F_OK), -1);
        assert_int_equal(h.n_changes, 3);
        assert_string_equal(h.changes[0].kind, "cgroup");
        assert_string_equal(h.changes[1].kind, "device-program");
        assert_string_equal(h.changes[2].kind, "device-rule");
        assert_string_equal(h.changes[2].object, f->node_a);
        assert_string_equal(h.changes[2].detail, "allow c 240:1 rw");

        assert_int_equal(plugin_host_apply(&h, &f->guest, 0), 0);
        assert_int_equal(cgtest_prog_count(f->guest_cgroup), 1);
        assert_int_equal(cgtest_open(f->guest_cgroup, "/dev/null", O_RDWR), 0);        /* default list */
        assert_true(allowed(cgtest_open(f->guest_cgroup, f->node_a, O_RDWR)));        /* its device */
        assert_int_equal(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY), EPERM); /* not given */
        if (access("/dev/loop0", F_OK) == 0)
                assert_int_equal(cgtest_open(f->guest_cgroup, "/dev/loop0", O_RDONLY), EPERM);
        /* Adoption by a fresh instance (a daemon restart). */
        PluginHost h2;
        open_host(f, &h2);
        assert_int_equal(h2.entry->adopt(h2.state, &f->guest), 0);
        plugin_host_close(&h2);

        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, true), 0);
        assert_int_equal(access(f->guest_cgroup, F_OK), -1);
        /* Undo again: harmless. */
        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, true), 0);
        assert_int_equal(h.entry->release(h.state, &f->guest), 0);
        assert_int_equal(h.entry->adopt(h.state, &f->guest), -ENOENT);
        plugin_host_close(&h);
}

static void test_plugin_given_cgroup_is_kept(void **state) {
        Fixture *f = *state;
        PluginHost h;
        char *given = cgtest_create(f->root, "given");

        f->guest.cgroup = given;
        f->guest.cgroup_given = true;
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_int_equal(h.n_changes, 2);
        assert_int_equal(plugin_host_apply(&h, &f->guest, 0), 0);
        assert_int_equal(cgtest_open(given, "/dev/zero", O_RDONLY), 0);
        /* Crash after apply: undo without records. */
        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, false), 0);
        assert_int_equal(cgtest_prog_count(given), 0);
        assert_int_equal(access(given, F_OK), 0);
        plugin_host_close(&h);
        f->guest.cgroup = f->guest_cgroup;
        f->guest.cgroup_given = false;
        free(given);
}

static void test_plugin_missing_node_fails_at_apply(void **state) {
        Fixture *f = *state;
        PluginHost h;
        const char *missing[1] = { f->node_missing };
        BwResource res = f->res[0];

        res.id = "gone";
        res.path = f->node_missing;
        res.paths = missing;
        const BwResource *one[1] = { &res };
        f->guest.resources = one;
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_non_null(strstr(h.changes[2].detail, "not present now"));
        assert_int_equal(plugin_host_apply(&h, &f->guest, 0), -ENOENT);
        assert_non_null(strstr(h.last_error, "device 'gone': device node '"));
        assert_non_null(strstr(h.last_error, "missing': No such file or directory"));
        /* Roll back what was applied. */
        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, true), 0);
        assert_int_equal(access(f->guest_cgroup, F_OK), -1);
        plugin_host_close(&h);
        f->guest.resources = f->res_ptrs;
}

/* Two resources share one node (as two VFIO devices share /dev/vfio/vfio):
 * it stays allowed until the last one is detached. */
static void test_plugin_attach_detach_shared_node(void **state) {
        Fixture *f = *state;
        PluginHost h;
        size_t start;

        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_int_equal(plugin_host_apply(&h, &f->guest, 0), 0);
        assert_int_equal(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY), EPERM);

        f->guest.n_resources = 2;                        /* attach s1 */
        start = h.n_changes;
        assert_int_equal(plugin_host_attach(&h, &f->guest, &f->res[1], false), 0);
        assert_int_equal(plugin_host_apply(&h, &f->guest, start), 0);
        assert_true(allowed(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY)));
        f->guest.n_resources = 3;                        /* attach s2 */
        start = h.n_changes;
        assert_int_equal(plugin_host_attach(&h, &f->guest, &f->res[2], false), 0);
        assert_int_equal(plugin_host_apply(&h, &f->guest, start), 0);

        start = h.n_changes;                             /* detach s1: s2 still needs it */
        assert_int_equal(plugin_host_attach(&h, &f->guest, &f->res[1], true), 0);
        assert_int_equal(h.n_changes - start, 1);
        assert_int_equal(plugin_host_apply(&h, &f->guest, start), 0);
        assert_true(allowed(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY)));
        /* The guest no longer lists s1 (the core drops it after detach). */
        BwResource now[2] = { f->res[0], f->res[2] };
        const BwResource *now_ptrs[2] = { &now[0], &now[1] };
        f->guest.resources = now_ptrs;
        f->guest.n_resources = 2;
        start = h.n_changes;                             /* detach s2: last user */
        assert_int_equal(plugin_host_attach(&h, &f->guest, &now[1], true), 0);
        assert_int_equal(plugin_host_apply(&h, &f->guest, start), 0);
        assert_int_equal(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY), EPERM);
        /* Undoing that detach gives it back. */
        assert_int_equal(plugin_host_undo(&h, &f->guest, start, true), 0);
        assert_true(allowed(cgtest_open(f->guest_cgroup, f->node_shared, O_RDONLY)));
        plugin_host_truncate(&h, start); /* forget the undone changes */
        /* Stop: everything undone, release. */
        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, true), 0);
        assert_int_equal(h.entry->release(h.state, &f->guest), 0);
        assert_int_equal(access(f->guest_cgroup, F_OK), -1);
        f->guest.resources = f->res_ptrs;
        f->guest.n_resources = 1;
        plugin_host_close(&h);
}

/* VFIO: the group node comes from sysfs; the container node is planned
 * once per VFIO device and once for hotplug-vfio (reference counted). */
static void test_plugin_vfio_nodes(void **state) {
        Fixture *f = *state;
        PluginHost h;
        BwResource gpu = { .size = sizeof(BwResource), .type = BW_RESOURCE_HOSTDEV, .id = "gpu", .hostdev_type = BW_HOSTDEV_VFIO_PCI,
                           .pci_address = "0000:ff:1f.7" };

        const BwResource *gpu_ptr[1] = { &gpu };
        f->guest.resources = gpu_ptr;
        f->guest.hotplug_vfio = true;
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_int_equal(h.n_changes, 5);
        assert_string_equal(h.changes[2].object, "/dev/vfio/vfio");       /* hotplug-vfio */
        assert_string_equal(h.changes[3].object, "/dev/vfio/<group of PCI 0000:ff:1f.7>");
        assert_string_equal(h.changes[4].object, "/dev/vfio/vfio");       /* the device's share */
        plugin_host_close(&h);

        f->guest.hotplug_vfio = false;
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_int_equal(h.n_changes, 4);
        assert_int_equal(plugin_host_apply(&h, &f->guest, 0), -ENOENT);
        assert_non_null(strstr(h.last_error, "hostdev 'gpu': PCI device '0000:ff:1f.7': no IOMMU group"));
        assert_int_equal(plugin_host_undo(&h, &f->guest, 0, true), 0);
        assert_int_equal(access(f->guest_cgroup, F_OK), -1);
        plugin_host_close(&h);
        f->guest.resources = f->res_ptrs;
}

static void test_plugin_unsupported_refused_unless_opted_out(void **state) {
        Fixture *f = *state;
        PluginHost h;

        /* A cgroup root that is not cgroup2 stands in for a kernel without support. */
        free(f->config[0]);
        assert_true(asprintf(&f->config[0], "cgroup-root=%s", f->scratch) > 0);
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), -ENOTDIR);
        assert_non_null(strstr(h.last_error, "guest 'demo': cannot confine devices"));
        assert_non_null(strstr(h.last_error, "allow-unsupported=true"));
        plugin_host_close(&h);

        f->config[2] = strdup("allow-unsupported=true");
        open_host(f, &h);
        assert_int_equal(plugin_host_plan(&h, &f->guest), 0);
        assert_int_equal(h.n_changes, 0);
        assert_non_null(strstr(h.last_warning, "no device confinement"));
        plugin_host_close(&h);

        /* Bad configuration values are refused at init. */
        const char *bad[] = { "log-ring-size=1000", NULL };
        assert_int_equal(plugin_host_open(&h, bad), -EINVAL);
        assert_non_null(strstr(h.last_error, "log-ring-size='1000'"));
        dlclose(h.dl);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_plugin_start_and_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_given_cgroup_is_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_missing_node_fails_at_apply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_attach_detach_shared_node, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_vfio_nodes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plugin_unsupported_refused_unless_opted_out, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
