/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl: the administrator's command-line tool. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwarkctl.h"
#include "util/log.h"
#include "util/settings-options.h"

typedef struct CtlCommand {
        const char *name;
        int (*main)(CtlContext *ctx, int argc, char **argv);
        const char *summary;
} CtlCommand;

static const CtlCommand ctl_commands[] = {
        { "plugins", ctl_plugins_main, "list plugins, their ABI and whether they are usable here" },
        { "guest", ctl_guest_main, "check or explain a guest definition; start and stop guests" },
        { "run", ctl_run_main, "start a guest, run a command confined as its process, stop it" },
        { "recover", ctl_recover_main, "roll back transactions a crash interrupted" },
        { "locks", ctl_locks_main, "list the locks bulwark-lockd holds" },
        { "lock", ctl_lock_main, "hold lockd locks on paths while a command runs" },
        { "devices", ctl_devices_main, "probe, list, explain and change cgroup device policies" },
        { "label", ctl_label_main, "show, scan and restore what the dac and selinux plugins remember" },
        { "landlock", ctl_landlock_main, "the Landlock ruleset a guest would get, and the ABI here" },
        { "profile", ctl_profile_main, "print the AppArmor profile a guest definition would get" },
        { "monitor", ctl_monitor_main, "print bulwarkd's signals as they come" },
};

static void ctl_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [OPTIONS] COMMAND [ARGS]...\n"
                "\n"
                "Confine virtual-machine and container guests: device cgroups, labels,\n"
                "profiles and path locks, from one guest definition.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
                fprintf(f, "  %-10s %s\n", ctl_commands[i].name, ctl_commands[i].summary);
        fprintf(f,
                "\n"
                "Options:\n"
                "  --bus ADDRESS        talk to bulwarkd on this bus (default\n"
                "                       $DBUS_SYSTEM_BUS_ADDRESS, else the system bus)\n"
                "  --direct             run libbulwark in this process instead of asking\n"
                "                       bulwarkd (also: BULWARKCTL_DIRECT=1); same commands,\n"
                "                       same output ('guest check' and 'lock' never need\n"
                "                       bulwarkd; 'monitor' always does)\n"
                "  --json               print JSON instead of tables\n"
                "  --config FILE        configuration file (default %s/bulwark.conf,\n"
                "                       or $BULWARK_CONFIG)\n"
                "  --plugin-dir DIRS    where plugins are found (colon-separated; $BULWARK_PLUGIN_DIR)\n"
                "  --plugins LIST       plugins to load, in order, overriding the configuration\n"
                "  --state-dir DIR      journal and guest state ($BULWARK_STATE_DIR)\n"
                "  --run-dir DIR        sockets and pid files ($BULWARK_RUN_DIR)\n"
                "  --cgroup-root DIR    cgroup2 mount to use ($BULWARK_CGROUP_ROOT)\n"
                "  -v, --verbose        log more (repeat for debug)\n"
                "  (--config to --cgroup-root set up the library in this process, with\n"
                "  --direct, and find lockd's socket for 'lock'; over the bus bulwarkd's own\n"
                "  settings count)\n"
                "  -h, --help           show this help; 'bulwarkctl COMMAND --help' for a command\n"
                "  --version            print the version\n",
                BW_SYSCONFDIR);
}

int main(int argc, char **argv) {
        enum { OPT_DIRECT = 0x100, OPT_BUS, OPT_JSON, OPT_VERSION };
        static const struct option options[] = {
                { "direct", no_argument, NULL, OPT_DIRECT },
                { "bus", required_argument, NULL, OPT_BUS },
                { "json", no_argument, NULL, OPT_JSON },
                SETTINGS_LONG_OPTIONS,
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        const char *direct_env = getenv("BULWARKCTL_DIRECT");
        CtlContext ctx = { .direct = direct_env && strcmp(direct_env, "1") == 0 };
        int c, verbose = 0;

        log_set_program("bulwarkctl");
        /* '+': stop at the first non-option, the command. */
        while ((c = getopt_long(argc, argv, "+vh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_DIRECT: ctx.direct = true; break;
                case OPT_BUS: ctx.bus_address = optarg; ctx.direct = false; break;
                case OPT_JSON: ctx.json = true; break;
                case 'v': verbose++; break;
                case 'h': ctl_help(stdout); return CTL_EXIT_OK;
                case OPT_VERSION: printf("bulwarkctl %s\n", PACKAGE_VERSION); return CTL_EXIT_OK;
                default:
                        if (settings_option_set(&ctx.options, c, optarg))
                                break;
                        ctl_help(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (verbose)
                log_set_max_level(verbose > 1 ? BW_LOG_DEBUG : BW_LOG_INFO);
        if (optind >= argc) {
                ctl_help(stderr);
                return CTL_EXIT_USAGE;
        }
        /* --json is accepted after the command too ("guest explain --json F"),
         * but never after "--", where a wrapped command's arguments start. */
        int n = optind + 1;
        for (int i = optind + 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        while (i < argc)
                                argv[n++] = argv[i++];
                        break;
                }
                if (strcmp(argv[i], "--json") == 0)
                        ctx.json = true;
                else
                        argv[n++] = argv[i];
        }
        argc = n;
        argv[argc] = NULL;

        for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
                if (strcmp(argv[optind], ctl_commands[i].name) == 0)
                        return ctl_commands[i].main(&ctx, argc - optind, argv + optind);
        fprintf(stderr, "bulwarkctl: unknown command '%s'; see 'bulwarkctl --help'\n", argv[optind]);
        return CTL_EXIT_USAGE;
}

int ctl_manager_open(const CtlContext *ctx, BwManager **ret) {
        BwError err = {};
        int r = bw_manager_new(&ctx->options, ret, &err);
        if (r < 0)
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
        return r;
}
