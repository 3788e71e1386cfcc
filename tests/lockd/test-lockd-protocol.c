/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lockd wire format: headers, frames, payload checks, request and
 * reply decoding. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "protocol-writer.h"
#include "protocol.h"
#include "test-util.h"

static void test_header_encode_layout(void **state) {
        uint8_t b[LOCKD_HEADER_SIZE];
        LockdHeader h = { .version = 1, .type = LOCKD_MSG_ACQUIRE, .serial = 0x01020304, .length = 0x0a0b0c };
        protocol_header_encode(&h, b);
        const uint8_t want[] = { 'B', 'W', 'L', 'K', 1, 2, 0, 0, 4, 3, 2, 1, 0x0c, 0x0b, 0x0a, 0 };
        assert_memory_equal(b, want, sizeof(want));
        LockdHeader back;
        assert_int_equal(protocol_header_decode(b, &back), 0);
        assert_int_equal(back.serial, h.serial);
        assert_int_equal(back.length, h.length);
        assert_int_equal(back.type, h.type);
}

static void test_header_decode_errors(void **state) {
        uint8_t b[LOCKD_HEADER_SIZE];
        LockdHeader h = { .version = 1, .type = LOCKD_MSG_PING, .serial = 5 }, back;

        protocol_header_encode(&h, b);
        b[0] = 'X';
        assert_int_equal(protocol_header_decode(b, &back), -EBADMSG);
        protocol_header_encode(&h, b);
        b[4] = 2;
        assert_int_equal(protocol_header_decode(b, &back), -EPROTONOSUPPORT);
        assert_int_equal(back.serial, 5);
        h.length = LOCKD_PAYLOAD_MAX + 1;
        protocol_header_encode(&h, b);
        assert_int_equal(protocol_header_decode(b, &back), -EMSGSIZE);
        h.length = LOCKD_PAYLOAD_MAX;
        protocol_header_encode(&h, b);
        assert_int_equal(protocol_header_decode(b, &back), 0);
}

static void test_frame_next_stream(void **state) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_autoptr(GVariant) p1 = g_variant_ref_sink(g_variant_new("()"));
        g_autoptr(GVariant) p2 = g_variant_ref_sink(g_variant_new("(su)", "owner", 42));
        LockdHeader h;
        size_t len;

        assert_int_equal(protocol_frame_append(b, LOCKD_MSG_PING, 1, p1), 0);
        size_t first = b->len;
        assert_int_equal(protocol_frame_append(b, LOCKD_MSG_HELLO, 2, p2), 0);
        /* Every prefix shorter than a frame asks for more. */
        for (size_t cut = 0; cut < first; cut++)
                assert_int_equal(protocol_frame_next(b->data, cut, &h, &len), 0);
        assert_int_equal(protocol_frame_next(b->data, b->len, &h, &len), 1);
        assert_int_equal(len, first);
        assert_int_equal(h.serial, 1);
        assert_int_equal(protocol_frame_next(b->data + len, b->len - len, &h, &len), 1);
        assert_int_equal(h.type, LOCKD_MSG_HELLO);
        assert_int_equal(len, b->len - first);

        g_autofree char *message = NULL;
        g_autoptr(GVariant) v = protocol_payload_parse(b->data + first + LOCKD_HEADER_SIZE, h.length,
                                                       G_VARIANT_TYPE("(su)"), &message);
        assert_non_null(v);
        g_auto(LockdHelloRequest) hello = {};
        assert_int_equal(protocol_hello_decode(v, &hello, &message), 0);
        assert_string_equal(hello.owner, "owner");
        assert_int_equal(hello.pid, 42);
}

