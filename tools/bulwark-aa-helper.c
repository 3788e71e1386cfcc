/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark-aa-helper: writes, replaces and removes the AppArmor profile of
 * one guest.  A thin program: the guest definition is loaded and resolved
 * by libbulwark, and the profile is made by the apparmor plugin through
 * the manager's query (`profile-write`, `profile`), so the helper holds
 * no profile logic of its own.  It is a program of its own so that it can
 * run under its own AppArmor profile (the only one allowed to write
 * profiles and run apparmor_parser), not under the daemon's. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#define HELPER_PLUGIN "apparmor"

static void helper_help(FILE *f) {
        fprintf(f,
                "Usage: bulwark-aa-helper ACTION --guest FILE [--profile-dir DIR] [OPTIONS]\n"
                "\n"
                "Write the AppArmor profile bulwark-<uuid> of the guest defined in FILE and\n"
                "its include bulwark-<uuid>.files (one rule per resource path), compile it\n"
                "with apparmor_parser -Q -K before it replaces the old one, and load it\n"
                "where the kernel has AppArmor.  Files are written to a temporary name and\n"
                "renamed, and only when their text changed.\n"
                "\n"
                "Actions (exactly one):\n"
                "  -c, --create             write the profile; refused when it exists\n"
                "  -r, --replace            write the profile anew from the definition\n"
                "  -R, --remove             unload the profile and remove its files\n"
                "  -a, --add-resource TYPE:ID\n"
                "                           add the rules of one resource of FILE\n"
                "                           (hostdev:gpu) to the existing profile\n"
                "  -d, --dry-run            print the profile and include; write nothing\n"
                "      --change [--undo]    make (or undo) one change of the apparmor\n"
                "                           plugin, read from standard input: the plugin\n"
                "                           runs this when configured with helper=; only\n"
                "                           rules bulwark itself writes are accepted\n"
                "\n"
                "Options:\n"
                "  -g, --guest FILE         the guest definition (keyfile)\n"
                "  -p, --profile-dir DIR    where profiles live (default: the plugin's\n"
                "                           profile-dir, /etc/apparmor.d/bulwark)\n"
                "      --config FILE        bulwark.conf ([plugin:apparmor] keys)\n"
                "      --plugin-dir DIRS    where the apparmor plugin is found\n"
                "  -h, --help               show this help\n"
                "\n"
                "Exit status: 0 done, 1 failed (the message names the object), 2 usage.\n");
}

typedef struct HelperArgs {
        const char *action;        /* the plugin's profile-write action, or "dry-run" */
        const char *ref;
        const char *guest;
        const char *dir;
        bool undo;
        BwOptions options;
} HelperArgs;

/* The most a change record holds (the plugin's record_max is less). */
#define HELPER_CHANGE_MAX (1024 * 1024)

static int helper_write(void *userdata, const char *data, size_t len) {
        return len > 0 && fwrite(data, 1, len, stdout) != len ? -EIO : 0;
}

/* --change: the record on standard input, read whole before anything. */
static int helper_read_change(char **ret, BwError *err) {
        GString *in = g_string_new(NULL);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0 && in->len <= HELPER_CHANGE_MAX)
                g_string_append_len(in, buf, (gssize) n);
        if (ferror(stdin) || in->len > HELPER_CHANGE_MAX || memchr(in->str, '\0', in->len)) {
                g_string_free(in, TRUE);
                snprintf(err->message, sizeof(err->message), "change on standard input: unreadable, over %d bytes or holding a NUL byte", HELPER_CHANGE_MAX);
                return -EINVAL;
        }
        *ret = g_string_free(in, FALSE);
        return 0;
}

