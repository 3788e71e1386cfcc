/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "protocol.h"

static const uint8_t protocol_magic[4] = { 'B', 'W', 'L', 'K' };

static uint32_t get_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

void protocol_header_encode(const LockdHeader *header, uint8_t out[LOCKD_HEADER_SIZE]) {
        memcpy(out, protocol_magic, sizeof(protocol_magic));
        out[4] = header->version;
        out[5] = header->type;
        out[6] = header->flags & 0xff;
        out[7] = header->flags >> 8;
        protocol_put_le32(out + 8, header->serial);
        protocol_put_le32(out + 12, header->length);
}

int protocol_header_decode(const uint8_t in[LOCKD_HEADER_SIZE], LockdHeader *ret) {
        *ret = (LockdHeader) {
                .version = in[4],
                .type = in[5],
                .flags = (uint16_t) (in[6] | in[7] << 8),
                .serial = get_le32(in + 8),
                .length = get_le32(in + 12),
        };
        if (memcmp(in, protocol_magic, sizeof(protocol_magic)) != 0)
                return -EBADMSG;
        if (ret->version != LOCKD_PROTOCOL_VERSION)
                return -EPROTONOSUPPORT;
        if (ret->length > LOCKD_PAYLOAD_MAX)
                return -EMSGSIZE;
        return 0;
}

int protocol_frame_next(const uint8_t *data, size_t len, LockdHeader *ret_header,
                        size_t *ret_frame_len) {
        *ret_frame_len = 0;
        if (len < LOCKD_HEADER_SIZE)
                return 0;
        int r = protocol_header_decode(data, ret_header);
        if (r < 0)
                return r;
        if (len - LOCKD_HEADER_SIZE < ret_header->length)
                return 0;
        *ret_frame_len = LOCKD_HEADER_SIZE + (size_t) ret_header->length;
        return 1;
}

/* GLib frees a container type's description when the last value of that
 * type goes away and rebuilds it, under a global lock, for the next one:
 * several microseconds per request at lockd's rate.  One value of each
 * type the protocol uses, kept for the life of the process (and reachable
 * from here, so leak checkers see it as kept), keeps them built. */
static GVariant *protocol_pinned[16] __attribute__((used));

static void protocol_pin_types(void) {
        static const char *const types[] = {
                "v", "(su)", "(uuaay)", "(uuas)", "(baay)", "a(tt)", "(tu)", "(uisv)", LOCKD_BODY_ACQUIRE,
                LOCKD_BODY_BUSY, LOCKD_BODY_LIST, LOCKD_BODY_LIST_PAGE, LOCKD_BODY_PING,
        };
        static gsize done;
        G_STATIC_ASSERT(G_N_ELEMENTS(types) <= G_N_ELEMENTS(protocol_pinned));
        if (g_once_init_enter(&done)) {
                for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
                        protocol_pinned[i] = g_variant_ref_sink(
                                g_variant_new_from_data(G_VARIANT_TYPE(types[i]), NULL, 0, TRUE, NULL, NULL));
                g_once_init_leave(&done, 1);
        }
}

size_t protocol_frame_open(GByteArray *out, uint8_t type, uint16_t flags, uint32_t serial, size_t len) {
        if (len > LOCKD_PAYLOAD_MAX)
                return 0;
        size_t start = out->len;
        g_byte_array_set_size(out, start + LOCKD_HEADER_SIZE + len);
        protocol_header_encode(&(LockdHeader) {
                                       .version = LOCKD_PROTOCOL_VERSION,
                                       .type = type,
                                       .flags = flags,
                                       .serial = serial,
                                       .length = (uint32_t) len,
                               },
                               out->data + start);
        return start + LOCKD_HEADER_SIZE;
}

int protocol_frame_append(GByteArray *out, uint8_t type, uint32_t serial, GVariant *payload) {
        return protocol_frame_append_flags(out, type, 0, serial, payload);
}