static void test_payload_checks(void **state) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_autoptr(GVariant) p = g_variant_ref_sink(g_variant_new("(su)", "x", 1));
        g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL;

        assert_int_equal(protocol_frame_append(b, LOCKD_MSG_HELLO, 1, p), 0);
        const uint8_t *payload = b->data + LOCKD_HEADER_SIZE;
        size_t len = b->len - LOCKD_HEADER_SIZE;
        /* The payload carries its type: another expected type is refused. */
        assert_null(protocol_payload_parse(payload, len, G_VARIANT_TYPE("(uuaay)"), &m1));
        assert_string_equal(m1, "payload has type '(su)', expected '(uuaay)'");
        /* A truncated payload is not in normal form. */
        assert_null(protocol_payload_parse(payload, len - 1, G_VARIANT_TYPE("(su)"), &m2));
        assert_non_null(strstr(m2, "not a GVariant in normal form"));
        /* Nor is nothing at all. */
        assert_null(protocol_payload_parse(payload, 0, G_VARIANT_TYPE_UNIT, &m3));
        assert_int_equal(protocol_request_type(LOCKD_MSG_REPLY, 0) == NULL, 1);
        assert_int_equal(protocol_request_type(0, 0) == NULL, 1);
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_ACQUIRE, 0), G_VARIANT_TYPE("(uuaay)")));
}

/* Which header flags each request takes, and the payload type they select. */
static void test_request_flags(void **state) {
        assert_int_equal(protocol_request_flags(LOCKD_MSG_HELLO), 0);
        assert_int_equal(protocol_request_flags(LOCKD_MSG_ACQUIRE), LOCKD_FRAME_TEXT_PATHS | LOCKD_FRAME_OWNER_KEY);
        assert_true(g_variant_type_equal(
                protocol_request_type(LOCKD_MSG_ACQUIRE, LOCKD_FRAME_OWNER_KEY | LOCKD_FRAME_TEXT_PATHS),
                G_VARIANT_TYPE("(uusas)")));
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_RELEASE_LEASE, 0), G_VARIANT_TYPE("(saay)")));
        assert_int_equal(protocol_request_flags(LOCKD_MSG_RELEASE), LOCKD_FRAME_NO_REPLY | LOCKD_FRAME_BY_KEY);
        assert_int_equal(protocol_request_flags(LOCKD_MSG_LIST), LOCKD_FRAME_LIST_PAGE);
        assert_int_equal(protocol_request_flags(LOCKD_MSG_PING), 0);
        assert_int_equal(protocol_request_flags(LOCKD_MSG_CHECK), 0);
        /* CHECK names the handle's files as RELEASE by key does. */
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_CHECK, 0), G_VARIANT_TYPE("a(tt)")));
        assert_string_equal(protocol_message_type_to_string(LOCKD_MSG_CHECK), "CHECK");
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_ACQUIRE, LOCKD_FRAME_TEXT_PATHS),
                                         G_VARIANT_TYPE("(uuas)")));
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_RELEASE, LOCKD_FRAME_NO_REPLY),
                                         G_VARIANT_TYPE("(baay)")));
        assert_true(g_variant_type_equal(
                protocol_request_type(LOCKD_MSG_RELEASE, LOCKD_FRAME_BY_KEY | LOCKD_FRAME_NO_REPLY),
                G_VARIANT_TYPE("a(tt)")));
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_LIST, 0), G_VARIANT_TYPE_UNIT));
        assert_true(g_variant_type_equal(protocol_request_type(LOCKD_MSG_LIST, LOCKD_FRAME_LIST_PAGE),
                                         G_VARIANT_TYPE("(tu)")));
        /* A feature and the header flag that uses it share a bit. */
        assert_int_equal(LOCKD_FEATURE_LIST_PAGES, LOCKD_FRAME_LIST_PAGE);
        assert_int_equal(_LOCKD_FEATURES, LOCKD_FEATURE_NO_REPLY_RELEASE | LOCKD_FEATURE_TEXT_PATHS |
                                                  LOCKD_FEATURE_RELEASE_BY_KEY | LOCKD_FEATURE_LIST_PAGES |
                                                  LOCKD_FEATURE_CHECK | LOCKD_FEATURE_LEASES);
        assert_int_equal(LOCKD_FEATURE_LEASES, LOCKD_FRAME_OWNER_KEY);
}

