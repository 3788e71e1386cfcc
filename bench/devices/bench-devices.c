/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-devices: the cost of bulwark's device program against its floor.
 *
 * In one run, in real cgroups, a child pinned to one CPU times open()+close()
 * of an allowed device (/dev/null) with
 *   a   no device program (the floor),
 *   b   our program with 1 rule,
 *   c   our program with 10,000 rules,
 *   d   a linear program of the kind systemd and crun generate (one compare
 *       block per rule) with 1,000 and 10,000 rules, the allowed device
 *       matched by the last rule (as for any device added late, and for
 *       every denied device),
 *   e   our program with 1 rule and the denial log on,
 * and open() of a denied device with the log off and on.  It also times
 * one rule change on a live cgroup holding 10,000 rules: ours is a map
 * update, the linear one regenerates, loads and replaces the program.
 * Every figure is the median of several rounds; ratios are printed
 * against the floor measured in the same run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bench/bench-stats.h"
#include "cgroup-root.h"
#include "dev-log.h"
#include "dev-probe.h"
#include "device-cgroup.h"

#define N_RULES 10000


/* What the run made, removed at exit however it ends (a program's
 * globals, as daemons keep their arg_ options). */
static char arg_cgroups[16][4096];
static size_t arg_n_cgroups;
static char arg_scratch[64];

static void cgroup_drop(const char *path);

static void cleanup(void) {
        pid_t self = getpid();
        static pid_t owner;
        if (!owner)
                owner = self;
        if (owner != self) /* a timing child */
                return;
        for (size_t i = 0; i < arg_n_cgroups; i++)
                cgroup_drop(arg_cgroups[i]);
        if (arg_scratch[0]) {
                char node[128];
                snprintf(node, sizeof(node), "%.64s/denied", arg_scratch);
                unlink(node);
                rmdir(arg_scratch);
        }
}

static void die(const char *what, const DevError *err) {
        fprintf(stderr, "bench-devices: %s: %s\n", what, err && err->message[0] ? err->message : strerror(errno));
        exit(1);
}

/* ---- cgroups --------------------------------------------------------------- */

typedef struct Variant {
        const char *name;
        const char *what;
        char path[4096];
        long iterations;
        bool denied;               /* time opens of the denied node */
        DeviceCgroup *dc;          /* ours, when the log must be drained */
        int linear_fd;
        double samples[32];
} Variant;

static void cgroup_make(const char *root, Variant *v, int seq) {
        if (snprintf(v->path, sizeof(v->path), "%s/bulwark-bench-%d-%d", root, (int) getpid(), seq) >=
            (int) sizeof(v->path))
                die(root, NULL);
        if (mkdir(v->path, 0755) < 0)
                die(v->path, NULL);
        if (arg_n_cgroups < sizeof(arg_cgroups) / sizeof(arg_cgroups[0]))
                memcpy(arg_cgroups[arg_n_cgroups++], v->path, sizeof(v->path));
}

static void cgroup_drop(const char *path) {
        char buf[4200];
        if (snprintf(buf, sizeof(buf), "%s/cgroup.kill", path) >= (int) sizeof(buf))
                return;
        int fd = open(buf, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void) !write(fd, "1", 1);
                close(fd);
        }
        for (int i = 0; i < 400 && rmdir(path) < 0; i++) {
                if (errno != EBUSY) {
                        fprintf(stderr, "bench-devices: cannot remove cgroup %s: %s\n", path, strerror(errno));
                        return;
                }
                usleep(5000);
        }
        if (access(path, F_OK) == 0)
                fprintf(stderr, "bench-devices: cgroup %s is still busy; remove it by hand\n", path);
}

static DeviceCgroup *ours(const char *path, unsigned n_rules, uint32_t ring) {
        DeviceCgroupOptions o = { .log_ring_size = ring };
        DeviceCgroup *dc = NULL;
        DeviceRule *rules = calloc(n_rules + 1, sizeof(*rules));
        DevError err = {};

        for (unsigned i = 0; i < n_rules; i++)
                rules[i] = (DeviceRule) { .allow = true, .types = DEVICE_TYPE_CHAR, .access = 6, .major = 240, .minor = i };
        rules[n_rules] = (DeviceRule) { .allow = true, .types = DEVICE_TYPE_CHAR, .access = 6, .major = 1, .minor = 3 };
        if (device_cgroup_open(path, &o, &dc, &err) < 0 || device_cgroup_apply(dc, rules, n_rules + 1, &err) < 0)
                die(path, &err);
        free(rules);
        return dc;
}

