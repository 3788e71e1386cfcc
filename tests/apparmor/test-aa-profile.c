/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile generation: golden files of a guest with every resource type,
 * each compiled by apparmor_parser -Q -K; the shipped policy compiles;
 * sections set and dropped (VFIO attach and detach); unchanged text is
 * not rewritten; a failing compile keeps the old profile; long names are
 * hashed.  Needs apparmor_parser, not AppArmor in the kernel. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "aa-files.h"
#include "aa-guest-profile.h"
#include "aa-profile.h"
#include "aa-rules.h"
#include "aa-store.h"
#include "aa-test-guest.h"
#include "guest-parse.h"
#include "test-util.h"

typedef struct Fixture {
        char *dir;                 /* the profile directory */
        AaConfig cfg;
} Fixture;

static int setup(void **state) {
        Fixture *f = g_new0(Fixture, 1);
        f->dir = test_scratch_new("aa-profile");
        f->cfg = aa_test_config(f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        test_scratch_remove(f->dir);
        free(f->dir);
        g_free(f);
        return 0;
}

static char *read_file(const char *path) {
        char *text = NULL;
        assert_int_equal(aa_store_read(path, &text, NULL), 0);
        return text;
}

/* Compares `text` (the scratch directory written as @PROFILE_DIR@) with
 * tests/apparmor/golden/NAME; BW_GOLDEN_UPDATE=1 rewrites the file. */
static void golden_check(const Fixture *f, const char *name, const char *text) {
        g_autofree char *rel = g_strdup_printf("tests/apparmor/golden/%s", name);
        g_autofree char *path = test_srcdir_path(rel);
        g_auto(GStrv) parts = g_strsplit(text, f->dir, -1);
        g_autofree char *generic = g_strjoinv("@PROFILE_DIR@", parts);
        g_autofree char *want = NULL;

        if (getenv("BW_GOLDEN_UPDATE"))
                assert_true(g_file_set_contents(path, generic, -1, NULL));
        assert_true(g_file_get_contents(path, &want, NULL, NULL));
        if (strcmp(want, generic) != 0)
                fail_msg("%s differs from the generated text:\n%s", path, generic);
}

static void compile_ok(const Fixture *f, const char *path) {
        g_auto(GStrv) argv = aa_parser_argv_check(&f->cfg.parser, path);
        BwError err = {};
        if (aa_parser_run(argv, path, &err) < 0)
                fail_msg("%s", err.message);
}

/* What the plugin does at start: every resource's section, then the
 * profile with the guest-wide section. */
static void write_guest(const Fixture *f, const BwGuestInfo *g, char **ret_name) {
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, g->uuid);
        BwError err = {};
        for (size_t i = 0; i < g->n_resources; i++) {
                g_autoptr(GString) rules = g_string_new(NULL);
                g_autofree char *ref = aa_rules_resource_ref(g->resources[i]);
                assert_int_equal(aa_rules_resource(g, g->resources[i], rules, &err), 0);
                assert_int_equal(aa_guest_profile_section(&f->cfg, name, ref, rules->str, &err), 0);
        }
        g_autoptr(GString) wide = g_string_new(NULL);
        aa_rules_guest_wide(g, wide);
        if (aa_guest_profile_install(&f->cfg, name, wide->str, &err) < 0)
                fail_msg("%s", err.message);
        *ret_name = g_steal_pointer(&name);
}

static void test_profile_golden_every_resource(void **state) {
        Fixture *f = *state;
        const BwGuestInfo *g = aa_test_guest_every_resource();
        g_autofree char *name = NULL, *files = NULL, *profile = NULL, *written = NULL;
        BwError err = {};

        if (aa_guest_profile_render(&f->cfg, g, &name, &files, &profile, &err) < 0)
                fail_msg("%s", err.message);
        golden_check(f, "every.files", files);
        golden_check(f, "every.profile", profile);
        /* The dry run and the changes write the same text. */
        write_guest(f, g, &written);
        assert_string_equal(written, name);
        g_autofree char *path = aa_guest_profile_path(&f->cfg, name), *fpath = aa_guest_files_path(&f->cfg, name);
        g_autofree char *on_disk = read_file(path), *fon_disk = read_file(fpath);
        assert_string_equal(on_disk, profile);
        assert_string_equal(fon_disk, files);
        compile_ok(f, path);
}

