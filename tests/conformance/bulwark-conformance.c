/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark-conformance: checks that a plugin keeps the contract of
 * include/bulwark/plugin.h, on a test host it sets up and removes.
 *
 * The checks run in a child process: a plugin that crashes or exits fails
 * the check that was running, and the parent still removes the test host
 * and prints the summary. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "util/log.h"
#include "report.h"
#include "suite.h"

/* Exit statuses. */
enum {
        CONFORMANCE_PASS = 0,
        CONFORMANCE_FAIL = 1,
        CONFORMANCE_USAGE = 2,
};

/* The child running the checks, for the signal handler to pass signals on. */
static volatile pid_t arg_child = 0;

static void conformance_help(FILE *f) {
        fprintf(f,
                "Usage: bulwark-conformance [OPTIONS] PLUGIN.so\n"
                "\n"
                "Loads a bulwark plugin through the real loader and checks its contract:\n"
                "table fields, probe, plan (valid, deterministic, no side effects), apply\n"
                "and undo (with and without undo records, twice), release, attach and\n"
                "detach, adopt after a simulated restart, and descriptor leaks.  The test\n"
                "guest's files live in a scratch directory that is removed at the end.\n"
                "\n"
                "Prints one 'ok N - ...' or 'not ok N - ...: why' line per check, then\n"
                "'N passed, N failed[, N skipped]'.  Exit status: 0 when every check\n"
                "passed or was skipped, 1 when one failed, 2 on a usage error.\n"
                "\n"
                "Options:\n"
                "  --config FILE        bulwark.conf with the plugin's settings\n"
                "                       ([plugin:NAME] keys); default: an empty one\n"
                "  --guest FILE         a guest definition to use instead of the generated one\n"
                "  --cgroup-root DIR    cgroup2 directory the guest's cgroup goes under\n"
                "                       (default: the discovered mount, with a cgroup of the\n"
                "                       suite's own when running as root)\n"
                "  --state-dir DIR      the plugin's state directory (default: in the scratch\n"
                "                       directory)\n"
                "  --watch DIR          also count DIR as part of the host (repeatable)\n"
                "  -v, --verbose        list the planned changes and what apply changed; log\n"
                "                       the plugin's debug messages\n"
                "  -h, --help           show this help\n"
                "  --version            print the version\n");
}

static void conformance_forward_signal(int sig) {
        if (arg_child > 0)
                (void) kill(arg_child, sig);
}

static void conformance_catch_signals(void) {
        struct sigaction sa = { .sa_handler = conformance_forward_signal };
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
}

/* The parent's view of how the child ended. */
static void conformance_wait(pid_t child, Report *report) {
        int status;

        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) {
                        report_abort(report, "cannot wait for the checks' process");
                        return;
                }
        arg_child = 0;
        if (report_is_done(report))
                return;
        g_autofree char *msg = NULL;
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                bool asked = sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
                msg = g_strdup_printf("%s: %s (signal %d)", asked ? "interrupted" : "the plugin crashed the suite",
                                      strsignal(sig), sig);
        } else
                msg = g_strdup_printf("the plugin ended the process (exit status %d)", WEXITSTATUS(status));
        report_abort(report, msg);
}

static int conformance_run(const FixtureOptions *options, const char *plugin, bool verbose) {
        g_autoptr(Report) report = NULL;
        g_autoptr(Fixture) fixture = NULL;
        BwError err = {};
        int r;

        r = report_new(&report);
        if (r < 0) {
                fprintf(stderr, "bulwark-conformance: cannot map the result tally: %s\n", g_strerror(-r));
                return CONFORMANCE_FAIL;
        }
        r = fixture_new(options, &fixture, &err);
        if (r < 0) {
                printf("Bail out! cannot set up the test host: %s\n", err.message);
                return CONFORMANCE_FAIL;
        }
        const BwGuestInfo *guest = bw_guest_info(fixture->guest);
        report_note(report, "bulwark-conformance %s: plugin %s", PACKAGE_VERSION, plugin);
        report_note(report, "test host: %s; guest '%s' with %zu resource%s; cgroup %s%s", fixture->scratch,
                    guest->name, guest->n_resources, guest->n_resources == 1 ? "" : "s",
                    guest->cgroup ? guest->cgroup : "(none)", fixture->cgroup_made ? " (made for this run)" : "");
        if (fixture->dev_scratch)
                report_note(report, "device nodes in %s", fixture->dev_scratch);

        fflush(stdout);
        fflush(stderr);
        conformance_catch_signals();
        pid_t child = fork();
        if (child < 0) {
                printf("Bail out! cannot fork: %s\n", g_strerror(errno));
                return CONFORMANCE_FAIL;
        }
        if (child == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                suite_run(fixture, report, plugin, verbose);
                fflush(stdout);
                fflush(stderr);
                _exit(0);
        }
        arg_child = child;
        conformance_wait(child, report);
        return report_finish(report);
}

int main(int argc, char **argv) {
        enum { OPT_CONFIG = 0x100, OPT_GUEST, OPT_CGROUP_ROOT, OPT_STATE_DIR, OPT_WATCH, OPT_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, OPT_CONFIG },
                { "guest", required_argument, NULL, OPT_GUEST },
                { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "watch", required_argument, NULL, OPT_WATCH },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        g_autoptr(GPtrArray) watch = g_ptr_array_new_with_free_func(g_free);
        FixtureOptions fo = {};
        bool verbose = false;
        int c;

        log_set_program("bulwark-conformance");
        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_CONFIG: fo.config_path = optarg; break;
                case OPT_GUEST: fo.guest_path = optarg; break;
                case OPT_CGROUP_ROOT: fo.cgroup_root = optarg; break;
                case OPT_STATE_DIR: fo.state_dir = optarg; break;
                case OPT_WATCH: g_ptr_array_add(watch, g_canonicalize_filename(optarg, NULL)); break;
                case 'v': verbose = true; break;
                case 'h': conformance_help(stdout); return CONFORMANCE_PASS;
                case OPT_VERSION: printf("bulwark-conformance %s\n", PACKAGE_VERSION); return CONFORMANCE_PASS;
                default:
                        fprintf(stderr, "Try 'bulwark-conformance --help'.\n");
                        return CONFORMANCE_USAGE;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "bulwark-conformance: expected one PLUGIN.so argument, got %d; try --help\n",
                        argc - optind);
                return CONFORMANCE_USAGE;
        }
        /* dlopen() searches the library path for a name without a slash. */
        g_autofree char *plugin = g_canonicalize_filename(argv[optind], NULL);
        if (access(plugin, R_OK) < 0) {
                fprintf(stderr, "bulwark-conformance: plugin '%s': %s\n", argv[optind], g_strerror(errno));
                return CONFORMANCE_USAGE;
        }
        const char *paths[] = { fo.state_dir, fo.cgroup_root };
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
                if (paths[i] && !g_path_is_absolute(paths[i])) {
                        fprintf(stderr, "bulwark-conformance: '%s' is relative (an absolute path is required)\n",
                                paths[i]);
                        return CONFORMANCE_USAGE;
                }
        if (verbose)
                log_set_max_level(BW_LOG_DEBUG);
        g_ptr_array_add(watch, NULL);
        fo.watch = (char **) watch->pdata;
        setvbuf(stdout, NULL, _IOLBF, 0);
        return conformance_run(&fo, plugin, verbose);
}
