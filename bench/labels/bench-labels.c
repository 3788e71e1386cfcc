/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-labels: labelling a guest's files through bulwark against its floor.
 *
 * In one run, on N files (default 1,000) in a scratch directory:
 *   floor   (the issue's) per file, done directly: chown to the guest, one
 *           setxattr of a record-sized trusted.* value, one getxattr, then
 *           the files are put back (not timed);
 *   same work  per file, done directly, what start+stop with two drivers
 *           does at the least: at start, for dac and for selinux, read the
 *           record xattr (none), write it, change the label (chown;
 *           setxattr security.selinux); at stop, for each, read the
 *           record, restore the label (chown back; remove
 *           security.selinux, which the file did not have), remove the
 *           record: 12 system calls against the floor's 3;
 *   bulwark start + stop through the manager of a guest with N disks, with
 *           the dac and selinux plugins and a real bulwark-lockd: plan,
 *           one lockd acquire of every path, the journal, every label and
 *           record, and at stop every original back and every record gone.
 *   core    the same start + stop with the nop plugin (no change at all):
 *           the core's share (parse, plan, journal, lock step).
 * Each figure is the median of several rounds; the ratio is per file,
 * against both floors measured in the same run.  The state directory (the
 * journal, one fdatasync per batch) is on the scratch directory's
 * filesystem, or wherever --state-dir says. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "client.h"

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What the run made, removed at exit however it ends (as bench-devices
 * keeps its cgroups). */
static char *bench_scratch;
static pid_t bench_lockd;

static void bench_cleanup(void) {
        if (bench_lockd > 0) {
                kill(bench_lockd, SIGTERM);
                waitpid(bench_lockd, NULL, 0);
        }
        if (bench_scratch) {
                g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", bench_scratch);
                if (system(cmd) != 0)
                        fprintf(stderr, "bench-labels: could not remove '%s'\n", bench_scratch);
        }
}

static void die(const char *what) {
        fprintf(stderr, "bench-labels: %s: %s\n", what, strerror(errno));
        exit(1);
}

static pid_t lockd_start(const char *binary, const char *dir, char **ret_socket) {
        g_autofree char *conf = g_build_filename(dir, "lockd.conf", NULL);
        g_autofree char *pidfile = g_build_filename(dir, "lockd.pid", NULL);
        char *socket_path = g_build_filename(dir, "lockd.sock", NULL);
        if (!g_file_set_contents(conf, "[lockd]\n", -1, NULL))
                die("lockd config");
        pid_t pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                execl(binary, binary, "--foreground", "--config", conf, "--socket", socket_path, "--state-dir", dir,
                      "--pidfile", pidfile, (char *) NULL);
                _exit(127);
        }
        BwLockdClient *c;
        bw_lockd_client_new(socket_path, "bench", &c);
        for (int i = 0; i < 500; i++) {
                BwLockdDaemonInfo info;
                if (bw_lockd_ping(c, &info, NULL) == 0) {
                        bw_lockd_client_free(c);
                        *ret_socket = socket_path;
                        return pid;
                }
                usleep(10000);
        }
        fprintf(stderr, "bench-labels: '%s' did not start\n", binary);
        exit(1);
}

/* The floor: what any remembering labeller must at least do per file. */
static double floor_round(char **files, size_t n) {
        static const char record[] = "bulwark-label-record 1\ndriver dac\nboot 00000000-1111-2222-3333-444444444444\n"
                                     "original 0:0\napplied 107:107\nholder 99999999-9999-9999-9999-999999999999\n";
        char buf[512];
        double t0 = now_ms();
        for (size_t i = 0; i < n; i++) {
                if (getxattr(files[i], "trusted.bench", buf, sizeof(buf)) >= 0 || errno != ENODATA)
                        die("getxattr");
                if (setxattr(files[i], "trusted.bench", record, sizeof(record) - 1, 0) < 0)
                        die("setxattr");
                if (chown(files[i], 107, 107) < 0)
                        die("chown");
        }
        double t = now_ms() - t0;
        for (size_t i = 0; i < n; i++)
                if (removexattr(files[i], "trusted.bench") < 0 || chown(files[i], 0, 0) < 0)
                        die("reset");
        return t;
}

/* A record as long as the engine's, for the same-work floor. */
#define BENCH_RECORD(driver, original, applied)                                                   \
        "bulwark-label-record 1\ndriver " driver "\nboot 00000000-1111-2222-3333-444444444444\n" \
        "original " original "\napplied " applied "\nholder 99999999-9999-9999-9999-999999999999\n"

