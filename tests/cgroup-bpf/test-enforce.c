/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Enforcement by the real kernel: open() and mknod() from a child placed
 * in a test cgroup, for r, w and m; block versus char with the same
 * numbers; 0:0; wildcards at every level; and random allow/deny
 * sequences checked against an ordered-list reference, both through
 * explain and through the kernel. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgtest.h"
#include "device-cgroup.h"
#include "test-util.h"

static char *arg_root;

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_root, "enforce");
        return 0;
}

static int teardown(void **state) {
        cgtest_fixture_free(*state);
        return 0;
}

static void apply(const char *cgroup, const char *text) {
        DeviceCgroup *dc = NULL;
        DeviceRule rule;
        DevError err = {};
        bool allow = strncmp(text, "deny ", 5) != 0;
        const char *r = allow ? (strncmp(text, "allow ", 6) == 0 ? text + 6 : text) : text + 5;
        DeviceCgroupOptions o = {};

        assert_int_equal(device_rule_parse(r, allow, &rule, &err), 0);
        if (device_cgroup_open(cgroup, &o, &dc, &err) < 0 || device_cgroup_apply(dc, &rule, 1, &err) < 0) {
                fprintf(stderr, "# %s\n", err.message);
                fail();
        }
        device_cgroup_free(dc);
}

/* Allowed: success, or ENXIO for a node with no driver behind it. */
static bool allowed(int result) {
        return result == 0 || result == ENXIO || result == ENODEV;
}

static void test_enforce_open_access_bits(void **state) {
        CgFixture *f = *state;

        /* Our program attached with nothing allowed yet: everything denied. */
        apply(f->cgroup, "c 1:3 r");
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDONLY), 0);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_WRONLY), EPERM);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDWR), EPERM);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        apply(f->cgroup, "c 1:3 w");
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDWR), 0);
        apply(f->cgroup, "deny c 1:3 r");
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDONLY), EPERM);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_WRONLY), 0);

        /* mknod needs m, and m alone opens nothing. */
        char *node = NULL;
        assert_true(asprintf(&node, "%s/null2", f->scratch) > 0);
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFCHR | 0600, makedev(1, 3)), EPERM);
        apply(f->cgroup, "c 1:3 m");
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFCHR | 0600, makedev(1, 3)), 0);
        apply(f->cgroup, "deny c 1:3 rw");
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFCHR | 0600, makedev(1, 3)), 0);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDONLY), EPERM);
        free(node);
}

static void test_enforce_block_versus_char(void **state) {
        CgFixture *f = *state;
        char *cnode = cgtest_node(f->scratch, "c240", false, 240, 0);
        char *bnode = cgtest_node(f->scratch, "b240", true, 240, 0);

        apply(f->cgroup, "c 240:0 r");
        assert_true(allowed(cgtest_open(f->cgroup, cnode, O_RDONLY)));
        assert_int_equal(cgtest_open(f->cgroup, bnode, O_RDONLY), EPERM);
        apply(f->cgroup, "b 240:0 w");
        assert_int_equal(cgtest_open(f->cgroup, bnode, O_RDONLY), EPERM);
        assert_true(allowed(cgtest_open(f->cgroup, bnode, O_WRONLY)));
        assert_int_equal(cgtest_open(f->cgroup, cnode, O_WRONLY), EPERM);
        /* Both grants live in one key: neither overwrote the other. */
        assert_true(allowed(cgtest_open(f->cgroup, cnode, O_RDONLY)));
        /* A real block device: /dev/loop0 is b 7:0. */
        if (access("/dev/loop0", F_OK) == 0) {
                assert_int_equal(cgtest_open(f->cgroup, "/dev/loop0", O_RDONLY), EPERM);
                apply(f->cgroup, "b 7:0 r");
                assert_true(allowed(cgtest_open(f->cgroup, "/dev/loop0", O_RDONLY)));
                assert_int_equal(cgtest_open(f->cgroup, "/dev/loop0", O_WRONLY), EPERM);
        }
        free(cnode);
        free(bnode);
}

/* The kernel never asks about an open of a 0:0 node, nor a mknod of
 * c 0:0 (the whiteout device); it does ask about mknod of b 0:0.  What
 * matters here is that 0:0 is a key like any other: read back from the
 * kernel (iteration from NULL) and enforced where the kernel asks. */
