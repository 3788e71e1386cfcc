/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl locks: what bulwark-lockd holds, for whom, since when.
 * bulwarkctl lock: hold lockd locks while a command runs (like flock(1)). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "bulwarkctl.h"
#include "lockd/client.h"
#include "ctl-transport.h"
#include "json-in.h"

/* The socket: --socket, else what the library would use (BULWARK_LOCKD_SOCKET,
 * [lockd] socket= in the configuration, <run-dir>/lockd.sock). */
static int locks_socket(const CtlContext *ctx, const char *arg, char **ret) {
        char *path = NULL;
        BwError err = {};

        if (arg) {
                *ret = g_strdup(arg);
                return 0;
        }
        int r = bw_config_lockd_socket(&ctx->options, &path, &err);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return r;
        }
        *ret = g_strdup(path);
        bw_free(path);
        return 0;
}

static void format_duration(uint64_t usec, char *buf, size_t size) {
        uint64_t s = usec / 1000000;
        if (s < 60)
                snprintf(buf, size, "%.1fs", (double) usec / 1e6);
        else if (s < 3600)
                snprintf(buf, size, "%um%02us", (unsigned) (s / 60), (unsigned) (s % 60));
        else if (s < 86400)
                snprintf(buf, size, "%uh%02um", (unsigned) (s / 3600), (unsigned) (s / 60 % 60));
        else
                snprintf(buf, size, "%ud%02uh", (unsigned) (s / 86400), (unsigned) (s / 3600 % 24));
}

/* The owner as the table shows it: a lease's guest uuid whole, another
 * owner's name cut to 16 characters. */
static char *locks_owner(JsonObject *l) {
        return json_in_bool(l, "lease") ? g_strdup_printf("guest %s", json_in_string(l, "owner"))
                                        : g_strndup(json_in_string(l, "owner"), 16);
}

/* The table, from the JSON, whichever way it came; the OWNER column as
 * wide as its widest entry, so a lease's uuid keeps the columns aligned. */
static void locks_print_table(JsonArray *locks) {
        guint n = locks ? json_array_get_length(locks) : 0;
        int width = 16;
        for (guint i = 0; i < n; i++) {
                g_autofree char *owner = locks_owner(json_in_element(locks, i));
                width = MAX(width, (int) strlen(owner));
        }
        printf("%-9s %-9s %-*s %7s %9s  %s\n", "MODE", "KIND", width, "OWNER", "PID", "HELD", "PATH");
        for (guint i = 0; i < n; i++) {
                JsonObject *l = json_in_element(locks, i);
                g_autofree char *owner = locks_owner(l);
                char held[32];
                format_duration((uint64_t) json_in_int(l, "held_for_usec"), held, sizeof(held));
                printf("%-9s %-9s %-*s %7u %9s  %s\n", json_in_string(l, "mode"),
                       json_in_bool(l, "lost") ? "LOST" : json_in_string(l, "kind"), width, owner,
                       (unsigned) json_in_int(l, "pid"), held, json_in_string(l, "path"));
        }
}

/* What lockd holds, asked at `socket_path`: the JSON, or -errno. */
static int locks_read_lockd(const char *socket_path, char **ret_json) {
        BwLockdClient *client;
        BwLockdLock *locks;
        BwError err = {};
        bool truncated;
        size_t n;

        if (bw_lockd_client_new(socket_path, "bulwarkctl", &client) < 0) {
                fprintf(stderr, "bulwarkctl: lockd socket '%s' is not an absolute path\n", socket_path);
                return -EINVAL;
        }
        int r = bw_lockd_list(client, &locks, &n, &truncated, &err);
        bw_lockd_client_free(client);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return r;
        }
        r = bw_lockd_locks_to_json(locks, n, truncated, ret_json);
        bw_lockd_lock_list_free(locks, n);
        if (r < 0)
                fprintf(stderr, "bulwarkctl: lock list: cannot produce JSON: %s\n", strerror(-r));
        return r;
}

