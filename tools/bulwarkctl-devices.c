/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl devices: the device policy of any cgroup, answered by the
 * cgroup-bpf plugin through the manager's query (ctl_query(): in-process
 * or bulwarkd's Query): this
 * file checks the shape of the arguments and prints what the plugin
 * writes, text or JSON alike. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulwarkctl.h"
#include "bulwarkctl-devices.h"
#include "ctl-transport.h"

#define DEVICES_PLUGIN "cgroup-bpf"

static void devices_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] devices COMMAND ...\n"
                "\n"
                "The cgroup v2 device policy bulwark's program (bw_devices) enforces.\n"
                "CGROUP is a path below the cgroup2 root (\"bulwark/demo\") or an absolute\n"
                "path inside it.  RULE is \"TYPE MAJOR:MINOR ACCESS\": TYPE b, c or a;\n"
                "MAJOR and MINOR numbers or *; ACCESS letters of r, w, m.  Later rules win.\n"
                "\n"
                "Commands:\n"
                "  probe                          what the kernel supports, the cgroup2 root\n"
                "  list CGROUP                    our rules read back from the kernel, and\n"
                "                                 other device programs that can still deny\n"
                "  explain CGROUP TYPE MAJ:MIN ACCESS\n"
                "                                 which entry decides, and the answer\n"
                "  allow CGROUP RULE              allow, creating our program when absent\n"
                "  deny CGROUP RULE               deny, creating our program when absent\n"
                "  remove CGROUP                  detach our program (others stay)\n"
                "  denials CGROUP [--follow]      print and consume the denial log; --follow\n"
                "                                 ends with the cgroup or the program\n"
                "  denials --summary CGROUP       denial counters, without consuming events\n"
                "\n"
                "Options of allow and deny:\n"
                "  --log-ring-size BYTES          ring of a program created now (default\n"
                "                                 262144, 0: no denial log)\n"
                "\n"
                "The cgroup2 root is the configured one: --cgroup-root, else\n"
                "$BULWARK_CGROUP_ROOT, else cgroup-root in bulwark.conf, else found at\n"
                "/sys/fs/cgroup or /sys/fs/cgroup/unified.  The commands are answered by\n"
                "the cgroup-bpf plugin, loaded from the plugin directories when the\n"
                "configured plugin list does not name it.\n");
}

static int devices_usage(void) {
        devices_help(stderr);
        return CTL_EXIT_USAGE;
}

/* How many arguments (after the command name) each command takes. */
static bool devices_shape_ok(const char *cmd, int argc, char **argv) {
        if (strcmp(cmd, "probe") == 0)
                return argc == 0;
        if (strcmp(cmd, "list") == 0 || strcmp(cmd, "remove") == 0)
                return argc == 1;
        if (strcmp(cmd, "explain") == 0)
                return argc == 4;
        if (strcmp(cmd, "allow") == 0 || strcmp(cmd, "deny") == 0) {
                int skip = argc > 1 && strcmp(argv[0], "--log-ring-size") == 0 ? 2 : 0;
                return argc - skip >= 2;
        }
        if (strcmp(cmd, "denials") == 0) {
                bool follow = false, summary = false;
                int names = 0;
                for (int i = 0; i < argc; i++) {
                        if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
                                follow = true;
                        else if (strcmp(argv[i], "--summary") == 0)
                                summary = true;
                        else if (argv[i][0] != '-')
                                names++;
                        else
                                return false;
                }
                return names == 1 && !(follow && summary);
        }
        return false;
}

static bool devices_follows(const char *cmd, int argc, char **argv) {
        for (int i = 0; strcmp(cmd, "denials") == 0 && i < argc; i++)
                if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
                        return true;
        return false;
}

static bool devices_summary(int argc, char **argv) {
        for (int i = 0; i < argc; i++)
                if (strcmp(argv[i], "--summary") == 0)
                        return true;
        return false;
}

/* The CGROUP of `denials` (its one argument that is no option). */
static const char *devices_cgroup_arg(int argc, char **argv) {
        for (int i = 0; i < argc; i++)
                if (argv[i][0] != '-')
                        return argv[i];
        return "";
}

typedef struct DevicesOutput {
        bool follow;
        sigset_t stop;             /* SIGINT, SIGTERM: blocked while following */
} DevicesOutput;

/* The query's write(): stdout.  While following, a pending SIGINT or
 * SIGTERM, or a reader that closed our stdout, ends the query (-EPIPE). */
static int devices_write(void *userdata, const char *data, size_t len) {
        DevicesOutput *o = userdata;
        return ctl_query_write(o->follow, data, len);
}

static int devices_run(CtlContext *ctx, const char *cmd, int argc, char **argv) {
        DevicesOutput out = { .follow = devices_follows(cmd, argc, argv) };
        unsigned flags = BW_MANAGER_QUERY_LOAD | (ctx->json ? BW_QUERY_JSON : 0);
        char command[64];
        sigset_t old;
        int r;

        snprintf(command, sizeof(command), "devices-%s", cmd);
        sigemptyset(&out.stop);
        sigaddset(&out.stop, SIGINT);
        sigaddset(&out.stop, SIGTERM);
        if (out.follow) {
                /* Signals are looked at by devices_write(): no handler, no global. */
                sigprocmask(SIG_BLOCK, &out.stop, &old);
                signal(SIGPIPE, SIG_IGN);
        }
        r = -ENOENT;
        if (!ctx->direct && strcmp(cmd, "denials") == 0 && !devices_summary(argc, argv))
                r = devices_denials_bus(ctx, devices_cgroup_arg(argc, argv), out.follow);
        if (r == -ENOENT)
                r = ctl_query(ctx, DEVICES_PLUGIN, command, (size_t) argc, (const char *const *) argv, flags,
                              devices_write, &out);
        else
                r = r == CTL_EXIT_OK ? 0 : -EIO;
        if (out.follow) {
                const struct timespec now = { 0, 0 };
                while (sigtimedwait(&out.stop, NULL, &now) > 0)
                        ; /* the Ctrl+C that ended the follow: handled */
                sigprocmask(SIG_SETMASK, &old, NULL);
        }
        return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

int ctl_devices_main(CtlContext *ctx, int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                devices_help(argc < 2 ? stderr : stdout);
                return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
        }
        const char *cmd = argv[1];
        static const char *const known[] = { "probe", "list", "explain", "allow", "deny", "remove", "denials" };
        bool is_known = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                is_known |= strcmp(cmd, known[i]) == 0;
        if (!is_known) {
                fprintf(stderr, "bulwarkctl: unknown devices command '%s'; see 'bulwarkctl devices --help'\n", cmd);
                return CTL_EXIT_USAGE;
        }
        if (!devices_shape_ok(cmd, argc - 2, argv + 2))
                return devices_usage();
        return devices_run(ctx, cmd, argc - 2, argv + 2);
}
