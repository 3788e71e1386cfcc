/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl landlock: the Landlock ruleset a guest would get, and the
 * ABI this kernel offers, answered by the landlock plugin through the
 * manager's query.  The one call that reaches the plugin is
 * landlock_query(), so it can later be routed over D-Bus. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bulwarkctl.h"

#define LANDLOCK_PLUGIN "landlock"

static void landlock_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] landlock FILE\n"
                "       bulwarkctl [--json] landlock abi\n"
                "\n"
                "FILE: prints the Landlock ruleset the guest defined in FILE would get when\n"
                "its process starts: the ABI used, the rights handled, and every rule (path,\n"
                "the resource or base set it comes from, the rights as this kernel enforces\n"
                "them).  The guest need not run; its files must exist.\n"
                "abi: the ABI used here (the kernel's, at most max-abi= of [plugin:landlock])\n"
                "and what each ABI version adds.\n"
                "\n"
                "Answered by the landlock plugin, loaded from the plugin directories when the\n"
                "configured plugin list does not name it; its [plugin:landlock] settings\n"
                "(base-rules, max-abi) apply.\n");
}

static int landlock_write(void *userdata, const char *data, size_t len) {
        (void) userdata;
        if (len > 0 && fwrite(data, 1, len, stdout) != len)
                return -errno ?: -EIO;
        return 0;
}

/* The query, about `guest` when it is given. */
static int landlock_query(BwManager *m, const BwGuest *guest, const char *command, unsigned flags, BwError *err) {
        if (guest)
                return bw_manager_query_guest(m, LANDLOCK_PLUGIN, guest, command, 0, NULL, flags, landlock_write, NULL,
                                              err);
        return bw_manager_query(m, LANDLOCK_PLUGIN, command, 0, NULL, flags, landlock_write, NULL, err);
}

int ctl_landlock_main(CtlContext *ctx, int argc, char **argv) {
        unsigned flags = BW_MANAGER_QUERY_LOAD | (ctx->json ? BW_QUERY_JSON : 0);
        BwManager *m = NULL;
        BwGuest *guest = NULL;
        BwError err = {};

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                landlock_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc != 2) {
                landlock_help(stderr);
                return CTL_EXIT_USAGE;
        }
        bool abi = strcmp(argv[1], "abi") == 0;
        if (!abi && bw_guest_load_file(argv[1], &guest, &err) < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return CTL_EXIT_FAILURE;
        }
        if (ctl_manager_open(ctx, &m) < 0) {
                bw_guest_free(guest);
                return CTL_EXIT_FAILURE;
        }
        int r = landlock_query(m, guest, abi ? "landlock-abi" : "landlock-ruleset", flags, &err);
        fflush(stdout);
        bw_manager_free(m);
        bw_guest_free(guest);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message[0] ? err.message : strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}