static void test_profile_golden_hotplug(void **state) {
        Fixture *f = *state;
        g_autofree char *name = NULL, *files = NULL, *profile = NULL;
        BwError err = {};

        assert_int_equal(aa_guest_profile_render(&f->cfg, aa_test_guest_hotplug(), &name, &files, &profile, &err), 0);
        golden_check(f, "hotplug.files", files);
        /* No host device, yet the container is there from the start. */
        assert_non_null(strstr(files, "# section guest\n  \"/dev/vfio/vfio\" rw,\n"));
        assert_null(strstr(files, "/dev/vfio/1"));
}

/* The example guests as the core parses them (VFIO groups from a sysfs
 * of the test's own: the GPU and its audio function share group 12):
 * golden .files, and each profile written and compiled. */
static void test_profile_golden_examples(void **state) {
        Fixture *f = *state;
        static const char *const names[] = { "demo", "passthrough", "direct-kernel", "container", "minimal", "qemu" };
        g_autofree char *sysfs = g_build_filename(f->dir, "sys", NULL);

        for (int fn = 0; fn < 2; fn++) {
                g_autofree char *dev = g_strdup_printf("%s/bus/pci/devices/0000:01:00.%d", sysfs, fn);
                g_autofree char *link = g_build_filename(dev, "iommu_group", NULL);
                assert_int_equal(g_mkdir_with_parents(dev, 0755), 0);
                assert_int_equal(symlink("../../../../kernel/iommu_groups/12", link), 0);
        }
        GuestParseOptions o = { .sysfs_root = sysfs };
        g_autofree char *profiles = g_build_filename(f->dir, "profiles", NULL);
        assert_int_equal(g_mkdir_with_parents(profiles, 0755), 0);
        AaConfig cfg = aa_test_config(profiles);
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *rel = g_strdup_printf("examples/%s.guest", names[i]);
                g_autofree char *path = test_srcdir_path(rel), *text = NULL, *golden = NULL;
                g_autofree char *name = NULL, *files = NULL, *profile = NULL;
                BwGuest *g = NULL;
                BwError err = {};
                gsize len;
                assert_true(g_file_get_contents(path, &text, &len, NULL));
                if (guest_parse(text, len, rel, &o, &g, &err) < 0)
                        fail_msg("%s: %s", rel, err.message);
                if (aa_guest_profile_write(&cfg, bw_guest_info(g), &err) < 0)
                        fail_msg("%s: %s", rel, err.message);
                assert_int_equal(aa_guest_profile_render(&cfg, bw_guest_info(g), &name, &files, &profile, &err), 0);
                golden = g_strdup_printf("example-%s.files", names[i]);
                golden_check(f, golden, files);
                g_autofree char *written = aa_guest_profile_path(&cfg, name);
                compile_ok(f, written);
                bw_guest_free(g);
        }
}

/* The shipped policy itself: template, abstraction, program profiles. */
static void test_profile_shipped_policy_compiles(void **state) {
        Fixture *f = *state;
        static const char *const files[] = { "TEMPLATE.guest", "usr.sbin.bulwarkd", "usr.sbin.bulwark-lockd",
                                             "usr.sbin.bulwark-aa-helper" };
        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *rel = g_strdup_printf("policy/apparmor/%s", files[i]);
                g_autofree char *path = test_srcdir_path(rel);
                compile_ok(f, path);
        }
}

/* Attach of a VFIO device: its group and the container appear, no other
 * group; detach: both go, as no other VFIO device or hotplug remains. */
