/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-landlock: what the landlock plugin costs a guest.
 *
 *   open+close   an open()+close() loop on an allowed file (the guest's
 *                first disk), in a child that is unconfined (the floor)
 *                and in one restricted with the ruleset of a guest with
 *                100 resources; the rounds alternate, each in a fresh
 *                child, and the medians are compared (target <= 1.10x).
 *                A ruleset with one rule, on that file alone, shows how
 *                much of the cost is Landlock's own and how much the
 *                guest's 100 resources and base set add.
 *   build        the time to make that guest's ruleset in the parent: the
 *                rules from its paths and roles plus the base set, every
 *                path opened and added (target <= 1 ms).
 * The guest is made by hand (BwGuestInfo, 100 raw disks in a scratch
 * directory, every other one read-only), as the core would hand it over.
 *
 * Usage: bench-landlock [--rounds N] [--opens N] [--base-rules FILE] [--no-pin] */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench-stats.h"
#include "base-rules.h"
#include "guest-rules.h"
#include "ll-abi.h"
#include "ruleset.h"

#define RESOURCES 100

typedef struct Guest {
        BwGuestInfo info;
        BwResource res[RESOURCES];
        const BwResource *ptrs[RESOURCES];
        char ids[RESOURCES][16];
        char paths[RESOURCES][256];
        const char *path_ptrs[RESOURCES][1];
        BwPathRole roles[RESOURCES][1];
} Guest;


static void guest_make(Guest *g, const char *dir) {
        memset(g, 0, sizeof(*g));
        for (int i = 0; i < RESOURCES; i++) {
                snprintf(g->ids[i], sizeof(g->ids[i]), "d%d", i);
                snprintf(g->paths[i], sizeof(g->paths[i]), "%s/disk-%03d.img", dir, i);
                int fd = open(g->paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || close(fd) < 0) {
                        perror(g->paths[i]);
                        exit(1);
                }
                g->path_ptrs[i][0] = g->paths[i];
                g->roles[i][0] = i % 2 ? BW_PATH_IMAGE_READONLY : BW_PATH_IMAGE;
                g->res[i] = (BwResource) {
                        .size = sizeof(BwResource), .type = BW_RESOURCE_DISK, .id = g->ids[i], .path = g->paths[i],
                        .readonly = i % 2, .n_paths = 1, .paths = g->path_ptrs[i], .roles = g->roles[i],
                };
                g->ptrs[i] = &g->res[i];
        }
        g->info = (BwGuestInfo) {
                .size = sizeof(BwGuestInfo), .name = "bench", .uuid = "00000000-0000-0000-0000-000000000001",
                .n_resources = RESOURCES, .resources = g->ptrs,
        };
}

/* The ruleset of the guest: rules, then the descriptor. */
static int guest_ruleset(const Guest *g, const LlRuleList *base, int abi) {
        LlRuleList rules = {};
        PluginError err = {};
        int fd = -1;
        int r = guest_rules_build(&g->info, base, &rules, &err);
        if (r >= 0)
                r = ruleset_build(g->info.name, &rules, abi, &fd, &err);
        rule_list_clear(&rules);
        if (r < 0) {
                fprintf(stderr, "bench-landlock: %s\n", err.message);
                exit(1);
        }
        return fd;
}

/* The same handled rights with a single rule: read and write `file`. */
static int one_rule_ruleset(const char *file, int abi) {
        LlRuleList rules = {};
        PluginError err = {};
        int fd = -1;
        int r = rule_list_add(&rules, file, LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE, "bench", "one rule",
                              false, 0);
        if (r >= 0)
                r = ruleset_build("bench", &rules, abi, &fd, &err);
        rule_list_clear(&rules);
        if (r < 0) {
                fprintf(stderr, "bench-landlock: one-rule ruleset: %s\n", err.message[0] ? err.message : strerror(-r));
                exit(1);
        }
        return fd;
}