/* LIST: "()" is the first page without a limit, "(tu)" names both. */
static void test_list_decode(void **state) {
        LockdListRequest req;
        g_autofree char *m = NULL;
        g_autoptr(GVariant) unit = g_variant_ref_sink(g_variant_new("()"));
        g_autoptr(GVariant) page = g_variant_ref_sink(g_variant_new("(tu)", G_GUINT64_CONSTANT(0x1234567890), 77u));
        g_autoptr(GVariant) wrong = g_variant_ref_sink(g_variant_new("(u)", 1u));

        assert_int_equal(protocol_list_decode(unit, &req, &m), 0);
        assert_true(req.cursor == 0 && req.limit == 0);
        assert_int_equal(protocol_list_decode(page, &req, &m), 0);
        assert_true(req.cursor == G_GUINT64_CONSTANT(0x1234567890));
        assert_int_equal(req.limit, 77);
        assert_int_equal(protocol_list_decode(wrong, &req, &m), -EINVAL);
        assert_string_equal(m, "payload has type '(u)', expected '()' or '(tu)'");
}

static bool text_paths;  /* decode_paths() encodes as "as" instead of "aay" */

static int decode_paths(const char *const *paths, size_t n, LockdPaths *ret, char **message) {
        g_autoptr(GVariant) v = g_variant_ref_sink(text_paths ? protocol_text_paths_encode(paths, n)
                                                              : protocol_paths_encode(paths, n));
        return protocol_paths_decode(v, ret, message);
}

/* Every check holds whichever array type carried the paths. */
static void test_paths_decode(void **state) {
        g_auto(LockdPaths) ok = {};
        g_autofree char *m = NULL;
        const char *good[] = { "/a", "/b/c", "/" };

        assert_int_equal(decode_paths(good, 3, &ok, &m), 0);
        assert_int_equal(ok.n, 3);
        assert_string_equal(ok.paths[1], "/b/c");
        assert_string_equal(ok.paths[2], "/");

        const struct {
                const char *path;
                const char *message;
        } bad[] = {
                { "", "path 1 is empty" },
                { "relative", "path 1 'relative' is not absolute" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_auto(LockdPaths) p = {};
                g_autofree char *msg = NULL;
                const char *two[] = { "/fine", bad[i].path };
                assert_int_equal(decode_paths(two, 2, &p, &msg), -EINVAL);
                assert_string_equal(msg, bad[i].message);
                assert_null(p.paths);
        }
        g_autofree char *longest = g_strnfill(LOCKD_PATH_MAX, 'x'), *toolong = g_strnfill(LOCKD_PATH_MAX + 1, 'x');
        longest[0] = toolong[0] = '/';
        g_auto(LockdPaths) p1 = {}, p2 = {}, p3 = {};
        g_autofree char *msg1 = NULL, *msg2 = NULL, *msg3 = NULL;
        assert_int_equal(decode_paths((const char *const *) &longest, 1, &p1, &msg1), 0);
        assert_int_equal(decode_paths((const char *const *) &toolong, 1, &p2, &msg2), -EINVAL);
        assert_string_equal(msg2, "path 0 is 4096 bytes long, at most 4095");
        g_autofree const char **many = g_new(const char *, LOCKD_PATHS_MAX + 1);
        for (size_t i = 0; i <= LOCKD_PATHS_MAX; i++)
                many[i] = "/m";
        assert_int_equal(decode_paths(many, LOCKD_PATHS_MAX + 1, &p3, &msg3), -EINVAL);
        assert_string_equal(msg3, "too many paths (4097, at most 4096)");
        protocol_paths_clear(&p3);
        assert_int_equal(decode_paths(many, LOCKD_PATHS_MAX, &p3, &msg3), 0);
        if (text_paths)
                return;

        /* A NUL inside a path (a string cannot hold one: GLib's normal
         * form check refuses it before). */
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
        g_variant_builder_add_value(&b, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "/a\0b", 4, 1));
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_builder_end(&b));
        g_auto(LockdPaths) p4 = {};
        g_autofree char *msg4 = NULL;
        assert_int_equal(protocol_paths_decode(v, &p4, &msg4), -EINVAL);
        assert_string_equal(msg4, "path 0 contains a NUL byte");
}