/* One driver's share of the same-work floor, at start and at stop. */
typedef struct BenchDriver {
        const char *record_xattr;
        const char *record;
} BenchDriver;

static void same_work_start(const char *file, const BenchDriver *d, bool dac) {
        static const char context[] = "system_u:object_r:svirt_image_t:s0:c1,c2";
        char buf[512];
        if (getxattr(file, d->record_xattr, buf, sizeof(buf)) >= 0 || errno != ENODATA)
                die("getxattr");
        if (setxattr(file, d->record_xattr, d->record, strlen(d->record), 0) < 0)
                die("setxattr");
        if (dac ? chown(file, 107, 107) : setxattr(file, "security.selinux", context, sizeof(context), 0))
                die(dac ? "chown" : "setxattr security.selinux");
}

static void same_work_stop(const char *file, const BenchDriver *d, bool dac) {
        char buf[512];
        if (getxattr(file, d->record_xattr, buf, sizeof(buf)) < 0)
                die("getxattr");
        if (dac ? chown(file, 0, 0) : removexattr(file, "security.selinux"))
                die(dac ? "chown back" : "removexattr security.selinux");
        if (removexattr(file, d->record_xattr) < 0)
                die("removexattr");
}

/* The same work as start+stop, done directly: two drivers, remembered
 * and given back, no journal, no locks, no plan. */
static double same_work_round(char **files, size_t n) {
        static const BenchDriver drivers[] = {
                { "trusted.bench.dac", BENCH_RECORD("dac", "0:0", "107:107") },
                { "trusted.bench.selinux", BENCH_RECORD("selinux", "", "system_u:object_r:svirt_image_t:s0:c1,c2") },
        };
        double t0 = now_ms();
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < G_N_ELEMENTS(drivers); k++)
                        same_work_start(files[i], &drivers[k], k == 0);
        for (size_t i = 0; i < n; i++)
                for (size_t k = G_N_ELEMENTS(drivers); k > 0; k--)
                        same_work_stop(files[i], &drivers[k - 1], k - 1 == 0);
        return now_ms() - t0;
}

