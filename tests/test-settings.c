/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark.conf: precedence (options, environment, file, defaults) and errors. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"
#include "util/cgroup2-root.h"
#include "test-util.h"

static char *scratch;

static Settings *load_ok(const BwOptions *o) {
        Settings *s = NULL;
        BwError err = {};
        if (settings_load(o, &s, &err) < 0)
                fail_msg("settings_load: %s", err.message);
        return s;
}

static void expect_error(const char *conf, const char *fragment) {
        g_autofree char *path = test_write_file(scratch, "bad.conf", conf, -1);
        BwOptions o = { .config_path = path };
        Settings *s = NULL;
        BwError err = {};
        assert_int_equal(settings_load(&o, &s, &err), -EINVAL);
        if (!strstr(err.message, fragment) || !strstr(err.message, path))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
}

static void test_settings_file_values(void **state) {
        g_autofree char *path = test_write_file(scratch, "a.conf",
                "[bulwark]\nplugins=nop, cgroup-bpf\nplugin-dir=/p1:/p2\nstate-dir=/s\nrun-dir=/r\n"
                "cgroup-root=/cg\nlock-backend=lockd\nlock-timeout=2.5\n"
                "[lockd]\nsocket=/r/l.sock\n[plugin:nop]\ncolour=blue\n", -1);
        BwOptions o = { .config_path = path };
        Settings *s = load_ok(&o);
        assert_string_equal(s->plugins[0], "nop");
        assert_string_equal(s->plugins[1], "cgroup-bpf");
        assert_null(s->plugins[2]);
        assert_string_equal(s->plugin_dirs[1], "/p2");
        assert_string_equal(s->state_dir, "/s");
        assert_string_equal(s->cgroup_root, "/cg");
        assert_int_equal(s->lock_backend, LOCK_BACKEND_LOCKD);
        assert_string_equal(s->lockd_socket, "/r/l.sock");
        assert_int_equal(s->lock_timeout_ms, 2500);
        assert_string_equal(settings_plugin_value(s, "nop", "colour"), "blue");
        assert_null(settings_plugin_value(s, "other", "colour"));
        assert_string_equal(settings_plugin_value(s, "nop", "state-dir"), "/s");
        settings_free(s);
}

static void test_settings_precedence(void **state) {
        g_autofree char *path = test_write_file(scratch, "b.conf", "[bulwark]\nstate-dir=/from-file\nrun-dir=/rf\n", -1);
        BwOptions o = { .config_path = path, .state_dir = "/from-option" };
        setenv("BULWARK_STATE_DIR", "/from-env", 1);
        setenv("BULWARK_RUN_DIR", "/run-env", 1);
        Settings *s = load_ok(&o);
        assert_string_equal(s->state_dir, "/from-option");
        assert_string_equal(s->run_dir, "/run-env");
        /* The default lockd socket follows the run dir. */
        assert_string_equal(s->lockd_socket, "/run-env/lockd.sock");
        settings_free(s);
        o.state_dir = NULL;
        s = load_ok(&o);
        assert_string_equal(s->state_dir, "/from-env");
        settings_free(s);
        unsetenv("BULWARK_STATE_DIR");
        unsetenv("BULWARK_RUN_DIR");
        s = load_ok(&o);
        assert_string_equal(s->state_dir, "/from-file");
        assert_int_equal(s->lock_backend, LOCK_BACKEND_LOCAL);
        assert_int_equal(s->lock_timeout_ms, 60000);
        settings_free(s);
}

static void test_settings_errors(void **state) {
        expect_error("[bulwark]\nplugin=nop\n", "[bulwark] unknown key 'plugin'");
        expect_error("[bulwark]\nstate-dir=relative/dir\n", "path 'relative/dir' is relative");
        expect_error("[bulwark]\nplugin-dir=/ok:rel\n", "plugin directory 'rel' is relative");
        expect_error("[bulwark]\nlock-backend=nfs\n", "lock-backend 'nfs' is neither 'local' nor 'lockd'");
        expect_error("[bulwark]\nlock-timeout=soon\n", "lock-timeout 'soon' is not a number");
        expect_error("[bulwark]\nlock-timeout=-1\n", "lock-timeout '-1' is not a number");
        expect_error("not a keyfile\n", "configuration '");
}

static void test_settings_missing_explicit_file(void **state) {
        BwOptions o = { .config_path = "/nonexistent/bulwark.conf" };
        Settings *s = NULL;
        BwError err = {};
        assert_int_equal(settings_load(&o, &s, &err), -EINVAL);
        assert_non_null(strstr(err.message, "configuration '/nonexistent/bulwark.conf'"));
}