int protocol_frame_append_flags(GByteArray *out, uint8_t type, uint16_t flags, uint32_t serial,
                                GVariant *payload) {
        g_autoptr(GVariant) boxed = g_variant_ref_sink(g_variant_new_variant(payload));
        g_autoptr(GVariant) wire = NULL;

        protocol_pin_types();
        if (G_BYTE_ORDER == G_BIG_ENDIAN)
                wire = g_variant_byteswap(boxed);
        else
                wire = g_variant_ref(boxed);
        size_t size = g_variant_get_size(wire);
        size_t start = protocol_frame_open(out, type, flags, serial, size);
        if (!start)
                return -EMSGSIZE;
        /* g_variant_store() wants an aligned destination; the frame may
         * start anywhere in `out`, so copy the serialized form instead. */
        if (size > 0)
                memcpy(out->data + start, g_variant_get_data(wire), size);
        return 0;
}

const GVariantType *protocol_request_type(uint8_t type, uint16_t flags) {
        switch (type) {
        case LOCKD_MSG_HELLO: return G_VARIANT_TYPE("(su)");
        case LOCKD_MSG_ACQUIRE:
                if (flags & LOCKD_FRAME_OWNER_KEY)
                        return flags & LOCKD_FRAME_TEXT_PATHS ? G_VARIANT_TYPE("(uusas)") : G_VARIANT_TYPE("(uusaay)");
                return flags & LOCKD_FRAME_TEXT_PATHS ? G_VARIANT_TYPE("(uuas)") : G_VARIANT_TYPE("(uuaay)");
        case LOCKD_MSG_RELEASE:
                return flags & LOCKD_FRAME_BY_KEY ? G_VARIANT_TYPE("a(tt)") : G_VARIANT_TYPE("(baay)");
        case LOCKD_MSG_LIST: return flags & LOCKD_FRAME_LIST_PAGE ? G_VARIANT_TYPE("(tu)") : G_VARIANT_TYPE_UNIT;
        case LOCKD_MSG_PING: return G_VARIANT_TYPE_UNIT;
        case LOCKD_MSG_CHECK: return G_VARIANT_TYPE("a(tt)");
        case LOCKD_MSG_RELEASE_LEASE: return G_VARIANT_TYPE("(saay)");
        default: return NULL;
        }
}

uint16_t protocol_request_flags(uint8_t type) {
        switch (type) {
        case LOCKD_MSG_ACQUIRE: return LOCKD_FRAME_TEXT_PATHS | LOCKD_FRAME_OWNER_KEY;
        case LOCKD_MSG_RELEASE: return LOCKD_FRAME_NO_REPLY | LOCKD_FRAME_BY_KEY;
        case LOCKD_MSG_LIST: return LOCKD_FRAME_LIST_PAGE;
        default: return 0;
        }
}

const char *protocol_message_type_to_string(uint8_t type) {
        switch (type) {
        case LOCKD_MSG_HELLO: return "HELLO";
        case LOCKD_MSG_ACQUIRE: return "ACQUIRE";
        case LOCKD_MSG_RELEASE: return "RELEASE";
        case LOCKD_MSG_LIST: return "LIST";
        case LOCKD_MSG_PING: return "PING";
        case LOCKD_MSG_CHECK: return "CHECK";
        case LOCKD_MSG_RELEASE_LEASE: return "RELEASE_LEASE";
        case LOCKD_MSG_REPLY: return "REPLY";
        default: return NULL;
        }
}

/* The general path: the boxing variant is checked for normal form as a
 * whole, then its own type string is compared with the expected one. */
static GVariant *payload_parse_boxed(GBytes *bytes, const GVariantType *type, char **ret_message) {
        g_autoptr(GVariant) boxed = g_variant_ref_sink(
                g_variant_new_from_bytes(G_VARIANT_TYPE_VARIANT, bytes, FALSE));

        if (G_BYTE_ORDER == G_BIG_ENDIAN) {
                GVariant *swapped = g_variant_byteswap(boxed);
                g_variant_unref(boxed);
                boxed = swapped;
        }
        if (!g_variant_is_normal_form(boxed)) {
                *ret_message = g_strdup_printf("payload of %zu bytes is not a GVariant in normal form",
                                               g_bytes_get_size(bytes));
                return NULL;
        }
        g_autoptr(GVariant) inner = g_variant_get_variant(boxed);
        if (!g_variant_type_equal(g_variant_get_type(inner), type)) {
                *ret_message = g_strdup_printf("payload has type '%s', expected '%.*s'",
                                               g_variant_get_type_string(inner),
                                               (int) g_variant_type_get_string_length(type),
                                               g_variant_type_peek_string(type));
                return NULL;
        }
        return g_steal_pointer(&inner);
}

