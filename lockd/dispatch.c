/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "util/log.h"
#include "protocol-writer.h"

/* LIST stops adding rows before its reply could pass the frame limit. */
#define DISPATCH_LIST_BUDGET (LOCKD_PAYLOAD_MAX - 64u * 1024u)

static void reply_ok(Connection *c, uint32_t serial, GVariant *body) {
        int r = protocol_reply_frame_append_value(c->out, serial, LOCKD_STATUS_OK, 0, "", body);
        if (r < 0)
                log_error_errno(r, "client %u: cannot queue reply: %m", c->owner->id);
}

void dispatch_reply_error(Connection *c, uint32_t serial, LockdStatus status, int error,
                          const char *format, ...) {
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        log_debug("client %u (pid %u): %s: %s", c->owner->id, c->owner->pid,
                  protocol_status_to_string(status), message);
        (void) protocol_reply_frame_append_value(c->out, serial, status, error, message, NULL);
}

static void dispatch_hello(Connection *c, uint32_t serial, GVariant *payload) {
        g_auto(LockdHelloRequest) req = {};
        g_autofree char *message = NULL;

        if (c->hello_done) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL,
                                     "HELLO was already sent on this connection");
                return;
        }
        if (protocol_hello_decode(payload, &req, &message) < 0) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "HELLO: %s", message);
                return;
        }
        if (*req.owner)
                lock_owner_set_name(c->owner, req.owner);
        if (req.pid != 0)
                c->owner->pid = req.pid;
        c->hello_done = true;
        log_debug("client %u: owner '%s', pid %u (peer pid %u, uid %u)", c->owner->id, c->owner->name,
                  c->owner->pid, c->peer_pid, c->peer_uid);
        reply_ok(c, serial, g_variant_new_uint32(_LOCKD_FEATURES));
}

static void reply_busy(Connection *c, uint32_t serial, const char *path, const LockFailure *f) {
        GVariant *body = g_variant_new("(@aysuxt)", protocol_path_to_variant(path),
                                       f->owner ? f->owner : "", f->pid, f->since, f->held_for);
        g_autofree char *message = NULL;

        if (f->foreign)
                message = g_strdup_printf("path '%s': %s", path, f->detail);
        else
                message = g_strdup_printf("path '%s' is %s for %.1f s", path, f->detail,
                                          (double) f->held_for / 1e6);
        log_debug("client %u (pid %u): %s", c->owner->id, c->owner->pid, message);
        (void) protocol_reply_frame_append_value(c->out, serial, LOCKD_STATUS_BUSY, EBUSY, message, body);
}

static void dispatch_acquire(Connection *c, uint32_t serial, GVariant *payload, LockTable *table) {
        g_auto(LockdAcquireRequest) req = {};
        g_autofree char *message = NULL;
        g_auto(LockFailure) failure = {};

        if (protocol_acquire_decode(payload, &req, &message) < 0) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "ACQUIRE: %s", message);
                return;
        }
        g_autofree LockdPathResult *results = g_new0(LockdPathResult, req.paths.n ? req.paths.n : 1);
        /* A lease is held by its key's owner, not by this connection. */
        LockOwner *owner = req.flags & LOCKD_ACQUIRE_LEASE
                                   ? lock_table_lease_owner(table, req.owner_key, c->owner->pid, c->peer_uid)
                                   : c->owner;
        int r = lock_table_acquire(table, owner, req.paths.paths, req.paths.n, req.mode,
                                   req.flags & LOCKD_ACQUIRE_ALLOW_MISSING, req.owner_key, results, &failure);
        if (r < 0)
                lock_table_lease_owner_settle(table, owner);
        const char *path = req.paths.n ? req.paths.paths[failure.index] : "";
        switch (r) {
        case 0:
                break;
        case -EBUSY:
                reply_busy(c, serial, path, &failure);
                return;
        case -ENOENT:
                dispatch_reply_error(c, serial, LOCKD_STATUS_NOT_FOUND, ENOENT,
                                     "path '%s': No such file or directory", path);
                return;
        case -EINVAL:
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL,
                                     "path '%s' names no file that could be created", path);
                return;
        default:
                dispatch_reply_error(c, serial, LOCKD_STATUS_FAILED, -r, "path '%s': cannot lock: %s",
                                     path, g_strerror(-r));
                return;
        }
        log_debug("client %u (pid %u): %s %zu path(s) %s%s%s", c->owner->id, c->owner->pid,
                  req.flags & LOCKD_ACQUIRE_LEASE ? "leased" : "acquired", req.paths.n,
                  req.mode == LOCKD_MODE_SHARED ? "shared" : "exclusive", req.owner_key ? " for " : "",
                  req.owner_key ? req.owner_key : "");
        int r2 = protocol_reply_frame_append(c->out, serial, LOCKD_STATUS_OK, 0, "", LOCKD_BODY_ACQUIRE, results,
                                             req.paths.n * sizeof(LockdPathResult));
        if (r2 < 0)
                log_error_errno(r2, "client %u: cannot queue reply: %m", c->owner->id);
}