/* ---- the linear program ------------------------------------------------------ */

#define INSN(c, d, s, o, i) \
        ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* One block per rule, each returning on a match; rule `extra` (the allowed
 * device) last.  `variant` changes one rule, for the update timing. */
static int linear_load(unsigned n_rules, unsigned variant, double *ret_load_ns) {
        size_t n = 6 + (size_t) (n_rules + 1) * 14 + 2, k = 0;
        struct bpf_insn *p = calloc(n, sizeof(*p));

        /* The prologue systemd and crun use: type, access, major, minor in r2-r5. */
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
        p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
        p[k++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
        /* One block per rule.  systemd's and crun's blocks branch on type,
         * access, major and minor separately; on this kernel the verifier
         * gives up on that shape before 1,000 rules (over 1,000,000
         * instructions processed), so each block here folds the four tests
         * into one value and branches once:
         *   r1 = (type ^ T) | (major ^ M) | (minor ^ m) | (access & ~A)
         *   if r1 != 0 goto next; r0 = 1; exit
         * The same linear cost per rule, and it loads at 10,000 rules. */
        for (unsigned i = 0; i <= n_rules; i++) {
                int major = i < n_rules ? 240 : 1, minor = i < n_rules ? (int) i : 3;
                if (i == 0 && variant % 2)
                        minor = 9999999; /* the rule that changes between updates */
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 4, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_XOR | BPF_K, 1, 0, 0, major);
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 5, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_XOR | BPF_K, 6, 0, 0, minor);
                p[k++] = INSN(BPF_ALU64 | BPF_OR | BPF_X, 1, 6, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 2, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_XOR | BPF_K, 6, 0, 0, BPF_DEVCG_DEV_CHAR);
                p[k++] = INSN(BPF_ALU64 | BPF_OR | BPF_X, 1, 6, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, ~(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE));
                p[k++] = INSN(BPF_ALU64 | BPF_OR | BPF_X, 1, 6, 0, 0);
                p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 2, 0);
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
                p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        double t0 = bench_now_ns();
        int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "linear", "GPL", p, k, NULL);
        if (ret_load_ns)
                *ret_load_ns = bench_now_ns() - t0;
        free(p);
        if (fd < 0)
{
                fprintf(stderr, "bench-devices: linear program of %u rules (%zu instructions): ", n_rules, k);
                die("load", NULL);
        }
        return fd;
}

static int linear_attach(const char *path, unsigned n_rules) {
        int cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = linear_load(n_rules, 0, NULL);
        if (cg < 0 || bpf_prog_attach(fd, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) < 0)
                die(path, NULL);
        close(cg);
        return fd;
}

/* ---- timing ------------------------------------------------------------------ */

static int noop_event(const DevLogEvent *ev, void *userdata) {
        return 0;
}

/* In a child pinned to CPU 0 and placed in the cgroup: ns per open. */
static double time_opens(const Variant *v, const char *denied_node) {
        int pipefd[2];
        double result = -1;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                die("pipe", NULL);
        pid = fork();
        if (pid == 0) {
                char buf[4200];
                cpu_set_t set;
                const char *path = v->denied ? denied_node : "/dev/null";
                const DevLogMaps *log = v->dc ? device_cgroup_log(v->dc) : NULL;
                long chunk = log ? 2000 : v->iterations, done = 0;
                double total = 0;

                CPU_ZERO(&set);
                CPU_SET(0, &set);
                sched_setaffinity(0, sizeof(set), &set);
                if (snprintf(buf, sizeof(buf), "%s/cgroup.procs", v->path) >= (int) sizeof(buf))
                        _exit(5);
                int cfd = open(buf, O_WRONLY | O_CLOEXEC);
                if (cfd < 0 || write(cfd, "0", 1) != 1)
                        _exit(2);
                close(cfd);
                for (int i = 0; i < 2000; i++) { /* warm up */
                        int fd = open(path, O_RDWR | O_CLOEXEC);
                        if (fd >= 0)
                                close(fd);
                }
                if (log)
                        dev_log_consume(log, 0, noop_event, NULL, NULL);
                while (done < v->iterations) {
                        long n = v->iterations - done < chunk ? v->iterations - done : chunk;
                        double t0 = bench_now_ns();
                        for (long i = 0; i < n; i++) {
                                int fd = open(path, O_RDWR | O_CLOEXEC);
                                if (fd >= 0)
                                        close(fd);
                                else if (!v->denied)
                                        _exit(3);
                        }
                        total += bench_now_ns() - t0;
                        done += n;
                        /* The log is drained between chunks, outside the timing,
                         * so denials are timed writing events, not dropping them. */
                        if (log)
                                dev_log_consume(log, 0, noop_event, NULL, NULL);
                }
                result = total / (double) v->iterations;
                if (write(pipefd[1], &result, sizeof(result)) != sizeof(result))
                        _exit(4);
                _exit(0);
        }
        close(pipefd[1]);
        if (read(pipefd[0], &result, sizeof(result)) != sizeof(result))
                result = -1;
        close(pipefd[0]);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || result < 0) {
                fprintf(stderr, "bench-devices: variant %s: the timing child failed (status %d)\n", v->name, status);
                exit(1);
        }
        return result;
}

