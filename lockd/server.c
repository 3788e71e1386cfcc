/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connection.h"
#include "dispatch.h"
#include "util/fd-util.h"
#include "util/log.h"
#include "protocol-writer.h"
#include "server.h"

/* Replies a client has not read yet; past this its requests wait. */
#define SERVER_OUTPUT_HIGH_WATER (1024u * 1024u)

struct Server {
        ServerConfig config;
        char *group_name;
        int epoll_fd;
        int signal_fd;
        int listen_fd;
        int pidfile_fd;
        int reserve_fd;            /* spare descriptor for EMFILE on accept */
        LockTable *table;
        GHashTable *clients;       /* Connection* set */
        uint32_t next_id;
        uint32_t generation;
        unsigned n_partial;        /* clients with part of a frame buffered */
        GByteArray *aligned;       /* a payload copied to 8-byte alignment */
        int stop;                  /* ServerStop, or -1 while running */
        int64_t next_reassert;     /* monotonic µs */
};

int server_new(const ServerConfig *config, const sigset_t *signals, Server **ret) {
        Server *s = g_new0(Server, 1);
        int r;

        s->config = *config;
        s->group_name = g_strdup(config->group_name);
        s->config.group_name = s->group_name;
        s->listen_fd = s->pidfile_fd = s->signal_fd = s->reserve_fd = -1;
        s->next_id = 1;
        s->stop = -1;
        s->aligned = g_byte_array_new();
        s->clients = g_hash_table_new(g_direct_hash, g_direct_equal);
        lock_table_new(&s->table);
        s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epoll_fd < 0) {
                r = -errno;
                goto fail;
        }
        s->signal_fd = signalfd(-1, signals, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0) {
                r = -errno;
                goto fail;
        }
        s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->signal_fd };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0) {
                r = -errno;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        server_free(s);
        return r;
}

static void server_drop(Server *s, Connection *c, const char *why) {
        size_t n = lock_table_release_all(s->table, c->owner);
        if (n > 0)
                log_info("client %u (owner '%s', pid %u): %s; released %zu lock(s)", c->owner->id,
                         c->owner->name, c->owner->pid, why, n);
        else
                log_debug("client %u (owner '%s', pid %u): %s", c->owner->id, c->owner->name,
                          c->owner->pid, why);
        if (c->partial_since)
                s->n_partial--;
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        g_hash_table_remove(s->clients, c);
        connection_free(c);
}

void server_free(Server *s) {
        GHashTableIter it;
        gpointer k;

        if (!s)
                return;
        g_hash_table_iter_init(&it, s->clients);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
                Connection *c = k;
                g_hash_table_iter_steal(&it);
                lock_table_release_all(s->table, c->owner);
                connection_free(c);
        }
        g_hash_table_unref(s->clients);
        lock_table_free(s->table);
        int fds[] = { s->epoll_fd, s->signal_fd, s->listen_fd, s->pidfile_fd, s->reserve_fd };
        for (size_t i = 0; i < G_N_ELEMENTS(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        g_byte_array_unref(s->aligned);
        g_free(s->group_name);
        g_free(s);
}

int server_set_listener(Server *s, int listen_fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->listen_fd };
        s->listen_fd = listen_fd;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
                return -errno;
        return 0;
}

void server_set_pidfile(Server *s, int pidfile_fd) {
        s->pidfile_fd = pidfile_fd;
}

unsigned server_n_clients(const Server *s) {
        return g_hash_table_size(s->clients);
}

size_t server_n_locks(const Server *s) {
        return lock_table_n_entries(s->table);
}

/* ---- Accepting --------------------------------------------------------- */

static bool peer_in_group(int fd, gid_t primary, gid_t group) {
        if (primary == group)
                return true;
        g_autofree gid_t *gids = g_new(gid_t, 64);
        socklen_t len = 64 * sizeof(gid_t);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &len) < 0) {
                if (errno != ERANGE)
                        return false;
                gids = g_realloc(gids, len);
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &len) < 0)
                        return false;
        }
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (gids[i] == group)
                        return true;
        return false;
}