static void test_text_paths_decode(void **state) {
        text_paths = true;
        test_paths_decode(state);
        text_paths = false;
}

/* The hand-made "as" serialization is GLib's too, and only UTF-8 paths
 * may use it. */
static void test_text_paths(void **state) {
        const size_t counts[] = { 0, 1, 3, 200, 3000 };
        for (size_t a = 0; a < G_N_ELEMENTS(counts); a++) {
                size_t n = counts[a];
                g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
                GVariantBuilder builder;
                g_variant_builder_init(&builder, G_VARIANT_TYPE_STRING_ARRAY);
                for (size_t i = 0; i < n; i++) {
                        char *p = g_strdup_printf("/dir/fichier-\u00e9t\u00e9-%zu", i);
                        g_ptr_array_add(paths, p);
                        g_variant_builder_add(&builder, "s", p);
                }
                g_autoptr(GVariant) glib = g_variant_ref_sink(g_variant_builder_end(&builder));
                g_autoptr(GVariant) ours =
                        g_variant_ref_sink(protocol_text_paths_encode((const char *const *) paths->pdata, n));
                assert_int_equal(g_variant_get_size(ours), g_variant_get_size(glib));
                if (n > 0)
                        assert_memory_equal(g_variant_get_data(ours), g_variant_get_data(glib),
                                            g_variant_get_size(glib));
                g_auto(LockdPaths) back = {};
                g_autofree char *m = NULL;
                assert_int_equal(protocol_paths_decode(glib, &back, &m), 0);
                assert_int_equal(back.n, n);
                for (size_t i = 0; i < n; i++)
                        assert_string_equal(back.paths[i], paths->pdata[i]);
        }
        const char *text[] = { "/a", "/\u00e9" }, *bytes[] = { "/a", "/\xff\xfe" };
        assert_true(protocol_paths_are_text(text, 2));
        assert_false(protocol_paths_are_text(bytes, 2));
}

/* A RELEASE by key: the keys as sent, and the same limit as paths. */
static void test_release_keys(void **state) {
        LockdFileKey keys[3] = { { 1, 2 }, { 3, 4 }, { UINT64_MAX, 5 } };
        g_autoptr(GVariant) v = g_variant_ref_sink(protocol_release_keys_encode(keys, 3));
        assert_true(g_variant_is_of_type(v, protocol_request_type(LOCKD_MSG_RELEASE, LOCKD_FRAME_BY_KEY)));
        size_t n;
        g_autofree char *m = NULL;
        const LockdFileKey *got = protocol_release_keys_get(v, &n, &m);
        assert_int_equal(n, 3);
        assert_memory_equal(got, keys, sizeof(keys));

        g_autoptr(GVariant) empty = g_variant_ref_sink(protocol_release_keys_encode(NULL, 0));
        assert_non_null(protocol_release_keys_get(empty, &n, &m));
        assert_int_equal(n, 0);

        g_autofree LockdFileKey *many = g_new0(LockdFileKey, LOCKD_PATHS_MAX + 1);
        g_autoptr(GVariant) big = g_variant_ref_sink(protocol_release_keys_encode(many, LOCKD_PATHS_MAX + 1));
        assert_null(protocol_release_keys_get(big, &n, &m));
        assert_string_equal(m, "too many keys (4097, at most 4096)");
}

static void assert_frames_equal(const GByteArray *ours, GByteArray *glib) {
        assert_int_equal(ours->len, glib->len);
        assert_memory_equal(ours->data, glib->data, glib->len);
}

