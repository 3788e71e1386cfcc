/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwark-lockd: the metadata lock daemon.  See lockd/README.md. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fd-util.h"
#include "util/log.h"
#include "server.h"
#include "state-file.h"

#define LOCKD_STATE_FILE "lockd-reexec.state"

static char *arg_config;
static char *arg_socket;
static char *arg_state_dir;
static char *arg_pidfile;
static char *arg_group;
static bool arg_foreground;
static unsigned arg_max_clients = 4096;
static unsigned arg_frame_timeout_ms = 10000;
static unsigned arg_reassert_interval_ms = 5000;

static void help(FILE *f) {
        fprintf(f,
                "Usage: bulwark-lockd [OPTIONS]\n"
                "\n"
                "Hold metadata locks for bulwark and other management daemons: OFD locks on\n"
                "byte 1 of each file, kept for as long as the client's connection lives.\n"
                "\n"
                "  --config FILE      configuration file (default $BULWARK_CONFIG, else\n"
                "                     %s/bulwark.conf)\n"
                "  --socket PATH      listening socket (default %s/lockd.sock)\n"
                "  --state-dir DIR    where the re-exec state is written (default %s)\n"
                "  --pidfile PATH     pid file, locked while the daemon runs (default %s/lockd.pid)\n"
                "  --group NAME       members of this group may connect, besides root\n"
                "  --foreground       do not detach\n"
                "  -v, --verbose      log more (repeat for debug)\n"
                "  -h, --help         show this help\n"
                "  --version          print the version\n"
                "\n"
                "The directories of the socket and the pid file are created with their\n"
                "missing parents, 0755 (the state directory itself 0700); existing ones are\n"
                "used as they are.\n"
                "\n"
                "Every held lock is re-issued every reassert-interval-ms ([lockd] key,\n"
                "default 5000; 0 never) and when a client checks it: one the shared\n"
                "filesystem dropped is logged, listed as LOST and reported to its holder.\n"
                "\n"
                "Signals: SIGTERM stops (every lock is released); SIGUSR1 re-executes the\n"
                "binary keeping every lock and every client connection.\n",
                BW_SYSCONFDIR, BW_RUNDIR, BW_RUNDIR, BW_RUNDIR);
}

static int config_string(GKeyFile *kf, const char *path, const char *key, char **arg) {
        g_autoptr(GError) error = NULL;
        g_autofree char *v = g_key_file_get_string(kf, "lockd", key, &error);
        if (!v)
                return 0;
        if (!*v)
                return log_error_errno(EINVAL, "config '%s': [lockd] %s is empty", path, key);
        if (!*arg)
                *arg = g_steal_pointer(&v);
        return 0;
}

static int config_uint(GKeyFile *kf, const char *path, const char *key, unsigned min, unsigned max,
                       unsigned *arg) {
        g_autofree char *v = g_key_file_get_string(kf, "lockd", key, NULL);
        guint64 n;
        if (!v)
                return 0;
        if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL))
                return log_error_errno(EINVAL, "config '%s': [lockd] %s='%s' is not a number from %u to %u",
                                       path, key, v, min, max);
        *arg = (unsigned) n;
        return 0;
}

/* Reads the [lockd] group; command-line values win.  Other groups belong
 * to other programs. */
static int config_load(void) {
        static const char *const known[] = { "socket", "state-dir", "pidfile", "group", "max-clients",
                                             "frame-timeout-ms", "reassert-interval-ms", NULL };
        const char *env = getenv("BULWARK_CONFIG");
        bool given = arg_config || (env && *env);
        const char *path = arg_config ? arg_config : given ? env : BW_SYSCONFDIR "/bulwark.conf";
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) keys = NULL;
        int r;

        /* /dev/null is an empty configuration, as for the library. */
        if (strcmp(path, "/dev/null") == 0)
                return 0;
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
                if (!given && g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return 0;
                return log_error_errno(EINVAL, "config '%s': %s", path, error->message);
        }
        keys = g_key_file_get_keys(kf, "lockd", NULL, NULL);
        for (size_t i = 0; keys && keys[i]; i++)
                if (!g_strv_contains(known, keys[i]))
                        return log_error_errno(EINVAL, "config '%s': [lockd] key '%s' is unknown", path,
                                               keys[i]);
        if ((r = config_string(kf, path, "socket", &arg_socket)) < 0 ||
            (r = config_string(kf, path, "state-dir", &arg_state_dir)) < 0 ||
            (r = config_string(kf, path, "pidfile", &arg_pidfile)) < 0 ||
            (r = config_string(kf, path, "group", &arg_group)) < 0 ||
            (r = config_uint(kf, path, "max-clients", 1, 65536, &arg_max_clients)) < 0 ||
            (r = config_uint(kf, path, "frame-timeout-ms", 1, 3600000, &arg_frame_timeout_ms)) < 0 ||
            (r = config_uint(kf, path, "reassert-interval-ms", 0, 3600000, &arg_reassert_interval_ms)) < 0)
                return r;
        return 0;
}