/* Answers a connection we will not serve, then closes it. */
static void server_reject(int fd, LockdStatus status, int error, const char *message) {
        g_autoptr(GByteArray) frame = g_byte_array_new();
        if (protocol_reply_frame_append_value(frame, 0, status, error, message, NULL) == 0)
                (void) send(fd, frame->data, frame->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void) shutdown(fd, SHUT_WR);
        close(fd);
}

static char *peer_comm(pid_t pid) {
        char path[64], buf[64] = "";
        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                if (n > 0)
                        buf[strcspn(buf, "\n")] = '\0';
        }
        return *buf ? g_strdup(buf) : g_strdup_printf("pid %d", (int) pid);
}

static int server_add_client(Server *s, int fd) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        LockOwner *owner;
        Connection *c;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                int r = -errno;
                close(fd);
                return log_warning_errno(r, "lockd: cannot read the credentials of a new client: %m");
        }
        /* Root, the daemon's own user (an unprivileged daemon serves its
         * user, as virtlockd does), or the configured group. */
        if (cred.uid != 0 && cred.uid != geteuid() &&
            !(s->config.has_group && peer_in_group(fd, cred.gid, s->config.group))) {
                g_autoptr(GString) who = g_string_new("root");
                if (geteuid() != 0)
                        g_string_append_printf(who, ", uid %u", (unsigned) geteuid());
                if (s->config.has_group)
                        g_string_append_printf(who, " and members of group '%s'", s->config.group_name);
                g_autofree char *message = g_strdup_printf("uid %u may not use lockd: only %s may",
                                                           (unsigned) cred.uid, who->str);
                log_notice("lockd: refused pid %d: %s", (int) cred.pid, message);
                server_reject(fd, LOCKD_STATUS_DENIED, EACCES, message);
                return -EACCES;
        }
        if (g_hash_table_size(s->clients) >= s->config.max_clients) {
                g_autofree char *message = g_strdup_printf("lockd serves at most %u clients",
                                                           s->config.max_clients);
                log_warning("lockd: refused pid %d: %s", (int) cred.pid, message);
                server_reject(fd, LOCKD_STATUS_FAILED, EUSERS, message);
                return -EUSERS;
        }
        g_autofree char *comm = peer_comm(cred.pid);
        lock_owner_new(s->next_id++, comm, (uint32_t) cred.pid, (uint32_t) cred.uid, &owner);
        connection_new(fd, owner, &c);
        c->peer_uid = cred.uid;
        c->peer_gid = cred.gid;
        c->peer_pid = (uint32_t) cred.pid;
        c->events = EPOLLIN;
        struct epoll_event ev = { .events = c->events, .data.ptr = c };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                connection_free(c);
                return log_error_errno(r, "lockd: cannot watch a new client: %m");
        }
        g_hash_table_add(s->clients, c);
        log_debug("client %u: connected, pid %d, uid %u", owner->id, (int) cred.pid, (unsigned) cred.uid);
        return 0;
}

static void server_accept(Server *s) {
        /* A bounded batch, so a connect storm cannot starve the clients. */
        for (int i = 0; i < 64; i++) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd >= 0) {
                        (void) server_add_client(s, fd);
                        continue;
                }
                if (errno == EINTR || errno == ECONNABORTED)
                        continue;
                if ((errno == EMFILE || errno == ENFILE) && s->reserve_fd >= 0) {
                        /* Out of descriptors: the pending connection would keep the
                         * listener readable forever.  Free the spare one, take the
                         * connection, tell it why, and keep the spare again. */
                        close(s->reserve_fd);
                        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                        if (fd >= 0)
                                server_reject(fd, LOCKD_STATUS_FAILED, EMFILE,
                                              "lockd is out of file descriptors");
                        s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        log_warning("lockd: out of file descriptors; refused a connection");
                        continue;
                }
                if (errno != EAGAIN)
                        log_warning_errno(errno, "lockd: cannot accept a connection: %m");
                return;
        }
}

