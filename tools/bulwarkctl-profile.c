/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl profile FILE: the AppArmor profile and generated include a
 * guest would get, answered by the apparmor plugin's `profile` query.
 * Nothing is written. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bulwarkctl.h"

#define PROFILE_PLUGIN "apparmor"

static void profile_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] profile [--profile-dir DIR] FILE\n"
                "\n"
                "Print the AppArmor profile bulwark-<uuid> and its generated include\n"
                "bulwark-<uuid>.files that the guest defined in FILE would get: one rule\n"
                "per resource path, every path normalized, checked against the restricted\n"
                "lists and quoted exactly.  Nothing is written.  The answer comes from the\n"
                "apparmor plugin (loaded from the plugin directories when the configured\n"
                "plugin list does not name it); --profile-dir overrides its profile-dir.\n");
}

static int profile_print(void *userdata, const char *data, size_t len) {
        return len > 0 && fwrite(data, 1, len, stdout) != len ? -EIO : 0;
}

/* The one call that reaches the plugin: a D-Bus front end replaces this. */
static int profile_query(BwManager *m, const BwGuest *guest, const char *dir, bool json, BwError *err) {
        const char *argv[] = { "--profile-dir", dir };
        unsigned flags = BW_MANAGER_QUERY_LOAD | (json ? BW_QUERY_JSON : 0);
        return bw_manager_query_guest(m, PROFILE_PLUGIN, guest, "profile", dir ? 2 : 0, argv, flags, profile_print,
                                      NULL, err);
}

int ctl_profile_main(CtlContext *ctx, int argc, char **argv) {
        const char *dir = NULL, *file = NULL;
        BwManager *m = NULL;
        BwGuest *guest = NULL;
        BwError err = {};
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        profile_help(stdout);
                        return CTL_EXIT_OK;
                } else if (strcmp(argv[i], "--profile-dir") == 0 && i + 1 < argc)
                        dir = argv[++i];
                else if (!file && argv[i][0] != '-')
                        file = argv[i];
                else {
                        profile_help(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (!file) {
                profile_help(stderr);
                return CTL_EXIT_USAGE;
        }
        r = bw_guest_load_file(file, &guest, &err);
        if (r >= 0 && (r = ctl_manager_open(ctx, &m)) < 0) {
                bw_guest_free(guest);
                return CTL_EXIT_FAILURE;
        }
        if (r >= 0)
                r = profile_query(m, guest, dir, ctx->json, &err);
        fflush(stdout);
        bw_manager_free(m);
        bw_guest_free(guest);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message[0] ? err.message : strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}
