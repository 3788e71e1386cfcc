/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl plugins: what is loaded and whether it can work here. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bulwarkctl.h"
#include "ctl-transport.h"
#include "json-in.h"

static void plugins_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] plugins\n"
                "\n"
                "Lists the configured plugins in apply order: name, ABI version, flags,\n"
                "file, and whether the plugin is usable on this host (with its reason).\n"
                "Exit status 1 when any plugin is unusable.\n");
}

/* The table, from the library's JSON (bw_manager_plugins_to_json()),
 * whichever way it came; returns how many plugins are unusable. */
static size_t plugins_print_table(JsonArray *plugins) {
        size_t unusable = 0;
        printf("%-14s %-5s %-7s %-6s %s\n", "PLUGIN", "ABI", "USABLE", "FLAGS", "REASON / FILE");
        for (guint i = 0; plugins && i < json_array_get_length(plugins); i++) {
                JsonObject *p = json_in_element(plugins, i);
                const char *reason = json_in_string(p, "reason");
                bool usable = json_in_bool(p, "usable");
                unusable += !usable;
                printf("%-14s %-5s %-7s 0x%-4x %s\n", json_in_string(p, "name"), json_in_string(p, "abi"),
                       usable ? "yes" : "no", (unsigned) json_in_int(p, "flags"), reason && *reason ? reason : "-");
                printf("%-14s %-5s %-7s %-6s %s\n", "", "", "", "", json_in_string(p, "path"));
        }
        return unusable;
}

static size_t plugins_count_unusable(JsonArray *plugins) {
        size_t n = 0;
        for (guint i = 0; plugins && i < json_array_get_length(plugins); i++)
                n += !json_in_bool(json_in_element(plugins, i), "usable");
        return n;
}

int ctl_plugins_main(CtlContext *ctx, int argc, char **argv) {
        char *json = NULL;
        size_t unusable;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                plugins_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc > 1) {
                plugins_help(stderr);
                return CTL_EXIT_USAGE;
        }
        int r = ctl_plugins_json(ctx, &json);
        if (r < 0)
                return ctl_exit_status(r);
        JsonNode *doc = json_in_parse(json);
        if (!doc) {
                bw_free(json);
                return CTL_EXIT_FAILURE;
        }
        JsonArray *plugins = JSON_NODE_HOLDS_ARRAY(doc) ? json_node_get_array(doc) : NULL;
        if (ctx->json) {
                printf("%s\n", json);
                unusable = plugins_count_unusable(plugins);
        } else
                unusable = plugins_print_table(plugins);
        json_node_unref(doc);
        bw_free(json);
        return unusable > 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