static void test_profile_vfio_attach_detach(void **state) {
        Fixture *f = *state;
        const BwGuestInfo *g = aa_test_guest_every_resource();
        const BwGuestInfo *small = aa_test_guest_plus(aa_test_guest_hotplug(), aa_test_vfio("nic", "31"));
        g_autofree char *name = NULL, *files = NULL;
        BwError err = {};

        /* A guest with no VFIO device and no hotplug: no container. */
        const BwResource *disk = g->resources[0];
        BwGuestInfo plain = *aa_test_guest_hotplug();
        plain.hotplug_vfio = false;
        plain.n_resources = 1;
        plain.resources = &disk;
        write_guest(f, &plain, &name);
        g_autofree char *fpath = aa_guest_files_path(&f->cfg, name);
        files = read_file(fpath);
        assert_null(strstr(files, "/dev/vfio"));

        /* attach */
        const BwResource *nic = small->resources[1];
        g_autoptr(GString) rules = g_string_new(NULL);
        assert_int_equal(aa_rules_resource(small, nic, rules, &err), 0);
        assert_int_equal(aa_guest_profile_section(&f->cfg, name, "hostdev:nic", rules->str, &err), 0);
        g_free(files);
        files = read_file(fpath);
        assert_non_null(strstr(files, "# section hostdev:nic\n  \"/dev/vfio/31\" rw,\n  \"/dev/vfio/vfio\" rw,\n"));
        assert_null(strstr(files, "/dev/vfio/12"));
        g_autofree char *path = aa_guest_profile_path(&f->cfg, name);
        compile_ok(f, path);

        /* detach */
        assert_int_equal(aa_guest_profile_section(&f->cfg, name, "hostdev:nic", NULL, &err), 0);
        g_free(files);
        files = read_file(fpath);
        assert_null(strstr(files, "/dev/vfio"));
}

/* Two VFIO devices: detaching one keeps the container for the other. */
static void test_profile_vfio_container_stays(void **state) {
        Fixture *f = *state;
        const BwGuestInfo *g = aa_test_guest_plus(aa_test_guest_plus(aa_test_guest_hotplug(), aa_test_vfio("a", "7")),
                                                  aa_test_vfio("b", "8"));
        BwGuestInfo nohp = *g;
        g_autofree char *name = NULL, *files = NULL;
        BwError err = {};

        nohp.hotplug_vfio = false;
        write_guest(f, &nohp, &name);
        assert_int_equal(aa_guest_profile_section(&f->cfg, name, "hostdev:a", NULL, &err), 0);
        g_autofree char *fpath = aa_guest_files_path(&f->cfg, name);
        files = read_file(fpath);
        assert_null(strstr(files, "/dev/vfio/7"));
        assert_non_null(strstr(files, "\"/dev/vfio/8\" rw,"));
        assert_non_null(strstr(files, "\"/dev/vfio/vfio\" rw,"));
}

/* Writing the same guest again rewrites nothing (same inode, no temp). */
static void test_profile_unchanged_not_rewritten(void **state) {
        Fixture *f = *state;
        const BwGuestInfo *g = aa_test_guest_every_resource();
        g_autofree char *name = NULL, *again = NULL;
        struct stat before, after;

        write_guest(f, g, &name);
        g_autofree char *path = aa_guest_profile_path(&f->cfg, name);
        assert_int_equal(stat(path, &before), 0);
        write_guest(f, g, &again);
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(test_count_entries(f->dir), 2);
}

/* A rule the parser refuses: the old profile stays, byte for byte, and
 * the message is the parser's. */
static void test_profile_failed_compile_keeps_old(void **state) {
        Fixture *f = *state;
        g_autofree char *name = NULL, *before = NULL, *after = NULL;
        BwError err = {};

        write_guest(f, aa_test_guest_hotplug(), &name);
        g_autofree char *fpath = aa_guest_files_path(&f->cfg, name);
        before = read_file(fpath);
        assert_int_equal(aa_guest_profile_section(&f->cfg, name, "disk:bad", "  \"/x\" bogus,\n", &err), -EINVAL);
        assert_non_null(strstr(err.message, "profile 'bulwark-"));
        assert_non_null(strstr(err.message, "-Q failed"));
        after = read_file(fpath);
        assert_string_equal(before, after);
        assert_int_equal(test_count_entries(f->dir), 2);
}

static unsigned count_lines(const char *path) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        unsigned n = 0;
        for (const char *c = text; *c; c++)
                n += *c == '\n';
        return n;
}

