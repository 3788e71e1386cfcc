/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live policies on the real kernel: growth to 10,000 rules, atomicity of
 * changes and growths under a concurrent opener, adoption by another
 * process, coexistence with a foreign program, and bad input. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cgroup-root.h"
#include "cgtest.h"
#include "dev-program.h"
#include "device-cgroup.h"
#include "test-util.h"

static char *arg_root;

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_root, "live");
        return 0;
}

static int teardown(void **state) {
        cgtest_fixture_free(*state);
        return 0;
}

static DeviceCgroup *open_cg(const char *path) {
        DeviceCgroup *dc = NULL;
        DevError err = {};
        if (device_cgroup_open(path, NULL, &dc, &err) < 0) {
                fprintf(stderr, "# %s\n", err.message);
                fail();
        }
        return dc;
}

static void apply(DeviceCgroup *dc, const char *text, bool allow) {
        DeviceRule rule;
        DevError err = {};
        assert_int_equal(device_rule_parse(text, allow, &rule, &err), 0);
        if (device_cgroup_apply(dc, &rule, 1, &err) < 0) {
                fprintf(stderr, "# %s\n", err.message);
                fail();
        }
}

static void test_live_growth_to_10000_rules(void **state) {
        CgFixture *f = *state;
        DeviceCgroup *dc = open_cg(f->cgroup);
        const unsigned n = 10000;
        uint32_t first_id;

        apply(dc, "c 1:3 rw", true);
        first_id = device_cgroup_prog_id(dc);
        assert_int_equal(device_cgroup_map_size(dc), 64);
        for (unsigned i = 0; i < n; i++) {
                char text[32];
                snprintf(text, sizeof(text), "c 240:%u rw", i);
                apply(dc, text, true);
        }
        assert_int_equal(rule_table_size(device_cgroup_table(dc)), n + 1);
        assert_int_equal(device_cgroup_map_size(dc), 16384);
        assert_int_not_equal(device_cgroup_prog_id(dc), first_id); /* swapped by growth */
        assert_int_equal(cgtest_prog_count(f->cgroup), 1);
        device_cgroup_free(dc);

        /* Read back by a fresh open: every entry is in the kernel map. */
        dc = open_cg(f->cgroup);
        assert_int_equal(rule_table_size(device_cgroup_table(dc)), n + 1);
        device_cgroup_free(dc);

        /* Every rule enforced: 10,000 nodes opened from inside. */
        CgAccess *a = calloc(n + 2, sizeof(*a));
        char **paths = calloc(n + 2, sizeof(*paths));
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "n%u", i);
                paths[i] = cgtest_node(f->scratch, name, false, 240, i);
                a[i] = (CgAccess) { .path = paths[i], .flags = O_RDWR };
        }
        paths[n] = cgtest_node(f->scratch, "denied", false, 241, 0);
        a[n] = (CgAccess) { .path = paths[n], .flags = O_RDONLY };
        paths[n + 1] = strdup("/dev/zero");
        a[n + 1] = (CgAccess) { .path = paths[n + 1], .flags = O_RDONLY };
        cgtest_try(f->cgroup, a, n + 2);
        unsigned enforced = 0;
        for (unsigned i = 0; i < n; i++)
                enforced += a[i].result == ENXIO;
        assert_int_equal(enforced, n);
        assert_int_equal(a[n].result, EPERM);
        assert_int_equal(a[n + 1].result, EPERM);
        for (unsigned i = 0; i < n + 2; i++)
                free(paths[i]);
        free(paths);
        free(a);
}

/* A child opens an always-allowed and an always-denied device in a loop
 * while the parent adds rules across several growths and removes others. */