/* The one call into the plugin. */
static int helper_query(BwManager *m, const BwGuest *guest, const HelperArgs *a, const char *change, BwError *err) {
        const char *argv[5];
        size_t n = 0;
        bool dry = strcmp(a->action, "dry-run") == 0;

        if (change) {
                if (a->undo)
                        argv[n++] = "--undo";
                argv[n++] = change;
                return bw_manager_query(m, HELPER_PLUGIN, "profile-change", n, argv, BW_MANAGER_QUERY_LOAD, helper_write,
                                        NULL, err);
        }
        if (!dry)
                argv[n++] = a->action;
        if (a->dir) {
                argv[n++] = "--profile-dir";
                argv[n++] = a->dir;
        }
        if (a->ref)
                argv[n++] = a->ref;
        return bw_manager_query_guest(m, HELPER_PLUGIN, guest, dry ? "profile" : "profile-write", n, argv,
                                      BW_MANAGER_QUERY_LOAD, helper_write, NULL, err);
}

static int helper_set_action(HelperArgs *a, const char *action) {
        if (a->action) {
                fprintf(stderr, "bulwark-aa-helper: one action only ('%s' and '%s' given)\n", a->action, action);
                return -EINVAL;
        }
        a->action = action;
        return 0;
}

static int helper_parse(int argc, char **argv, HelperArgs *a) {
        enum { OPT_CONFIG = 0x100, OPT_PLUGIN_DIR, OPT_CHANGE, OPT_UNDO };
        static const struct option opts[] = {
                { "create", no_argument, NULL, 'c' },       { "replace", no_argument, NULL, 'r' },
                { "remove", no_argument, NULL, 'R' },       { "add-resource", required_argument, NULL, 'a' },
                { "dry-run", no_argument, NULL, 'd' },      { "guest", required_argument, NULL, 'g' },
                { "profile-dir", required_argument, NULL, 'p' }, { "config", required_argument, NULL, OPT_CONFIG },
                { "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR }, { "help", no_argument, NULL, 'h' },
                { "change", no_argument, NULL, OPT_CHANGE }, { "undo", no_argument, NULL, OPT_UNDO },
                {},
        };
        int c, r = 0;

        while (r == 0 && (c = getopt_long(argc, argv, "crRa:dg:p:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': r = helper_set_action(a, "create"); break;
                case 'r': r = helper_set_action(a, "replace"); break;
                case 'R': r = helper_set_action(a, "remove"); break;
                case 'a': r = helper_set_action(a, "add-resource"); a->ref = optarg; break;
                case 'd': r = helper_set_action(a, "dry-run"); break;
                case 'g': a->guest = optarg; break;
                case 'p': a->dir = optarg; break;
                case OPT_CONFIG: a->options.config_path = optarg; break;
                case OPT_PLUGIN_DIR: a->options.plugin_dir = optarg; break;
                case OPT_CHANGE: r = helper_set_action(a, "change"); break;
                case OPT_UNDO: a->undo = true; break;
                case 'h': helper_help(stdout); return 1;
                default: return -EINVAL;
                }
        }
        if (r < 0)
                return r;
        bool change = a->action && strcmp(a->action, "change") == 0;
        if (optind < argc || !a->action || (!a->guest && !change) || (a->undo && !change)) {
                fprintf(stderr, "bulwark-aa-helper: %s\n", optind < argc ? "unexpected argument"
                                                          : !a->action ? "an action is required"
                                                          : a->undo ? "--undo goes with --change only"
                                                          : "--guest FILE is required");
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char **argv) {
        HelperArgs a = { .options = { .plugins = HELPER_PLUGIN } };
        BwManager *m = NULL;
        BwGuest *guest = NULL;
        BwError err = {};
        int r = helper_parse(argc, argv, &a);

        if (r != 0) {
                if (r < 0)
                        fprintf(stderr, "Try 'bulwark-aa-helper --help'.\n");
                return r > 0 ? 0 : 2;
        }
        g_autofree char *change = NULL;
        if (strcmp(a.action, "change") == 0)
                r = helper_read_change(&change, &err);
        else
                r = bw_guest_load_file(a.guest, &guest, &err);
        if (r >= 0)
                r = bw_manager_new(&a.options, &m, &err);
        if (r >= 0)
                r = helper_query(m, guest, &a, change, &err);
        fflush(stdout);
        bw_manager_free(m);
        bw_guest_free(guest);
        if (r < 0) {
                fprintf(stderr, "bulwark-aa-helper: %s\n", err.message[0] ? err.message : strerror(-r));
                return 1;
        }
        return 0;
}
