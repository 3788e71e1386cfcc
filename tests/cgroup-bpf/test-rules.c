/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rule parsing, the last-rule-wins compilation (property test against an
 * ordered-list reference interpreter), change blobs and cgroup names.
 * Pure logic: needs no root. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-root.h"
#include "dev-program.h"
#include "device-rule.h"
#include "plugin-change.h"
#include "rule-table.h"
#include "test-util.h"

/* ---- parsing ------------------------------------------------------------ */

static void test_device_rule_parse_valid(void **state) {
        DeviceRule r;
        DevError err = {};
        char buf[DEVICE_RULE_TEXT_MAX];

        assert_int_equal(device_rule_parse("c 1:3 rw", true, &r, &err), 0);
        assert_int_equal(r.types, DEVICE_TYPE_CHAR);
        assert_int_equal(r.major, 1);
        assert_int_equal(r.minor, 3);
        assert_int_equal(r.access, BW_ACCESS_READ | BW_ACCESS_WRITE);
        assert_true(r.allow);
        assert_string_equal(device_rule_format(&r, false, buf), "c 1:3 rw");

        assert_int_equal(device_rule_parse("a *:* m", false, &r, &err), 0);
        assert_int_equal(r.types, DEVICE_TYPE_ALL);
        assert_int_equal(r.major, DEVICE_WILDCARD);
        assert_int_equal(r.minor, DEVICE_WILDCARD);
        assert_string_equal(device_rule_format(&r, true, buf), "deny a *:* m");

        assert_int_equal(device_rule_parse("b 8:* mwr", true, &r, &err), 0);
        assert_string_equal(device_rule_format(&r, false, buf), "b 8:* rwm");
        assert_int_equal(device_rule_parse("c 0:0 r", true, &r, &err), 0);
        assert_int_equal(device_rule_parse("c 4294967294:4294967294 r", true, &r, &err), 0);
        assert_int_equal(r.major, 4294967294u);
}

static void test_device_rule_parse_malformed(void **state) {
        static const char *const bad[] = {
                "x 1:3 r", "c 1 r", "c 1:3 rx", "c 4294967296:0 r", "", "c 1:3", "c 1:3 rw extra",
                "c 4294967295:0 r", "c -1:0 r", "c 1:3 rr", "c :3 r", "c 1: r", "cc 1:3 r", "c 1:3 R",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                DeviceRule r;
                DevError err = {};
                assert_int_equal(device_rule_parse(bad[i], true, &r, &err), -EINVAL);
                assert_int_equal(err.code, -EINVAL);
                /* The message quotes what was given. */
                char quoted[64];
                snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
                assert_non_null(strstr(err.message, quoted));
        }
        DevError err = {};
        DeviceRule r;
        device_rule_parse("c 4294967296:0 r", true, &r, &err);
        assert_non_null(strstr(err.message, "out of range"));
}