static void locks_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] locks [--socket PATH]\n"
                "\n"
                "Lists every lock bulwark-lockd holds: mode, kind (file: OFD lock on byte 1;\n"
                "table: directory or device, locked in lockd's table only; name: a path that\n"
                "did not exist yet; read-lock: exclusive, but the file only opens read-only;\n"
                "lease: held for a running guest, owner \"guest UUID\", from its start to its\n"
                "stop, whatever becomes of the process that started it; on a regular file an\n"
                "OFD lock on byte 1 like file), owner, pid (of the client that took it), how\n"
                "long it has been held, and the path.  LOST in the KIND column\n"
                "(\"lost\": true in JSON): the shared filesystem dropped the lock on byte 1\n"
                "(lockd re-issues its locks to find out), so another host may hold it; lockd\n"
                "keeps it in its table until its holder releases it.  Every lock is listed,\n"
                "page by page; an older bulwark-lockd that cannot page sends what fits in one\n"
                "reply, and the list is then marked truncated (on stderr, and \"truncated\" in\n"
                "JSON).\n"
                "\n"
                "  --socket PATH    lockd's socket (default: [lockd] socket= or <run-dir>/lockd.sock)\n"
                "  --json           print JSON\n");
}

int ctl_locks_main(CtlContext *ctx, int argc, char **argv) {
        enum { OPT_SOCKET = 0x100, OPT_JSON };
        static const struct option options[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "json", no_argument, NULL, OPT_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        g_autofree char *socket_path = NULL, *json = NULL;
        const char *socket_arg = NULL;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_SOCKET: socket_arg = optarg; break;
                case OPT_JSON: ctx->json = true; break;
                case 'h': locks_help(stdout); return CTL_EXIT_OK;
                default: locks_help(stderr); return CTL_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                locks_help(stderr);
                return CTL_EXIT_USAGE;
        }
        /* Over the bus bulwarkd asks lockd; --socket names one to ask here. */
        int r;
        if (ctx->direct || socket_arg) {
                r = locks_socket(ctx, socket_arg, &socket_path);
                if (r >= 0)
                        r = locks_read_lockd(socket_path, &json);
        } else
                r = ctl_locks_json(ctx, &json);
        if (r < 0)
                return CTL_EXIT_FAILURE;
        JsonNode *doc = json_in_parse(json);
        if (!doc)
                return CTL_EXIT_FAILURE;
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(doc) ? json_node_get_object(doc) : NULL;
        JsonArray *locks = json_in_array(o, "locks");
        if (ctx->json)
                printf("%s\n", json);
        else
                locks_print_table(locks);
        /* Only a daemon that predates paged LIST leaves rows out: say so
         * where a person or a script looks, beside what it did send. */
        if (json_in_bool(o, "truncated"))
                fprintf(stderr, "bulwarkctl: the list is truncated: this bulwark-lockd cannot page its list and sent only the %u lock(s) that fit in one reply; upgrade it to list them all\n",
                        locks ? json_array_get_length(locks) : 0);
        json_node_unref(doc);
        return CTL_EXIT_OK;
}

/* ---- lock PATH... -- CMD ----------------------------------------------- */

static volatile sig_atomic_t lock_child;

static void lock_forward_signal(int sig) {
        if (lock_child > 0)
                kill(lock_child, sig);
}

static void lock_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl lock [--shared] [--timeout SEC] [--allow-missing] [--socket PATH]\n"
                "                       PATH... -- CMD [ARGS...]\n"
                "\n"
                "Takes lockd locks on every PATH (all or nothing), runs CMD while holding them,\n"
                "releases them and exits with CMD's status (128+N when it died of signal N).\n"
                "While another holder has a PATH, retries until the timeout, then exits 75\n"
                "naming the holder.  SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed to CMD.\n"
                "If lockd goes away while CMD runs, the locks are lost at that moment; if\n"
                "lockd finds a lock lost meanwhile (the shared filesystem dropped it), it\n"
                "says which: either way a warning is printed and the exit status is CMD's,\n"
                "or 1 if CMD succeeded.\n"
                "\n"
                "  --shared         shared locks (default: exclusive)\n"
                "  --timeout SEC    how long to wait for busy paths (default 60; 0: try once)\n"
                "  --allow-missing  lock a path that does not exist yet by its name\n"
                "  --socket PATH    lockd's socket (default: [lockd] socket= or <run-dir>/lockd.sock)\n");
}