static double bulwark_round(BwManager *m, const BwGuest *g) {
        BwError err = {};
        double t0 = now_ms();
        if (bw_manager_start(m, g, &err) < 0) {
                fprintf(stderr, "bench-labels: start: %s\n", err.message);
                exit(1);
        }
        if (bw_manager_stop(m, "bench", &err) < 0) {
                fprintf(stderr, "bench-labels: stop: %s\n", err.message);
                exit(1);
        }
        return now_ms() - t0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "daemon", required_argument, NULL, 'd' },   { "plugin-dir", required_argument, NULL, 'p' },
                { "files", required_argument, NULL, 'n' },    { "rounds", required_argument, NULL, 'r' },
                { "dir", required_argument, NULL, 'D' },      { "state-dir", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },           {}
        };
        const char *daemon = "./bulwark-lockd", *plugin_dir = "security/label/.libs", *parent = NULL, *state_arg = NULL;
        size_t n = 1000;
        int rounds = 5, c;
        while ((c = getopt_long(argc, argv, "d:p:n:r:D:s:h", options, NULL)) >= 0) {
                switch (c) {
                case 'd': daemon = optarg; break;
                case 'p': plugin_dir = optarg; break;
                case 'n': n = strtoul(optarg, NULL, 10); break;
                case 'r': rounds = atoi(optarg); break;
                case 'D': parent = optarg; break;
                case 's': state_arg = optarg; break;
                case 'h':
                        printf("Usage: bench-labels [--daemon PATH] [--plugin-dir DIR] [--files N] [--rounds R]\n"
                               "                    [--dir DIR] [--state-dir DIR]\n"
                               "Times start+stop of a guest with N disks through the manager (dac, selinux,\n"
                               "bulwark-lockd) against the floor of chown + setxattr + getxattr per file,\n"
                               "and against the same work as start+stop done directly (two drivers:\n"
                               "record read and written, label changed; at stop read, restored, removed).\n"
                               "--dir: where the scratch directory goes (default $TMPDIR or /tmp);\n"
                               "--state-dir: the manager's state directory (default: in the scratch dir).\n");
                        return 0;
                default: return 2;
                }
        }
        if (geteuid() != 0) {
                fprintf(stderr, "bench-labels: needs root (chown and trusted.* xattrs)\n");
                return 77;
        }
        if (n == 0 || rounds < 1)
                return 2;
        char *tmpl = g_build_filename(parent ? parent : g_get_tmp_dir(), "bench-labels-XXXXXX", NULL);
        if (!g_mkdtemp(tmpl))
                die("scratch directory");
        bench_scratch = tmpl;         /* freed by nobody: the process ends with it */
        atexit(bench_cleanup);
        char **files = g_new0(char *, n + 1);
        GString *text = g_string_new("[guest]\nname=bench\nuser=107\ngroup=107\n");
        for (size_t i = 0; i < n; i++) {
                files[i] = g_strdup_printf("%s/disk%zu.img", tmpl, i);
                int fd = open(files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        die(files[i]);
                close(fd);
                g_string_append_printf(text, "[disk:d%zu]\npath=%s\n", i, files[i]);
        }
        char *socket_path = NULL;
        bench_lockd = lockd_start(daemon, tmpl, &socket_path);
        g_autofree char *state = state_arg ? g_strdup(state_arg) : g_build_filename(tmpl, "state", NULL);
        g_autofree char *conf_text = g_strdup_printf("[bulwark]\nlock-backend=lockd\n[lockd]\nsocket=%s\n", socket_path);
        g_autofree char *conf = g_build_filename(tmpl, "bulwark.conf", NULL);
        if (!g_file_set_contents(conf, conf_text, -1, NULL))
                die("bulwark.conf");
        g_auto(GStrv) dirs = g_strsplit(plugin_dir, ":", -1);
        for (size_t i = 0; dirs[i]; i++) {
                char *abs = g_canonicalize_filename(dirs[i], NULL);
                g_free(dirs[i]);
                dirs[i] = abs;
        }
        g_autofree char *plugin_abs = g_strjoinv(":", dirs);
        BwOptions o = { .config_path = conf, .plugin_dir = plugin_abs, .plugins = "dac,selinux", .state_dir = state,
                        .cgroup_root = tmpl };
        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0 || bw_guest_load_data(text->str, text->len, "bench", &g, &err) < 0) {
                fprintf(stderr, "bench-labels: %s\n", err.message);
                return 1;
        }
        /* The core's own share: the same guest with the nop plugin, which
         * changes nothing. */
        BwOptions on = o;
        on.plugins = "nop";
        BwManager *mn = NULL;
        if (bw_manager_new(&on, &mn, &err) < 0) {
                fprintf(stderr, "bench-labels: %s\n", err.message);
                return 1;
        }
        double *fl = g_new(double, rounds), *bw = g_new(double, rounds), *nop = g_new(double, rounds);
        double *same = g_new(double, rounds);
        (void) floor_round(files, n);        /* warm the caches of all four */
        (void) same_work_round(files, n);
        (void) bulwark_round(m, g);
        (void) bulwark_round(mn, g);
        for (int r = 0; r < rounds; r++) {
                fl[r] = floor_round(files, n);
                same[r] = same_work_round(files, n);
                bw[r] = bulwark_round(m, g);
                nop[r] = bulwark_round(mn, g);
        }
        double f = median(fl, (size_t) rounds), b = median(bw, (size_t) rounds), c0 = median(nop, (size_t) rounds);
        double sw = median(same, (size_t) rounds);
        printf("bench-labels: %zu files, %d rounds (median), scratch %s, state %s\n", n, rounds, tmpl, state);
        printf("%-44s %10s %12s\n", "", "total ms", "per file us");
        printf("%-44s %10.2f %12.2f\n", "floor: chown + setxattr + getxattr", f, f * 1000 / (double) n);
        printf("%-44s %10.2f %12.2f\n", "same work: 2 drivers, remember + give back", sw, sw * 1000 / (double) n);
        printf("%-44s %10.2f %12.2f\n", "bulwark: start+stop (lockd, dac, selinux)", b, b * 1000 / (double) n);
        printf("%-44s %10.2f %12.2f\n", "core alone: start+stop with the nop plugin", c0, c0 * 1000 / (double) n);
        printf("ratio per file: %.2fx (target <= 2.0x: %s); without the core's share: %.2fx\n", b / f,
               b / f <= 2.0 ? "met" : "MISSED", (b - c0) / f);
        printf("ratio against the same work done directly: %.2fx; without the core's share: %.2fx\n", b / sw,
               (b - c0) / sw);
        bw_guest_free(g);
        bw_manager_free(m);
        bw_manager_free(mn);
        g_strfreev(files);
        g_string_free(text, TRUE);
        g_free(socket_path);
        g_free(fl);
        g_free(bw);
        g_free(nop);
        g_free(same);
        return 0;
}