static void test_device_rule_parse_file(void **state) {
        char *dir = test_scratch_new("rules");
        char *path = test_write_file(dir, "a.rules",
                                     "# comment\n\nc 1:3 rwm   # null\ndeny c 1:3 m\nallow b 7:* r\n", -1);
        DeviceRule *rules = NULL;
        size_t n = 0;
        DevError err = {};

        assert_int_equal(device_rule_parse_file(path, &rules, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_false(rules[1].allow);
        assert_int_equal(rules[2].types, DEVICE_TYPE_BLOCK);
        free(rules);
        free(path);

        path = test_write_file(dir, "b.rules", "c 1:3 rw\nc 1:x rw\n", -1);
        assert_int_equal(device_rule_parse_file(path, &rules, &n, &err), -EINVAL);
        assert_non_null(strstr(err.message, "b.rules:2: device rule 'c 1:x rw'"));
        free(path);

        /* The shipped default list parses. */
        path = test_srcdir_path("policy/devices/default.rules");
        assert_int_equal(device_rule_parse_file(path, &rules, &n, &err), 0);
        assert_true(n >= 5);
        free(rules);
        free(path);
        test_scratch_remove(dir);
        free(dir);
}

/* ---- compilation -------------------------------------------------------- */

/* The reference: an ordered list, each matching rule sets or clears its
 * bits, nothing matched means no access. */
static unsigned reference_mask(const DeviceRule *rules, size_t n, unsigned type, uint32_t major, uint32_t minor) {
        unsigned mask = 0;
        for (size_t i = 0; i < n; i++) {
                const DeviceRule *r = &rules[i];
                if (!(r->types & type) || (r->major != DEVICE_WILDCARD && r->major != major) ||
                    (r->minor != DEVICE_WILDCARD && r->minor != minor))
                        continue;
                mask = r->allow ? mask | r->access : mask & ~(unsigned) r->access;
        }
        return mask;
}

static bool table_allows(const RuleTable *t, unsigned type, uint32_t major, uint32_t minor, unsigned access) {
        RuleDecision d;
        rule_table_decide(t, type, major, minor, &d);
        return rule_decision_allows(&d, access);
}

/* Small device space with wildcards: majors and minors 0..3 and '*'. */
static DeviceRule random_rule(unsigned *seed) {
        static const uint32_t nums[] = { 0, 1, 2, 3, DEVICE_WILDCARD };
        DeviceRule r = {
                .allow = rand_r(seed) % 3 != 0,
                .types = (uint8_t) (1 + rand_r(seed) % 3),
                .access = (uint8_t) (1 + rand_r(seed) % 7),
                .major = nums[rand_r(seed) % 5],
                .minor = nums[rand_r(seed) % 5],
        };
        return r;
}

/* Every device of the space, every type and non-empty access. */
static void check_against_reference(const RuleTable *t, const DeviceRule *rules, size_t n) {
        for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR; type <<= 1)
                for (uint32_t ma = 0; ma < 5; ma++)
                        for (uint32_t mi = 0; mi < 5; mi++) {
                                unsigned ref = reference_mask(rules, n, type, ma, mi);
                                for (unsigned acc = 1; acc <= 7; acc++) {
                                        bool want = (acc & ref) == acc;
                                        if (table_allows(t, type, ma, mi, acc) != want) {
                                                char buf[DEVICE_RULE_TEXT_MAX];
                                                for (size_t i = 0; i < n; i++)
                                                        fprintf(stderr, "# rule %zu: %s\n", i,
                                                                device_rule_format(&rules[i], true, buf));
                                                fprintf(stderr, "# device %c %u:%u access %u: table %d, reference %d\n",
                                                        type == DEVICE_TYPE_CHAR ? 'c' : 'b', ma, mi, acc, !want, want);
                                                fail();
                                        }
                                }
                        }
}

static void test_rule_table_compile_matches_ordered_list(void **state) {
        unsigned seed = 4242;
        for (int seq = 0; seq < 3000; seq++) {
                RuleTable *t = NULL;
                DeviceRule rules[24];
                size_t n = 1 + (size_t) (rand_r(&seed) % 24);
                assert_int_equal(rule_table_new(&t), 0);
                for (size_t i = 0; i < n; i++) {
                        RuleDelta delta = {};
                        rules[i] = random_rule(&seed);
                        assert_int_equal(rule_table_compile(t, &rules[i], &delta), 0);
                        assert_int_equal(rule_table_commit(t, &delta), 0);
                        rule_delta_clear(&delta);
                        check_against_reference(t, rules, i + 1);
                }
                rule_table_free(t);
        }
}

/* Writing a delta narrowest first, every intermediate table answers each
 * question as the old or the new policy does. */
static void test_rule_table_compile_intermediate_states(void **state) {
        unsigned seed = 777;
        size_t states = 0;
        for (int seq = 0; seq < 600; seq++) {
                RuleTable *t = NULL;
                assert_int_equal(rule_table_new(&t), 0);
                for (size_t i = 0; i < 16; i++) {
                        DeviceRule rule = random_rule(&seed);
                        RuleDelta delta = {};
                        RuleTable *old = NULL, *mid = NULL, *new = NULL;
                        assert_int_equal(rule_table_compile(t, &rule, &delta), 0);
                        assert_int_equal(rule_table_new(&old), 0);
                        assert_int_equal(rule_table_new(&mid), 0);
                        assert_int_equal(rule_table_new(&new), 0);
                        size_t cursor = 0;
                        uint64_t k;
                        uint32_t v;
                        while (rule_table_next(t, &cursor, &k, &v)) {
                                rule_table_put(old, k, v);
                                rule_table_put(mid, k, v);
                                rule_table_put(new, k, v);
                        }
                        assert_int_equal(rule_table_commit(new, &delta), 0);
                        for (size_t w = 0; w + 1 < delta.n; w++) {
                                RuleDelta one = { .writes = &delta.writes[w], .n = 1 };
                                assert_int_equal(rule_table_commit(mid, &one), 0);
                                states++;
                                for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR; type <<= 1)
                                        for (uint32_t ma = 0; ma < 5; ma++)
                                                for (uint32_t mi = 0; mi < 5; mi++)
                                                        for (unsigned acc = 1; acc <= 7; acc++) {
                                                                bool m = table_allows(mid, type, ma, mi, acc);
                                                                assert_true(m == table_allows(old, type, ma, mi, acc) ||
                                                                            m == table_allows(new, type, ma, mi, acc));
                                                        }
                        }
                        assert_int_equal(rule_table_commit(t, &delta), 0);
                        rule_delta_clear(&delta);
                        rule_table_free(old);
                        rule_table_free(mid);
                        rule_table_free(new);
                }
                rule_table_free(t);
        }
        print_message("# %zu intermediate states checked\n", states);
        assert_true(states > 1000);
}