static void dispatch_release(Connection *c, uint32_t serial, GVariant *payload, LockTable *table,
                             uint16_t flags) {
        g_auto(LockdReleaseRequest) req = {};
        g_autofree char *message = NULL;
        const LockdFileKey *keys = NULL;
        bool quiet = flags & LOCKD_FRAME_NO_REPLY;
        size_t n;

        if (flags & LOCKD_FRAME_BY_KEY)
                keys = protocol_release_keys_get(payload, &n, &message);
        if ((flags & LOCKD_FRAME_BY_KEY) ? !keys : protocol_release_decode(payload, &req, &message) < 0) {
                /* A client that asked for no reply is not waiting for this
                 * one: say it where an administrator looks, too. */
                if (quiet)
                        log_warning("client %u (owner '%s', pid %u): RELEASE without reply failed, its locks stay held: %s",
                                    c->owner->id, c->owner->name, c->owner->pid, message);
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "RELEASE: %s", message);
                return;
        }
        if (keys)
                n = lock_table_release_keys(table, c->owner, keys, n);
        else if (req.all)
                n = lock_table_release_all(table, c->owner);
        else
                n = lock_table_release(table, c->owner, req.paths.paths, req.paths.n);
        log_debug("client %u (pid %u): released %zu hold(s)", c->owner->id, c->owner->pid, n);
        if (!quiet)
                reply_ok(c, serial, g_variant_new_uint32((uint32_t) MIN(n, UINT32_MAX)));
}

/* A LIST cursor: the daemon's generation (mod 2^16) in the top 16 bits,
 * the number of the last hold listed (lock_table_foreach_after()) in the
 * other 48 (2^48 holds take centuries at any rate lockd reaches).  A re-exec numbers the holds afresh, so a cursor from before one
 * is refused (ESTALE) and the client starts over; a daemon restarted
 * meanwhile is a new connection, which the client notices itself. */
#define LIST_CURSOR_SEQ_BITS 48
#define LIST_CURSOR_SEQ_MASK ((UINT64_C(1) << LIST_CURSOR_SEQ_BITS) - 1)

static uint64_t list_cursor(uint32_t generation, uint64_t seq) {
        return (uint64_t) (generation & 0xffff) << LIST_CURSOR_SEQ_BITS | (seq & LIST_CURSOR_SEQ_MASK);
}

typedef struct ListState {
        GVariantBuilder rows;
        size_t budget;             /* bytes the reply may still take */
        size_t rows_left;
        size_t n_rows;
        bool truncated;            /* a row was left out: more follow */
        uint64_t last_seq;
} ListState;

static bool list_add_row(const LockTableRow *row, void *userdata) {
        ListState *st = userdata;
        size_t cost = strlen(row->path) + strlen(row->owner->name) + 80;
        /* One row always fits (a path and an owner name are short of the
         * budget), so every page moves on. */
        if (st->rows_left == 0 || (cost > st->budget && st->n_rows > 0)) {
                st->truncated = true;
                return false;
        }
        st->budget -= MIN(cost, st->budget);
        st->rows_left--;
        st->n_rows++;
        st->last_seq = row->seq;
        g_variant_builder_add(&st->rows, "(@ayttuusuuxt)", protocol_path_to_variant(row->path), row->dev,
                              row->ino, (uint32_t) row->mode, row->flags, row->owner->name,
                              row->owner->pid, row->owner->uid, row->since, row->held_for);
        return true;
}

/* LIST, unpaged ("()": what fits in one reply, and whether rows were left
 * out) or one page ("(tu)" with LOCKD_FRAME_LIST_PAGE). */
static void dispatch_list(const DispatchContext *ctx, Connection *c, uint32_t serial, GVariant *payload,
                          uint16_t flags) {
        LockdListRequest req;
        g_autofree char *message = NULL;
        uint64_t after = 0;

        if (protocol_list_decode(payload, &req, &message) < 0) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "LIST: %s", message);
                return;
        }
        if (req.cursor != 0) {
                uint32_t generation = (uint32_t) (req.cursor >> LIST_CURSOR_SEQ_BITS);
                if (generation != (ctx->generation & 0xffff)) {
                        dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, ESTALE,
                                             "LIST: the cursor is from before the daemon re-executed; start over from 0");
                        return;
                }
                after = req.cursor & LIST_CURSOR_SEQ_MASK;
        }
        ListState st = {
                .budget = DISPATCH_LIST_BUDGET,
                .rows_left = req.limit ? req.limit : SIZE_MAX,
        };
        g_variant_builder_init(&st.rows, G_VARIANT_TYPE("a" LOCKD_LIST_ROW));
        lock_table_foreach_after(ctx->table, after, list_add_row, &st);
        if (flags & LOCKD_FRAME_LIST_PAGE)
                reply_ok(c, serial, g_variant_new("(bta" LOCKD_LIST_ROW ")", st.truncated,
                                                  st.truncated ? list_cursor(ctx->generation, st.last_seq) : 0,
                                                  &st.rows));
        else
                reply_ok(c, serial, g_variant_new("(ba" LOCKD_LIST_ROW ")", st.truncated, &st.rows));
}