/* A serialized variant is its value, a zero byte and the value's type
 * string, which holds no zero byte.  So a payload ending in a zero byte
 * and the expected type string is a variant of that type, and it is in
 * normal form exactly when the value before the trailer is in normal form
 * as that type.  Checking that value directly, as the expected type,
 * spares GLib parsing a type string and looking it up under its global
 * lock for each request.  Anything else takes the general path, which
 * also words the error.  The fuzzer holds the two paths to the same
 * verdict. */
static GVariant *payload_parse(GBytes *bytes, const GVariantType *type, char **ret_message) {
        protocol_pin_types();
        size_t len = g_bytes_get_size(bytes), tlen = g_variant_type_get_string_length(type);
        const uint8_t *data = g_bytes_get_data(bytes, NULL);
        if (len <= tlen || data[len - tlen - 1] != 0 ||
            memcmp(data + len - tlen, g_variant_type_peek_string(type), tlen) != 0)
                return payload_parse_boxed(bytes, type, ret_message);
        g_autoptr(GBytes) value_bytes = g_bytes_new_from_bytes(bytes, 0, len - tlen - 1);
        g_autoptr(GVariant) value = g_variant_ref_sink(g_variant_new_from_bytes(type, value_bytes, FALSE));
        if (G_BYTE_ORDER == G_BIG_ENDIAN) {
                GVariant *swapped = g_variant_byteswap(value);
                g_variant_unref(value);
                value = swapped;
        }
        if (!g_variant_is_normal_form(value)) {
                *ret_message = g_strdup_printf("payload of %zu bytes is not a GVariant in normal form", len);
                return NULL;
        }
        return g_steal_pointer(&value);
}

GVariant *protocol_payload_parse_general(const void *data, size_t len, const GVariantType *type,
                                         char **ret_message) {
        g_autoptr(GBytes) bytes = g_bytes_new(data, len);
        return payload_parse_boxed(bytes, type, ret_message);
}

GVariant *protocol_payload_parse(const void *data, size_t len, const GVariantType *type,
                                 char **ret_message) {
        /* The copy is suitably aligned for any GVariant. */
        g_autoptr(GBytes) bytes = g_bytes_new(data, len);
        return payload_parse(bytes, type, ret_message);
}

GVariant *protocol_payload_parse_borrowed(const void *data, size_t len, const GVariantType *type,
                                          char **ret_message) {
        /* GVariant needs 8-byte alignment: data that has it is used in place. */
        g_autoptr(GBytes) bytes = ((uintptr_t) data % 8 == 0) ? g_bytes_new_static(data, len)
                                                               : g_bytes_new(data, len);
        return payload_parse(bytes, type, ret_message);
}

void protocol_paths_clear(LockdPaths *paths) {
        if (paths->paths)
                g_free(paths->paths[0]);
        g_free(paths->paths);
        *paths = (LockdPaths) {};
}

/* An "aay" or "as" is serialized as its elements back to back, then one
 * framing offset per element (the end of that element), each offset 1, 2,
 * 4 or 8 bytes wide: the narrowest that can address the whole container
 * (GVariant specification, "Arrays" and "Framing Offsets").  A string
 * element ends with its NUL; a byte string has none.  Paths are encoded
 * and decoded in that form directly: a GVariant object per path would
 * cost more than locking the path. */
static size_t framing_offset_size(size_t container) {
        if (container <= 0xff)
                return 1;
        if (container <= 0xffff)
                return 2;
        if (container <= 0xffffffffu)
                return 4;
        return 8;
}