static void test_rule_table_type_separation(void **state) {
        RuleTable *t = NULL;
        DeviceRule rules[2];
        DevError err = {};
        assert_int_equal(rule_table_new(&t), 0);
        assert_int_equal(device_rule_parse("c 8:0 r", true, &rules[0], &err), 0);
        assert_int_equal(device_rule_parse("b 8:0 w", true, &rules[1], &err), 0);
        assert_int_equal(rule_table_apply_rules(t, rules, 2), 0);
        /* One key, two fields: neither grant overwrote the other. */
        assert_int_equal(rule_table_size(t), 1);
        assert_true(table_allows(t, DEVICE_TYPE_CHAR, 8, 0, BW_ACCESS_READ));
        assert_false(table_allows(t, DEVICE_TYPE_CHAR, 8, 0, BW_ACCESS_WRITE));
        assert_true(table_allows(t, DEVICE_TYPE_BLOCK, 8, 0, BW_ACCESS_WRITE));
        assert_false(table_allows(t, DEVICE_TYPE_BLOCK, 8, 0, BW_ACCESS_READ));
        rule_table_free(t);
}

static void test_rule_table_deny_narrows_wildcard(void **state) {
        RuleTable *t = NULL;
        DeviceRule rules[3];
        DevError err = {};
        RuleDecision d;
        assert_int_equal(rule_table_new(&t), 0);
        assert_int_equal(device_rule_parse("c 136:* rw", true, &rules[0], &err), 0);
        assert_int_equal(device_rule_parse("c 136:5 w", false, &rules[1], &err), 0);
        assert_int_equal(device_rule_parse("c *:5 m", true, &rules[2], &err), 0);
        assert_int_equal(rule_table_apply_rules(t, rules, 3), 0);
        rule_table_decide(t, DEVICE_TYPE_CHAR, 136, 5, &d);
        assert_int_equal(d.level, RULE_LEVEL_EXACT);
        assert_int_equal(d.mask, BW_ACCESS_READ | BW_ACCESS_MKNOD);
        rule_table_decide(t, DEVICE_TYPE_CHAR, 136, 6, &d);
        assert_int_equal(d.level, RULE_LEVEL_MAJOR);
        assert_int_equal(d.mask, BW_ACCESS_READ | BW_ACCESS_WRITE);
        rule_table_decide(t, DEVICE_TYPE_CHAR, 7, 5, &d);
        assert_int_equal(d.level, RULE_LEVEL_MINOR);
        assert_int_equal(d.mask, BW_ACCESS_MKNOD);
        rule_table_decide(t, DEVICE_TYPE_BLOCK, 136, 5, &d);
        assert_int_equal(d.level, RULE_LEVEL_NONE);
        rule_table_free(t);
}

