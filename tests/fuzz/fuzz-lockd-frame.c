/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the lockd frame and payload decoder, both directions.
 * The input is a byte stream as bulwark-lockd reads it from a client: the
 * frames in it are cut, checked and decoded the way the daemon does
 * (requests) and the way the client does (replies and their bodies). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static void decode_request(uint8_t type, uint16_t flags, GVariant *v) {
        g_autofree char *message = NULL;
        switch (type) {
        case LOCKD_MSG_HELLO: {
                g_auto(LockdHelloRequest) req = {};
                (void) protocol_hello_decode(v, &req, &message);
                break;
        }
        case LOCKD_MSG_ACQUIRE: {
                g_auto(LockdAcquireRequest) req = {};
                if (protocol_acquire_decode(v, &req, &message) == 0)
                        for (size_t i = 0; i < req.paths.n; i++)
                                if (req.paths.paths[i][0] != '/')
                                        abort();
                break;
        }
        case LOCKD_MSG_RELEASE: {
                g_auto(LockdReleaseRequest) req = {};
                size_t n;
                if (!(flags & LOCKD_FRAME_BY_KEY))
                        (void) protocol_release_decode(v, &req, &message);
                else if (!protocol_release_keys_get(v, &n, &message) && !message)
                        abort();
                break;
        }
        case LOCKD_MSG_LIST: {
                LockdListRequest req;
                /* Both payload types decode: "()" as the first page. */
                if (protocol_list_decode(v, &req, &message) < 0)
                        abort();
                if (!(flags & LOCKD_FRAME_LIST_PAGE) && (req.cursor != 0 || req.limit != 0))
                        abort();
                break;
        }
        default:
                break;
        }
}

static void decode_list_rows(GVariant *rows) {
        for (size_t i = 0; i < g_variant_n_children(rows); i++) {
                g_autoptr(GVariant) path = NULL;
                const char *owner;
                uint64_t dev, ino, held;
                uint32_t mode, flags, pid, uid;
                int64_t since;
                g_variant_get_child(rows, i, "(@ayttuu&suuxt)", &path, &dev, &ino, &mode, &flags, &owner, &pid,
                                    &uid, &since, &held);
                g_free(protocol_path_from_variant(path));
        }
}

/* What the client does with a reply body. */
static void decode_body(GVariant *body) {
        if (g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_LIST))) {
                g_autoptr(GVariant) rows = g_variant_get_child_value(body, 1);
                decode_list_rows(rows);
        } else if (g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_LIST_PAGE))) {
                gboolean more;
                guint64 next;
                g_autoptr(GVariant) rows = NULL;
                g_variant_get(body, "(bt@a" LOCKD_LIST_ROW ")", &more, &next, &rows);
                decode_list_rows(rows);
        } else if (g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_ACQUIRE))) {
                for (size_t i = 0; i < g_variant_n_children(body); i++) {
                        uint64_t dev, ino;
                        uint32_t flags;
                        g_variant_get_child(body, i, "(ttu)", &dev, &ino, &flags);
                }
        } else if (g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_BUSY))) {
                g_autoptr(GVariant) path = g_variant_get_child_value(body, 0);
                g_free(protocol_path_from_variant(path));
        } else if (g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_PING))) {
                const char *version;
                uint32_t a, b, c, d;
                g_variant_get(body, "(&suuuu)", &version, &a, &b, &c, &d);
        }
}

/* The parser's short path (trailer compared, value checked as the
 * expected type) must reach the verdict and the value of GLib's general
 * path (the boxing variant checked as a whole). */
static GVariant *parse_both(const uint8_t *payload, size_t len, const GVariantType *type, char **ret_message) {
        GVariant *v = protocol_payload_parse(payload, len, type, ret_message);
        g_autofree char *message = NULL;
        g_autoptr(GVariant) general = protocol_payload_parse_general(payload, len, type, &message);
        if (!v != !general || (v && !g_variant_equal(v, general)))
                abort();
        return v;
}

/* The reply decoder reads "(uisv)" in place: it must agree with GLib's
 * accessors on every checked reply. */
static void check_reply_decode(GVariant *v, int r, const LockdReply *reply) {
        uint32_t status;
        int32_t error;
        const char *message;
        g_autoptr(GVariant) boxed = NULL;
        g_variant_get(v, "(ui&s@v)", &status, &error, &message, &boxed);
        bool in_range = status < _LOCKD_STATUS_MAX && error >= 0 && error <= 4095;
        if ((r == 0) != in_range)
                abort();
        if (r < 0)
                return;
        g_autoptr(GVariant) body = g_variant_get_variant(boxed);
        if (reply->status != status || reply->error != error || strcmp(reply->message, message) != 0 ||
            !g_variant_equal(reply->body, body))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t off = 0;
        while (off < size) {
                LockdHeader h;
                size_t len;
                int k = protocol_frame_next(data + off, size - off, &h, &len);
                if (k <= 0)
                        break;
                if (len < LOCKD_HEADER_SIZE || len > size - off)
                        abort();
                const uint8_t *payload = data + off + LOCKD_HEADER_SIZE;
                /* As the daemon: flags a request may not carry are refused
                 * before the payload is looked at. */
                const GVariantType *type = (h.flags & ~protocol_request_flags(h.type))
                                                   ? NULL
                                                   : protocol_request_type(h.type, h.flags);
                g_autofree char *message = NULL;
                if (type) {
                        g_autoptr(GVariant) v = parse_both(payload, h.length, type, &message);
                        if (v)
                                decode_request(h.type, h.flags, v);
                        else if (!message)
                                abort();
                } else if (h.type == LOCKD_MSG_REPLY) {
                        g_autoptr(GVariant) v = parse_both(payload, h.length, G_VARIANT_TYPE("(uisv)"), &message);
                        g_auto(LockdReply) reply = {};
                        g_autofree char *m2 = NULL;
                        int r = v ? protocol_reply_decode(v, &reply, &m2) : -EINVAL;
                        if (v)
                                check_reply_decode(v, r, &reply);
                        if (r == 0)
                                decode_body(reply.body);
                }
                off += len;
        }
        return 0;
}