static void test_live_atomic_changes_under_load(void **state) {
        CgFixture *f = *state;
        DeviceCgroup *dc = open_cg(f->cgroup);
        char *denied = cgtest_node(f->scratch, "never", false, 241, 0);
        int stop[2], result[2];
        pid_t pid;

        apply(dc, "c 1:3 rw", true);
        assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
        assert_int_equal(pipe2(result, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char buf[64];
                long counts[3] = { 0, 0, 0 }; /* iterations, EPERM on allowed, success on denied */
                close(stop[1]);
                close(result[0]);
                snprintf(buf, sizeof(buf), "%s/cgroup.procs", f->cgroup);
                int cfd = open(buf, O_WRONLY | O_CLOEXEC);
                if (cfd < 0 || write(cfd, "0", 1) != 1)
                        _exit(3);
                close(cfd);
                fcntl(stop[0], F_SETFL, O_NONBLOCK);
                (void) !write(result[1], counts, sizeof(long)); /* ready */
                for (;;) {
                        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (fd < 0 && errno == EPERM)
                                counts[1]++;
                        if (fd >= 0)
                                close(fd);
                        fd = open(denied, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0 || errno != EPERM)
                                counts[2]++;
                        if (fd >= 0)
                                close(fd);
                        counts[0]++;
                        if (read(stop[0], buf, 1) == 1)
                                break;
                }
                (void) !write(result[1], counts, sizeof(counts));
                _exit(0);
        }
        close(stop[0]);
        close(result[1]);
        long ready;
        assert_int_equal(read(result[0], &ready, sizeof(ready)), sizeof(ready));
        uint32_t growths = 0, size = device_cgroup_map_size(dc);
        for (unsigned i = 0; i < 3000; i++) {
                char text[32];
                snprintf(text, sizeof(text), "c 242:%u rw", i);
                apply(dc, text, true);
                if (i % 3 == 2) {
                        snprintf(text, sizeof(text), "c 242:%u rw", i - 1);
                        apply(dc, text, false);
                }
                if (i % 100 == 50) {
                        apply(dc, "c 243:* r", true);
                        apply(dc, "c *:9 rw", i % 200 == 50);
                        apply(dc, "b *:* r", i % 200 != 50);
                }
                if (device_cgroup_map_size(dc) != size) {
                        growths++;
                        size = device_cgroup_map_size(dc);
                }
        }
        assert_int_equal(write(stop[1], "x", 1), 1);
        long counts[3];
        assert_int_equal(read(result[0], counts, sizeof(counts)), sizeof(counts));
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        print_message("# %ld open pairs during %u growths: %ld EPERM on the allowed device, %ld opens of the denied one\n",
                      counts[0], growths, counts[1], counts[2]);
        assert_true(growths >= 5);
        assert_true(counts[0] > 100);
        assert_int_equal(counts[1], 0);
        assert_int_equal(counts[2], 0);
        assert_int_equal(cgtest_prog_count(f->cgroup), 1);
        close(stop[1]);
        close(result[0]);
        device_cgroup_free(dc);
        free(denied);
}

static void test_live_adoption_by_another_process(void **state) {
        CgFixture *f = *state;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                DeviceCgroup *dc = NULL;
                DeviceRule r[3];
                DevError err = {};
                if (device_rule_parse("c 1:3 rw", true, &r[0], &err) < 0 ||
                    device_rule_parse("c 240:* r", true, &r[1], &err) < 0 ||
                    device_rule_parse("c 240:5 r", false, &r[2], &err) < 0 ||
                    device_cgroup_open(f->cgroup, NULL, &dc, &err) < 0 || device_cgroup_apply(dc, r, 3, &err) < 0)
                        _exit(1);
                _exit(0); /* exits holding nothing: the kernel keeps the program */
        }
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        DeviceCgroup *dc = open_cg(f->cgroup);
        RuleDecision d;
        assert_true(device_cgroup_has_program(dc));
        uint32_t id = device_cgroup_prog_id(dc);
        assert_int_equal(rule_table_size(device_cgroup_table(dc)), 3);
        device_cgroup_decide(dc, DEVICE_TYPE_CHAR, 240, 5, &d);
        assert_int_equal(d.level, RULE_LEVEL_EXACT);
        assert_int_equal(d.mask, 0);
        device_cgroup_decide(dc, DEVICE_TYPE_CHAR, 240, 6, &d);
        assert_int_equal(d.level, RULE_LEVEL_MAJOR);
        assert_int_equal(d.mask, BW_ACCESS_READ);
        /* Change it: the adopted map is live. */
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        apply(dc, "c 1:5 r", true);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), 0);
        assert_int_equal(device_cgroup_prog_id(dc), id);
        assert_int_equal(cgtest_prog_count(f->cgroup), 1);
        device_cgroup_free(dc);
}

