/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "client.h"
#include "util/error.h"
#include "util/fd-util.h"
#include "util/log.h"
#include "protocol-writer.h"
#include "protocol.h"

/* Replies to RELEASE, LIST and PING are due at once; this only bounds a
 * daemon stuck in the kernel (a hung NFS mount). */
#define LOCKD_IO_TIMEOUT_USEC (30 * G_USEC_PER_SEC)

/* The one mutable global the library has, by design: one thread at a time
 * talks to lockd, whichever client or handle it uses.  It also guards
 * every LockdSocket, each client's descriptor and the serial counter. */
static pthread_mutex_t lockd_mutex = PTHREAD_MUTEX_INITIALIZER;
static uint32_t lockd_serial;

/* One connection to the daemon, shared by the client and the handles
 * that hold duplicates of its descriptor. */
typedef struct LockdSocket {
        unsigned refs;
        uint32_t features;         /* LOCKD_FEATURE_* from the HELLO reply */
        bool lost;                 /* the daemon closed it: its locks are gone */
} LockdSocket;

struct BwLockdClient {
        char *socket_path;
        char *owner;
        int fd;                    /* -1 until connected */
        LockdSocket *sock;
        unsigned attempts;
        unsigned connections;      /* connections made so far: which one answered */
};

struct BwLockdHandle {
        int fd;                    /* a duplicate of the connection; -1 when empty */
        LockdSocket *sock;
        size_t n;
        char **paths;              /* absolute, as sent; NULL-terminated */
        bool text;                 /* every path is UTF-8: may travel as "as" */
        BwLockdPathInfo *info;
};

static void lockd_socket_unref(LockdSocket *s) {
        if (s && --s->refs == 0)
                g_free(s);
}

int bw_lockd_client_new(const char *socket_path, const char *owner, BwLockdClient **ret) {
        if (!socket_path || socket_path[0] != '/')
                return -EINVAL;
        BwLockdClient *c = g_new0(BwLockdClient, 1);
        c->socket_path = g_strdup(socket_path);
        c->owner = g_strdup(owner ? owner : program_invocation_short_name);
        c->fd = -1;
        *ret = c;
        return 0;
}

static void client_disconnect(BwLockdClient *c) {
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        lockd_socket_unref(c->sock);
        c->sock = NULL;
}

void bw_lockd_client_free(BwLockdClient *client) {
        if (!client)
                return;
        pthread_mutex_lock(&lockd_mutex);
        client_disconnect(client);
        pthread_mutex_unlock(&lockd_mutex);
        g_free(client->socket_path);
        g_free(client->owner);
        g_free(client);
}

const char *bw_lockd_client_socket(const BwLockdClient *client) {
        return client->socket_path;
}

unsigned bw_lockd_client_attempts(const BwLockdClient *client) {
        pthread_mutex_lock(&lockd_mutex);
        unsigned n = client->attempts;
        pthread_mutex_unlock(&lockd_mutex);
        return n;
}

unsigned bw_lockd_backoff_next(unsigned delay_ms) {
        if (delay_ms == 0)
                return BW_LOCKD_BACKOFF_FIRST_MS;
        return MIN(delay_ms * 2, BW_LOCKD_BACKOFF_MAX_MS);
}

/* ---- One conversation -------------------------------------------------- */

/* Reads until buf holds one whole frame; returns its length.
 *
 * It waits in poll() for POLLIN, not in a blocking recv(): a task asleep
 * in recv() on a unix stream socket is also woken each time the daemon
 * reads this client's request (the freed send buffer wakes every sleeper
 * on the socket, whatever it waits for).  That spurious wakeup cost the
 * daemon a cross-CPU wakeup per request, about a third of its time under
 * 8 clients; poll() entries are woken only for the events they asked. */
static int read_frame(int fd, LockdSocket *s, int64_t deadline, GByteArray *buf, LockdHeader *h,
                      size_t *ret_len) {
        for (;;) {
                int k = protocol_frame_next(buf->data, buf->len, h, ret_len);
                if (k < 0)
                        return -EPROTO;
                if (k > 0)
                        return 0;
                /* A reply is never there the moment its request left:
                 * wait first, then read. */
                int64_t remaining = deadline - g_get_monotonic_time();
                if (remaining <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, (int) MIN((remaining + 999) / 1000, INT_MAX / 2));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                size_t old = buf->len;
                g_byte_array_set_size(buf, old + 64 * 1024);
                ssize_t n = recv(fd, buf->data + old, 64 * 1024, MSG_DONTWAIT);
                int saved = errno;
                g_byte_array_set_size(buf, old + (n > 0 ? (size_t) n : 0));
                if (n == 0 || (n < 0 && saved != EINTR && saved != EAGAIN && saved != EWOULDBLOCK)) {
                        s->lost = true;
                        return -ECONNRESET;
                }
        }
}

