/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <glib.h>

#include "manager-fixture.h"
#include "test-util.h"

ManagerFixture *manager_fixture_new(const char *tag) {
        ManagerFixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->dir = test_scratch_new(tag);
        f->markers = g_build_filename(f->dir, "markers", NULL);
        f->state = g_build_filename(f->dir, "state", NULL);
        f->cgroot = g_build_filename(f->dir, "cg", NULL);
        g_autofree char *a = test_builddir_path("tests/plugins/.libs");
        g_autofree char *b = test_builddir_path("plugins/nop/.libs");
        f->plugin_dir = g_strdup_printf("%s:%s", a, b);
        assert_int_equal(mkdir(f->markers, 0700), 0);
        assert_int_equal(mkdir(f->cgroot, 0700), 0);
        return f;
}

void manager_fixture_free(ManagerFixture *f) {
        if (!f)
                return;
        test_scratch_remove(f->dir);
        g_free(f->markers);
        g_free(f->state);
        g_free(f->cgroot);
        g_free(f->plugin_dir);
        free(f->dir);
        free(f);
}

BwManager *manager_fixture_manager(ManagerFixture *f, const char *plugins, const char *extra) {
        g_autofree char *conf = g_strdup_printf("[bulwark]\nlock-timeout=0.3\n[plugin:fake-files]\ndir=%s\n%s",
                                                f->markers, extra ? extra : "");
        g_autofree char *conf_path = test_write_file(f->dir, "bulwark.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = plugins,
                        .state_dir = f->state, .cgroup_root = f->cgroot };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
}

BwGuest *manager_fixture_guest(ManagerFixture *f, const char *name, int n, const char *extra) {
        g_autoptr(GString) text = g_string_new(NULL);
        g_string_printf(text, "[guest]\nname=%s\nuser=0\ngroup=0\n%s", name, extra ? extra : "");
        for (int i = 1; i <= n; i++) {
                g_autofree char *file = g_strdup_printf("%s-d%d.img", name, i);
                g_autofree char *img = test_write_file(f->dir, file, "raw image", -1);
                g_string_append_printf(text, "[disk:%s-d%d]\npath=%s\n", name, i, img);
        }
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_data(text->str, text->len, name, &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        return g;
}

char *manager_fixture_journal(ManagerFixture *f, const char *name) {
        g_autofree char *file = g_strdup_printf("%s.journal", name);
        return g_build_filename(f->state, "guests", file, NULL);
}