static void test_enforce_zero_zero(void **state) {
        CgFixture *f = *state;
        char *node = NULL;
        DeviceCgroup *dc = NULL;
        DevError err = {};

        assert_true(asprintf(&node, "%s/zz", f->scratch) > 0);
        apply(f->cgroup, "c 1:3 r");
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFBLK | 0600, makedev(0, 0)), EPERM);
        apply(f->cgroup, "b 0:0 m");
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFBLK | 0600, makedev(0, 0)), 0);
        assert_int_equal(device_cgroup_open(f->cgroup, NULL, &dc, &err), 0);
        assert_true(rule_table_get(device_cgroup_table(dc), 0, NULL));
        assert_int_equal(rule_table_size(device_cgroup_table(dc)), 2);
        device_cgroup_free(dc);
        apply(f->cgroup, "deny b 0:0 m");
        assert_int_equal(cgtest_mknod(f->cgroup, node, S_IFBLK | 0600, makedev(0, 0)), EPERM);
        free(node);
}

static void test_enforce_wildcards_every_level(void **state) {
        CgFixture *f = *state;
        char *n240_1 = cgtest_node(f->scratch, "n240_1", false, 240, 1);
        char *n240_7 = cgtest_node(f->scratch, "n240_7", false, 240, 7);
        char *n241_7 = cgtest_node(f->scratch, "n241_7", false, 241, 7);
        char *n241_2 = cgtest_node(f->scratch, "n241_2", false, 241, 2);
        char *b241_2 = cgtest_node(f->scratch, "b241_2", true, 241, 2);

        apply(f->cgroup, "c 240:* r");                          /* major:* */
        assert_true(allowed(cgtest_open(f->cgroup, n240_1, O_RDONLY)));
        assert_int_equal(cgtest_open(f->cgroup, n241_7, O_RDONLY), EPERM);
        apply(f->cgroup, "c *:7 w");                            /* *:minor */
        assert_true(allowed(cgtest_open(f->cgroup, n241_7, O_WRONLY)));
        /* 240:7: 240:* decided r, then *:7 added w: last rule wins per bit. */
        assert_true(allowed(cgtest_open(f->cgroup, n240_7, O_RDWR)));
        assert_int_equal(cgtest_open(f->cgroup, n241_2, O_RDONLY), EPERM);
        apply(f->cgroup, "c *:* m");                            /* *:* */
        assert_int_equal(cgtest_open(f->cgroup, n241_2, O_RDONLY), EPERM);
        apply(f->cgroup, "a *:* r");                            /* both types */
        assert_true(allowed(cgtest_open(f->cgroup, n241_2, O_RDONLY)));
        assert_true(allowed(cgtest_open(f->cgroup, b241_2, O_RDONLY)));
        apply(f->cgroup, "deny c 240:* r");
        assert_int_equal(cgtest_open(f->cgroup, n240_1, O_RDONLY), EPERM);
        assert_int_equal(cgtest_open(f->cgroup, n240_7, O_RDONLY), EPERM);
        assert_true(allowed(cgtest_open(f->cgroup, n240_7, O_WRONLY)));
        assert_true(allowed(cgtest_open(f->cgroup, n241_2, O_RDONLY)));
        free(n240_1);
        free(n240_7);
        free(n241_7);
        free(n241_2);
        free(b241_2);
}

/* ---- random sequences against the reference and the kernel ------------- */

typedef struct Dev {
        unsigned type;
        uint32_t major, minor;
        char *path;
} Dev;

static unsigned reference_mask(const DeviceRule *rules, size_t n, unsigned type, uint32_t major, uint32_t minor) {
        unsigned mask = 0;
        for (size_t i = 0; i < n; i++) {
                const DeviceRule *r = &rules[i];
                if ((r->types & type) && (r->major == DEVICE_WILDCARD || r->major == major) &&
                    (r->minor == DEVICE_WILDCARD || r->minor == minor))
                        mask = r->allow ? mask | r->access : mask & ~(unsigned) r->access;
        }
        return mask;
}