/* The frames written by hand are GLib's, byte for byte: ACQUIRE in both
 * path encodings, RELEASE by key, replies across every framing-offset
 * width of their tuple, and the size limit. */
static void test_writer_matches_glib(void **state) {
        const size_t counts[] = { 1, 2, 40, 3000 };
        const size_t lengths[] = { 1, 30, 300 };
        for (int text = 0; text <= 1; text++)
                for (size_t a = 0; a < G_N_ELEMENTS(counts); a++)
                        for (size_t b = 0; b < G_N_ELEMENTS(lengths); b++) {
                                g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
                                for (size_t i = 0; i < counts[a]; i++)
                                        g_ptr_array_add(paths, g_strdup_printf("/%0*zu", (int) lengths[b], i));
                                const char *const *p = (const char *const *) paths->pdata;
                                g_autoptr(GByteArray) ours = g_byte_array_new(), glib = g_byte_array_new();
                                assert_int_equal(protocol_acquire_frame_append(ours, 77, 1, 1, p, counts[a], text), 0);
                                g_autoptr(GVariant) v = g_variant_ref_sink(
                                        text ? g_variant_new("(uu@as)", 1, 1, protocol_text_paths_encode(p, counts[a]))
                                             : g_variant_new("(uu@aay)", 1, 1, protocol_paths_encode(p, counts[a])));
                                assert_int_equal(protocol_frame_append_flags(glib, LOCKD_MSG_ACQUIRE,
                                                                             text ? LOCKD_FRAME_TEXT_PATHS : 0, 77, v),
                                                 0);
                                assert_frames_equal(ours, glib);
                        }

        const size_t key_counts[] = { 0, 1, 100, 5000 };
        for (size_t a = 0; a < G_N_ELEMENTS(key_counts); a++) {
                size_t n = key_counts[a];
                g_autofree LockdFileKey *keys = g_new(LockdFileKey, n + 1);
                for (size_t i = 0; i < n; i++)
                        keys[i] = (LockdFileKey) { .dev = 0x803 + i, .ino = UINT64_MAX - i };
                g_autoptr(GByteArray) ours = g_byte_array_new(), glib = g_byte_array_new();
                assert_int_equal(protocol_release_keys_frame_append(ours, 5, LOCKD_FRAME_NO_REPLY, keys, n), 0);
                g_autoptr(GVariant) v = g_variant_ref_sink(protocol_release_keys_encode(keys, n));
                assert_int_equal(protocol_frame_append_flags(glib, LOCKD_MSG_RELEASE,
                                                             LOCKD_FRAME_BY_KEY | LOCKD_FRAME_NO_REPLY, 5, v),
                                 0);
                assert_frames_equal(ours, glib);
        }

        /* Message lengths around the 1- and 2-byte offset limits; bodies
         * of every kind the daemon sends. */
        const size_t message_lengths[] = { 0, 1, 7, 8, 200, 235, 236, 250, 260, 65500, 70000 };
        const size_t result_counts[] = { 0, 1, 3, 3000 };
        for (size_t a = 0; a < G_N_ELEMENTS(message_lengths); a++) {
                g_autofree char *message = g_strnfill(message_lengths[a], 'm');
                for (size_t b = 0; b < G_N_ELEMENTS(result_counts) + 3; b++) {
                        g_autoptr(GByteArray) ours = g_byte_array_new(), glib = g_byte_array_new();
                        bool acquire = b < G_N_ELEMENTS(result_counts);
                        g_autoptr(GVariant) body = NULL;
                        if (acquire) {
                                size_t n = result_counts[b];
                                g_autofree LockdPathResult *res = g_new0(LockdPathResult, n + 1);
                                for (size_t i = 0; i < n; i++)
                                        res[i] = (LockdPathResult) { .dev = i, .ino = ~i, .flags = (uint32_t) i & 15 };
                                assert_int_equal(protocol_reply_frame_append(ours, 9, LOCKD_STATUS_OK, 0, message,
                                                                             LOCKD_BODY_ACQUIRE, res,
                                                                             n * sizeof(LockdPathResult)),
                                                 0);
                                body = g_variant_ref_sink(protocol_acquire_body_new(res, n));
                        } else {
                                size_t kind = b - G_N_ELEMENTS(result_counts);
                                if (kind == 1)
                                        body = g_variant_ref_sink(g_variant_new_uint32(42));
                                else if (kind == 2)
                                        body = g_variant_ref_sink(g_variant_new("(@aysuxt)",
                                                                                protocol_path_to_variant("/held"),
                                                                                "qemu", 7, (int64_t) 1, (uint64_t) 2));
                                /* A non-floating body stays the caller's. */
                                assert_int_equal(protocol_reply_frame_append_value(ours, 9, LOCKD_STATUS_BUSY, EBUSY,
                                                                                   message, body),
                                                 0);
                        }
                        g_autoptr(GVariant) reply = g_variant_ref_sink(
                                protocol_reply_new(acquire ? LOCKD_STATUS_OK : LOCKD_STATUS_BUSY, acquire ? 0 : EBUSY,
                                                   message, body));
                        assert_int_equal(protocol_frame_append(glib, LOCKD_MSG_REPLY, 9, reply), 0);
                        assert_frames_equal(ours, glib);
                        /* And it reads back, in place, as what was written. */
                        g_autofree char *m = NULL;
                        g_autoptr(GVariant) v = protocol_payload_parse(ours->data + LOCKD_HEADER_SIZE,
                                                                       ours->len - LOCKD_HEADER_SIZE,
                                                                       G_VARIANT_TYPE("(uisv)"), &m);
                        assert_non_null(v);
                        g_auto(LockdReply) back = {};
                        assert_int_equal(protocol_reply_decode(v, &back, &m), 0);
                        assert_int_equal(back.status, acquire ? LOCKD_STATUS_OK : LOCKD_STATUS_BUSY);
                        assert_string_equal(back.message, message);
                        if (body)
                                assert_true(g_variant_equal(back.body, body));
                        else
                                assert_true(g_variant_is_of_type(back.body, G_VARIANT_TYPE_UNIT));
                }
        }

        /* Too large: refused, nothing appended. */
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_byte_array_append(out, (const guint8 *) "x", 1);
        g_autofree char *huge = g_strnfill(LOCKD_PAYLOAD_MAX, 'h');
        assert_int_equal(protocol_reply_frame_append_value(out, 1, LOCKD_STATUS_OK, 0, huge, NULL), -EMSGSIZE);
        g_autofree LockdFileKey *many = g_new0(LockdFileKey, LOCKD_PAYLOAD_MAX / 16 + 1);
        assert_int_equal(protocol_release_keys_frame_append(out, 1, 0, many, LOCKD_PAYLOAD_MAX / 16 + 1), -EMSGSIZE);
        const char *big[] = { huge };
        assert_int_equal(protocol_acquire_frame_append(out, 1, 0, 0, big, 1, true), -EMSGSIZE);
        assert_int_equal(out->len, 1);
}