static int parse_argv(int argc, char **argv) {
        enum { OPT_CONFIG = 0x100, OPT_SOCKET, OPT_STATE_DIR, OPT_PIDFILE, OPT_GROUP, OPT_FOREGROUND,
               OPT_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, OPT_CONFIG },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "pidfile", required_argument, NULL, OPT_PIDFILE },
                { "group", required_argument, NULL, OPT_GROUP },
                { "foreground", no_argument, NULL, OPT_FOREGROUND },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        int c, verbose = 0;

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_CONFIG: arg_config = g_strdup(optarg); break;
                case OPT_SOCKET: arg_socket = g_strdup(optarg); break;
                case OPT_STATE_DIR: arg_state_dir = g_strdup(optarg); break;
                case OPT_PIDFILE: arg_pidfile = g_strdup(optarg); break;
                case OPT_GROUP: arg_group = g_strdup(optarg); break;
                case OPT_FOREGROUND: arg_foreground = true; break;
                case 'v': verbose++; break;
                case 'h': help(stdout); return 0;
                case OPT_VERSION: printf("bulwark-lockd %s\n", PACKAGE_VERSION); return 0;
                default: help(stderr); return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "bulwark-lockd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (verbose)
                log_set_max_level(verbose > 1 ? BW_LOG_DEBUG : BW_LOG_INFO);
        int r = config_load();
        if (r < 0)
                return r;
        if (!arg_socket)
                arg_socket = g_strdup(BW_RUNDIR "/lockd.sock");
        if (!arg_state_dir)
                arg_state_dir = g_strdup(BW_RUNDIR);
        if (!arg_pidfile)
                arg_pidfile = g_strdup(BW_RUNDIR "/lockd.pid");
        return 1;
}

static int read_boot_id(char **ret) {
        g_autofree char *s = NULL;
        if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &s, NULL, NULL))
                return -EIO;
        *ret = g_strdup(g_strstrip(s));
        return 0;
}

/* Creates dir and every missing parent, as systemd's RuntimeDirectory=
 * does: each directory created gets `mode` whatever the umask (the
 * parents 0755), and one that exists is used as it is, whoever made it.
 * A component that exists but is not a directory (or is a dangling
 * symlink) is an error naming it.  `what` and `for_path` say what the
 * directory is for, in messages. */
static int make_directory(const char *dir, mode_t mode, const char *what, const char *for_path) {
        g_autofree char *path = g_strdup(dir);
        size_t len = strlen(path);

        /* Trailing slashes name the same directory. */
        while (len > 1 && path[len - 1] == '/')
                path[--len] = '\0';
        /* Each prefix ending before a slash, then the whole path. */
        for (size_t i = 1; i <= len; i++) {
                if ((i < len && path[i] != '/') || path[i - 1] == '/')
                        continue;
                char saved = path[i];
                path[i] = '\0';
                mode_t old = umask(0);
                int r = mkdir(path, i == len ? mode : 0755);
                int e = errno;
                umask(old);
                if (r < 0) {
                        /* Whatever mkdir() said (EEXIST, or EROFS, EACCES
                         * on the way to a directory that is there), what
                         * is there decides. */
                        struct stat st;
                        if (stat(path, &st) == 0 ? !S_ISDIR(st.st_mode) : lstat(path, &st) == 0)
                                return log_error_errno(ENOTDIR, "%s '%s': '%s' exists but is not a directory",
                                                       what, for_path, path);
                        if (stat(path, &st) < 0)
                                return log_error_errno(e, "%s '%s': cannot create directory '%s': %m", what,
                                                       for_path, path);
                }
                path[i] = saved;
        }
        return 0;
}

/* The run directory: where the socket or the pid file lives. */
static int make_run_directory(const char *path, const char *what) {
        g_autofree char *dir = g_path_get_dirname(path);
        return make_directory(dir, 0755, what, path);
}

/* Locks the pid file (an OFD lock: it survives fork and execve) and
 * writes our pid into it.  Fails when another instance holds it. */
static int pidfile_acquire(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char buf[32];

        if (fd < 0)
                return log_error_errno(errno, "pid file '%s': cannot open: %m", path);
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
                int r = -errno;
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                buf[n > 0 ? n : 0] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                if (r == -EAGAIN || r == -EACCES)
                        return log_error_errno(EBUSY, "pid file '%s': locked by another bulwark-lockd (pid %s); refusing to start",
                                               path, *buf ? buf : "unknown");
                return log_error_errno(r, "pid file '%s': cannot lock: %m", path);
        }
        int len = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) len, 0) != len)
                return log_error_errno(errno, "pid file '%s': cannot write: %m", path);
        *ret_fd = steal_fd(&fd);
        return 0;
}