static uint64_t read_offset(const uint8_t *p, size_t size) {
        uint64_t v = 0;
        for (size_t i = 0; i < size; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}

static void write_offset(uint8_t *p, size_t size, uint64_t v) {
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* Element i of a serialized "aay": start and length.  -EINVAL when the
 * framing is inconsistent (never for a normal-form value). */
typedef struct PathsFraming {
        const uint8_t *data;
        size_t n;
        size_t offset_size;
        size_t table;              /* where the framing offsets start */
        bool text;                 /* "as": each element ends with a NUL */
} PathsFraming;

static int paths_framing(const uint8_t *data, size_t size, bool text, PathsFraming *ret) {
        *ret = (PathsFraming) { .data = data, .text = text };
        if (size == 0)
                return 0;
        size_t s = framing_offset_size(size);
        if (size < s)
                return -EINVAL;
        uint64_t table = read_offset(data + size - s, s);
        if (table > size - s || (size - table) % s != 0)
                return -EINVAL;
        *ret = (PathsFraming) { .data = data, .n = (size - table) / s, .offset_size = s, .table = (size_t) table,
                                .text = text };
        return 0;
}

static int paths_element(const PathsFraming *f, size_t i, const char **ret, size_t *ret_len) {
        uint64_t start = i == 0 ? 0 : read_offset(f->data + f->table + (i - 1) * f->offset_size, f->offset_size);
        uint64_t end = read_offset(f->data + f->table + i * f->offset_size, f->offset_size);
        if (start > end || end > f->table)
                return -EINVAL;
        if (f->text) {
                /* Normal form guarantees the NUL; a damaged value is
                 * still refused here rather than read past. */
                if (start == end || f->data[end - 1] != '\0')
                        return -EINVAL;
                end--;
        }
        *ret = (const char *) f->data + start;
        *ret_len = (size_t) (end - start);
        return 0;
}

static int paths_decode_raw(const uint8_t *data, size_t size, bool text, LockdPaths *ret, char **ret_message) {
        PathsFraming f;
        size_t total = 0;

        if (paths_framing(data, size, text, &f) < 0) {
                *ret_message = g_strdup("path list is damaged");
                return -EINVAL;
        }
        if (f.n > LOCKD_PATHS_MAX) {
                *ret_message = g_strdup_printf("too many paths (%zu, at most %d)", f.n, LOCKD_PATHS_MAX);
                return -EINVAL;
        }
        if (f.n == 0)
                return 0;
        /* First pass: check every path and size the arena. */
        for (size_t i = 0; i < f.n; i++) {
                const char *p;
                size_t len;
                if (paths_element(&f, i, &p, &len) < 0) {
                        *ret_message = g_strdup("path list is damaged");
                        return -EINVAL;
                }
                if (len == 0) {
                        *ret_message = g_strdup_printf("path %zu is empty", i);
                        return -EINVAL;
                }
                if (len > LOCKD_PATH_MAX) {
                        *ret_message = g_strdup_printf("path %zu is %zu bytes long, at most %d", i, len,
                                                       LOCKD_PATH_MAX);
                        return -EINVAL;
                }
                if (memchr(p, '\0', len)) {
                        *ret_message = g_strdup_printf("path %zu contains a NUL byte", i);
                        return -EINVAL;
                }
                if (p[0] != '/') {
                        *ret_message = g_strdup_printf("path %zu '%.*s' is not absolute", i,
                                                       (int) MIN(len, 256u), p);
                        return -EINVAL;
                }
                total += len + 1;
        }
        char *arena = g_malloc(total);
        ret->paths = g_new(char *, f.n);
        ret->n = f.n;
        for (size_t i = 0, off = 0; i < f.n; i++) {
                const char *p;
                size_t len;
                (void) paths_element(&f, i, &p, &len);
                memcpy(arena + off, p, len);
                arena[off + len] = '\0';
                ret->paths[i] = arena + off;
                off += len + 1;
        }
        return 0;
}

int protocol_paths_decode(GVariant *array, LockdPaths *ret, char **ret_message) {
        *ret = (LockdPaths) {};
        g_return_val_if_fail(g_variant_is_of_type(array, G_VARIANT_TYPE("aay")) ||
                                     g_variant_is_of_type(array, G_VARIANT_TYPE_STRING_ARRAY),
                             -EINVAL);
        return paths_decode_raw(g_variant_get_data(array), g_variant_get_size(array),
                                g_variant_is_of_type(array, G_VARIANT_TYPE_STRING_ARRAY), ret, ret_message);
}

GVariant *protocol_path_to_variant(const char *path) {
        return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, path, strlen(path), 1);
}

char *protocol_path_from_variant(GVariant *v) {
        size_t len;
        const char *p = g_variant_get_fixed_array(v, &len, 1);
        if (len == 0)
                return g_strdup("");
        if (memchr(p, '\0', len))
                return NULL;
        return g_strndup(p, len);
}

size_t protocol_framing_offset_width(size_t body, size_t n_offsets) {
        size_t w = 1;
        while (n_offsets > 0 && framing_offset_size(body + n_offsets * w) > w)
                w *= 2;
        return w;
}

size_t protocol_paths_serialized_size(const char *const *paths, size_t n, bool text,
                                      size_t *ret_offset_size) {
        size_t body = 0;
        for (size_t i = 0; i < n; i++)
                body += strlen(paths[i]) + text;
        *ret_offset_size = protocol_framing_offset_width(body, n);
        return n > 0 ? body + n * *ret_offset_size : 0;
}

void protocol_paths_serialize(const char *const *paths, size_t n, bool text, size_t offset_size,
                              uint8_t *dst) {
        uint8_t *p = dst;
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(paths[i]) + text;
                memcpy(p, paths[i], len);
                p += len;
        }
        size_t body = (size_t) (p - dst);
        for (size_t i = 0, off = 0; i < n; i++) {
                off += strlen(paths[i]) + text;
                write_offset(dst + body + i * offset_size, offset_size, off);
        }
}