static void test_rule_table_exact_set_and_remove(void **state) {
        RuleTable *t = NULL;
        RuleDelta delta = {};
        uint32_t v;
        assert_int_equal(rule_table_new(&t), 0);
        assert_int_equal(rule_table_compile_exact(t, DEVICE_TYPE_CHAR, 0, 0, BW_ACCESS_READ, &delta), 0);
        assert_int_equal(delta.n_new, 1);
        assert_int_equal(rule_table_commit(t, &delta), 0);
        rule_delta_clear(&delta);
        assert_true(rule_table_get(t, 0, &v)); /* 0:0 is a key like any other */
        assert_true(table_allows(t, DEVICE_TYPE_CHAR, 0, 0, BW_ACCESS_READ));
        assert_int_equal(rule_table_compile_exact(t, DEVICE_TYPE_CHAR, 0, 0, RULE_MASK_ABSENT, &delta), 0);
        assert_int_equal(delta.n, 1);
        assert_int_equal(delta.writes[0].new_value, 0);
        assert_int_equal(rule_table_commit(t, &delta), 0);
        rule_delta_clear(&delta);
        assert_int_equal(rule_table_size(t), 0);
        rule_table_free(t);
}

static void test_rule_table_many_entries(void **state) {
        RuleTable *t = NULL;
        assert_int_equal(rule_table_new(&t), 0);
        for (uint32_t i = 0; i < 20000; i++)
                assert_int_equal(rule_table_put(t, rule_key(240, i), i | 1), 0);
        for (uint32_t i = 0; i < 20000; i += 2)
                assert_true(rule_table_remove(t, rule_key(240, i)));
        assert_int_equal(rule_table_size(t), 10000);
        for (uint32_t i = 0; i < 20000; i++) {
                uint32_t v;
                assert_int_equal(rule_table_get(t, rule_key(240, i), &v), i % 2 == 1);
        }
        rule_table_free(t);
}

/* ---- change blobs ------------------------------------------------------- */

static void test_plugin_change_roundtrip(void **state) {
        DeviceRule rules[3], back[256];
        unsigned char buf[PLUGIN_CHANGE_DATA_MAX];
        DevError err = {};
        PluginChange c = { .op = PLUGIN_CHANGE_PROGRAM, .log_ring_size = 4096, .n_rules = 3, .rules = rules }, d;

        strcpy(c.cgroup, "/sys/fs/cgroup/bulwark/demo");
        device_rule_parse("c 1:3 rwm", true, &rules[0], &err);
        device_rule_parse("b *:* r", false, &rules[1], &err);
        device_rule_parse("a 0:0 m", true, &rules[2], &err);
        int len = plugin_change_encode(&c, buf, sizeof(buf));
        assert_true(len > 0 && len <= PLUGIN_CHANGE_DATA_MAX);
        assert_int_equal(plugin_change_decode(buf, (size_t) len, &d, back), 0);
        assert_int_equal(d.op, PLUGIN_CHANGE_PROGRAM);
        assert_string_equal(d.cgroup, c.cgroup);
        assert_int_equal(d.n_rules, 3);
        assert_int_equal(d.log_ring_size, 4096);
        assert_memory_equal(back, rules, sizeof(rules));
        /* Truncated, grown, corrupted: refused. */
        assert_int_equal(plugin_change_decode(buf, (size_t) len - 1, &d, back), -EBADMSG);
        assert_int_equal(plugin_change_decode(buf, 0, &d, back), -EBADMSG);
        buf[0] ^= 1;
        assert_int_equal(plugin_change_decode(buf, (size_t) len, &d, back), -EBADMSG);
        /* Too many rules for one change. */
        DeviceRule *many = calloc(plugin_change_max_rules() + 1, sizeof(*many));
        c.rules = many;
        c.n_rules = plugin_change_max_rules() + 1;
        assert_int_equal(plugin_change_encode(&c, buf, sizeof(buf)), -E2BIG);
        free(many);

        PluginUndo u = { .op = PLUGIN_CHANGE_DEVICE_ALLOW, .type = DEVICE_TYPE_CHAR, .major = 10, .minor = 196,
                         .existed = true, .mask = 6 }, v;
        len = plugin_undo_encode(&u, buf, sizeof(buf));
        assert_true(len > 0);
        assert_int_equal(plugin_undo_decode(buf, (size_t) len, &v), 0);
        assert_int_equal(v.major, 10);
        assert_int_equal(v.minor, 196);
        assert_true(v.existed);
        assert_int_equal(v.mask, 6);
        assert_int_equal(plugin_undo_decode(buf, (size_t) len + 1, &v), -EBADMSG);
}