/* The hand-made "aay" serialization is byte for byte GLib's, across every
 * framing offset width, and decodes back. */
static void test_paths_encoding_matches_glib(void **state) {
        const size_t counts[] = { 0, 1, 2, 40, 200, 3000 };
        const size_t lengths[] = { 1, 5, 30, 300 };
        for (size_t a = 0; a < G_N_ELEMENTS(counts); a++)
                for (size_t b = 0; b < G_N_ELEMENTS(lengths); b++) {
                        size_t n = counts[a];
                        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
                        GVariantBuilder builder;
                        g_variant_builder_init(&builder, G_VARIANT_TYPE("aay"));
                        for (size_t i = 0; i < n; i++) {
                                char *p = g_strdup_printf("/%0*zu", (int) lengths[b], i);
                                g_ptr_array_add(paths, p);
                                g_variant_builder_add_value(&builder, protocol_path_to_variant(p));
                        }
                        g_autoptr(GVariant) glib = g_variant_ref_sink(g_variant_builder_end(&builder));
                        g_autoptr(GVariant) ours = g_variant_ref_sink(
                                protocol_paths_encode((const char *const *) paths->pdata, n));
                        assert_int_equal(g_variant_get_size(ours), g_variant_get_size(glib));
                        if (n > 0)
                                assert_memory_equal(g_variant_get_data(ours), g_variant_get_data(glib),
                                                    g_variant_get_size(glib));
                        assert_true(g_variant_is_normal_form(ours));
                        g_auto(LockdPaths) back = {};
                        g_autofree char *m = NULL;
                        int r = protocol_paths_decode(glib, &back, &m);
                        if (n > LOCKD_PATHS_MAX) {
                                assert_int_equal(r, -EINVAL);
                                continue;
                        }
                        assert_int_equal(r, 0);
                        assert_int_equal(back.n, n);
                        for (size_t i = 0; i < n; i++)
                                assert_string_equal(back.paths[i], paths->pdata[i]);
                }
}