/* Binds the listening socket.  A socket file another daemon still
 * answers on is never replaced; a stale one is. */
static int socket_listen(const char *path, bool has_group, gid_t gid, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "socket '%s': path too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "socket '%s': cannot create: %m", path);
        {
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        return log_error_errno(EADDRINUSE, "socket '%s': another daemon is listening on it; refusing to start",
                                               path);
        }
        if (unlink(path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "socket '%s': cannot remove the stale socket: %m", path);
        mode_t old = umask(has_group ? 0117 : 0177);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return log_error_errno(errno, "socket '%s': cannot bind: %m", path);
        if (has_group && chown(path, 0, gid) < 0)
                return log_error_errno(errno, "socket '%s': cannot chown: %m", path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "socket '%s': cannot listen: %m", path);
        *ret_fd = steal_fd(&fd);
        return 0;
}

/* Detaches: the parent exits only when the daemon reports it is ready
 * (status byte 0) or failed, so init scripts see real failures. */
static int daemonize(int *ret_notify_fd) {
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "lockd: cannot create a pipe: %m");
        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "lockd: cannot fork: %m");
        if (pid > 0) {
                unsigned char status = 1;
                close(pipefd[1]);
                if (read(pipefd[0], &status, 1) != 1)
                        status = 1;
                (void) waitpid(pid, NULL, 0);
                _exit(status);
        }
        close(pipefd[0]);
        if (setsid() < 0)
                _exit(1);
        pid = fork();
        if (pid < 0)
                _exit(1);
        if (pid > 0)
                _exit(0);
        if (chdir("/") < 0)
                _exit(1);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                /* stderr stays: it is where the daemon logs. */
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                close(null);
        }
        *ret_notify_fd = pipefd[1];
        return 0;
}

static void notify_parent(int *fd, unsigned char status) {
        if (*fd < 0)
                return;
        (void) !write(*fd, &status, 1);
        close(*fd);
        *fd = -1;
}

static int resolve_group(bool *ret_has, gid_t *ret_gid) {
        *ret_has = false;
        if (!arg_group)
                return 0;
        struct group *g = getgrnam(arg_group);
        if (!g) {
                guint64 n;
                if (!g_ascii_string_to_unsigned(arg_group, 10, 0, UINT32_MAX - 1, &n, NULL))
                        return log_error_errno(ENOENT, "lockd: group '%s' does not exist", arg_group);
                *ret_gid = (gid_t) n;
        } else
                *ret_gid = g->gr_gid;
        *ret_has = true;
        return 0;
}

/* A fresh start: directories, pid file, socket. */
static int start_fresh(Server *s, bool has_group, gid_t gid) {
        int pidfile_fd = -1, listen_fd = -1, r;

        if ((r = make_run_directory(arg_socket, "socket")) < 0 ||
            (r = make_run_directory(arg_pidfile, "pid file")) < 0 ||
            (r = make_directory(arg_state_dir, 0700, "state directory", arg_state_dir)) < 0)
                return r;
        if ((r = pidfile_acquire(arg_pidfile, &pidfile_fd)) < 0)
                return r;
        server_set_pidfile(s, pidfile_fd);
        if ((r = socket_listen(arg_socket, has_group, gid, &listen_fd)) < 0)
                return r;
        if ((r = server_set_listener(s, listen_fd)) < 0)
                return log_error_errno(r, "socket '%s': cannot watch: %m", arg_socket);
        log_info("lockd: listening on '%s'", arg_socket);
        return 0;
}

/* Looks for the state an earlier image of this process left before
 * re-executing.  Returns 1 with the state, 0 when there is none of ours. */
static int state_load(const char *state_path, const char *boot_id, GVariant **ret) {
        g_autoptr(GVariant) state = NULL;
        g_autofree char *message = NULL;
        uint32_t magic;
        const char *saved_boot;

        const GVariantType *types[] = { G_VARIANT_TYPE(SERVER_STATE_TYPE_V1), G_VARIANT_TYPE(SERVER_STATE_TYPE) };
        G_STATIC_ASSERT(G_N_ELEMENTS(types) == SERVER_STATE_VERSION);
        int r = state_file_read(state_path, types, G_N_ELEMENTS(types), &state, &message);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning_errno(r, "state file '%s': ignored: %s", state_path,
                                  message ? message : g_strerror(-r));
                (void) unlink(state_path);
                return 0;
        }
        g_variant_get_child(state, 0, "u", &magic);
        g_variant_get_child(state, 1, "&s", &saved_boot);
        if (magic != (uint32_t) getpid() || strcmp(saved_boot, boot_id) != 0) {
                log_warning("state file '%s': left by pid %u (this is pid %d); stale, removed", state_path,
                            magic, (int) getpid());
                (void) unlink(state_path);
                return 0;
        }
        *ret = g_steal_pointer(&state);
        return 1;
}

