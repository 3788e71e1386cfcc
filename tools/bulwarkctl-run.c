/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl run FILE [--keep] -- CMD: start a guest, run CMD confined as
 * its process (bw_manager_exec_prepare + bw_exec_spawn), then stop it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "bulwarkctl.h"
#include "ctl-transport.h"

/* Exit statuses of our own, chosen like a shell's and env(1)'s. */
enum {
        RUN_EXIT_CONFINE = 125,    /* CMD could not be confined: it never ran */
        RUN_EXIT_CANNOT_EXEC = 126,
        RUN_EXIT_NOT_FOUND = 127,
};

static volatile sig_atomic_t run_child;
static volatile sig_atomic_t run_signal;

static void run_forward_signal(int sig) {
        run_signal = sig;
        if (run_child > 0)
                kill(run_child, sig);
}

static void run_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl run FILE [--keep] -- CMD [ARGS...]\n"
                "\n"
                "Starts the guest defined in FILE, runs CMD as the guest's process, confined\n"
                "by what every plugin gives it (its cgroup, the guest's user and group, LSM\n"
                "exec labels, no_new_privs, a Landlock ruleset), waits for it, then stops the\n"
                "guest, undoing every change, also when CMD fails or is killed.  SIGINT,\n"
                "SIGTERM, SIGHUP and SIGQUIT are passed to CMD; the guest is stopped after it\n"
                "exits.  Processes CMD left running in a cgroup bulwark made for the guest\n"
                "are killed before it stops (a cgroup the definition names is left alone).\n"
                "CMD is looked up in PATH; its environment is bulwarkctl's.\n"
                "Over the bus (the default) bulwarkd starts and stops the guest (StartGuest,\n"
                "StopGuest) and hands over what CMD is confined with (ExecAttributes, the\n"
                "Landlock ruleset as a descriptor); CMD is forked, confined and exec'd here.\n"
                "\n"
                "  --keep    leave the guest running ('bulwarkctl guest stop NAME' stops it)\n"
                "\n"
                "Exit status: CMD's, or 128+N when it died of signal N;\n"
                "  1    the guest could not be started (nothing ran), or stopping it failed\n"
                "       after CMD succeeded\n"
                "  125  CMD could not be confined (joining the cgroup, setting the user or\n"
                "       groups, an LSM label or Landlock failed): CMD never ran\n"
                "  126  CMD was found but could not be executed\n"
                "  127  CMD was not found\n");
}

/* CMD as execve() takes it: a name with a '/' as given, else the first
 * executable file of that name in PATH.  NULL when there is none. */
static char *run_find_command(const char *cmd) {
        if (strchr(cmd, '/'))
                return access(cmd, F_OK) == 0 ? g_strdup(cmd) : NULL;
        const char *path = getenv("PATH");
        g_auto(GStrv) dirs = g_strsplit(path && *path ? path : "/usr/local/bin:/usr/bin:/bin", ":", -1);
        for (char **d = dirs; *d; d++) {
                struct stat st;
                g_autofree char *file = g_build_filename(**d ? *d : ".", cmd, NULL);
                if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
                        return g_steal_pointer(&file);
        }
        return NULL;
}

static void run_signals(struct sigaction *old, bool install) {
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        struct sigaction sa = { .sa_handler = run_forward_signal };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < G_N_ELEMENTS(forwarded); i++)
                sigaction(forwarded[i], install ? &sa : &old[i], install ? &old[i] : NULL);
}

static int run_wait(pid_t pid) {
        int status;
        run_child = pid;
        if (run_signal) /* arrived while the child was being made */
                kill(pid, run_signal);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        fprintf(stderr, "bulwarkctl: run: cannot wait for process %d: %s\n", (int) pid,
                                g_strerror(errno));
                        return CTL_EXIT_FAILURE;
                }
        run_child = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Processes CMD left behind would keep the cgroup bulwark made busy, and
 * the guest from stopping: they are the guest's, and go with it.  Waits
 * (poll on cgroup.events) until the cgroup is empty, 10 s at most. */
