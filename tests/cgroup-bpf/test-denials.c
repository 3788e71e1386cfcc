/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The denial log on the real kernel: events and counters for a child's
 * refused opens and mknods, a full ring with exact totals, growth and
 * adoption without losing events, and the errors of `devices denials`. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cgtest.h"
#include "dev-log.h"
#include "device-cgroup.h"
#include "plugin-host.h"
#include "test-util.h"

static char *arg_root;

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_root, "denials");
        return 0;
}

static int teardown(void **state) {
        cgtest_fixture_free(*state);
        return 0;
}

static DeviceCgroup *open_logged(const char *cgroup, uint32_t ring, const char *rule) {
        DeviceCgroupOptions o = { .log_ring_size = ring };
        DeviceCgroup *dc = NULL;
        DeviceRule r;
        DevError err = {};
        if (device_cgroup_open(cgroup, &o, &dc, &err) < 0 ||
            (rule && (device_rule_parse(rule, true, &r, &err) < 0 || device_cgroup_apply(dc, &r, 1, &err) < 0))) {
                fprintf(stderr, "# %s\n", err.message);
                fail();
        }
        return dc;
}

typedef struct Collected {
        DevLogEvent ev[64];
        size_t n;
} Collected;

static int collect(const DevLogEvent *ev, void *userdata) {
        Collected *c = userdata;
        if (c->n < 64)
                c->ev[c->n] = *ev;
        c->n++;
        return 0;
}

static uint64_t counter(const DevLogMaps *log, unsigned type, uint32_t major, uint32_t minor, unsigned access) {
        DevLogCountKey key = { .major = major, .minor = minor, .type = (uint8_t) type, .access = (uint8_t) access };
        uint64_t v = 0;
        if (bpf_map_lookup_elem(log->denied_fd, &key, &v) < 0)
                return 0;
        return v;
}

static void test_denials_events_and_counters(void **state) {
        CgFixture *f = *state;
        DeviceCgroup *dc = open_logged(f->cgroup, DEV_LOG_RING_DEFAULT, "c 1:3 rwm");
        const DevLogMaps *log = device_cgroup_log(dc);
        char *tun = NULL;
        Collected c = {};
        DevError err = {};
        pid_t pid;

        assert_non_null(log);
        assert_true(asprintf(&tun, "%s/tun", f->scratch) > 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char buf[4096];
                snprintf(buf, sizeof(buf), "%s/cgroup.procs", f->cgroup);
                int fd = open(buf, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(2);
                close(fd);
                prctl(PR_SET_NAME, "bw-denied", 0, 0, 0);
                if (mknod(tun, S_IFCHR | 0600, makedev(10, 200)) == 0 || errno != EPERM)
                        _exit(3);
                if (setresuid(65534, 65534, 65534) < 0)
                        _exit(4);
                for (int i = 0; i < 5; i++) {
                        if (open("/dev/zero", O_RDONLY | O_CLOEXEC) >= 0 || errno != EPERM)
                                _exit(5);
                        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                _exit(6);
                        close(fd);
                }
                if (open("/dev/zero", O_WRONLY | O_CLOEXEC) >= 0 || errno != EPERM)
                        _exit(7);
                _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        assert_int_equal(dev_log_consume(log, 0, collect, &c, &err), 7);
        assert_int_equal(c.n, 7);
        char zero_name[64], tun_name[64];
        dev_log_node_name(DEVICE_TYPE_CHAR, 1, 5, zero_name, sizeof(zero_name));
        dev_log_node_name(DEVICE_TYPE_CHAR, 10, 200, tun_name, sizeof(tun_name));
        assert_string_equal(zero_name, "/dev/zero");
        unsigned reads = 0, writes = 0, mknods = 0;
        for (size_t i = 0; i < c.n; i++) {
                const DevLogEvent *ev = &c.ev[i];
                char comm[16] = "bw-denied";
                assert_int_equal(ev->tgid, pid);
                assert_memory_equal(ev->comm, comm, 16); /* zero-padded */
                assert_int_equal(ev->type, DEVICE_TYPE_CHAR);
                assert_int_equal(ev->reserved, 0);
                assert_true(ev->boot_ns > 0);
                assert_true(ev->cgroup_id > 0);
                assert_int_equal(ev->level, RULE_LEVEL_NONE);
                if (ev->major == 10) {
                        assert_int_equal(ev->minor, 200);
                        assert_int_equal(ev->access, BW_ACCESS_MKNOD);
                        assert_int_equal(ev->uid, 0);
                        mknods++;
                } else {
                        assert_int_equal(ev->major, 1);
                        assert_int_equal(ev->minor, 5); /* never /dev/null */
                        assert_int_equal(ev->uid, 65534);
                        reads += ev->access == BW_ACCESS_READ;
                        writes += ev->access == BW_ACCESS_WRITE;
                }
        }
        assert_int_equal(reads, 5);
        assert_int_equal(writes, 1);
        assert_int_equal(mknods, 1);
        print_message("# node names: c 1:5 %s, c 10:200 %s\n", zero_name, tun_name);

        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 1, 5, BW_ACCESS_READ), 5);
        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 1, 5, BW_ACCESS_WRITE), 1);
        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 10, 200, BW_ACCESS_MKNOD), 1);
        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 1, 3, BW_ACCESS_READ), 0);
        DevLogTotals t;
        assert_int_equal(dev_log_read_totals(log, &t, NULL, &err), 0);
        assert_int_equal(t.denied, 7);
        assert_int_equal(t.dropped, 0);
        DevLogCount *counts = NULL;
        size_t n = 0;
        assert_int_equal(dev_log_read_counts(log, &counts, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_int_equal(counts[0].count, 5); /* sorted by count */
        free(counts);
        /* Consumed: a second read finds nothing; the counters stay. */
        c.n = 0;
        assert_int_equal(dev_log_consume(log, 0, collect, &c, &err), 0);
        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 1, 5, BW_ACCESS_READ), 5);
        device_cgroup_free(dc);
        free(tun);
}