static GVariant *paths_encode(const char *const *paths, size_t n, bool text) {
        const GVariantType *type = text ? G_VARIANT_TYPE_STRING_ARRAY : G_VARIANT_TYPE_BYTESTRING_ARRAY;
        size_t s;
        size_t size = protocol_paths_serialized_size(paths, n, text, &s);
        if (n == 0)
                return g_variant_new_array(g_variant_type_element(type), NULL, 0);
        uint8_t *data = g_malloc(size);
        protocol_paths_serialize(paths, n, text, s, data);
        GBytes *bytes = g_bytes_new_take(data, size);
        GVariant *v = g_variant_new_from_bytes(type, bytes, TRUE);
        g_bytes_unref(bytes);
        return v;
}

GVariant *protocol_paths_encode(const char *const *paths, size_t n) {
        return paths_encode(paths, n, false);
}

GVariant *protocol_text_paths_encode(const char *const *paths, size_t n) {
        return paths_encode(paths, n, true);
}

bool protocol_paths_are_text(const char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++) {
                /* ASCII is UTF-8: most paths never reach the full check. */
                const unsigned char *p = (const unsigned char *) paths[i];
                while (*p && *p < 0x80)
                        p++;
                if (*p && !g_utf8_validate((const char *) p, -1, NULL))
                        return false;
        }
        return true;
}

int protocol_owner_check(const char *owner, const char *what, char **ret_message) {
        if (strlen(owner) > LOCKD_OWNER_MAX) {
                *ret_message = g_strdup_printf("%s is %zu bytes long, at most %d", what, strlen(owner),
                                               LOCKD_OWNER_MAX);
                return -EINVAL;
        }
        for (const char *p = owner; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        *ret_message = g_strdup_printf("%s contains a control character", what);
                        return -EINVAL;
                }
        return 0;
}

/* An owner key names leases: never empty. */
static int owner_key_check(const char *key, char **ret_message) {
        if (!*key) {
                *ret_message = g_strdup("owner key is empty");
                return -EINVAL;
        }
        return protocol_owner_check(key, "owner key", ret_message);
}

int protocol_hello_decode(GVariant *payload, LockdHelloRequest *ret, char **ret_message) {
        const char *owner;
        uint32_t pid;

        g_variant_get(payload, "(&su)", &owner, &pid);
        *ret = (LockdHelloRequest) {};
        if (protocol_owner_check(owner, "owner name", ret_message) < 0)
                return -EINVAL;
        if (pid > INT32_MAX) {
                *ret_message = g_strdup_printf("pid %u is out of range", pid);
                return -EINVAL;
        }
        ret->owner = g_strdup(owner);
        ret->pid = pid;
        return 0;
}

