/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader: every rejection, with real small .so files. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        int r = plugin_load(path, NULL, NULL, &p, &err);
        if (r != code || !strstr(err.message, fragment) || !strstr(err.message, path))
                fail_msg("%s: got %d '%s', expected %d with '%s'", name, r, err.message, code, fragment);
        assert_null(p);
}

static void test_plugin_load_missing_file(void **state) {
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load("/nonexistent/x.so", NULL, NULL, &p, &err), -ENOENT);
        assert_non_null(strstr(err.message, "'/nonexistent/x.so': cannot load: No such file"));
}

static void test_plugin_load_not_a_library(void **state) {
        char *dir = test_scratch_new("loader");
        char *path = test_write_file(dir, "junk.so", "not an ELF file", -1);
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, NULL, NULL, &p, &err), -ELIBBAD);
        assert_non_null(strstr(err.message, "cannot load"));
        test_scratch_remove(dir);
        free(path);
        free(dir);
}

static void test_plugin_load_missing_symbol(void **state) {
        expect_rejected("no-entry", -ELIBBAD, "does not export 'bw_plugin_entry'");
}

static void test_plugin_load_other_abi_major(void **state) {
        expect_rejected("bad-abi", -EPROTO, "ABI major version 100, this bulwark speaks 2");
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
        assert_int_equal(plugin_load(path, "wrong-name", NULL, &p, &err), -EPROTO);
        assert_non_null(strstr(err.message, "declares the name 'someone-else', but was loaded as 'wrong-name'"));
}

/* Operations past struct_size are absent even though the table has them. */
static void test_plugin_load_old_minor_covers_less(void **state) {
        g_autofree char *path = test_plugin("old-minor");
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(path, NULL, NULL, &p, &err), 0);
        assert_non_null(p->ops.plan);
        assert_null(p->ops.apply);
        assert_null(p->ops.adopt);
        assert_int_equal(plugin_init(p, NULL, &err), 0);

        BwChange c = { .size = sizeof(c), .kind = "note", .object = "x" };
        BwApplyContext ctx = { .size = sizeof(ctx) };
        uint8_t undo[16];
        size_t undo_len = 99;
        BwGuestInfo g = { .size = sizeof(g), .name = "g" };
        assert_int_equal(plugin_apply(p, &g, &c, &ctx, undo, sizeof(undo), &undo_len, &err), -EOPNOTSUPP);
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
        assert_int_equal(plugin_load(path, "nop", NULL, &p, &err), 0);
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
        static uint8_t big[BW_RECORD_DEFAULT + 1];
        BwChange ok = { .size = sizeof(ok), .kind = "k", .object = "/o", .lock_path = "/o", .resource = "disk:a",
                        .flags = BW_CHANGE_LOCK_SHARED };
        BwChange no_kind = { .size = sizeof(ok), .object = "/o" };
        BwChange relative_lock = { .size = sizeof(ok), .kind = "k", .object = "o", .lock_path = "o" };
        BwChange too_big = { .size = sizeof(ok), .kind = "k", .object = "/o", .data = big, .data_len = sizeof(big) };
        BwChange unsized = { .kind = "k", .object = "/o" };
        BwChange bad_flags = { .size = sizeof(ok), .kind = "k", .object = "/o", .flags = 1u << 31 };
        assert_int_equal(sink.sink.emit(&sink.sink, &ok), 0);
        assert_int_equal(sink.sink.emit(&sink.sink, &no_kind), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &relative_lock), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &too_big), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &unsized), -EINVAL);
        assert_int_equal(sink.sink.emit(&sink.sink, &bad_flags), -EINVAL);
        assert_int_equal(bw_plan_count(plan), 1);
        /* The resource and flags reach the public view. */
        BwPlanChange c;
        assert_int_equal(bw_plan_change(plan, 0, &c), 0);
        assert_string_equal(c.resource, "disk:a");
        assert_int_equal(c.flags, BW_CHANGE_LOCK_SHARED);
        bw_plan_free(plan);
}

/* ---- ABI 2 ------------------------------------------------------------- */

static void test_plugin_load_abi_1_refused(void **state) {
        expect_rejected("old-abi", -EPROTO,
                        "ABI major version 1, this bulwark speaks 2 (rebuild the plugin against this bulwark's <bulwark/plugin.h>)");
}

static void test_plugin_load_record_max_limit(void **state) {
        expect_rejected("big-record", -EPROTO, "record_max of 1048577 bytes is larger than the limit of 1048576 bytes");
}

static void test_plugin_record_max_default(void **state) {
        g_autofree char *path = test_plugin("bad-abi");
        g_autofree char *small = test_plugin("small-record");
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(plugin_load(small, NULL, NULL, &p, &err), 0);
        assert_int_equal(p->record_max, 64);
        plugin_free(p);
        g_autofree char *nop = test_builddir_path("plugins/nop/.libs/nop.so");
        assert_int_equal(plugin_load(nop, NULL, NULL, &p, &err), 0);
        assert_int_equal(p->record_max, BW_RECORD_DEFAULT);
        plugin_free(p);
}

/* A FIFO never blocks the loader: refused by what it is. */
static void test_plugin_load_fifo_refused(void **state) {
        char *dir = test_scratch_new("loader");
        g_autofree char *fifo = g_build_filename(dir, "fifo.so", NULL);
        Plugin *p = NULL;
        BwError err = {};
        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(10); /* the old loader blocked in open() forever */
        assert_int_equal(plugin_load(fifo, NULL, NULL, &p, &err), -ELIBBAD);
        alarm(0);
        assert_non_null(strstr(err.message, "not a regular file"));
        assert_non_null(strstr(err.message, fifo));
        assert_null(p);
        test_scratch_remove(dir);
        free(dir);
}