/* ---- Client I/O -------------------------------------------------------- */

static void server_update_partial(Server *s, Connection *c) {
        bool partial = c->in->len > 0;
        if (partial && !c->partial_since) {
                c->partial_since = g_get_monotonic_time();
                s->n_partial++;
        } else if (!partial && c->partial_since) {
                c->partial_since = 0;
                s->n_partial--;
        }
}

static int server_update_events(Server *s, Connection *c) {
        /* While replies wait to be read, stop reading requests. */
        uint32_t events = connection_has_output(c) ? EPOLLOUT : EPOLLIN;
        if (events == c->events)
                return 0;
        struct epoll_event ev = { .events = events, .data.ptr = c };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                return -errno;
        c->events = events;
        return 0;
}

static void server_protocol_error(Connection *c, const LockdHeader *h, int error) {
        uint32_t serial = h->serial;
        switch (error) {
        case -EBADMSG:
                dispatch_reply_error(c, 0, LOCKD_STATUS_PROTOCOL, EPROTO,
                                     "frame does not start with the lockd magic 'BWLK'");
                break;
        case -EPROTONOSUPPORT:
                dispatch_reply_error(c, serial, LOCKD_STATUS_PROTOCOL, EPROTONOSUPPORT,
                                     "protocol version %u is not supported; this daemon speaks version %d",
                                     h->version, LOCKD_PROTOCOL_VERSION);
                break;
        case -EMSGSIZE:
                dispatch_reply_error(c, serial, LOCKD_STATUS_PROTOCOL, EMSGSIZE,
                                     "payload of %u bytes exceeds the limit of %u bytes", h->length,
                                     LOCKD_PAYLOAD_MAX);
                break;
        default:
                dispatch_reply_error(c, serial, LOCKD_STATUS_PROTOCOL, -error, "bad frame");
        }
        c->closing = true;
}

static void server_process_input(Server *s, Connection *c) {
        DispatchContext ctx = {
                .table = s->table,
                .n_clients = g_hash_table_size(s->clients),
                .generation = s->generation,
        };
        size_t off = 0;

        while (!c->closing && c->out->len < SERVER_OUTPUT_HIGH_WATER) {
                LockdHeader h;
                size_t len;
                int k = protocol_frame_next(c->in->data + off, c->in->len - off, &h, &len);
                if (k < 0) {
                        server_protocol_error(c, &h, k);
                        break;
                }
                if (k == 0)
                        break;
                const uint8_t *payload = c->in->data + off + LOCKD_HEADER_SIZE;
                /* GVariant reads in place only at 8-byte alignment; a frame
                 * after one of odd length is copied into one buffer kept
                 * for it rather than into a fresh allocation each time.
                 * An empty payload is not copied: the buffer may not be
                 * allocated yet, and memcpy() to NULL is undefined even
                 * for 0 bytes. */
                if ((uintptr_t) payload % 8 != 0 && h.length > 0) {
                        g_byte_array_set_size(s->aligned, h.length);
                        memcpy(s->aligned->data, payload, h.length);
                        payload = s->aligned->data;
                }
                dispatch_frame(&ctx, c, &h, payload);
                off += len;
        }
        if (c->closing)
                off = c->in->len;
        connection_consume(c, off);
}

/* After input was processed: send what is queued, close a connection
 * marked closing, and watch for what the connection needs next. */
static void server_client_settle(Server *s, Connection *c) {
        if (connection_has_output(c)) {
                int r = connection_flush(c);
                if (r < 0 && r != -EAGAIN) {
                        server_drop(s, c, "connection lost");
                        return;
                }
        }
        if (c->closing && !connection_has_output(c)) {
                server_drop(s, c, "closed after a protocol error");
                return;
        }
        server_update_partial(s, c);
        if (server_update_events(s, c) < 0)
                server_drop(s, c, "cannot be watched");
}