static int send_all(int fd, const uint8_t *data, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

static uint32_t next_serial(void) {
        return ++lockd_serial ? lockd_serial : ++lockd_serial;
}

/* Sends one framed request, with the mutex held.  A failed send marks
 * the connection lost. */
static int send_frame(int fd, LockdSocket *s, const GByteArray *frame) {
        if (s->lost)
                return -ECONNRESET;
        if (send_all(fd, frame->data, frame->len) < 0) {
                s->lost = true;
                return -ECONNRESET;
        }
        return 0;
}

static int frame_too_large(uint8_t type, char **ret_message) {
        *ret_message = g_strdup_printf("request of %s is larger than %u bytes",
                                       protocol_message_type_to_string(type), LOCKD_PAYLOAD_MAX);
        return -EMSGSIZE;
}

/* Sends a framed request and reads its reply, with the mutex held.
 * Replies to earlier requests (one that timed out, a RELEASE sent
 * without waiting that failed after all) are skipped; a serial-0 reply is
 * the daemon's last word before it closes the connection. */
static int exchange(int fd, LockdSocket *s, const GByteArray *frame, uint32_t serial, int64_t deadline,
                    LockdReply *ret, char **ret_message) {
        g_autoptr(GByteArray) in = g_byte_array_new();

        if (s->lost)
                return -ECONNRESET;
        int r = send_frame(fd, s, frame);
        if (r == -ECONNRESET)
                /* The daemon may have said why before closing (DENIED). */
                deadline = g_get_monotonic_time() + 100 * 1000;
        else if (r < 0)
                return r;
        for (;;) {
                LockdHeader h;
                size_t len;
                int k = read_frame(fd, s, deadline, in, &h, &len);
                if (k < 0)
                        return r < 0 ? r : k;
                if (h.type == LOCKD_MSG_REPLY && (h.serial == serial || h.serial == 0)) {
                        g_autoptr(GVariant) v = protocol_payload_parse(in->data + LOCKD_HEADER_SIZE, h.length,
                                                                       G_VARIANT_TYPE("(uisv)"), ret_message);
                        if (!v)
                                return -EPROTO;
                        return protocol_reply_decode(v, ret, ret_message) < 0 ? -EPROTO : 0;
                }
                log_debug("lockd: skipped a reply to an earlier request (serial %u)", h.serial);
                g_byte_array_remove_range(in, 0, (guint) len);
        }
}

/* One request built from a GVariant payload, and its reply. */
static int conversation(int fd, LockdSocket *s, uint8_t type, uint16_t flags, GVariant *payload,
                        int64_t deadline, LockdReply *ret, char **ret_message) {
        g_autoptr(GByteArray) frame = g_byte_array_new();
        uint32_t serial = next_serial();

        if (protocol_frame_append_flags(frame, type, flags, serial, payload) < 0)
                return frame_too_large(type, ret_message);
        return exchange(fd, s, frame, serial, deadline, ret, ret_message);
}

/* ---- Connecting -------------------------------------------------------- */

static int client_connect(BwLockdClient *c, int64_t deadline, BwError *reterr) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        g_auto(LockdReply) reply = {};
        g_autofree char *message = NULL;

        if (c->fd >= 0 && !c->sock->lost)
                return 0;
        client_disconnect(c);
        if (strlen(c->socket_path) >= sizeof(sa.sun_path))
                return error_set(reterr, -ENAMETOOLONG, "lockd socket '%s': path too long", c->socket_path);
        strcpy(sa.sun_path, c->socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(reterr, -errno, "lockd socket '%s': cannot create a socket: %m",
                                 c->socket_path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return error_set(reterr, -errno, "lockd socket '%s': cannot connect: %m (is bulwark-lockd running?)",
                                 c->socket_path);
        LockdSocket *s = g_new0(LockdSocket, 1);
        s->refs = 1;
        int r = conversation(fd, s, LOCKD_MSG_HELLO, 0,
                             g_variant_new("(su)", c->owner, (uint32_t) getpid()), deadline, &reply,
                             &message);
        if (r == 0 && reply.status != LOCKD_STATUS_OK)
                r = -protocol_status_to_errno(reply.status, reply.error);
        if (r < 0) {
                lockd_socket_unref(s);
                return error_set(reterr, r, "lockd socket '%s': %s", c->socket_path,
                                 reply.message ? reply.message : message ? message : g_strerror(-r));
        }
        if (g_variant_is_of_type(reply.body, G_VARIANT_TYPE(LOCKD_BODY_HELLO)))
                s->features = g_variant_get_uint32(reply.body);
        c->fd = steal_fd(&fd);
        c->sock = s;
        c->connections++;
        return 0;
}

/* What a request outside ACQUIRE came to: its error, the daemon's, or a
 * body of the wrong type. */
static int request_result(BwLockdClient *c, uint8_t type, int r, const char *message, const LockdReply *reply,
                          const char *body_type, BwError *reterr) {
        if (r < 0)
                return error_set(reterr, r, "lockd socket '%s': %s: %s", c->socket_path,
                                 protocol_message_type_to_string(type), message ? message : g_strerror(-r));
        if (reply->status != LOCKD_STATUS_OK)
                return error_set(reterr, -protocol_status_to_errno(reply->status, reply->error), "lockd: %s",
                                 reply->message);
        if (!g_variant_is_of_type(reply->body, G_VARIANT_TYPE(body_type)))
                return error_set(reterr, -EPROTO, "lockd: %s reply has type '%s', expected '%s'",
                                 protocol_message_type_to_string(type),
                                 g_variant_get_type_string(reply->body), body_type);
        return 0;
}

/* A request outside ACQUIRE: connect when needed, one conversation. */
static int client_request(BwLockdClient *c, uint8_t type, GVariant *payload, const char *body_type,
                          LockdReply *reply, BwError *reterr) {
        g_autoptr(GVariant) ref = g_variant_ref_sink(payload);
        g_autofree char *message = NULL;
        int64_t deadline = g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC;
        int r;

        pthread_mutex_lock(&lockd_mutex);
        r = client_connect(c, deadline, reterr);
        if (r < 0) {
                pthread_mutex_unlock(&lockd_mutex);
                return r;
        }
        r = conversation(c->fd, c->sock, type, 0, ref, deadline, reply, &message);
        if (r < 0)
                client_disconnect(c);
        pthread_mutex_unlock(&lockd_mutex);
        return request_result(c, type, r, message, reply, body_type, reterr);
}

/* ---- Acquire and release ----------------------------------------------- */

/* Frees a handle whose locks are released or were never the
 * connection's (a lease's handle): its descriptor and its reference to
 * the daemon's socket state go with it. */
static void handle_free(BwLockdHandle *h) {
        if (!h)
                return;
        if (h->fd >= 0)
                close(h->fd);
        if (h->sock) {
                pthread_mutex_lock(&lockd_mutex);
                lockd_socket_unref(h->sock);
                pthread_mutex_unlock(&lockd_mutex);
        }
        g_free(h->paths);
        g_free(h->info);
        g_free(h);
}

/* The daemon has no current directory of ours: relative paths are made
 * absolute here.  One allocation holds the pointers and the strings. */
static char **absolute_paths(const char *const *paths, size_t n) {
        g_autofree char *cwd = NULL;
        size_t cwd_len = 0, total = 0;

        for (size_t i = 0; i < n; i++) {
                if (paths[i][0] != '/' && !cwd) {
                        cwd = g_get_current_dir();
                        cwd_len = strlen(cwd);
                }
                total += (paths[i][0] == '/' ? 0 : cwd_len + 1) + strlen(paths[i]) + 1;
        }
        char **abs = g_malloc(sizeof(char *) * (n + 1) + total);
        char *p = (char *) (abs + n + 1);
        for (size_t i = 0; i < n; i++) {
                abs[i] = p;
                if (paths[i][0] != '/') {
                        memcpy(p, cwd, cwd_len);
                        p += cwd_len;
                        /* "/" as the current directory is already a separator. */
                        if (cwd_len == 0 || cwd[cwd_len - 1] != '/')
                                *p++ = '/';
                }
                p = stpcpy(p, paths[i]) + 1;
        }
        abs[n] = NULL;
        return abs;
}

static void sleep_usec(int64_t usec) {
        struct timespec ts = { .tv_sec = usec / G_USEC_PER_SEC, .tv_nsec = (usec % G_USEC_PER_SEC) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Fills the handle from an OK reply to ACQUIRE, with the mutex held. */
static int handle_adopt(BwLockdClient *c, BwLockdHandle *h, GVariant *body) {
        size_t n;
        const LockdPathResult *results = protocol_acquire_body_get(body, &n);
        if (!results || n != h->n)
                return -EPROTO;
        h->fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
        if (h->fd < 0)
                return -errno;
        h->sock = c->sock;
        h->sock->refs++;
        h->info = g_new(BwLockdPathInfo, n);
        for (size_t i = 0; i < n; i++)
                h->info[i] = (BwLockdPathInfo) { .dev = results[i].dev, .ino = results[i].ino,
                                                 .flags = results[i].flags };
        return 0;
}

/* An ACQUIRE frame, built for the daemon at hand (paths as "as" when it
 * reads them and they are UTF-8, else as "aay") and kept for retries,
 * each under a new serial. */
typedef struct AcquireRequest {
        uint32_t mode;             /* LOCKD_MODE_* */
        uint32_t flags;            /* LOCKD_ACQUIRE_* */
        const char *owner_key;     /* acts for (or leases to) this key; NULL: none */
        bool text;                 /* the frame carries "as" */
        GByteArray *frame;
} AcquireRequest;

static void acquire_request_clear(AcquireRequest *req) {
        g_clear_pointer(&req->frame, g_byte_array_unref);
}

/* ACQUIRE with its owner key ("(uusas)" or "(uusaay)"). */
static int acquire_keyed_frame_append(GByteArray *out, uint32_t serial, const AcquireRequest *req,
                                      const BwLockdHandle *h, bool text) {
        const char *const *paths = (const char *const *) h->paths;
        g_autoptr(GVariant) payload = g_variant_ref_sink(g_variant_new(
                "(uus@*)", req->mode, req->flags, req->owner_key,
                text ? protocol_text_paths_encode(paths, h->n) : protocol_paths_encode(paths, h->n)));
        return protocol_frame_append_flags(out, LOCKD_MSG_ACQUIRE,
                                           LOCKD_FRAME_OWNER_KEY | (text ? LOCKD_FRAME_TEXT_PATHS : 0), serial,
                                           payload);
}

static int acquire_request_frame(AcquireRequest *req, const BwLockdHandle *h, uint32_t features,
                                 uint32_t serial, char **ret_message) {
        bool text = h->text && (features & LOCKD_FEATURE_TEXT_PATHS);
        /* A daemon without leases has none of ours to grant over. */
        bool keyed = req->owner_key && (features & LOCKD_FEATURE_LEASES);
        if ((req->flags & LOCKD_ACQUIRE_LEASE) && !keyed) {
                *ret_message = g_strdup("this bulwark-lockd does not keep leases (re-execute or restart it into a newer one)");
                return -EOPNOTSUPP;
        }
        if (!req->frame || req->text != text) {
                g_clear_pointer(&req->frame, g_byte_array_unref);
                req->frame = g_byte_array_new();
                req->text = text;
                if (keyed ? acquire_keyed_frame_append(req->frame, serial, req, h, text) < 0
                          : protocol_acquire_frame_append(req->frame, serial, req->mode, req->flags,
                                                          (const char *const *) h->paths, h->n, text) < 0) {
                        g_clear_pointer(&req->frame, g_byte_array_unref);
                        return frame_too_large(LOCKD_MSG_ACQUIRE, ret_message);
                }
        }
        protocol_frame_set_serial(req->frame->data, serial);
        return 0;
}

/* One ACQUIRE.  Returns 0 (locked), -EBUSY with the holder in *busy, or
 * another error filled into reterr. */
static int acquire_once(BwLockdClient *c, BwLockdHandle *h, AcquireRequest *req, int64_t deadline,
                        char **busy, BwError *reterr) {
        g_auto(LockdReply) reply = {};
        g_autofree char *message = NULL;
        int r;

        pthread_mutex_lock(&lockd_mutex);
        for (int attempt = 0;; attempt++) {
                r = client_connect(c, deadline, reterr);
                if (r < 0)
                        goto unlock;
                c->attempts++;
                uint32_t serial = next_serial();
                r = acquire_request_frame(req, h, c->sock->features, serial, &message);
                if (r == -EOPNOTSUPP) {
                        r = error_set(reterr, r, "lockd socket '%s': %s", c->socket_path, message);
                        goto unlock;
                }
                if (r == 0)
                        r = exchange(c->fd, c->sock, req->frame, serial, deadline, &reply, &message);
                if (r == 0)
                        break;
                client_disconnect(c);
                /* A daemon restarted since our last request: the new
                 * connection cannot have lost anything yet, retry once. */
                if (r != -ECONNRESET || attempt > 0) {
                        r = error_set(reterr, r, "lockd socket '%s': ACQUIRE: %s", c->socket_path,
                                      message ? message : g_strerror(-r));
                        goto unlock;
                }
        }
        if (reply.status == LOCKD_STATUS_OK) {
                r = handle_adopt(c, h, reply.body);
                if (r < 0)
                        r = error_set(reterr, r, "lockd: malformed ACQUIRE reply: %m");
        } else if (reply.status == LOCKD_STATUS_BUSY) {
                g_free(*busy);
                *busy = g_steal_pointer(&reply.message);
                r = -EBUSY;
        } else
                r = error_set(reterr, -protocol_status_to_errno(reply.status, reply.error), "lockd: %s",
                              reply.message);
unlock:
        pthread_mutex_unlock(&lockd_mutex);
        return r;
}

/* ACQUIRE, retried while BUSY; `lease`: the locks become the key's leases. */
static int acquire_retrying(BwLockdClient *client, const char *owner_key, bool lease, const char *const *paths,
                            size_t n, unsigned mode, int timeout_ms, BwLockdHandle **ret, BwError *reterr) {
        g_autofree char *busy = NULL;
        int64_t start = g_get_monotonic_time();
        int64_t timeout = (int64_t) (timeout_ms < 0 ? BW_LOCKD_DEFAULT_TIMEOUT_MS : timeout_ms) * 1000;
        int64_t deadline = start + timeout;
        unsigned delay = 0;

        if (mode & ~(unsigned) (BW_LOCKD_SHARED | BW_LOCKD_ALLOW_MISSING))
                return error_set(reterr, -EINVAL, "lockd: lock mode 0x%x is unknown", mode);
        BwLockdHandle *h = g_new0(BwLockdHandle, 1);
        h->fd = -1;
        h->n = n;
        if (n == 0) {
                *ret = h;
                return 0;
        }
        h->paths = absolute_paths(paths, n);
        h->text = protocol_paths_are_text((const char *const *) h->paths, n);
        AcquireRequest req = {
                .mode = mode & BW_LOCKD_SHARED ? LOCKD_MODE_SHARED : LOCKD_MODE_EXCLUSIVE,
                .flags = (mode & BW_LOCKD_ALLOW_MISSING ? LOCKD_ACQUIRE_ALLOW_MISSING : 0) |
                         (lease ? LOCKD_ACQUIRE_LEASE : 0),
                .owner_key = owner_key,
        };
        for (;;) {
                /* A conversation may take until the deadline, but never
                 * less than a moment: a timeout of 0 still asks once. */
                int64_t io_deadline = MAX(deadline, g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC / 30);
                int r = acquire_once(client, h, &req, io_deadline, &busy, reterr);
                if (r == 0) {
                        acquire_request_clear(&req);
                        *ret = h;
                        return 0;
                }
                if (r != -EBUSY) {
                        acquire_request_clear(&req);
                        handle_free(h);
                        return r;
                }
                int64_t now = g_get_monotonic_time();
                if (now >= deadline) {
                        acquire_request_clear(&req);
                        handle_free(h);
                        return error_set(reterr, -ETIMEDOUT, "lockd: gave up after %.1f s: %s",
                                         (double) (now - start) / 1e6, busy);
                }
                delay = bw_lockd_backoff_next(delay);
                sleep_usec(MIN((int64_t) delay * 1000, deadline - now));
        }
}

int bw_lockd_acquire(BwLockdClient *client, const char *const *paths, size_t n, unsigned mode,
                     int timeout_ms, BwLockdHandle **ret, BwError *reterr) {
        return acquire_retrying(client, NULL, false, paths, n, mode, timeout_ms, ret, reterr);
}

int bw_lockd_acquire_for(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                         unsigned mode, int timeout_ms, BwLockdHandle **ret, BwError *reterr) {
        return acquire_retrying(client, owner_key, false, paths, n, mode, timeout_ms, ret, reterr);
}

int bw_lockd_lease(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                   unsigned mode, int timeout_ms, BwError *reterr) {
        BwLockdHandle *h = NULL;
        char *message = NULL;

        if (!owner_key || protocol_owner_check(owner_key, "owner key", &message) < 0 || !*owner_key) {
                int r = error_set(reterr, -EINVAL, "lockd: lease: %s", message ? message : "no owner key");
                g_free(message);
                return r;
        }
        int r = acquire_retrying(client, owner_key, true, paths, n, mode, timeout_ms, &h, reterr);
        /* The daemon holds a lease for the key, not for this connection:
         * the handle only carried the answer. */
        handle_free(h);
        return r;
}

int bw_lockd_release_lease(BwLockdClient *client, const char *owner_key, const char *const *paths, size_t n,
                           BwError *reterr) {
        g_auto(LockdReply) reply = {};
        g_autofree char **abs = n ? absolute_paths(paths, n) : NULL;

        pthread_mutex_lock(&lockd_mutex);
        int r = client_connect(client, g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC, reterr);
        bool leases = r == 0 && (client->sock->features & LOCKD_FEATURE_LEASES);
        pthread_mutex_unlock(&lockd_mutex);
        if (r < 0)
                return r;
        /* An older daemon took no lease. */
        if (!leases)
                return 0;
        r = client_request(client, LOCKD_MSG_RELEASE_LEASE,
                           g_variant_new("(s@aay)", owner_key, protocol_paths_encode((const char *const *) abs, n)),
                           LOCKD_BODY_RELEASE, &reply, reterr);
        return r < 0 ? r : (int) MIN(g_variant_get_uint32(reply.body), (uint32_t) INT_MAX);
}

/* The RELEASE frame for a handle: the keys the ACQUIRE reply gave, when
 * the daemon takes them and every file has one, else the paths. */
static int release_frame(const BwLockdHandle *h, uint32_t features, uint16_t extra_flags, uint32_t serial,
                         GByteArray *out) {
        bool by_key = features & LOCKD_FEATURE_RELEASE_BY_KEY;
        for (size_t i = 0; by_key && i < h->n; i++)
                if (h->info[i].flags & LOCKD_PATH_MISSING)
                        by_key = false;
        if (!by_key) {
                g_autoptr(GVariant) payload = g_variant_ref_sink(g_variant_new(
                        "(b@aay)", FALSE, protocol_paths_encode((const char *const *) h->paths, h->n)));
                return protocol_frame_append_flags(out, LOCKD_MSG_RELEASE, extra_flags, serial, payload);
        }
        g_autofree LockdFileKey *keys = g_new(LockdFileKey, h->n);
        size_t k = 0;
        /* The daemon took one hold per file: a second path to the same
         * file has nothing more to release. */
        for (size_t i = 0; i < h->n; i++)
                if (!(h->info[i].flags & LOCKD_PATH_DUPLICATE))
                        keys[k++] = (LockdFileKey) { .dev = h->info[i].dev, .ino = h->info[i].ino };
        return protocol_release_keys_frame_append(out, serial, extra_flags, keys, k);
}

/* Sends RELEASE for the handle's locks; waits for the answer when asked
 * to or when the daemon predates replies on failure only. */
static int handle_release(BwLockdHandle *handle, bool wait) {
        g_auto(LockdReply) reply = {};
        g_autofree char *message = NULL;
        g_autoptr(GByteArray) frame = g_byte_array_new();
        int r;

        pthread_mutex_lock(&lockd_mutex);
        uint32_t features = handle->sock->features;
        bool quiet = !wait && (features & LOCKD_FEATURE_NO_REPLY_RELEASE);
        uint32_t serial = next_serial();
        r = release_frame(handle, features, quiet ? LOCKD_FRAME_NO_REPLY : 0, serial, frame);
        if (r < 0)
                r = frame_too_large(LOCKD_MSG_RELEASE, &message);
        else if (quiet)
                r = send_frame(handle->fd, handle->sock, frame);
        else {
                r = exchange(handle->fd, handle->sock, frame, serial,
                             g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC, &reply, &message);
                if (r == 0 && reply.status != LOCKD_STATUS_OK)
                        r = -protocol_status_to_errno(reply.status, reply.error);
        }
        if (r < 0 && r != -ECONNRESET)
                log_debug_errno(r, "lockd: RELEASE failed: %s",
                                reply.message ? reply.message : message ? message : g_strerror(-r));
        close(handle->fd);
        handle->fd = -1;
        lockd_socket_unref(handle->sock);
        handle->sock = NULL;
        pthread_mutex_unlock(&lockd_mutex);
        return r;
}

int bw_lockd_release(BwLockdHandle *handle) {
        int r = handle && handle->fd >= 0 ? handle_release(handle, false) : 0;
        handle_free(handle);
        return r;
}

int bw_lockd_release_sync(BwLockdHandle *handle) {
        int r = handle && handle->fd >= 0 ? handle_release(handle, true) : 0;
        handle_free(handle);
        return r;
}

/* The handle's keys, one per file, for CHECK; none when a file was
 * locked by name (a table lock, which cannot be lost). */
static size_t handle_keys(const BwLockdHandle *h, LockdFileKey *keys) {
        size_t k = 0;
        for (size_t i = 0; i < h->n; i++)
                if (!(h->info[i].flags & (LOCKD_PATH_DUPLICATE | LOCKD_PATH_MISSING | LOCKD_PATH_TABLE_ONLY)))
                        keys[k++] = (LockdFileKey) { .dev = h->info[i].dev, .ino = h->info[i].ino };
        return k;
}

/* Asks the daemon (CHECK) whether it still holds the handle's kernel
 * locks.  Called with the mutex held. */
static int handle_ask(BwLockdHandle *h, BwError *reterr) {
        g_autofree LockdFileKey *keys = g_new(LockdFileKey, h->n ? h->n : 1);
        g_autoptr(GByteArray) frame = g_byte_array_new();
        g_auto(LockdReply) reply = {};
        g_autofree char *message = NULL;
        uint32_t serial = next_serial();
        size_t n = handle_keys(h, keys);

        if (n == 0)
                return 0;
        g_autoptr(GVariant) payload = g_variant_ref_sink(protocol_release_keys_encode(keys, n));
        if (protocol_frame_append_flags(frame, LOCKD_MSG_CHECK, 0, serial, payload) < 0)
                return error_set(reterr, frame_too_large(LOCKD_MSG_CHECK, &message), "lockd: %s", message);
        int r = exchange(h->fd, h->sock, frame, serial, g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC, &reply,
                         &message);
        if (r < 0)
                return error_set(reterr, r, "lockd: CHECK failed: %s", message ? message : g_strerror(-r));
        if (reply.status != LOCKD_STATUS_OK)
                return error_set(reterr, -protocol_status_to_errno(reply.status, reply.error), "lockd: %s",
                                 reply.message);
        if (!g_variant_is_of_type(reply.body, G_VARIANT_TYPE(LOCKD_BODY_CHECK)))
                return error_set(reterr, -EPROTO, "lockd: CHECK answered a %s", g_variant_get_type_string(reply.body));
        if (g_variant_n_children(reply.body) == 0)
                return 0;
        g_autoptr(GVariant) path = NULL;
        int32_t error;
        g_variant_get_child(reply.body, 0, "(@ayi)", &path, &error);
        g_autofree char *name = protocol_path_from_variant(path);
        return error_set(reterr, -ENOLCK, "path '%s': the lock was lost (%s): another host may hold it now",
                         name ? name : "?", g_strerror(error));
}

int bw_lockd_handle_verify(BwLockdHandle *handle, BwError *reterr) {
        if (!handle || handle->fd < 0)
                return 0;
        pthread_mutex_lock(&lockd_mutex);
        bool lost = handle->sock->lost;
        struct pollfd p = { .fd = handle->fd, .events = POLLRDHUP };
        if (!lost && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                lost = true;
        int r = lost ? error_set(reterr, -ECONNRESET, "lockd went away: the locks were lost with it") : 0;
        if (r == 0 && (handle->sock->features & LOCKD_FEATURE_CHECK))
                r = handle_ask(handle, reterr);
        pthread_mutex_unlock(&lockd_mutex);
        return r;
}

int bw_lockd_handle_check(BwLockdHandle *handle) {
        return bw_lockd_handle_verify(handle, NULL);
}

bool bw_lockd_path_info_existed(const BwLockdPathInfo *info) {
        return !(info->flags & LOCKD_PATH_MISSING);
}

size_t bw_lockd_handle_n_paths(const BwLockdHandle *handle) {
        return handle ? handle->n : 0;
}

const BwLockdPathInfo *bw_lockd_handle_path_info(const BwLockdHandle *handle, size_t index) {
        return handle && handle->info && index < handle->n ? &handle->info[index] : NULL;
}

/* ---- LIST and PING ----------------------------------------------------- */

/* One LIST request: the page after `cursor` from a daemon that pages
 * (*ret_paged), else the one unpaged reply.  *ret_connection says which
 * connection answered.  -ESTALE, unreported, when the daemon no longer
 * knows the cursor (it re-executed). */
static int list_request(BwLockdClient *c, uint64_t cursor, LockdReply *reply, bool *ret_paged,
                        unsigned *ret_connection, BwError *reterr) {
        g_autofree char *message = NULL;
        int64_t deadline = g_get_monotonic_time() + LOCKD_IO_TIMEOUT_USEC;

        pthread_mutex_lock(&lockd_mutex);
        int r = client_connect(c, deadline, reterr);
        if (r < 0) {
                pthread_mutex_unlock(&lockd_mutex);
                return r;
        }
        bool paged = c->sock->features & LOCKD_FEATURE_LIST_PAGES;
        g_autoptr(GVariant) payload = g_variant_ref_sink(paged ? g_variant_new("(tu)", (guint64) cursor, 0u)
                                                               : g_variant_new("()"));
        r = conversation(c->fd, c->sock, LOCKD_MSG_LIST, paged ? LOCKD_FRAME_LIST_PAGE : 0, payload, deadline,
                         reply, &message);
        if (r < 0)
                client_disconnect(c);
        *ret_connection = c->connections;
        pthread_mutex_unlock(&lockd_mutex);
        *ret_paged = paged;
        if (r == 0 && reply->status == LOCKD_STATUS_INVALID && reply->error == ESTALE)
                return -ESTALE;
        return request_result(c, LOCKD_MSG_LIST, r, message, reply, paged ? LOCKD_BODY_LIST_PAGE : LOCKD_BODY_LIST,
                              reterr);
}

static void list_add_rows(GArray *locks, GVariant *rows) {
        size_t n = g_variant_n_children(rows);
        for (size_t i = 0; i < n; i++) {
                g_autoptr(GVariant) path = NULL;
                const char *owner;
                uint32_t mode;
                BwLockdLock l = {};
                g_variant_get_child(rows, i, "(@ayttuu&suuxt)", &path, &l.dev, &l.ino, &mode, &l.flags, &owner,
                                    &l.pid, &l.uid, &l.since, &l.held_for);
                l.path = protocol_path_from_variant(path);
                if (!l.path)
                        l.path = g_strdup("?");
                l.shared = mode == LOCKD_MODE_SHARED;
                l.owner = g_strdup(owner);
                g_array_append_val(locks, l);
        }
}

static void lock_clear(void *p) {
        BwLockdLock *l = p;
        g_free(l->path);
        g_free(l->owner);
}

/* How often a listing starts over because the daemon re-executed or
 * restarted while it was read, before it gives up. */
#define LIST_RESTARTS_MAX 3

int bw_lockd_list(BwLockdClient *client, BwLockdLock **ret, size_t *ret_n, bool *ret_truncated,
                  BwError *reterr) {
        /* Never empty, so the array handed out is never NULL. */
        GArray *locks = g_array_sized_new(FALSE, TRUE, sizeof(BwLockdLock), 64);
        gboolean truncated = FALSE;
        uint64_t cursor = 0;
        unsigned connection = 0, restarts = 0;
        int r;

        g_array_set_clear_func(locks, lock_clear);
        for (;;) {
                g_auto(LockdReply) reply = {};
                g_autoptr(GVariant) rows = NULL;
                gboolean more = FALSE;
                guint64 next = 0;
                unsigned answered = 0;
                bool paged = false;

                r = list_request(client, cursor, &reply, &paged, &answered, reterr);
                /* Pages of another numbering (a re-exec) or from another
                 * daemon (a restart): start over rather than mix them. */
                if (cursor != 0 && (r == -ESTALE || (r == 0 && answered != connection))) {
                        if (++restarts > LIST_RESTARTS_MAX) {
                                r = error_set(reterr, -ESTALE, "lockd socket '%s': LIST: the daemon re-executed or restarted %u times while the list was read",
                                              client->socket_path, restarts);
                                break;
                        }
                        log_debug("lockd: LIST starts over: the daemon re-executed or restarted");
                        g_array_set_size(locks, 0);
                        cursor = 0;
                        continue;
                }
                if (r == -ESTALE)
                        r = error_set(reterr, -EPROTO, "lockd: %s", reply.message);
                if (r < 0)
                        break;
                connection = answered;
                if (paged)
                        g_variant_get(reply.body, "(bt@a" LOCKD_LIST_ROW ")", &more, &next, &rows);
                else
                        g_variant_get(reply.body, "(b@a" LOCKD_LIST_ROW ")", &truncated, &rows);
                list_add_rows(locks, rows);
                if (!more)
                        break;
                if (next == 0 || next == cursor || g_variant_n_children(rows) == 0) {
                        r = error_set(reterr, -EPROTO, "lockd: LIST page says more rows follow but gives no way on");
                        break;
                }
                cursor = next;
        }
        if (r < 0) {
                g_array_free(locks, TRUE);
                return r;
        }
        g_array_set_clear_func(locks, NULL);
        *ret_n = locks->len;
        *ret = (BwLockdLock *) (void *) g_array_free(locks, FALSE);
        if (ret_truncated)
                *ret_truncated = truncated;
        return 0;
}

void bw_lockd_lock_list_free(BwLockdLock *locks, size_t n) {
        if (!locks)
                return;
        for (size_t i = 0; i < n; i++) {
                g_free(locks[i].path);
                g_free(locks[i].owner);
        }
        g_free(locks);
}

int bw_lockd_ping(BwLockdClient *client, BwLockdDaemonInfo *ret, BwError *reterr) {
        g_auto(LockdReply) reply = {};
        const char *version;

        int r = client_request(client, LOCKD_MSG_PING, g_variant_new("()"), LOCKD_BODY_PING, &reply, reterr);
        if (r < 0)
                return r;
        *ret = (BwLockdDaemonInfo) {};
        g_variant_get(reply.body, "(&suuuu)", &version, &ret->pid, &ret->clients, &ret->locks,
                      &ret->generation);
        g_strlcpy(ret->version, version, sizeof(ret->version));
        return 0;
}