/* ---- the program ------------------------------------------------------- */

/* The denial log adds instructions only after the deny label: the path to
 * "allow" is the same program text with and without it. */
static void test_dev_program_log_leaves_allow_path_alone(void **state) {
        struct bpf_insn plain[DEV_PROGRAM_MAX_INSNS], logged[DEV_PROGRAM_MAX_INSNS];
        DevProgramMaps without = { 10, -1, -1, -1 }, with = { 10, 11, 12, 13 };
        int n = dev_program_build(&without, plain), m = dev_program_build(&with, logged);

        assert_true(n > 0 && m > n && m <= DEV_PROGRAM_MAX_INSNS);
        /* Everything but the plain deny tail ("r0 = 0; exit") is identical. */
        assert_memory_equal(plain, logged, (size_t) (n - 2) * sizeof(struct bpf_insn));
        assert_int_equal(plain[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(plain[n - 1].code, BPF_JMP | BPF_EXIT);
        print_message("# program: %d instructions, %d with the denial log\n", n, m);
}

/* ---- cgroup names ------------------------------------------------------- */

static void test_cgroup_root_resolve_refuses(void **state) {
        char *path = NULL;
        DevError err = {};
        assert_int_equal(cgroup_root_resolve("/sys/fs/cgroup", "../etc", &path, &err), -EINVAL);
        assert_non_null(strstr(err.message, "'..'"));
        assert_int_equal(cgroup_root_resolve("/sys/fs/cgroup", "a/../../b", &path, &err), -EINVAL);
        assert_int_equal(cgroup_root_resolve("/sys/fs/cgroup", "/etc", &path, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not below the cgroup2 root"));
        assert_int_equal(cgroup_root_resolve("/sys/fs/cgroup", "/sys/fs/cgroupx", &path, &err), -EINVAL);
        assert_int_equal(cgroup_root_resolve("/sys/fs/cgroup", "", &path, &err), -EINVAL);
        assert_true(cgroup_root_contains("/sys/fs/cgroup", "/sys/fs/cgroup/a/b"));
        assert_true(cgroup_root_contains("/sys/fs/cgroup/", "/sys/fs/cgroup"));
        assert_false(cgroup_root_contains("/sys/fs/cgroup", "/sys/fs/cgroup2/a"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_device_rule_parse_valid),
                cmocka_unit_test(test_device_rule_parse_malformed),
                cmocka_unit_test(test_device_rule_parse_file),
                cmocka_unit_test(test_rule_table_compile_matches_ordered_list),
                cmocka_unit_test(test_rule_table_compile_intermediate_states),
                cmocka_unit_test(test_rule_table_type_separation),
                cmocka_unit_test(test_rule_table_deny_narrows_wildcard),
                cmocka_unit_test(test_rule_table_exact_set_and_remove),
                cmocka_unit_test(test_rule_table_many_entries),
                cmocka_unit_test(test_plugin_change_roundtrip),
                cmocka_unit_test(test_dev_program_log_leaves_allow_path_alone),
                cmocka_unit_test(test_cgroup_root_resolve_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