static void server_client_event(Server *s, Connection *c, uint32_t events) {
        int r;

        if (connection_has_output(c)) {
                r = connection_flush(c);
                if (r < 0 && r != -EAGAIN) {
                        server_drop(s, c, "connection lost");
                        return;
                }
                if (r == 0 && !c->closing)
                        server_process_input(s, c);
        } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t n = connection_fill(c);
                if (n == 0) {
                        server_drop(s, c, "disconnected");
                        return;
                }
                if (n < 0 && n != -EAGAIN) {
                        server_drop(s, c, "connection lost");
                        return;
                }
                server_process_input(s, c);
        }
        server_client_settle(s, c);
}

static int server_partial_timeout(Server *s) {
        if (s->n_partial == 0 || s->config.frame_timeout_ms == 0)
                return -1;
        int64_t now = g_get_monotonic_time(), first = INT64_MAX;
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, s->clients);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
                Connection *c = k;
                if (c->partial_since && c->partial_since < first)
                        first = c->partial_since;
        }
        int64_t due = first + (int64_t) s->config.frame_timeout_ms * 1000 - now;
        return due <= 0 ? 0 : (int) MIN((due + 999) / 1000, INT_MAX);
}

static void server_expire_partial(Server *s) {
        if (s->n_partial == 0 || s->config.frame_timeout_ms == 0)
                return;
        int64_t limit = g_get_monotonic_time() - (int64_t) s->config.frame_timeout_ms * 1000;
        g_autofree gpointer *clients = g_hash_table_get_keys_as_array(s->clients, NULL);
        for (size_t i = 0; clients[i]; i++) {
                Connection *c = clients[i];
                if (!c->partial_since || c->partial_since > limit)
                        continue;
                dispatch_reply_error(c, 0, LOCKD_STATUS_PROTOCOL, ETIMEDOUT,
                                     "incomplete frame: %u bytes received, the rest not within %u ms",
                                     c->in->len, s->config.frame_timeout_ms);
                (void) connection_flush(c);
                server_drop(s, c, "sent an incomplete frame");
        }
}

static void server_signal(Server *s) {
        struct signalfd_siginfo si;
        while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        log_info("lockd: signal %u: shutting down, releasing %zu lock(s)", si.ssi_signo,
                                 lock_table_n_entries(s->table));
                        s->stop = SERVER_STOP_TERMINATE;
                        break;
                case SIGUSR1:
                        log_info("lockd: SIGUSR1: re-executing with %zu lock(s) and %u client(s)",
                                 lock_table_n_entries(s->table), g_hash_table_size(s->clients));
                        if (s->stop < 0)
                                s->stop = SERVER_STOP_REEXEC;
                        break;
                default:
                        log_debug("lockd: signal %u ignored", si.ssi_signo);
                }
        }
}

static void server_lock_lost(const char *path, uint64_t dev, uint64_t ino, int error, void *userdata) {
        log_warning("path '%s' (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "): lock on byte 1 lost: %s; its holders are told when they check, and it is never trusted again",
                    path, dev, ino, g_strerror(error));
}

/* Milliseconds until the next re-assertion of the held locks, -1 never. */
static int server_reassert_timeout(Server *s) {
        if (s->config.reassert_interval_ms == 0)
                return -1;
        int64_t due = s->next_reassert - g_get_monotonic_time();
        return due <= 0 ? 0 : (int) MIN((due + 999) / 1000, INT_MAX);
}

/* A shared filesystem can drop a lock without telling its holder: ask
 * the kernel again for every one we hold.  On GlusterFS cut off from its
 * server this blocks up to the volume's ping timeout (the loop with it). */