/* Loads a test plugin, inits it and plans a guest through the core's sink. */
static int plan_with(const char *name, char **ret_message) {
        g_autofree char *path = test_plugin(name);
        g_autoptr(Plugin) p = NULL;
        g_autoptr(BwPlan) plan = plan_new();
        BwGuestInfo g = { .size = sizeof(g), .name = "g" };
        BwError err = {};
        PlanSink sink;
        assert_int_equal(plugin_load(path, NULL, NULL, &p, &err), 0);
        assert_int_equal(plugin_init(p, NULL, &err), 0);
        plan_sink_init(&sink, plan, p);
        int r = plugin_plan(p, &g, &sink.sink, &err);
        *ret_message = g_strdup(err.message);
        return r;
}

static void expect_plan_refused(const char *name, const char *fragment) {
        g_autofree char *msg = NULL;
        int r = plan_with(name, &msg);
        if (r != -EINVAL || !strstr(msg, fragment) || !strstr(msg, "plugin 'bad'"))
                fail_msg("%s: got %d '%s', expected -EINVAL with '%s'", name, r, msg, fragment);
}

static void test_plan_refuses_small_change(void **state) {
        g_autofree char *expected = g_strdup_printf("BwChange of %zu bytes, smaller than the %zu bytes of ABI 2.0",
                                                    offsetof(BwChange, resource), (size_t) BW_CHANGE_SIZE_MIN);
        expect_plan_refused("small-change", expected);
}

static void test_plan_refuses_data_over_record_max(void **state) {
        expect_plan_refused("small-record", "change note 'g': data of 100 bytes (the plugin's record_max is 64)");
}

static void test_plan_refuses_labels_without_lock(void **state) {
        expect_plan_refused("labels-no-lock",
                            "change note 'g' has no lock path (a LABELS_PATHS plugin locks every change)");
}

/* Nothing but the probe ever runs on a plugin whose init never ran. */
static void test_uninitialized_plugin_never_called(void **state) {
        char *dir = test_scratch_new("loader");
        g_autofree char *log = g_build_filename(dir, "calls", NULL);
        g_autofree char *path = test_plugin("probe-fails");
        Plugin *p = NULL;
        BwError err = {};
        BwGuestInfo g = { .size = sizeof(g), .name = "g" };
        BwResource res = { .size = sizeof(res), .type = BW_RESOURCE_DISK, .id = "a" };
        BwChange c = { .size = sizeof(c), .kind = "k", .object = "/o" };
        BwApplyContext ctx = { .size = sizeof(ctx) };
        g_autoptr(BwPlan) plan = plan_new();
        PlanSink sink;
        uint8_t undo[16];
        size_t undo_len;

        g_setenv("BW_PROBE_FAILS_LOG", log, TRUE);
        assert_int_equal(plugin_load(path, NULL, NULL, &p, &err), 0);
        assert_int_equal(p->probe_result, -ENODEV);
        plan_sink_init(&sink, plan, p);
        assert_int_equal(plugin_plan(p, &g, &sink.sink, &err), 0);
        assert_int_equal(plugin_attach(p, &g, &res, &sink.sink, &err), 0);
        assert_int_equal(plugin_detach(p, &g, &res, &sink.sink, &err), 0);
        assert_int_equal(plugin_adopt(p, &g, &err), 0);
        assert_int_equal(plugin_release(p, &g, &err), 0);
        assert_int_equal(plugin_apply(p, &g, &c, &ctx, undo, sizeof(undo), &undo_len, &err), -ENODEV);
        assert_non_null(strstr(err.message, "plugin 'probe-fails': k '/o': the plugin is not initialized"));
        assert_int_equal(plugin_undo(p, &g, &c, &ctx, NULL, 0, &err), -ENODEV);
        plugin_free(p);
        g_unsetenv("BW_PROBE_FAILS_LOG");
        assert_int_equal(access(log, F_OK), -1); /* not one operation was called */
        test_scratch_remove(dir);
        free(dir);
}

/* A key of [plugin:NAME] the plugin does not declare is an error. */
static void test_plugins_load_all_unknown_key(void **state) {
        char *dir = test_scratch_new("loader");
        g_autofree char *conf = test_write_file(dir, "bulwark.conf",
                                                "[plugin:fake-files]\ndir=/x\ndri=/y\nallow-unsupported=false\n", -1);
        g_autofree char *plugins = test_builddir_path("tests/plugins/.libs");
        BwOptions o = { .config_path = conf, .plugin_dir = plugins, .plugins = "fake-files" };
        Settings *s = NULL;
        GPtrArray *list = NULL;
        BwError err = {};
        assert_int_equal(settings_load(&o, &s, &err), 0);
        assert_int_equal(plugins_load_all(s, &list, &err), -EINVAL);
        g_autofree char *expected = g_strdup_printf("configuration '%s': [plugin:fake-files] unknown key 'dri'", conf);
        if (!strstr(err.message, expected))
                fail_msg("'%s' does not contain '%s'", err.message, expected);
        settings_free(s);
        test_scratch_remove(dir);
        free(dir);
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
                cmocka_unit_test(test_plugin_load_abi_1_refused),
                cmocka_unit_test(test_plugin_load_record_max_limit),
                cmocka_unit_test(test_plugin_record_max_default),
                cmocka_unit_test(test_plugin_load_fifo_refused),
                cmocka_unit_test(test_plan_refuses_small_change),
                cmocka_unit_test(test_plan_refuses_data_over_record_max),
                cmocka_unit_test(test_plan_refuses_labels_without_lock),
                cmocka_unit_test(test_uninitialized_plugin_never_called),
                cmocka_unit_test(test_plugins_load_all_unknown_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