static void test_request_decode(void **state) {
        const char *paths[] = { "/x" };
        struct {
                const char *type;
                GVariant *v;
                int r;
                const char *message;
        } cases[] = {
                { "acquire", g_variant_new("(uu@aay)", 1, 1, protocol_paths_encode(paths, 1)), 0, NULL },
                { "acquire", g_variant_new("(uu@aay)", 2, 0, protocol_paths_encode(paths, 1)), -EINVAL,
                  "lock mode 2 is unknown" },
                { "acquire", g_variant_new("(uu@aay)", 0, 6, protocol_paths_encode(paths, 1)), -EINVAL,
                  "acquire flags 0x4 are unknown" },
                { "acquire", g_variant_new("(uu@aay)", 0, 2, protocol_paths_encode(paths, 1)), -EINVAL,
                  "a lease needs an owner key (header flag 32)" },
                { "acquire", g_variant_new("(uus@aay)", 1, 3, "uuid", protocol_paths_encode(paths, 1)), 0, NULL },
                { "acquire", g_variant_new("(uus@aay)", 0, 2, "", protocol_paths_encode(paths, 1)), -EINVAL,
                  "owner key is empty" },
                { "release", g_variant_new("(b@aay)", TRUE, protocol_paths_encode(NULL, 0)), 0, NULL },
                { "release", g_variant_new("(b@aay)", TRUE, protocol_paths_encode(paths, 1)), -EINVAL,
                  "release of all locks names paths too" },
                { "hello", g_variant_new("(su)", "bulwarkd", 7), 0, NULL },
                { "hello", g_variant_new("(su)", "tab\there", 7), -EINVAL,
                  "owner name contains a control character" },
                { "hello", g_variant_new("(su)", "x", 0x80000000u), -EINVAL, "pid 2147483648 is out of range" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GVariant) v = g_variant_ref_sink(cases[i].v);
                g_autofree char *m = NULL;
                int r;
                if (strcmp(cases[i].type, "acquire") == 0) {
                        g_auto(LockdAcquireRequest) req = {};
                        r = protocol_acquire_decode(v, &req, &m);
                        if (r == 0) {
                                assert_int_equal(req.mode, LOCKD_MODE_SHARED);
                                assert_int_equal(req.flags & ~LOCKD_ACQUIRE_LEASE, LOCKD_ACQUIRE_ALLOW_MISSING);
                                /* A lease carries its key. */
                                assert_int_equal(!!(req.flags & LOCKD_ACQUIRE_LEASE), req.owner_key != NULL);
                                assert_string_equal(req.paths.paths[0], "/x");
                        }
                } else if (strcmp(cases[i].type, "release") == 0) {
                        g_auto(LockdReleaseRequest) req = {};
                        r = protocol_release_decode(v, &req, &m);
                        if (r == 0)
                                assert_true(req.all);
                } else {
                        g_auto(LockdHelloRequest) req = {};
                        r = protocol_hello_decode(v, &req, &m);
                }
                assert_int_equal(r, cases[i].r);
                if (cases[i].message)
                        assert_string_equal(m, cases[i].message);
        }
        g_autofree char *long_owner = g_strnfill(LOCKD_OWNER_MAX + 1, 'o');
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new("(su)", long_owner, 1));
        g_auto(LockdHelloRequest) req = {};
        g_autofree char *m = NULL;
        assert_int_equal(protocol_hello_decode(v, &req, &m), -EINVAL);
        assert_string_equal(m, "owner name is 257 bytes long, at most 256");
}