void protocol_hello_clear(LockdHelloRequest *req) {
        g_clear_pointer(&req->owner, g_free);
}

static int acquire_mode_flags_check(uint32_t mode, uint32_t flags, bool keyed, char **ret_message) {
        if (mode != LOCKD_MODE_EXCLUSIVE && mode != LOCKD_MODE_SHARED) {
                *ret_message = g_strdup_printf("lock mode %u is unknown", mode);
                return -EINVAL;
        }
        if (flags & ~(uint32_t) _LOCKD_ACQUIRE_KNOWN) {
                *ret_message = g_strdup_printf("acquire flags 0x%x are unknown",
                                               flags & ~(uint32_t) _LOCKD_ACQUIRE_KNOWN);
                return -EINVAL;
        }
        if ((flags & LOCKD_ACQUIRE_LEASE) && !keyed) {
                *ret_message = g_strdup("a lease needs an owner key (header flag 32)");
                return -EINVAL;
        }
        return 0;
}

/* "(uusas)" or "(uusaay)": the key is not the last member, so the tuple
 * has framing; GLib reads it (a lease is not the hot path). */
static int acquire_keyed_decode(GVariant *payload, LockdAcquireRequest *ret, char **ret_message) {
        uint32_t mode, flags;
        const char *key;
        g_autoptr(GVariant) paths = NULL;

        g_variant_get_child(payload, 0, "u", &mode);
        g_variant_get_child(payload, 1, "u", &flags);
        g_variant_get_child(payload, 2, "&s", &key);
        paths = g_variant_get_child_value(payload, 3);
        if (acquire_mode_flags_check(mode, flags, true, ret_message) < 0 || owner_key_check(key, ret_message) < 0)
                return -EINVAL;
        int r = protocol_paths_decode(paths, &ret->paths, ret_message);
        if (r < 0)
                return r;
        ret->mode = mode;
        ret->flags = flags;
        ret->owner_key = g_strdup(key);
        return 0;
}

int protocol_acquire_decode(GVariant *payload, LockdAcquireRequest *ret, char **ret_message) {
        /* "(uuaay)" or "(uuas)" in normal form: two words,
         * then the array to the end (the last member has no framing
         * offset).  Read in place: a GVariant per member costs more than
         * the request's locking. */
        const uint8_t *data = g_variant_get_data(payload);
        size_t size = g_variant_get_size(payload);
        bool text = g_variant_is_of_type(payload, G_VARIANT_TYPE("(uuas)"));

        *ret = (LockdAcquireRequest) {};
        if (g_variant_is_of_type(payload, G_VARIANT_TYPE("(uusas)")) ||
            g_variant_is_of_type(payload, G_VARIANT_TYPE("(uusaay)")))
                return acquire_keyed_decode(payload, ret, ret_message);
        g_return_val_if_fail(text || g_variant_is_of_type(payload, G_VARIANT_TYPE("(uuaay)")), -EINVAL);
        if (size < 8) {
                *ret_message = g_strdup("request is truncated");
                return -EINVAL;
        }
        uint32_t mode, flags;
        /* The value is in host order (payload_parse() swaps on big-endian). */
        memcpy(&mode, data, sizeof(mode));
        memcpy(&flags, data + 4, sizeof(flags));
        if (acquire_mode_flags_check(mode, flags, false, ret_message) < 0)
                return -EINVAL;
        ret->mode = mode;
        ret->flags = flags;
        return paths_decode_raw(data + 8, size - 8, text, &ret->paths, ret_message);
}

void protocol_acquire_clear(LockdAcquireRequest *req) {
        g_clear_pointer(&req->owner_key, g_free);
        protocol_paths_clear(&req->paths);
}

