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

int ctl_plugins_main(CtlContext *ctx, int argc, char **argv) {
        BwManager *m = NULL;
        int unusable = 0;

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

        size_t n = bw_manager_plugin_count(m);
        if (ctx->json) {
                char *json = NULL;
                int r = bw_manager_plugins_to_json(m, &json);
                if (r < 0) {
                        fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
                        bw_manager_free(m);
                        return CTL_EXIT_FAILURE;
                }
                printf("%s\n", json);
                bw_free(json);
        } else
                printf("%-14s %-5s %-7s %-6s %s\n", "PLUGIN", "ABI", "USABLE", "FLAGS", "REASON / FILE");
        for (size_t i = 0; i < n; i++) {
                BwPluginInfo info;
                if (bw_manager_plugin_info(m, i, &info) < 0)
                        continue;
                unusable += info.probe_result < 0;
                if (ctx->json)
                        continue;
                printf("%-14s %u.%-3u %-7s 0x%-4x %s\n", info.name, info.abi_major, info.abi_minor,
                       info.probe_result < 0 ? "no" : "yes", info.flags,
                       info.probe_reason[0] ? info.probe_reason : "-");
                printf("%-14s %-5s %-7s %-6s %s\n", "", "", "", "", info.path);
        }
        bw_manager_free(m);
        return unusable ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