static void run_kill_leftovers(const char *cgroup) {
        g_autofree char *kill_path = g_build_filename(cgroup, "cgroup.kill", NULL);
        g_autofree char *events_path = g_build_filename(cgroup, "cgroup.events", NULL);
        g_autofree char *events = NULL;

        if (!g_file_get_contents(events_path, &events, NULL, NULL) || strstr(events, "populated 0"))
                return;
        int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1) {
                fprintf(stderr, "bulwarkctl: run: cgroup '%s': cannot kill what the command left running: %s\n",
                        cgroup, g_strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        close(fd);
        fd = open(events_path, O_RDONLY | O_CLOEXEC);
        for (int waited = 0; fd >= 0 && waited < 100; waited++) {
                char buf[256];
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        break;
                buf[n] = '\0';
                if (strstr(buf, "populated 0"))
                        break;
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                (void) poll(&p, 1, 100);
        }
        if (fd >= 0)
                close(fd);
}

/* Prepares and spawns CMD in the running guest and waits for it; returns
 * its exit status.  `*ret_cgroup` gets the cgroup CMD ran in. */
static int run_command(const CtlContext *ctx, const char *name, const char *path, char **argv, char **ret_cgroup) {
        BwExec *exec = NULL;
        BwError err = {};
        BwExecStep failed = 0;
        pid_t pid = 0;

        if (ctl_exec_prepare(ctx, name, &exec) < 0)
                return RUN_EXIT_CONFINE;
        *ret_cgroup = g_strdup(bw_exec_cgroup(exec));
        if (run_signal) {
                bw_exec_free(exec);
                return 128 + run_signal;
        }
        fflush(NULL);
        int r = bw_exec_spawn(exec, path, argv, NULL, &pid, &failed, &err);
        bw_exec_free(exec);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: run: %s\n", err.message);
                /* Confined but not exec'd: 126/127 like a shell; anything
                 * else never ran the command. */
                if (failed != BW_EXEC_STEP_EXEC)
                        return RUN_EXIT_CONFINE;
                return r == -ENOENT ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_EXEC;
        }
        return run_wait(pid);
}

/* Starts the guest, runs CMD, stops the guest unless `keep`: in this
 * process, or over the bus (StartGuest, ExecAttributes, then the same
 * fork, bw_exec_apply() and exec here, StopGuest). */
static int run_guest(CtlContext *ctx, const char *file, bool keep, const char *path, char **argv) {
        struct sigaction old[4];
        BwGuest *g = NULL;
        BwError err = {};
        int status = CTL_EXIT_FAILURE;

        if (bw_guest_load_file(file, &g, &err) < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return CTL_EXIT_FAILURE;
        }
        const char *name = bw_guest_info(g)->name;
        run_signals(old, true);
        if (ctl_guest_start(ctx, file, g) >= 0) {
                g_autofree char *cgroup = NULL;
                status = run_command(ctx, name, path, argv, &cgroup);
                /* A cgroup the definition names is not the guest's alone. */
                if (!keep && cgroup && !bw_guest_info(g)->cgroup_given)
                        run_kill_leftovers(cgroup);
                if (!keep && ctl_guest_stop(ctx, name, 0) < 0 && status == CTL_EXIT_OK)
                        status = CTL_EXIT_FAILURE;
        }
        run_signals(old, false);
        bw_guest_free(g);
        return status;
}

int ctl_run_main(CtlContext *ctx, int argc, char **argv) {
        enum { OPT_KEEP = 0x100 };
        static const struct option options[] = {
                { "keep", no_argument, NULL, OPT_KEEP },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        bool keep = false;
        int c, sep = -1;

        /* Options may come before or after FILE, never after "--". */
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--") == 0) {
                        sep = i;
                        break;
                }
        int nopt = sep < 0 ? argc : sep;
        optind = 1;
        while ((c = getopt_long(nopt, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_KEEP: keep = true; break;
                case 'h': run_help(stdout); return CTL_EXIT_OK;
                default: run_help(stderr); return CTL_EXIT_USAGE;
                }
        }
        if (sep < 0 || optind != sep - 1 || sep + 1 >= argc) {
                fprintf(stderr, "bulwarkctl: run: give one guest definition FILE, then -- and a command\n");
                run_help(stderr);
                return CTL_EXIT_USAGE;
        }
        g_autofree char *path = run_find_command(argv[sep + 1]);
        if (!path) {
                fprintf(stderr, "bulwarkctl: run: '%s': command not found\n", argv[sep + 1]);
                return RUN_EXIT_NOT_FOUND;
        }
        return run_guest(ctx, argv[optind], keep, path, argv + sep + 1);
}