/* A FIFO as the configuration would block the reader forever. */
static void test_settings_fifo_refused(void **state) {
        g_autofree char *fifo = g_build_filename(scratch, "fifo.conf", NULL);
        BwOptions o = { .config_path = fifo };
        Settings *s = NULL;
        BwError err = {};
        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(10); /* the old reader blocked in open() */
        assert_int_equal(settings_load(&o, &s, &err), -EINVAL);
        alarm(0);
        g_autofree char *expected = g_strdup_printf("configuration '%s': not a regular file", fifo);
        assert_string_equal(err.message, expected);
        /* A directory is refused too; /dev/null is an empty configuration. */
        o.config_path = scratch;
        assert_int_equal(settings_load(&o, &s, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a regular file"));
        o.config_path = "/dev/null";
        s = load_ok(&o);
        settings_free(s);
}

/* allow-unsupported is the core's, parsed once and strictly; plugins read
 * the normalized value. */
static void test_settings_allow_unsupported(void **state) {
        expect_error("[plugin:cgroup-bpf]\nallow-unsupported=yes\n",
                     "[plugin:cgroup-bpf] allow-unsupported='yes' is neither 'true' nor 'false'");
        expect_error("[plugin:nop]\nallow-unsupported=\n", "[plugin:nop] allow-unsupported='' is neither");
        g_autofree char *path = test_write_file(scratch, "au.conf",
                                                "[plugin:a]\nallow-unsupported=true\n[plugin:b]\nallow-unsupported=false\n", -1);
        BwOptions o = { .config_path = path };
        Settings *s = load_ok(&o);
        assert_true(settings_plugin_allow_unsupported(s, "a"));
        assert_false(settings_plugin_allow_unsupported(s, "b"));
        assert_false(settings_plugin_allow_unsupported(s, "c"));
        assert_string_equal(settings_plugin_value(s, "a", "allow-unsupported"), "true");
        assert_string_equal(settings_plugin_value(s, "b", "allow-unsupported"), "false");
        assert_string_equal(settings_plugin_value(s, "c", "allow-unsupported"), "false");
        settings_free(s);
}

/* Keys of [plugin:NAME] are the plugin's declared ones or the core's. */
static void test_settings_plugin_keys_strict(void **state) {
        g_autofree char *path = test_write_file(scratch, "keys.conf",
                                                "[plugin:cgroup-bpf]\ndefault-rules=/r\nallow-unsupported=true\n"
                                                "[plugin:nop]\ncolour=blue\n", -1);
        static const char *const cgb_keys[] = { "default-rules", "log-ring-size", NULL };
        BwOptions o = { .config_path = path };
        Settings *s = load_ok(&o);
        BwError err = {};
        assert_int_equal(settings_check_plugin_keys(s, "cgroup-bpf", cgb_keys, &err), 0);
        assert_int_equal(settings_check_plugin_keys(s, "nop", NULL, &err), -EINVAL);
        g_autofree char *expected = g_strdup_printf(
                "configuration '%s': [plugin:nop] unknown key 'colour' (plugin 'nop' knows 'allow-unsupported')", path);
        assert_string_equal(err.message, expected);
        static const char *const typo[] = { "default-rule", NULL };
        assert_int_equal(settings_check_plugin_keys(s, "cgroup-bpf", typo, &err), -EINVAL);
        assert_non_null(strstr(err.message, "[plugin:cgroup-bpf] unknown key 'default-rules' (plugin 'cgroup-bpf' knows 'default-rule', 'allow-unsupported')"));
        settings_free(s);
}

/* The cgroup2 root is found here, once, and is what plugins are told. */
static void test_settings_cgroup_root_discovered_once(void **state) {
        g_autofree char *found = NULL;
        BwOptions o = { .config_path = "/dev/null" };
        unsetenv("BULWARK_CGROUP_ROOT");
        Settings *s = load_ok(&o);
        if (cgroup2_root_discover(&found) < 0)
                assert_null(s->cgroup_root);
        else
                assert_string_equal(s->cgroup_root, found);
        assert_ptr_equal(settings_plugin_value(s, "cgroup-bpf", "cgroup-root"), s->cgroup_root);
        settings_free(s);
        o.cgroup_root = "/configured";
        s = load_ok(&o);
        assert_string_equal(settings_plugin_value(s, "cgroup-bpf", "cgroup-root"), "/configured");
        settings_free(s);
}

int main(void) {
        scratch = test_scratch_new("settings");
        unsetenv("BULWARK_CONFIG");
        unsetenv("BULWARK_PLUGIN_DIR");
        unsetenv("BULWARK_PLUGINS");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_settings_file_values),
                cmocka_unit_test(test_settings_precedence),
                cmocka_unit_test(test_settings_errors),
                cmocka_unit_test(test_settings_missing_explicit_file),
                cmocka_unit_test(test_settings_fifo_refused),
                cmocka_unit_test(test_settings_allow_unsupported),
                cmocka_unit_test(test_settings_plugin_keys_strict),
                cmocka_unit_test(test_settings_cgroup_root_discovered_once),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_scratch_remove(scratch);
        return r;
}
