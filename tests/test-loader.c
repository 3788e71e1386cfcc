/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader: every rejection, with real small .so files. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plugin-loader.h"
#include "test-util.h"

static char *test_plugin(const char *name) {
        char rel[256];
        snprintf(rel, sizeof(rel), "tests/plugins/.libs/%s.so", name);
        return test_builddir_path(rel);
}

static void expect_rejected(const char *name, int code, const char *fragment) {
        g_autofree char *path = test_plugin(name);
        Plugin *p = NULL;
        BwError err = {};
        int r = plugin_load(path, NULL, &p, &err);
        if (r != code || !strstr(err.message, fragment) || !strstr(err.message, path))
                fail_msg("%s: got %d '%s', expected %d with '%s'", name, r, err.message, code, fragment);
        assert_null(p);
}

static void test_plugin_load_missing_file(void **state) {
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load("/nonexistent/x.so", NULL, &p, &err), -ENOENT);
        assert_non_null(strstr(err.message, "'/nonexistent/x.so': cannot load: No such file"));
}

static void test_plugin_load_not_a_library(void **state) {
        char *dir = test_scratch_new("loader");
        char *path = test_write_file(dir, "junk.so", "not an ELF file", -1);
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, NULL, &p, &err), -ELIBBAD);
        assert_non_null(strstr(err.message, "cannot load"));
        test_scratch_remove(dir);
        free(path);
        free(dir);
}

static void test_plugin_load_missing_symbol(void **state) {
        expect_rejected("no-entry", -ELIBBAD, "does not export 'bw_plugin_entry'");
}

static void test_plugin_load_other_abi_major(void **state) {
        expect_rejected("bad-abi", -EPROTO, "ABI major version 99, this bulwark speaks 1");
}

static void test_plugin_load_unknown_flags(void **state) {
        expect_rejected("bad-flags", -EPROTO, "unknown flags 0x40000000");
}

static void test_plugin_load_small_struct(void **state) {
        expect_rejected("bad-size", -EPROTO, "entry table of 8 bytes is smaller than its fixed head");
}

static void test_plugin_load_bad_name(void **state) {
        expect_rejected("bad-name", -EPROTO, "name 'Bad Name!' is not 1-32 characters");
}

static void test_plugin_load_wrong_name(void **state) {
        g_autofree char *path = test_plugin("wrong-name");
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, "wrong-name", &p, &err), -EPROTO);
        assert_non_null(strstr(err.message, "declares the name 'someone-else', but was loaded as 'wrong-name'"));
}

/* Operations past struct_size are absent even though the table has them. */
static void test_plugin_load_old_minor_covers_less(void **state) {
        g_autofree char *path = test_plugin("old-minor");
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, NULL, &p, &err), 0);
        assert_non_null(p->ops.plan);
        assert_null(p->ops.apply);
        assert_null(p->ops.adopt);
        assert_int_equal(plugin_init(p, NULL, &err), 0);

        BwChange c = { .kind = "note", .object = "x" };
        uint8_t undo[16];
        size_t undo_len = 99;
        BwGuestInfo g = { .name = "g" };
        assert_int_equal(plugin_apply(p, &g, &c, undo, sizeof(undo), &undo_len, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "plugin 'old-minor': apply: operation not provided"));
        assert_int_equal(undo_len, 0);
        /* Absent adopt/release mean "nothing to do". */
        assert_int_equal(plugin_adopt(p, &g, &err), 0);
        assert_int_equal(plugin_release(p, &g, &err), 0);
        /* The probe is absent too: usable, with a reason saying so. */
        assert_int_equal(p->probe_result, 0);
        assert_string_equal(p->probe_reason, "plugin has no probe");
        plugin_free(p);
}

static void test_plugin_load_nop(void **state) {
        g_autofree char *path = test_builddir_path("plugins/nop/.libs/nop.so");
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, "nop", &p, &err), 0);
        assert_string_equal(p->name, "nop");
        assert_int_equal(p->probe_result, 0);
        assert_string_equal(p->probe_reason, "always usable: changes nothing");
        plugin_free(p);
}

static void test_plugins_load_all_duplicates(void **state) {
        g_autofree char *dir = test_builddir_path("plugins/nop/.libs");
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = dir, .plugins = "nop, nop" };
        Settings *s = NULL;
        GPtrArray *list = NULL;
        BwError err = {};
        assert_int_equal(settings_load(&o, &s, &err), 0);
        assert_int_equal(plugins_load_all(s, &list, &err), -EEXIST);
        assert_string_equal(err.message, "plugin 'nop': listed twice in the plugin list");
        settings_free(s);
}

static void test_plugins_load_all_not_found(void **state) {
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = "/nonexistent/a:/nonexistent/b",
                        .plugins = "nop,missing" };
        Settings *s = NULL;
        GPtrArray *list = NULL;
        BwError err = {};
        assert_int_equal(settings_load(&o, &s, &err), 0);
        assert_int_equal(plugins_load_all(s, &list, &err), -ENOENT);
        assert_string_equal(err.message,
                            "plugin 'nop': no nop.so in the plugin directories '/nonexistent/a:/nonexistent/b'");
        settings_free(s);
}

/* A plan's changes are copied: the plugin's buffers may be gone. */
static void test_plan_sink_validates(void **state) {
        BwPlan *plan = plan_new();
        PlanSink sink;
        plan_sink_init(&sink, plan, NULL);
        static uint8_t big[BW_CHANGE_DATA_MAX + 1];
        BwChange ok = { .kind = "k", .object = "/o", .lock_path = "/o" };
        BwChange no_kind = { .object = "/o" };
        BwChange relative_lock = { .kind = "k", .object = "o", .lock_path = "o" };
        BwChange too_big = { .kind = "k", .object = "/o", .data = big, .data_len = sizeof(big) };
        assert_int_equal(sink.sink.emit(&sink.sink, &ok), 0);
        assert_int_equal(sink.sink.emit(&sink.sink, &no_kind), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &relative_lock), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &too_big), -EINVAL);
        assert_int_equal(bw_plan_count(plan), 1);
        bw_plan_free(plan);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plugin_load_missing_file),
                cmocka_unit_test(test_plugin_load_not_a_library),
                cmocka_unit_test(test_plugin_load_missing_symbol),
                cmocka_unit_test(test_plugin_load_other_abi_major),
                cmocka_unit_test(test_plugin_load_unknown_flags),
                cmocka_unit_test(test_plugin_load_small_struct),
                cmocka_unit_test(test_plugin_load_bad_name),
                cmocka_unit_test(test_plugin_load_wrong_name),
                cmocka_unit_test(test_plugin_load_old_minor_covers_less),
                cmocka_unit_test(test_plugin_load_nop),
                cmocka_unit_test(test_plugins_load_all_duplicates),
                cmocka_unit_test(test_plugins_load_all_not_found),
                cmocka_unit_test(test_plan_sink_validates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