/* RELEASE_LEASE: any client may release any key's leases, as any client
 * may take them: every client is trusted as root is (see Security). */
static void dispatch_release_lease(Connection *c, uint32_t serial, GVariant *payload, LockTable *table) {
        g_auto(LockdReleaseLeaseRequest) req = {};
        g_autofree char *message = NULL;

        if (protocol_release_lease_decode(payload, &req, &message) < 0) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "RELEASE_LEASE: %s", message);
                return;
        }
        size_t n = lock_table_release_lease(table, req.owner_key, req.paths.paths, req.paths.n);
        log_debug("client %u (pid %u): released %zu lease(s) of '%s'", c->owner->id, c->owner->pid, n,
                  req.owner_key);
        reply_ok(c, serial, g_variant_new_uint32((uint32_t) MIN(n, UINT32_MAX)));
}

static void check_add_lost(const char *path, int error, void *userdata) {
        g_variant_builder_add(userdata, "(@ayi)", protocol_path_to_variant(path), error);
}

/* CHECK: re-asserts the connection's locks on the keys it names and
 * answers the ones lost (an empty array while all hold). */
static void dispatch_check(Connection *c, uint32_t serial, GVariant *payload, LockTable *table) {
        g_autofree char *message = NULL;
        size_t n;
        const LockdFileKey *keys = protocol_release_keys_get(payload, &n, &message);
        if (!keys) {
                dispatch_reply_error(c, serial, LOCKD_STATUS_INVALID, EINVAL, "CHECK: %s", message);
                return;
        }
        GVariantBuilder lost;
        g_variant_builder_init(&lost, G_VARIANT_TYPE(LOCKD_BODY_CHECK));
        size_t n_lost = lock_table_check_keys(table, c->owner, keys, n, check_add_lost, &lost);
        log_debug("client %u (pid %u): checked %zu lock(s), %zu lost", c->owner->id, c->owner->pid, n, n_lost);
        reply_ok(c, serial, g_variant_builder_end(&lost));
}

static void dispatch_ping(const DispatchContext *ctx, Connection *c, uint32_t serial) {
        reply_ok(c, serial, g_variant_new(LOCKD_BODY_PING, PACKAGE_VERSION, (uint32_t) getpid(),
                                          ctx->n_clients, (uint32_t) lock_table_n_entries(ctx->table),
                                          ctx->generation));
}

void dispatch_frame(const DispatchContext *ctx, Connection *c, const LockdHeader *header,
                    const uint8_t *payload) {
        const GVariantType *type = protocol_request_type(header->type, header->flags);
        g_autofree char *message = NULL;

        if (!type) {
                dispatch_reply_error(c, header->serial, LOCKD_STATUS_UNKNOWN_REQUEST, EOPNOTSUPP,
                                     "message type %u is not a request", header->type);
                return;
        }
        if (header->flags & ~protocol_request_flags(header->type)) {
                dispatch_reply_error(c, header->serial, LOCKD_STATUS_INVALID, EINVAL,
                                     "header flags 0x%x are not defined for %s", header->flags,
                                     protocol_message_type_to_string(header->type));
                return;
        }
        /* Every handler copies what it keeps: the payload stays borrowed. */
        g_autoptr(GVariant) v = protocol_payload_parse_borrowed(payload, header->length, type, &message);
        if (!v) {
                dispatch_reply_error(c, header->serial, LOCKD_STATUS_INVALID, EINVAL, "%s: %s",
                                     protocol_message_type_to_string(header->type), message);
                return;
        }
        switch (header->type) {
        case LOCKD_MSG_HELLO: dispatch_hello(c, header->serial, v); break;
        case LOCKD_MSG_ACQUIRE: dispatch_acquire(c, header->serial, v, ctx->table); break;
        case LOCKD_MSG_RELEASE:
                dispatch_release(c, header->serial, v, ctx->table, header->flags);
                break;
        case LOCKD_MSG_LIST: dispatch_list(ctx, c, header->serial, v, header->flags); break;
        case LOCKD_MSG_PING: dispatch_ping(ctx, c, header->serial); break;
        case LOCKD_MSG_CHECK: dispatch_check(c, header->serial, v, ctx->table); break;
        case LOCKD_MSG_RELEASE_LEASE: dispatch_release_lease(c, header->serial, v, ctx->table); break;
        default: g_assert_not_reached();
        }
}