int protocol_release_lease_decode(GVariant *payload, LockdReleaseLeaseRequest *ret, char **ret_message) {
        const char *key;
        g_autoptr(GVariant) paths = NULL;

        *ret = (LockdReleaseLeaseRequest) {};
        g_variant_get(payload, "(&s@aay)", &key, &paths);
        if (owner_key_check(key, ret_message) < 0)
                return -EINVAL;
        int r = protocol_paths_decode(paths, &ret->paths, ret_message);
        if (r < 0)
                return r;
        ret->owner_key = g_strdup(key);
        return 0;
}

void protocol_release_lease_clear(LockdReleaseLeaseRequest *req) {
        g_clear_pointer(&req->owner_key, g_free);
        protocol_paths_clear(&req->paths);
}

int protocol_release_decode(GVariant *payload, LockdReleaseRequest *ret, char **ret_message) {
        g_autoptr(GVariant) paths = NULL;
        gboolean all;

        *ret = (LockdReleaseRequest) {};
        g_autoptr(GVariant) vall = g_variant_get_child_value(payload, 0);
        all = g_variant_get_boolean(vall);
        paths = g_variant_get_child_value(payload, 1);
        if (all && g_variant_n_children(paths) > 0) {
                *ret_message = g_strdup("release of all locks names paths too");
                return -EINVAL;
        }
        ret->all = all;
        return protocol_paths_decode(paths, &ret->paths, ret_message);
}

void protocol_release_clear(LockdReleaseRequest *req) {
        protocol_paths_clear(&req->paths);
}

int protocol_list_decode(GVariant *payload, LockdListRequest *ret, char **ret_message) {
        guint64 cursor = 0;
        guint32 limit = 0;

        *ret = (LockdListRequest) {};
        if (g_variant_is_of_type(payload, G_VARIANT_TYPE("(tu)")))
                g_variant_get(payload, "(tu)", &cursor, &limit);
        else if (!g_variant_is_of_type(payload, G_VARIANT_TYPE_UNIT)) {
                *ret_message = g_strdup_printf("payload has type '%s', expected '()' or '(tu)'",
                                               g_variant_get_type_string(payload));
                return -EINVAL;
        }
        ret->cursor = cursor;
        ret->limit = limit;
        return 0;
}

const LockdFileKey *protocol_release_keys_get(GVariant *payload, size_t *ret_n, char **ret_message) {
        static const LockdFileKey none;
        const LockdFileKey *keys = g_variant_get_fixed_array(payload, ret_n, sizeof(LockdFileKey));
        if (*ret_n > LOCKD_PATHS_MAX) {
                *ret_message = g_strdup_printf("too many keys (%zu, at most %d)", *ret_n, LOCKD_PATHS_MAX);
                return NULL;
        }
        return *ret_n ? keys : &none;
}

GVariant *protocol_release_keys_encode(const LockdFileKey *keys, size_t n) {
        return g_variant_new_fixed_array(G_VARIANT_TYPE("(tt)"), keys, n, sizeof(LockdFileKey));
}

GVariant *protocol_acquire_body_new(const LockdPathResult *results, size_t n) {
        return g_variant_new_fixed_array(G_VARIANT_TYPE("(ttu)"), results, n, sizeof(LockdPathResult));
}

const LockdPathResult *protocol_acquire_body_get(GVariant *body, size_t *ret_n) {
        static const LockdPathResult none;
        if (!g_variant_is_of_type(body, G_VARIANT_TYPE(LOCKD_BODY_ACQUIRE)))
                return NULL;
        const LockdPathResult *r = g_variant_get_fixed_array(body, ret_n, sizeof(LockdPathResult));
        return *ret_n ? r : &none;
}

GVariant *protocol_reply_new(LockdStatus status, int error, const char *message, GVariant *body) {
        GVariant *children[] = {
                g_variant_new_uint32((uint32_t) status),
                g_variant_new_int32(error),
                g_variant_new_string(message ? message : ""),
                g_variant_new_variant(body ? body : g_variant_new_tuple(NULL, 0)),
        };
        return g_variant_new_tuple(children, G_N_ELEMENTS(children));
}