static void server_reassert(Server *s) {
        if (s->config.reassert_interval_ms == 0 || g_get_monotonic_time() < s->next_reassert)
                return;
        (void) lock_table_reassert(s->table);
        s->next_reassert = g_get_monotonic_time() + (int64_t) s->config.reassert_interval_ms * 1000;
}

static int min_timeout(int a, int b) {
        return a < 0 ? b : b < 0 ? a : MIN(a, b);
}

int server_run(Server *s, ServerStop *ret_stop) {
        struct epoll_event events[64];

        s->stop = -1;
        lock_table_set_lost_handler(s->table, server_lock_lost, s);
        s->next_reassert = g_get_monotonic_time() + (int64_t) s->config.reassert_interval_ms * 1000;
        while (s->stop < 0) {
                int n = epoll_wait(s->epoll_fd, events, G_N_ELEMENTS(events),
                                   min_timeout(server_partial_timeout(s), server_reassert_timeout(s)));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "lockd: epoll_wait failed: %m");
                }
                for (int i = 0; i < n; i++) {
                        void *p = events[i].data.ptr;
                        if (p == &s->listen_fd)
                                server_accept(s);
                        else if (p == &s->signal_fd)
                                server_signal(s);
                        else
                                server_client_event(s, p, events[i].events);
                }
                server_expire_partial(s);
                server_reassert(s);
        }
        *ret_stop = s->stop;
        return 0;
}

/* ---- Re-exec ----------------------------------------------------------- */

GVariant *server_save(Server *s, const char *boot_id, int64_t started) {
        GVariantBuilder clients;
        GHashTableIter it;
        gpointer k;

        g_variant_builder_init(&clients, G_VARIANT_TYPE("a(uiuuusubayay)"));
        g_hash_table_iter_init(&it, s->clients);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
                Connection *c = k;
                g_variant_builder_add(
                        &clients, "(uiuuusub@ay@ay)", c->owner->id, c->fd, c->peer_uid, c->peer_gid,
                        c->peer_pid, c->owner->name, c->owner->pid, c->hello_done,
                        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, c->in->data, c->in->len, 1),
                        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, c->out->data + c->out_sent,
                                                  c->out->len - c->out_sent, 1));
        }
        return g_variant_ref_sink(g_variant_new("(usuiiuxa(uiuuusubayay)@" LOCK_TABLE_STATE_TYPE
                                                "@" LOCK_TABLE_LEASES_STATE_TYPE ")",
                                                (uint32_t) getpid(), boot_id, s->generation,
                                                s->listen_fd, s->pidfile_fd, s->next_id, started, &clients,
                                                lock_table_save(s->table), lock_table_save_leases(s->table)));
}

static int fd_set_cloexec(int fd, bool cloexec) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        flags = cloexec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}

int server_set_inherit(Server *s, bool inherit) {
        GHashTableIter it;
        gpointer k;
        int r;

        if ((r = fd_set_cloexec(s->listen_fd, !inherit)) < 0)
                return r;
        if (s->pidfile_fd >= 0 && (r = fd_set_cloexec(s->pidfile_fd, !inherit)) < 0)
                return r;
        g_hash_table_iter_init(&it, s->clients);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if ((r = fd_set_cloexec(((Connection *) k)->fd, !inherit)) < 0)
                        return r;
        return lock_table_set_inherit(s->table, inherit);
}