static double time_update_ours(DeviceCgroup *dc, int n) {
        double *s = calloc((size_t) n, sizeof(*s));
        DevError err = {};
        for (int i = 0; i < n; i++) {
                DeviceRule r = { .allow = i % 2 == 0, .types = DEVICE_TYPE_CHAR, .access = 6, .major = 250, .minor = 7 };
                double t0 = bench_now_ns();
                if (device_cgroup_apply(dc, &r, 1, &err) < 0)
                        die("updating our map", &err);
                s[i] = bench_now_ns() - t0;
        }
        double m = bench_median(s, (size_t) n);
        free(s);
        return m;
}

static double time_update_linear(const char *path, int *fd, int n, double *ret_load) {
        double *s = calloc((size_t) n, sizeof(*s)), *l = calloc((size_t) n, sizeof(*l));
        int cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < n; i++) {
                double t0 = bench_now_ns();
                int nfd = linear_load(N_RULES, (unsigned) i + 1, &l[i]);
                LIBBPF_OPTS(bpf_prog_attach_opts, o, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE, .replace_prog_fd = *fd);
                if (bpf_prog_attach_opts(nfd, cg, BPF_CGROUP_DEVICE, &o) < 0)
                        die("replacing the linear program", NULL);
                close(*fd);
                *fd = nfd;
                s[i] = bench_now_ns() - t0;
        }
        close(cg);
        double m = bench_median(s, (size_t) n);
        *ret_load = bench_median(l, (size_t) n);
        free(s);
        free(l);
        return m;
}