/* One round in a fresh child: ns per open+close, through a pipe. */
static double round_opens(const char *file, int ruleset_fd, long opens, bool pin) {
        int p[2];
        double ns = -1;
        if (pipe(p) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                if (pin) {
                        cpu_set_t set;
                        CPU_ZERO(&set);
                        CPU_SET(0, &set);
                        sched_setaffinity(0, sizeof(set), &set);
                }
                if (ruleset_fd >= 0 && ll_restrict_self(ruleset_fd) < 0)
                        _exit(1);
                for (long i = 0; i < opens / 10; i++) /* warm up */
                        close(open(file, O_RDONLY | O_CLOEXEC));
                double t0 = bench_now_ns();
                for (long i = 0; i < opens; i++) {
                        int fd = open(file, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                _exit(2);
                        close(fd);
                }
                double per = (bench_now_ns() - t0) / (double) opens;
                _exit(write(p[1], &per, sizeof(per)) == sizeof(per) ? 0 : 3);
        }
        close(p[1]);
        if (read(p[0], &ns, sizeof(ns)) != sizeof(ns))
                ns = -1;
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ns : -1;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "rounds", required_argument, NULL, 'r' }, { "opens", required_argument, NULL, 'o' },
                { "base-rules", required_argument, NULL, 'b' }, { "no-pin", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        int rounds = 11, c;
        long opens = 200000;
        bool pin = true;
        const char *base_file = BW_TOP_SRCDIR_FALLBACK "/policy/landlock/base.rules";
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'r': rounds = atoi(optarg); break;
                case 'o': opens = atol(optarg); break;
                case 'b': base_file = optarg; break;
                case 'n': pin = false; break;
                case 'h':
                        printf("Usage: bench-landlock [--rounds N] [--opens N] [--base-rules FILE] [--no-pin]\n"
                               "open()+close() on an allowed file unconfined and under the Landlock ruleset of a\n"
                               "guest with %d resources (ratio, target <= 1.10x), and the time to build that\n"
                               "ruleset (target <= 1 ms).  Rounds alternate, each in a fresh child pinned to CPU 0.\n",
                               RESOURCES);
                        return 0;
                default: return 2;
                }
        }
        if (rounds < 1 || rounds > 1000 || opens < 1) {
                fprintf(stderr, "bench-landlock: --rounds 1..1000, --opens >= 1\n");
                return 2;
        }
        int abi = ll_abi_kernel();
        if (abi < 1) {
                fprintf(stderr, "bench-landlock: Landlock unusable here: %s\n", strerror(-abi));
                return 77;
        }
        abi = abi < LL_ABI_KNOWN ? abi : LL_ABI_KNOWN;
        LlRuleList base = {};
        PluginError err = {};
        if (base_rules_load(base_file, &base, &err) < 0) {
                fprintf(stderr, "bench-landlock: %s\n", err.message);
                return 1;
        }
        char dir[] = "/tmp/bench-landlock-XXXXXX";
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        static Guest g;
        guest_make(&g, dir);

        double *build = calloc((size_t) rounds * 5, sizeof(double));
        for (int i = 0; i < rounds * 5; i++) {
                double t0 = bench_now_ns();
                int fd = guest_ruleset(&g, &base, abi);
                build[i] = bench_now_ns() - t0;
                close(fd);
        }
        int fd = guest_ruleset(&g, &base, abi);
        int one_fd = one_rule_ruleset(g.paths[0], abi);
        double *floor_ns = calloc((size_t) rounds, sizeof(double)), *ours = calloc((size_t) rounds, sizeof(double));
        double *one = calloc((size_t) rounds, sizeof(double));
        int failed = 0;
        for (int i = 0; i < rounds; i++) {
                floor_ns[i] = round_opens(g.paths[0], -1, opens, pin);
                ours[i] = round_opens(g.paths[0], fd, opens, pin);
                one[i] = round_opens(g.paths[0], one_fd, opens, pin);
                failed |= floor_ns[i] < 0 || ours[i] < 0 || one[i] < 0;
        }
        close(fd);
        close(one_fd);
        size_t n_base = base.n;
        for (int i = 0; i < RESOURCES; i++)
                unlink(g.paths[i]);
        rmdir(dir);
        rule_list_clear(&base);
        if (failed) {
                fprintf(stderr, "bench-landlock: a round failed (the confined child could not open its disk?)\n");
                return 1;
        }
        double mb = bench_median(build, (size_t) rounds * 5) / 1e3;
        double mf = bench_median(floor_ns, (size_t) rounds), mo = bench_median(ours, (size_t) rounds);
        double m1 = bench_median(one, (size_t) rounds);
        printf("Landlock ABI %d, guest with %d resources (%zu base rules), %d rounds of %ld opens%s\n", abi,
               RESOURCES, n_base, rounds, opens, pin ? ", pinned to CPU 0" : "");
        printf("open+close, unconfined (floor):    %8.1f ns\n", mf);
        printf("open+close, under the ruleset:     %8.1f ns   %.3fx   (target <= 1.10x)\n", mo, mo / mf);
        printf("open+close, one-rule ruleset:      %8.1f ns   %.3fx   (Landlock's own cost)\n", m1, m1 / mf);
        printf("build the ruleset (median of %d): %8.1f us          (target <= 1000 us)\n", rounds * 5, mb);
        free(build);
        free(floor_ns);
        free(ours);
        free(one);
        return 0;
}