static int inherited_socket(int fd) {
        struct stat st;
        if (fd < 3 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return -EBADF;
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return fd_set_cloexec(fd, true);
}

static int server_restore_client(Server *s, GVariant *v, GHashTable *owners, char **ret_message) {
        g_autoptr(GVariant) in = NULL, out = NULL;
        uint32_t id, uid, gid, peer_pid, pid;
        gboolean hello_done;
        const char *name;
        int32_t fd;
        LockOwner *owner;
        Connection *c;

        g_variant_get(v, "(uiuuu&sub@ay@ay)", &id, &fd, &uid, &gid, &peer_pid, &name, &pid, &hello_done,
                      &in, &out);
        if (inherited_socket(fd) < 0 || g_hash_table_contains(owners, GUINT_TO_POINTER(id))) {
                *ret_message = g_strdup_printf("client %u: descriptor %d is not an inherited socket", id, fd);
                return -EBADF;
        }
        lock_owner_new(id, name, pid, uid, &owner);
        connection_new(fd, owner, &c);
        c->peer_uid = uid;
        c->peer_gid = gid;
        c->peer_pid = peer_pid;
        c->hello_done = hello_done;
        g_byte_array_append(c->in, g_variant_get_data(in) ?: (gconstpointer) "", (guint) g_variant_get_size(in));
        g_byte_array_append(c->out, g_variant_get_data(out) ?: (gconstpointer) "", (guint) g_variant_get_size(out));
        c->events = connection_has_output(c) ? EPOLLOUT : EPOLLIN;
        struct epoll_event ev = { .events = c->events, .data.ptr = c };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                connection_free(c);
                return r;
        }
        g_hash_table_add(s->clients, c);
        g_hash_table_insert(owners, GUINT_TO_POINTER(id), owner);
        server_update_partial(s, c);
        return 0;
}

int server_restore(Server *s, GVariant *state, int64_t *ret_started, char **ret_message) {
        g_autoptr(GVariant) clients = NULL, entries = NULL, leases = NULL;
        g_autoptr(GHashTable) owners = g_hash_table_new(g_direct_hash, g_direct_equal);
        uint32_t magic, generation, next_id;
        const char *boot_id;
        int32_t listen_fd, pidfile_fd;
        int r;

        *ret_message = NULL;
        if (g_variant_is_of_type(state, G_VARIANT_TYPE(SERVER_STATE_TYPE_V1)))
                g_variant_get(state, "(u&suiiux@a(uiuuusubayay)@" LOCK_TABLE_STATE_TYPE ")", &magic, &boot_id,
                              &generation, &listen_fd, &pidfile_fd, &next_id, ret_started, &clients, &entries);
        else
                g_variant_get(state, "(u&suiiux@a(uiuuusubayay)@" LOCK_TABLE_STATE_TYPE "@"
                              LOCK_TABLE_LEASES_STATE_TYPE ")", &magic, &boot_id, &generation, &listen_fd,
                              &pidfile_fd, &next_id, ret_started, &clients, &entries, &leases);
        if (inherited_socket(listen_fd) < 0) {
                *ret_message = g_strdup_printf("descriptor %d is not the inherited listening socket", listen_fd);
                return -EBADF;
        }
        r = server_set_listener(s, listen_fd);
        if (r < 0)
                return r;
        if (pidfile_fd >= 0) {
                if (fd_set_cloexec(pidfile_fd, true) < 0) {
                        *ret_message = g_strdup_printf("descriptor %d is not the inherited pid file", pidfile_fd);
                        return -EBADF;
                }
                s->pidfile_fd = pidfile_fd;
        }
        s->generation = generation + 1;
        s->next_id = next_id;
        for (size_t i = 0; i < g_variant_n_children(clients); i++) {
                g_autoptr(GVariant) v = g_variant_get_child_value(clients, i);
                r = server_restore_client(s, v, owners, ret_message);
                if (r < 0)
                        return r;
        }
        if (leases && (r = lock_table_restore_leases(s->table, leases, owners, ret_message)) < 0)
                return r;
        r = lock_table_restore(s->table, entries, owners, ret_message);
        if (r < 0)
                return r;
        /* Requests that arrived whole before the re-exec are answered now. */
        g_autofree gpointer *list = g_hash_table_get_keys_as_array(s->clients, NULL);
        for (size_t i = 0; list[i]; i++) {
                Connection *c = list[i];
                if (!connection_has_output(c))
                        server_process_input(s, c);
                server_client_settle(s, c);
        }
        return 0;
}