static void test_reply_roundtrip(void **state) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_autoptr(GVariant) reply = g_variant_ref_sink(protocol_reply_new(
                LOCKD_STATUS_BUSY, EBUSY, "path '/x' is locked",
                g_variant_new(LOCKD_BODY_BUSY, NULL, "owner", 12, (int64_t) 34, (uint64_t) 56)));
        g_autofree char *m = NULL;
        LockdHeader h;
        size_t len;

        assert_int_equal(protocol_frame_append(b, LOCKD_MSG_REPLY, 9, reply), 0);
        assert_int_equal(protocol_frame_next(b->data, b->len, &h, &len), 1);
        g_autoptr(GVariant) v = protocol_payload_parse(b->data + LOCKD_HEADER_SIZE, h.length,
                                                       G_VARIANT_TYPE("(uisv)"), &m);
        assert_non_null(v);
        g_auto(LockdReply) r = {};
        assert_int_equal(protocol_reply_decode(v, &r, &m), 0);
        assert_int_equal(r.status, LOCKD_STATUS_BUSY);
        assert_int_equal(r.error, EBUSY);
        assert_string_equal(r.message, "path '/x' is locked");
        assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_BUSY)));

        g_autoptr(GVariant) bad = g_variant_ref_sink(protocol_reply_new(99, 0, "", NULL));
        g_auto(LockdReply) r2 = {};
        g_autofree char *m2 = NULL;
        assert_int_equal(protocol_reply_decode(bad, &r2, &m2), -EINVAL);
        assert_string_equal(m2, "reply status 99 is unknown");
        g_autoptr(GVariant) bad2 = g_variant_ref_sink(protocol_reply_new(LOCKD_STATUS_FAILED, -5, "", NULL));
        g_auto(LockdReply) r3 = {};
        g_autofree char *m3 = NULL;
        assert_int_equal(protocol_reply_decode(bad2, &r3, &m3), -EINVAL);
}

static void test_status_errno(void **state) {
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_OK, 0), 0);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_BUSY, 0), EBUSY);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_NOT_FOUND, 0), ENOENT);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_DENIED, 0), EACCES);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_PROTOCOL, 0), EPROTO);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_FAILED, EMFILE), EMFILE);
        assert_int_equal(protocol_status_to_errno(LOCKD_STATUS_FAILED, 0), EIO);
        for (unsigned s = 0; s < _LOCKD_STATUS_MAX; s++)
                assert_string_not_equal(protocol_status_to_string(s), "unknown status");
        assert_string_equal(protocol_status_to_string(_LOCKD_STATUS_MAX), "unknown status");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_encode_layout),
                cmocka_unit_test(test_header_decode_errors),
                cmocka_unit_test(test_frame_next_stream),
                cmocka_unit_test(test_payload_checks),
                cmocka_unit_test(test_paths_decode),
                cmocka_unit_test(test_text_paths_decode),
                cmocka_unit_test(test_request_flags),
                cmocka_unit_test(test_list_decode),
                cmocka_unit_test(test_text_paths),
                cmocka_unit_test(test_release_keys),
                cmocka_unit_test(test_writer_matches_glib),
                cmocka_unit_test(test_paths_encoding_matches_glib),
                cmocka_unit_test(test_request_decode),
                cmocka_unit_test(test_reply_roundtrip),
                cmocka_unit_test(test_status_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