static int lock_run(char **cmd) {
        struct sigaction sa = { .sa_handler = lock_forward_signal };
        const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
        struct sigaction old[G_N_ELEMENTS(forwarded)];
        int status;

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < G_N_ELEMENTS(forwarded); i++)
                sigaction(forwarded[i], &sa, &old[i]);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                fprintf(stderr, "bulwarkctl: lock: cannot fork: %s\n", g_strerror(errno));
                return -errno;
        }
        if (pid == 0) {
                for (size_t i = 0; i < G_N_ELEMENTS(forwarded); i++)
                        sigaction(forwarded[i], &old[i], NULL);
                execvp(cmd[0], cmd);
                int e = errno;
                fprintf(stderr, "bulwarkctl: lock: cannot run '%s': %s\n", cmd[0], g_strerror(e));
                _exit(e == ENOENT ? 127 : 126);
        }
        lock_child = pid;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 0;
                        break;
                }
        lock_child = 0;
        for (size_t i = 0; i < G_N_ELEMENTS(forwarded); i++)
                sigaction(forwarded[i], &old[i], NULL);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ctl_lock_main(CtlContext *ctx, int argc, char **argv) {
        enum { OPT_SHARED = 0x100, OPT_TIMEOUT, OPT_ALLOW_MISSING, OPT_SOCKET };
        static const struct option options[] = {
                { "shared", no_argument, NULL, OPT_SHARED },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        g_autofree char *socket_path = NULL;
        const char *socket_arg = NULL;
        unsigned mode = BW_LOCKD_EXCLUSIVE;
        int timeout_ms = BW_LOCKD_DEFAULT_TIMEOUT_MS;
        BwLockdClient *client;
        BwLockdHandle *handle;
        BwError err = {};
        int c, sep = -1;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_SHARED: mode |= BW_LOCKD_SHARED; break;
                case OPT_ALLOW_MISSING: mode |= BW_LOCKD_ALLOW_MISSING; break;
                case OPT_SOCKET: socket_arg = optarg; break;
                case OPT_TIMEOUT: {
                        char *end;
                        double s = g_ascii_strtod(optarg, &end);
                        if (*end || end == optarg || !(s >= 0 && s <= 86400)) {
                                fprintf(stderr, "bulwarkctl: lock: --timeout '%s' is not a number of seconds from 0 to 86400\n",
                                        optarg);
                                return CTL_EXIT_USAGE;
                        }
                        timeout_ms = (int) (s * 1000);
                        break;
                }
                case 'h': lock_help(stdout); return CTL_EXIT_OK;
                default: lock_help(stderr); return CTL_EXIT_USAGE;
                }
        }
        for (int i = optind; i < argc; i++)
                if (strcmp(argv[i], "--") == 0) {
                        sep = i;
                        break;
                }
        if (sep <= optind || sep + 1 >= argc) {
                fprintf(stderr, "bulwarkctl: lock: give at least one PATH, then -- and a command\n");
                lock_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (locks_socket(ctx, socket_arg, &socket_path) < 0)
                return CTL_EXIT_FAILURE;
        if (bw_lockd_client_new(socket_path, "bulwarkctl", &client) < 0) {
                fprintf(stderr, "bulwarkctl: lockd socket '%s' is not an absolute path\n", socket_path);
                return CTL_EXIT_FAILURE;
        }
        int r = bw_lockd_acquire(client, (const char *const *) argv + optind, (size_t) (sep - optind), mode,
                                 timeout_ms, &handle, &err);
        bw_lockd_client_free(client);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: lock: %s\n", err.message);
                return r == -ETIMEDOUT ? CTL_EXIT_TEMPFAIL : CTL_EXIT_FAILURE;
        }
        int status = lock_run(argv + sep + 1);
        /* Did CMD run under the locks all along?  lockd re-asserts them. */
        int lost = bw_lockd_handle_verify(handle, &err);
        /* Waits for the answer: the next command of a script must find the
         * paths free, even with --timeout 0. */
        r = bw_lockd_release_sync(handle);
        if (status < 0)
                return CTL_EXIT_FAILURE;
        if (lost == -ENOLCK) {
                fprintf(stderr, "bulwarkctl: lock: %s, while '%s' ran\n", err.message, argv[sep + 1]);
                return status ? status : CTL_EXIT_FAILURE;
        }
        if (r == -ECONNRESET) {
                fprintf(stderr, "bulwarkctl: lock: lockd went away while '%s' ran: its locks were lost then\n",
                        argv[sep + 1]);
                return status ? status : CTL_EXIT_FAILURE;
        }
        if (r < 0)
                fprintf(stderr, "bulwarkctl: lock: cannot release the locks: %s\n", g_strerror(-r));
        return status;
}
