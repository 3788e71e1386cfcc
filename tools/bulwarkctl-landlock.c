/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl landlock: the Landlock ruleset a guest would get, and the
 * ABI this kernel offers, answered by the landlock plugin through the
 * manager's query.  The one call that reaches the plugin is
 * landlock_query(), so it can later be routed over D-Bus. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <stdlib.h>

#include "bulwarkctl.h"

#define LANDLOCK_PLUGIN "landlock"

static void landlock_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] landlock FILE\n"
                "       bulwarkctl [--json] landlock abi\n"
                "       bulwarkctl [--json] landlock denials NAME [--count N]\n"
                "\n"
                "FILE: prints the Landlock ruleset the guest defined in FILE would get when\n"
                "its process starts: the ABI used, the rights handled, and every rule (path,\n"
                "the resource or base set it comes from, the rights as this kernel enforces\n"
                "them).  The guest need not run; its files must exist.\n"
                "abi: the ABI used here (the kernel's, at most max-abi= of [plugin:landlock])\n"
                "and what each ABI version adds.\n"
                "denials NAME: follows the Landlock denials of the running guest NAME's\n"
                "processes (those in its cgroup) as the kernel reports them to audit's\n"
                "read-only log group, until N were printed, SIGINT or SIGTERM.  Audit must be\n"
                "enabled in the kernel ('auditctl -e 1', or an audit daemon): with audit\n"
                "disabled Landlock writes no records, and the command says so (exit 1).\n"
                "Denials are seen from Landlock ABI 7 (for a process started with ABI 7).\n"
                "\n"
                "Answered by the landlock plugin, loaded from the plugin directories when the\n"
                "configured plugin list does not name it; its [plugin:landlock] settings\n"
                "(base-rules, max-abi) apply.\n");
}

/* The query's write(); userdata is the follow's signal set, NULL when the
 * command does not follow events. */
static int landlock_write(void *userdata, const char *data, size_t len) {
        return ctl_query_write(userdata != NULL, data, len);
}

/* The one call into the plugin: about `guest` when it is given; `stop`
 * (signals a follow ends on) when the command follows events. */
static int landlock_query(BwManager *m, const BwGuest *guest, const char *command, size_t argc,
                          const char *const *argv, unsigned flags, const sigset_t *stop, BwError *err) {
        if (guest)
                return bw_manager_query_guest(m, LANDLOCK_PLUGIN, guest, command, argc, argv, flags, landlock_write,
                                              (void *) stop, err);
        return bw_manager_query(m, LANDLOCK_PLUGIN, command, argc, argv, flags, landlock_write, (void *) stop, err);
}

/* denials NAME [--count N]: the running guest's cgroup, then the follow. */
static int landlock_denials(BwManager *m, int argc, char **argv, unsigned flags, BwError *err) {
        BwGuestState *state = NULL;
        sigset_t stop, old;
        if (bw_manager_get_guest(m, argv[0], &state, err) < 0)
                return err->code;
        char *cgroup = strdup(bw_guest_state_cgroup(state) ? bw_guest_state_cgroup(state) : "");
        bw_guest_state_free(state);
        const char *args[3] = { cgroup, argc == 3 ? argv[1] : NULL, argc == 3 ? argv[2] : NULL };
        /* Signals are looked at by landlock_write(): no handler, no global. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigprocmask(SIG_BLOCK, &stop, &old);
        signal(SIGPIPE, SIG_IGN);
        int r = landlock_query(m, NULL, "landlock-denials", (size_t) argc, args, flags, &stop, err);
        const struct timespec now = { 0, 0 };
        while (sigtimedwait(&stop, NULL, &now) > 0)
                ; /* the Ctrl+C that ended the follow: handled */
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(cgroup);
        return r;
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
        bool denials = argc >= 2 && strcmp(argv[1], "denials") == 0;
        if (denials ? !(argc == 3 || (argc == 5 && strcmp(argv[3], "--count") == 0)) : argc != 2) {
                landlock_help(stderr);
                return CTL_EXIT_USAGE;
        }
        bool abi = strcmp(argv[1], "abi") == 0;
        if (!abi && !denials && bw_guest_load_file(argv[1], &guest, &err) < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return CTL_EXIT_FAILURE;
        }
        if (ctl_manager_open(ctx, &m) < 0) {
                bw_guest_free(guest);
                return CTL_EXIT_FAILURE;
        }
        int r = denials ? landlock_denials(m, argc - 2, argv + 2, flags, &err)
                        : landlock_query(m, guest, guest ? "landlock-ruleset" : "landlock-abi", 0, NULL, flags, NULL, &err);
        fflush(stdout);
        bw_manager_free(m);
        bw_guest_free(guest);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message[0] ? err.message : strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}