/* A ring set small through the plugin's configuration, 10,000 undrained
 * denials: the totals are exact, read + dropped adds up. */
static void test_denials_overflow_exact_totals(void **state) {
        CgFixture *f = *state;
        char *rules = test_srcdir_path("policy/devices/default.rules"), *c_root = NULL, *c_rules = NULL;
        char *node = cgtest_node(f->scratch, "denied", false, 241, 0);
        PluginHost h;
        const unsigned n = 10000;

        assert_true(asprintf(&c_root, "cgroup-root=%s", arg_root) > 0);
        assert_true(asprintf(&c_rules, "default-rules=%s", rules) > 0);
        const char *config[] = { c_root, c_rules, "log-ring-size=4096", NULL };
        BwGuestInfo guest = { .name = "overflow", .cgroup = f->cgroup, .cgroup_given = true };
        assert_int_equal(plugin_host_open(&h, config), 0);
        assert_int_equal(plugin_host_plan(&h, &guest), 0);
        assert_int_equal(plugin_host_apply(&h, &guest, 0), 0);

        CgAccess *a = calloc(n, sizeof(*a));
        for (unsigned i = 0; i < n; i++)
                a[i] = (CgAccess) { .path = node, .flags = O_RDONLY };
        cgtest_try(f->cgroup, a, n);
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(a[i].result, EPERM);
        free(a);

        DeviceCgroup *dc = NULL;
        DeviceCgroupOptions ro = { .readonly = true };
        DevError err = {};
        Collected c = {};
        DevLogTotals t;
        assert_int_equal(device_cgroup_open(f->cgroup, &ro, &dc, &err), 0);
        const DevLogMaps *log = device_cgroup_log(dc);
        assert_non_null(log);
        assert_int_equal(log->ring_size, 4096);
        assert_int_equal(counter(log, DEVICE_TYPE_CHAR, 241, 0, BW_ACCESS_READ), n);
        int read = dev_log_consume(log, 0, collect, &c, &err);
        assert_true(read > 0);
        assert_int_equal(dev_log_read_totals(log, &t, NULL, &err), 0);
        print_message("# %u denials: %d events read, %llu dropped\n", n, read, (unsigned long long) t.dropped);
        assert_int_equal(t.denied, n);
        assert_int_equal((uint64_t) read + t.dropped, n);
        assert_true(t.dropped > 0);
        device_cgroup_free(dc);

        assert_int_equal(plugin_host_undo(&h, &guest, 0, true), 0);
        plugin_host_close(&h);
        free(c_root);
        free(c_rules);
        free(rules);
        free(node);
}