/* "(uisv)" read in place, the way protocol_reply_frame_append() lays it
 * out: two words, the message with its NUL, the body's variant from the
 * next multiple of 8, then the framing offset of the message's end, as
 * wide as the tuple's size asks.  A variant ends with a zero byte and its
 * type string.  Every offset is bounds-checked, so even a value that was
 * never checked for normal form is refused rather than over-read. */
int protocol_reply_decode(GVariant *payload, LockdReply *ret, char **ret_message) {
        const uint8_t *d = g_variant_get_data(payload);
        size_t size = g_variant_get_size(payload);
        size_t w = framing_offset_size(size);
        uint32_t status;
        int32_t error;

        *ret = (LockdReply) {};
        g_return_val_if_fail(g_variant_is_of_type(payload, G_VARIANT_TYPE("(uisv)")), -EINVAL);
        uint64_t string_end = size >= 8 + w ? read_offset(d + size - w, w) : 0;
        size_t variant_start = (size_t) ((string_end + 7) & ~(uint64_t) 7), variant_end = size - w;
        if (string_end < 9 || string_end > variant_end || d[string_end - 1] != 0 || variant_start >= variant_end) {
                *ret_message = g_strdup("reply is damaged");
                return -EINVAL;
        }
        const uint8_t *zero = memrchr(d + variant_start, 0, variant_end - variant_start);
        g_autofree char *body_type = zero ? g_strndup((const char *) zero + 1, (size_t) (d + variant_end - zero - 1))
                                          : NULL;
        if (!body_type || !g_variant_type_string_is_valid(body_type)) {
                *ret_message = g_strdup("reply body is damaged");
                return -EINVAL;
        }
        /* In host order, as payload_parse() left it. */
        memcpy(&status, d, sizeof(status));
        memcpy(&error, d + 4, sizeof(error));
        if (status >= _LOCKD_STATUS_MAX) {
                *ret_message = g_strdup_printf("reply status %u is unknown", status);
                return -EINVAL;
        }
        if (error < 0 || error > 4095) {
                *ret_message = g_strdup_printf("reply errno %d is out of range", error);
                return -EINVAL;
        }
        g_autoptr(GBytes) all = g_variant_get_data_as_bytes(payload);
        g_autoptr(GBytes) body = g_bytes_new_from_bytes(all, variant_start, (size_t) (zero - d) - variant_start);
        ret->status = status;
        ret->error = error;
        ret->message = g_strndup((const char *) d + 8, (size_t) string_end - 9);
        /* Trusted only as far as the caller checked the payload: GLib
         * reads an untrusted value safely either way. */
        ret->body = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(body_type), body, FALSE));
        return 0;
}

void protocol_reply_clear(LockdReply *reply) {
        g_clear_pointer(&reply->message, g_free);
        g_clear_pointer(&reply->body, g_variant_unref);
}

const char *protocol_status_to_string(LockdStatus status) {
        static const char *const names[_LOCKD_STATUS_MAX] = {
                [LOCKD_STATUS_OK] = "ok",
                [LOCKD_STATUS_BUSY] = "busy",
                [LOCKD_STATUS_INVALID] = "invalid request",
                [LOCKD_STATUS_NOT_FOUND] = "not found",
                [LOCKD_STATUS_DENIED] = "permission denied",
                [LOCKD_STATUS_PROTOCOL] = "protocol error",
                [LOCKD_STATUS_UNKNOWN_REQUEST] = "unknown request",
                [LOCKD_STATUS_FAILED] = "failed",
        };
        return (unsigned) status < _LOCKD_STATUS_MAX ? names[status] : "unknown status";
}

int protocol_status_to_errno(LockdStatus status, int error) {
        switch (status) {
        case LOCKD_STATUS_OK: return 0;
        case LOCKD_STATUS_BUSY: return EBUSY;
        case LOCKD_STATUS_INVALID: return EINVAL;
        case LOCKD_STATUS_NOT_FOUND: return ENOENT;
        case LOCKD_STATUS_DENIED: return EACCES;
        case LOCKD_STATUS_PROTOCOL: return EPROTO;
        case LOCKD_STATUS_UNKNOWN_REQUEST: return EOPNOTSUPP;
        case LOCKD_STATUS_FAILED: return error > 0 ? error : EIO;
        default: return EPROTO;
        }
}