/* With a compile cache: a text that compiled cleanly is not compiled
 * again (start, stop, start of one guest); an edit below an include
 * directory compiles again; a text the parser refuses is never
 * remembered.  The parser is a wrapper that counts its runs. */
static void test_profile_compile_remembered(void **state) {
        Fixture *f = *state;
        g_autofree char *work = test_scratch_new("aa-compiled");
        g_autofree char *count = g_build_filename(work, "runs", NULL);
        g_autofree char *wrapper = g_build_filename(work, "parser", NULL);
        g_autofree char *includes = g_build_filename(work, "policy", NULL);
        g_autofree char *cache = g_build_filename(work, "compiled", NULL);
        g_autofree char *script = g_strdup_printf("#!/bin/sh\necho run >>'%s'\nexec '%s' \"$@\"\n", count,
                                                  f->cfg.parser.parser);
        g_autofree char *copy = g_strdup_printf("cp -r '%s' '%s'", f->cfg.parser.include_dir, includes);
        g_autofree char *name = NULL;
        BwError err = {};

        assert_true(g_file_set_contents(wrapper, script, -1, NULL));
        assert_int_equal(chmod(wrapper, 0755), 0);
        assert_int_equal(system(copy), 0);
        f->cfg.parser.parser = wrapper;
        f->cfg.parser.include_dir = includes;
        f->cfg.compiled_dir = cache;

        write_guest(f, aa_test_guest_hotplug(), &name);
        assert_int_equal(count_lines(count), 1);
        assert_int_equal(aa_guest_profile_remove(&f->cfg, name, &err), 0);
        g_clear_pointer(&name, g_free);
        write_guest(f, aa_test_guest_hotplug(), &name);
        assert_int_equal(count_lines(count), 1);
        assert_int_equal(test_count_entries(cache), 1);

        g_autofree char *abstraction = g_build_filename(includes, "abstractions", "bulwark-guest", NULL);
        g_autofree char *text = read_file(abstraction);
        g_autofree char *edited = g_strconcat(text, "# edited by the test\n", NULL);
        assert_true(g_file_set_contents(abstraction, edited, -1, NULL));
        assert_int_equal(aa_guest_profile_remove(&f->cfg, name, &err), 0);
        g_clear_pointer(&name, g_free);
        write_guest(f, aa_test_guest_hotplug(), &name);
        assert_int_equal(count_lines(count), 2);

        for (int i = 0; i < 2; i++)
                assert_int_equal(aa_guest_profile_section(&f->cfg, name, "disk:bad", "  \"/x\" bogus,\n", &err),
                                 -EINVAL);
        assert_int_equal(count_lines(count), 4);
        assert_int_equal(test_count_entries(cache), 2);
        test_scratch_remove(work);
}

static void test_profile_remove(void **state) {
        Fixture *f = *state;
        g_autofree char *name = NULL;
        BwError err = {};

        write_guest(f, aa_test_guest_hotplug(), &name);
        assert_int_equal(aa_guest_profile_remove(&f->cfg, name, &err), 0);
        assert_int_equal(test_count_entries(f->dir), 0);
        assert_int_equal(aa_guest_profile_remove(&f->cfg, name, &err), 0);
}

static void test_profile_name_hashed(void **state) {
        g_autofree char *id = g_strnfill(300, 'x');
        g_autofree char *a = aa_profile_name(AA_PROFILE_PREFIX, id);
        id[299] = 'y';
        g_autofree char *b = aa_profile_name(AA_PROFILE_PREFIX, id);
        g_autofree char *s = aa_profile_name(AA_PROFILE_PREFIX, "6c1d3a6e-0b7a-4a51-9a43-3c2f6f0e4b11");

        assert_string_equal(s, "bulwark-6c1d3a6e-0b7a-4a51-9a43-3c2f6f0e4b11");
        assert_int_equal(strlen(a), AA_PROFILE_NAME_MAX);
        assert_string_not_equal(a, b);
        assert_true(aa_profile_name_is_valid(a));
        assert_false(aa_profile_name_is_valid("other-x"));
        assert_false(aa_profile_name_is_valid("bulwark-a/b"));
}