/* A foreign program: denies c 1:5, allows everything else. */
static int foreign_program(const char *name) {
        const struct bpf_insn insns[] = {
                { .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = 2, .src_reg = 1, .off = 4 },
                { .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 3, .imm = 1 },
                { .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = 2, .src_reg = 1, .off = 8 },
                { .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 1, .imm = 5 },
                { .code = BPF_JMP | BPF_JA, .off = 2 },
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
                { .code = BPF_JMP | BPF_EXIT },
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, name, "GPL", insns, sizeof(insns) / sizeof(insns[0]), NULL);
        assert_true(fd >= 0);
        return fd;
}

static void test_live_coexists_with_foreign_program(void **state) {
        CgFixture *f = *state;
        int cg = open(f->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int foreign = foreign_program("sd_devices");
        int imposter = foreign_program(DEV_PROGRAM_NAME); /* our name, not our maps */
        DevError err = {};

        assert_int_equal(bpf_prog_attach(foreign, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), 0);
        assert_int_equal(bpf_prog_attach(imposter, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), 0);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDONLY), 0);

        DeviceCgroup *dc = open_cg(f->cgroup);
        assert_false(device_cgroup_has_program(dc)); /* the imposter is not adopted */
        size_t n;
        const DevProgramEntry *p = device_cgroup_programs(dc, &n);
        assert_int_equal(n, 2);
        assert_false(p[0].ours);
        assert_false(p[1].ours);
        apply(dc, "c 1:3 rw", true);
        apply(dc, "c 1:5 rw", true);
        for (unsigned i = 0; i < 200; i++) { /* and two growths */
                char text[32];
                snprintf(text, sizeof(text), "c 240:%u r", i);
                apply(dc, text, true);
        }
        assert_int_equal(cgtest_prog_count(f->cgroup), 3);
        /* The kernel requires all to allow: the foreign deny still holds. */
        assert_int_equal(cgtest_open(f->cgroup, "/dev/null", O_RDONLY), 0);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        device_cgroup_free(dc);

        dc = open_cg(f->cgroup);
        assert_true(device_cgroup_has_program(dc));
        assert_int_equal(device_cgroup_remove(dc, &err), 1);
        device_cgroup_free(dc);
        assert_int_equal(cgtest_prog_count(f->cgroup), 2); /* only ours went */
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        close(foreign);
        close(imposter);
        close(cg);
}

static void test_live_bad_input_changes_nothing(void **state) {
        CgFixture *f = *state;
        DeviceCgroup *dc = open_cg(f->cgroup), *other = NULL;
        char *path = NULL, *name = NULL;
        DeviceRule rule;
        DevError err = {};

        apply(dc, "c 1:3 rw", true);
        uint32_t id = device_cgroup_prog_id(dc);
        device_cgroup_free(dc);

        assert_int_equal(cgroup_root_resolve(arg_root, "/tmp", &path, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not below the cgroup2 root"));
        assert_true(asprintf(&name, "%s/../x", f->cgroup + strlen(arg_root) + 1) > 0);
        assert_int_equal(cgroup_root_resolve(arg_root, name, &path, &err), -EINVAL);
        free(name);
        assert_int_equal(cgroup_root_resolve(arg_root, "bulwark-test-no-such-cgroup", &path, &err), -ENOENT);
        assert_non_null(strstr(err.message, "no such cgroup"));
        assert_int_equal(device_cgroup_open("/tmp", NULL, &other, &err), -ENOTDIR);
        assert_int_equal(device_rule_parse("c 1:3 rx", true, &rule, &err), -EINVAL);

        dc = open_cg(f->cgroup);
        assert_int_equal(device_cgroup_prog_id(dc), id);
        assert_int_equal(rule_table_size(device_cgroup_table(dc)), 1);
        device_cgroup_free(dc);
        assert_int_equal(cgtest_prog_count(f->cgroup), 1);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_live_growth_to_10000_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_atomic_changes_under_load, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_adoption_by_another_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_coexists_with_foreign_program, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_bad_input_changes_nothing, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
