/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl plugins: what is loaded and whether it can work here. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bulwarkctl.h"

static void plugins_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] plugins\n"
                "\n"
                "Lists the configured plugins in apply order: name, ABI version, flags,\n"
                "file, and whether the plugin is usable on this host (with its reason).\n"
                "Exit status 1 when any plugin is unusable.\n");
}

/* The library's JSON, as a host daemon or the D-Bus service gets it. */
static int plugins_print_json(const BwManager *m) {
        char *json = NULL;
        int r = bw_manager_plugins_to_json(m, &json);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
                return r;
        }
        printf("%s\n", json);
        bw_free(json);
        return 0;
}

static void plugins_print_table(const BwManager *m) {
        printf("%-14s %-5s %-7s %-6s %s\n", "PLUGIN", "ABI", "USABLE", "FLAGS", "REASON / FILE");
        for (size_t i = 0; i < bw_manager_plugin_count(m); i++) {
                BwPluginInfo info;
                if (bw_manager_plugin_info(m, i, &info) < 0)
                        continue;
                printf("%-14s %u.%-3u %-7s 0x%-4x %s\n", info.name, info.abi_major, info.abi_minor,
                       info.probe_result < 0 ? "no" : "yes", info.flags,
                       info.probe_reason[0] ? info.probe_reason : "-");
                printf("%-14s %-5s %-7s %-6s %s\n", "", "", "", "", info.path);
        }
}

static size_t plugins_count_unusable(const BwManager *m) {
        size_t n = 0;
        for (size_t i = 0; i < bw_manager_plugin_count(m); i++) {
                BwPluginInfo info;
                n += bw_manager_plugin_info(m, i, &info) == 0 && info.probe_result < 0;
        }
        return n;
}

int ctl_plugins_main(CtlContext *ctx, int argc, char **argv) {
        BwManager *m = NULL;
        int rc = CTL_EXIT_OK;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                plugins_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc > 1) {
                plugins_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        if (ctx->json) {
                if (plugins_print_json(m) < 0)
                        rc = CTL_EXIT_FAILURE;
        } else
                plugins_print_table(m);
        if (plugins_count_unusable(m) > 0)
                rc = CTL_EXIT_FAILURE;
        bw_manager_free(m);
        return rc;
}