static int state_restore(Server *s, GVariant *state, const char *state_path) {
        g_autofree char *message = NULL;
        int64_t started;

        int r = server_restore(s, state, &started, &message);
        if (r < 0)
                /* The descriptors we inherited hold locks we no longer
                 * understand; leave the file for a post-mortem and stop. */
                return log_error_errno(r, "state file '%s': cannot restore: %s", state_path,
                                       message ? message : g_strerror(-r));
        if (unlink(state_path) < 0)
                log_warning_errno(errno, "state file '%s': cannot remove: %m", state_path);
        log_info("lockd: re-executed in %.1f ms with %zu lock(s) and %u client(s)",
                 (double) (g_get_monotonic_time() - started) / 1000.0, server_n_locks(s), server_n_clients(s));
        return 0;
}

/* Saves the state and replaces this image by the binary at exe.  Returns
 * only on failure, with every descriptor close-on-exec again. */
static int reexec(Server *s, const char *exe, char **argv, const char *state_path, const char *boot_id) {
        g_autoptr(GVariant) state = server_save(s, boot_id, g_get_monotonic_time());
        int r = state_file_write(state_path, SERVER_STATE_VERSION, state);
        if (r < 0)
                return log_error_errno(r, "state file '%s': cannot write: %m", state_path);
        r = server_set_inherit(s, true);
        if (r >= 0) {
                execv(exe, argv);
                r = -errno;
                log_error_errno(r, "lockd: cannot execute '%s': %m; continuing as before", exe);
        } else
                log_error_errno(r, "lockd: cannot keep descriptors across execve: %m");
        (void) server_set_inherit(s, false);
        (void) unlink(state_path);
        return r;
}

static int run(int argc, char **argv) {
        g_autofree char *state_path = NULL, *boot_id = NULL, *exe = NULL;
        Server *s = NULL;
        int notify_fd = -1;
        bool has_group;
        gid_t gid = 0;
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if ((r = resolve_group(&has_group, &gid)) < 0)
                return r;
        exe = g_file_read_link("/proc/self/exe", NULL);
        if (!exe)
                return log_error_errno(errno, "lockd: cannot find its own binary: %m");
        if (read_boot_id(&boot_id) < 0)
                return log_error_errno(EIO, "lockd: cannot read the boot id");
        state_path = g_build_filename(arg_state_dir, LOCKD_STATE_FILE, NULL);

        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        ServerConfig config = {
                .has_group = has_group,
                .group = gid,
                .group_name = arg_group,
                .max_clients = arg_max_clients,
                .frame_timeout_ms = arg_frame_timeout_ms,
                .reassert_interval_ms = arg_reassert_interval_ms,
        };
        g_autoptr(GVariant) state = NULL;
        bool restoring = state_load(state_path, boot_id, &state) > 0;
        /* Detach before the event loop exists: a signalfd created before
         * fork() does not wake epoll for the child's signals. */
        if (!restoring && !arg_foreground && (r = daemonize(&notify_fd)) < 0)
                goto finish;
        if ((r = server_new(&config, &mask, &s)) < 0) {
                log_error_errno(r, "lockd: cannot set up the event loop: %m");
                goto finish;
        }
        r = restoring ? state_restore(s, state, state_path) : start_fresh(s, has_group, gid);
        notify_parent(&notify_fd, r < 0 ? 1 : 0);
        if (r < 0)
                goto finish;
        g_clear_pointer(&state, g_variant_unref);
        for (;;) {
                ServerStop stop;
                r = server_run(s, &stop);
                if (r < 0 || stop == SERVER_STOP_TERMINATE)
                        break;
                (void) reexec(s, exe, argv, state_path, boot_id);
        }
        (void) unlink(arg_socket);
        (void) unlink(arg_pidfile);
finish:
        notify_parent(&notify_fd, 1);
        server_free(s);
        return r;
}

int main(int argc, char **argv) {
        log_set_program("bulwark-lockd");
        /* argv is handed to execv on SIGUSR1: keep the original. */
        int r = run(argc, argv);
        g_free(arg_config);
        g_free(arg_socket);
        g_free(arg_state_dir);
        g_free(arg_pidfile);
        g_free(arg_group);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