static void test_denials_survive_growth(void **state) {
        CgFixture *f = *state;
        DeviceCgroup *dc = open_logged(f->cgroup, DEV_LOG_RING_DEFAULT, "c 1:3 rw");
        char *node = cgtest_node(f->scratch, "denied", false, 241, 0);
        struct bpf_map_info before = {}, after = {};
        uint32_t len = sizeof(before), id = device_cgroup_prog_id(dc);
        Collected c = {};
        DevError err = {};

        assert_int_equal(bpf_obj_get_info_by_fd(device_cgroup_log(dc)->log_fd, &before, &len), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(cgtest_open(f->cgroup, node, O_RDONLY), EPERM);
        for (unsigned i = 0; i < 100; i++) { /* 64 -> 128 */
                DeviceRule r = { .allow = true, .types = DEVICE_TYPE_CHAR, .access = 2, .major = 240, .minor = i };
                assert_int_equal(device_cgroup_apply(dc, &r, 1, &err), 0);
        }
        assert_int_equal(device_cgroup_map_size(dc), 128);
        assert_int_not_equal(device_cgroup_prog_id(dc), id);
        len = sizeof(after);
        assert_int_equal(bpf_obj_get_info_by_fd(device_cgroup_log(dc)->log_fd, &after, &len), 0);
        assert_int_equal(before.id, after.id); /* the same ring */
        for (int i = 0; i < 3; i++)
                assert_int_equal(cgtest_open(f->cgroup, node, O_RDONLY), EPERM);
        assert_int_equal(dev_log_consume(device_cgroup_log(dc), 0, collect, &c, &err), 6);
        assert_int_equal(counter(device_cgroup_log(dc), DEVICE_TYPE_CHAR, 241, 0, BW_ACCESS_READ), 6);
        device_cgroup_free(dc);
        free(node);
}

static void test_denials_read_after_adoption(void **state) {
        CgFixture *f = *state;
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                DeviceCgroup *dc = open_logged(f->cgroup, DEV_LOG_RING_DEFAULT, "c 1:3 rw");
                device_cgroup_free(dc);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/full", O_WRONLY), EPERM);

        /* A new process finds the log through the program's map ids. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                DeviceCgroupOptions ro = { .readonly = true };
                DeviceCgroup *dc = NULL;
                Collected c = {};
                DevError err = {};
                DevLogTotals t;
                if (device_cgroup_open(f->cgroup, &ro, &dc, &err) < 0 || !device_cgroup_log(dc))
                        _exit(2);
                if (dev_log_consume(device_cgroup_log(dc), 0, collect, &c, &err) != 2)
                        _exit(3);
                if (c.ev[0].minor != 5 || c.ev[1].minor != 7)
                        _exit(4);
                if (dev_log_read_totals(device_cgroup_log(dc), &t, NULL, &err) < 0 || t.denied != 2)
                        _exit(5);
                device_cgroup_free(dc);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* `bulwarkctl devices denials` on cgroups it cannot read. */
static void run_ctl(const char *args, int want_status, const char *want) {
        char *ctl = test_builddir_path("bulwarkctl"), *cmd = NULL, out[4096] = "";
        if (access(ctl, X_OK) < 0) {
                print_message("# %s not built; not run\n", ctl);
                free(ctl);
                return;
        }
        assert_true(asprintf(&cmd, "%s devices denials %s 2>&1", ctl, args) > 0);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != want_status || !strstr(out, want)) {
                fprintf(stderr, "# %s -> status %d: %s\n", cmd, status, out);
                fail();
        }
        free(cmd);
        free(ctl);
}

static void test_denials_bad_input(void **state) {
        CgFixture *f = *state;
        int cg = open(f->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const struct bpf_insn allow[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        char *args = NULL;

        assert_true(asprintf(&args, "%s", f->cgroup) > 0);
        run_ctl(args, 1, "no bw_devices program, so no denial log");
        int prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "sd_devices", "GPL", allow, 2, NULL);
        assert_true(prog >= 0);
        assert_int_equal(bpf_prog_attach(prog, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), 0);
        run_ctl(args, 1, "only other managers' device programs");
        run_ctl("--summary /etc", 1, "not below the cgroup2 root");
        run_ctl("--summary bulwark-test-no-such", 1, "no such cgroup");
        assert_int_equal(cgtest_prog_count(f->cgroup), 1); /* nothing changed */
        close(prog);
        close(cg);
        free(args);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_denials_events_and_counters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_denials_overflow_exact_totals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_denials_survive_growth, setup, teardown),
                cmocka_unit_test_setup_teardown(test_denials_read_after_adoption, setup, teardown),
                cmocka_unit_test_setup_teardown(test_denials_bad_input, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