int main(int argc, char **argv) {
        long iterations = 200000;
        int rounds = 5, c;
        static const struct option options[] = {
                { "iterations", required_argument, NULL, 'n' },
                { "rounds", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        while ((c = getopt_long(argc, argv, "n:r:h", options, NULL)) >= 0) {
                switch (c) {
                case 'n': iterations = atol(optarg); break;
                case 'r': rounds = atoi(optarg); break;
                default:
                        printf("Usage: bench-devices [--iterations N] [--rounds R]\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (rounds < 1 || rounds > 32 || iterations < 1000) {
                fprintf(stderr, "bench-devices: --rounds 1..32, --iterations at least 1000\n");
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "bench-devices: needs root\n");
                return 77;
        }
        DevProbe probe;
        if (dev_probe_run(getenv("BULWARK_CGROUP_ROOT"), &probe) < 0) {
                fprintf(stderr, "bench-devices: %s\n", probe.reason);
                return 77;
        }
        char scratch[] = "/tmp/bulwark-bench-XXXXXX", denied[64];
        cleanup(); /* records who owns the cleanup */
        atexit(cleanup);
        if (!mkdtemp(scratch))
                die("mkdtemp", NULL);
        memcpy(arg_scratch, scratch, sizeof(scratch));
        if (snprintf(denied, sizeof(denied), "%s/denied", scratch) >= (int) sizeof(denied))
                return 1;
        if (mknod(denied, S_IFCHR | 0666, makedev(241, 0)) < 0)
                die(denied, NULL);

        Variant v[] = {
                { .name = "a", .what = "no device program (floor)", .iterations = iterations },
                { .name = "b", .what = "ours, 1 rule", .iterations = iterations },
                { .name = "c", .what = "ours, 10,000 rules", .iterations = iterations },
                { .name = "d1", .what = "linear, 1,000 rules", .iterations = iterations / 4 },
                { .name = "d10", .what = "linear, 10,000 rules", .iterations = iterations / 40 },
                { .name = "e", .what = "ours, 1 rule, denial log on", .iterations = iterations },
                { .name = "bx", .what = "denied open, ours, log off", .iterations = iterations, .denied = true },
                { .name = "ex", .what = "denied open, ours, log on", .iterations = iterations, .denied = true },
        };
        const size_t nv = sizeof(v) / sizeof(v[0]);
        for (size_t i = 0; i < nv; i++) {
                cgroup_make(probe.root, &v[i], (int) i);
                v[i].linear_fd = -1;
        }
        DeviceCgroup *b = ours(v[1].path, 0, 0), *cc = ours(v[2].path, N_RULES, 0);
        v[3].linear_fd = linear_attach(v[3].path, 1000);
        v[4].linear_fd = linear_attach(v[4].path, N_RULES);
        v[5].dc = ours(v[5].path, 0, DEV_LOG_RING_DEFAULT);
        DeviceCgroup *bx = ours(v[6].path, 0, 0);
        v[7].dc = ours(v[7].path, 0, DEV_LOG_RING_DEFAULT);
        if (!device_cgroup_log(v[5].dc) || !device_cgroup_log(v[7].dc)) {
                fprintf(stderr, "bench-devices: the denial log is not available here\n");
                return 1;
        }

        printf("bench-devices: %d rounds, %ld open+close per round (linear 1,000: /4, 10,000: /40), pinned to CPU 0\n",
               rounds, iterations);
        for (int r = 0; r < rounds; r++)
                for (size_t i = 0; i < nv; i++)
                        v[i].samples[r] = time_opens(&v[i], denied);
        double m[16];
        printf("\n%-4s %-34s %12s\n", "", "variant", "ns per open");
        for (size_t i = 0; i < nv; i++) {
                m[i] = bench_median(v[i].samples, (size_t) rounds);
                printf("%-4s %-34s %12.1f\n", v[i].name, v[i].what, m[i]);
        }

        /* Updates on a live cgroup holding 10,000 rules. */
        double ours_update = time_update_ours(cc, 2000), linear_load_ns = 0;
        double linear_update = time_update_linear(v[4].path, &v[4].linear_fd, 10, &linear_load_ns);
        printf("\none rule changed on a live cgroup with 10,000 rules (median):\n");
        printf("     ours: map update                       %12.1f ns\n", ours_update);
        printf("     linear: regenerate + load + replace    %12.1f ns (load alone %.1f ns)\n", linear_update,
               linear_load_ns);

        double cb = m[2] / m[1], ca = m[2] / m[0], d1b = m[3] / m[1], d10b = m[4] / m[1], upd = linear_update / ours_update;
        double logged = m[5] / m[1];
        printf("\nratios (targets from the issues):\n");
        printf("  c/b   ours 10,000 rules / ours 1 rule        %6.3f  (target <= 1.05: %s)\n", cb, cb <= 1.05 ? "met" : "MISSED");
        printf("  c/a   ours 10,000 rules / no program         %6.3f\n", ca);
        printf("  b/a   ours 1 rule / no program               %6.3f\n", m[1] / m[0]);
        printf("  d/b   linear 1,000 rules / ours 1 rule       %6.3f\n", d1b);
        printf("  d/b   linear 10,000 rules / ours 1 rule      %6.3f\n", d10b);
        printf("  update linear / ours                        %8.1f  (target >= 100: %s)\n", upd, upd >= 100 ? "met" : "MISSED");
        printf("  e/b   allowed open, log on / log off         %6.3f  (target <= 1.02: %s)\n", logged,
               logged <= 1.02 ? "met" : "MISSED");
        printf("  denied open: log off %.1f ns, log on %.1f ns: %+.1f ns (%.3fx)\n", m[6], m[7], m[7] - m[6], m[7] / m[6]);

        device_cgroup_free(b);
        device_cgroup_free(cc);
        device_cgroup_free(bx);
        for (size_t i = 0; i < nv; i++) {
                device_cgroup_free(v[i].dc);
                if (v[i].linear_fd >= 0)
                        close(v[i].linear_fd);
        }
        return 0; /* cleanup() removes the cgroups and the scratch directory */
}