/* The parser's command lines, checked where they cannot be run. */
static void test_profile_parser_argv(void **state) {
        AaParser p = { .parser = "/sbin/apparmor_parser", .features = "/f", .include_dir = "/i" };
        g_auto(GStrv) check = aa_parser_argv_check(&p, "/d/bulwark-x");
        g_auto(GStrv) load = aa_parser_argv_replace(&p, "/d/bulwark-x");
        g_auto(GStrv) rm = aa_parser_argv_remove(&p, "/d/bulwark-x");
        g_autofree char *c = g_strjoinv(" ", check), *l = g_strjoinv(" ", load), *r = g_strjoinv(" ", rm);

        assert_string_equal(c, "/sbin/apparmor_parser -Q -K -M /f -I /i /d/bulwark-x");
        assert_string_equal(l, "/sbin/apparmor_parser -r -I /i /d/bulwark-x");
        assert_string_equal(r, "/sbin/apparmor_parser -R -I /i /d/bulwark-x");
        assert_string_equal(aa_parser_features("/given"), "/given");
        /* The kernel's list of loaded profiles. */
        const char *list = "bulwarkd (enforce)\nbulwark-x (enforce)\nbulwark-xy (complain)\n";
        assert_true(aa_parser_profile_listed(list, "bulwark-x"));
        assert_true(aa_parser_profile_listed(list, "bulwark-xy"));
        assert_false(aa_parser_profile_listed(list, "bulwark"));
        assert_false(aa_parser_profile_listed(list, "x"));
}

/* Memory backing: a directory (hugepages) is granted as a tree, a file
 * (or a path not there yet) as itself. */
static void test_profile_memory_backing(void **state) {
        Fixture *f = *state;
        const BwGuestInfo *g = aa_test_guest_hotplug();
        BwResource mem = *g->resources[0];
        const char *paths[] = { f->dir };
        const BwPathRole roles[] = { BW_PATH_MEMORY };
        g_autoptr(GString) out = g_string_new(NULL);
        BwError err = {};

        mem.type = BW_RESOURCE_MEMORY;
        mem.paths = paths;
        mem.roles = roles;
        assert_int_equal(aa_rules_resource(g, &mem, out, &err), 0);
        g_autofree char *want = g_strdup_printf("  \"%s/\" r,\n  \"%s/**\" rwk,\n", f->dir, f->dir);
        assert_string_equal(out->str, want);
        g_autofree char *file = g_build_filename(f->dir, "mem", NULL);
        paths[0] = file;
        g_string_truncate(out, 0);
        assert_int_equal(aa_rules_resource(g, &mem, out, &err), 0);
        g_autofree char *want_file = g_strdup_printf("  \"%s\" rwk,\n", file);
        assert_string_equal(out->str, want_file);
}

/* A refused path fails the guest, naming guest, resource and path. */
static void test_profile_refused_path(void **state) {
        const BwGuestInfo *g = aa_test_guest_hotplug();
        const BwResource *bad = aa_test_guest_plus(g, NULL)->resources[0];
        BwResource mem = *bad;
        const char *paths[] = { "/dev/mem" };
        const BwPathRole roles[] = { BW_PATH_IMAGE };
        g_autoptr(GString) out = g_string_new(NULL);
        BwError err = {};

        mem.paths = paths;
        mem.roles = roles;
        assert_int_equal(aa_rules_resource(g, &mem, out, &err), -EPERM);
        assert_string_equal(err.message,
                            "guest 'hotplug': disk:root: path '/dev/mem': refused: '/dev/mem' is never allowed to a guest");
}

int main(void) {
        aa_test_require_parser();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_profile_golden_every_resource, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_golden_hotplug, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_golden_examples, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_shipped_policy_compiles, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_vfio_attach_detach, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_vfio_container_stays, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_unchanged_not_rewritten, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_failed_compile_keeps_old, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_compile_remembered, setup, teardown),
                cmocka_unit_test(test_profile_name_hashed),
                cmocka_unit_test(test_profile_parser_argv),
                cmocka_unit_test(test_profile_refused_path),
                cmocka_unit_test_setup_teardown(test_profile_memory_backing, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