static void test_enforce_random_sequences_match_reference(void **state) {
        CgFixture *f = *state;
        static const uint32_t majors[] = { 1, 240, 241, DEVICE_WILDCARD }, minors[] = { 0, 3, 5, DEVICE_WILDCARD };
        Dev devs[] = {
                { DEVICE_TYPE_CHAR, 1, 3, strdup("/dev/null") },
                { DEVICE_TYPE_CHAR, 1, 5, strdup("/dev/zero") },
                { DEVICE_TYPE_CHAR, 240, 0, cgtest_node(f->scratch, "r240_0", false, 240, 0) },
                { DEVICE_TYPE_CHAR, 240, 3, cgtest_node(f->scratch, "r240_3", false, 240, 3) },
                { DEVICE_TYPE_CHAR, 241, 5, cgtest_node(f->scratch, "r241_5", false, 241, 5) },
                { DEVICE_TYPE_BLOCK, 240, 0, cgtest_node(f->scratch, "rb240_0", true, 240, 0) },
                { DEVICE_TYPE_BLOCK, 241, 3, cgtest_node(f->scratch, "rb241_3", true, 241, 3) },
        };
        const size_t n_devs = sizeof(devs) / sizeof(devs[0]);
        unsigned seed = 99;
        size_t kernel_checks = 0;

        for (int seq = 0; seq < 30; seq++) {
                DeviceRule rules[8];
                DeviceCgroup *dc = NULL;
                DevError err = {};
                assert_int_equal(device_cgroup_open(f->cgroup, NULL, &dc, &err), 0);
                /* Start each sequence from "deny everything". */
                assert_int_equal(device_cgroup_reset(dc, NULL, 0, &err), 0);
                for (size_t i = 0; i < 8; i++) {
                        rules[i] = (DeviceRule) {
                                .allow = rand_r(&seed) % 3 != 0,
                                .types = (uint8_t) (1 + rand_r(&seed) % 3),
                                .access = (uint8_t) (1 + rand_r(&seed) % 7),
                                .major = majors[rand_r(&seed) % 4],
                                .minor = minors[rand_r(&seed) % 4],
                        };
                        assert_int_equal(device_cgroup_apply(dc, &rules[i], 1, &err), 0);
                        CgAccess a[3 * 7];
                        size_t na = 0;
                        for (size_t d = 0; d < n_devs; d++) {
                                unsigned ref = reference_mask(rules, i + 1, devs[d].type, devs[d].major, devs[d].minor);
                                /* explain */
                                for (unsigned acc = 1; acc <= 7; acc++) {
                                        RuleDecision dec;
                                        device_cgroup_decide(dc, devs[d].type, devs[d].major, devs[d].minor, &dec);
                                        assert_int_equal(rule_decision_allows(&dec, acc), (acc & ref) == acc);
                                }
                                a[na++] = (CgAccess) { .path = devs[d].path, .flags = O_RDONLY };
                                a[na++] = (CgAccess) { .path = devs[d].path, .flags = O_WRONLY };
                        }
                        cgtest_try(f->cgroup, a, na);
                        for (size_t k = 0; k < na; k++) {
                                const Dev *d = &devs[k / 2];
                                unsigned ref = reference_mask(rules, i + 1, d->type, d->major, d->minor);
                                unsigned acc = k % 2 == 0 ? BW_ACCESS_READ : BW_ACCESS_WRITE;
                                bool want = (ref & acc) == acc;
                                if (allowed(a[k].result) != want) {
                                        char buf[DEVICE_RULE_TEXT_MAX];
                                        for (size_t j = 0; j <= i; j++)
                                                fprintf(stderr, "# %s\n", device_rule_format(&rules[j], true, buf));
                                        fprintf(stderr, "# %s %s: kernel %s, reference %s\n", d->path,
                                                acc == BW_ACCESS_READ ? "read" : "write", strerror(a[k].result),
                                                want ? "allow" : "deny");
                                        fail();
                                }
                                kernel_checks++;
                        }
                }
                device_cgroup_free(dc);
        }
        assert_int_equal(cgtest_prog_count(f->cgroup), 1);
        print_message("# %zu kernel decisions agreed with the reference\n", kernel_checks);
        for (size_t d = 0; d < n_devs; d++)
                free(devs[d].path);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_enforce_open_access_bits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enforce_block_versus_char, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enforce_zero_zero, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enforce_wildcards_every_level, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enforce_random_sequences_match_reference, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
