/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "protocol-writer.h"

/* Every payload is a "v": the value's bytes, a zero byte, then the
 * value's type string (GVariant specification, "Variants"). */

static size_t align_up(size_t x, size_t a) {
        return (x + a - 1) & ~(a - 1);
}

static uint8_t *put_variant_trailer(uint8_t *p, const char *type) {
        size_t t = strlen(type);
        *p++ = 0;
        memcpy(p, type, t);
        return p + t;
}

static int append_value_frame(GByteArray *out, uint8_t type, uint16_t flags, uint32_t serial, GVariant *value) {
        g_autoptr(GVariant) ref = g_variant_ref_sink(value);
        return protocol_frame_append_flags(out, type, flags, serial, ref);
}

int protocol_acquire_frame_append(GByteArray *out, uint32_t serial, uint32_t mode, uint32_t flags,
                                  const char *const *paths, size_t n, bool text) {
        const char *type = text ? "(uuas)" : "(uuaay)";
        uint16_t frame_flags = text ? LOCKD_FRAME_TEXT_PATHS : 0;

        if (G_BYTE_ORDER == G_BIG_ENDIAN) {
                GVariant *fields[] = {
                        g_variant_new_uint32(mode),
                        g_variant_new_uint32(flags),
                        text ? protocol_text_paths_encode(paths, n) : protocol_paths_encode(paths, n),
                };
                return append_value_frame(out, LOCKD_MSG_ACQUIRE, frame_flags, serial,
                                          g_variant_new_tuple(fields, G_N_ELEMENTS(fields)));
        }
        /* (u u a): two fixed members, then the array, whose end is the
         * tuple's end, so the tuple has no framing offset. */
        size_t offset_size;
        size_t array = protocol_paths_serialized_size(paths, n, text, &offset_size);
        size_t start = protocol_frame_open(out, LOCKD_MSG_ACQUIRE, frame_flags, serial, 8 + array + 1 + strlen(type));
        if (!start)
                return -EMSGSIZE;
        uint8_t *p = out->data + start;
        protocol_put_le32(p, mode);
        protocol_put_le32(p + 4, flags);
        protocol_paths_serialize(paths, n, text, offset_size, p + 8);
        put_variant_trailer(p + 8 + array, type);
        return 0;
}

int protocol_release_keys_frame_append(GByteArray *out, uint32_t serial, uint16_t extra_flags,
                                       const LockdFileKey *keys, size_t n) {
        uint16_t flags = LOCKD_FRAME_BY_KEY | extra_flags;

        if (G_BYTE_ORDER == G_BIG_ENDIAN)
                return append_value_frame(out, LOCKD_MSG_RELEASE, flags, serial,
                                          protocol_release_keys_encode(keys, n));
        /* An array of fixed-size elements is just the elements. */
        size_t size = n * sizeof(LockdFileKey);
        size_t start = protocol_frame_open(out, LOCKD_MSG_RELEASE, flags, serial, size + 1 + strlen("a(tt)"));
        if (!start)
                return -EMSGSIZE;
        if (size > 0)
                memcpy(out->data + start, keys, size);
        put_variant_trailer(out->data + start + size, "a(tt)");
        return 0;
}

int protocol_reply_frame_append(GByteArray *out, uint32_t serial, LockdStatus status, int error,
                                const char *message, const char *body_type, const void *body,
                                size_t body_size) {
        if (!message)
                message = "";
        if (G_BYTE_ORDER == G_BIG_ENDIAN) {
                GVariant *v = g_variant_new_from_data(G_VARIANT_TYPE(body_type), g_memdup2(body, body_size),
                                                      body_size, TRUE, g_free, NULL);
                return append_value_frame(out, LOCKD_MSG_REPLY, 0, serial,
                                          protocol_reply_new(status, error, message, v));
        }
        /* (u i s v): status, errno, the message with its NUL, then the
         * body's variant at the next multiple of 8 (a variant's
         * alignment), then one framing offset, for the end of the string,
         * the only variable-size member that is not last.  The offset is
         * as wide as the whole tuple needs (1, 2, 4 or 8 bytes). */
        size_t message_len = strlen(message) + 1;
        size_t string_end = 8 + message_len;
        size_t variant_start = align_up(string_end, 8);
        size_t variant_end = variant_start + body_size + 1 + strlen(body_type);
        size_t w = protocol_framing_offset_width(variant_end, 1);
        size_t tuple = variant_end + w;
        size_t start = protocol_frame_open(out, LOCKD_MSG_REPLY, 0, serial, tuple + 1 + strlen("(uisv)"));
        if (!start)
                return -EMSGSIZE;
        uint8_t *p = out->data + start;
        protocol_put_le32(p, (uint32_t) status);
        protocol_put_le32(p + 4, (uint32_t) error);
        memcpy(p + 8, message, message_len);
        memset(p + string_end, 0, variant_start - string_end);
        if (body_size > 0)
                memcpy(p + variant_start, body, body_size);
        put_variant_trailer(p + variant_start + body_size, body_type);
        for (size_t i = 0; i < w; i++)
                p[variant_end + i] = (uint8_t) (string_end >> (8 * i));
        put_variant_trailer(p + tuple, "(uisv)");
        return 0;
}

int protocol_reply_frame_append_value(GByteArray *out, uint32_t serial, LockdStatus status, int error,
                                      const char *message, GVariant *body) {
        static const uint8_t unit = 0;
        if (!body)
                return protocol_reply_frame_append(out, serial, status, error, message, "()", &unit, 1);
        g_autoptr(GVariant) ref = g_variant_ref_sink(body);
        return protocol_reply_frame_append(out, serial, status, error, message, g_variant_get_type_string(ref),
                                           g_variant_get_data(ref), g_variant_get_size(ref));
}
