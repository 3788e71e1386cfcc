/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/json-writer and the library's JSON (core/json.c).  Every document
 * is read back by a strict RFC 8259 reader below (GLib has none and
 * json-glib is not a dependency): what a script would get is what the
 * cases check, down to the bytes of paths that are not UTF-8. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "guest.h"
#include "json.h"
#include "plan.h"
#include "journal-damage.h"
#include "manager-fixture.h"
#include "test-util.h"
#include "util/json-writer.h"

/* ---- A strict reader ----------------------------------------------------- */

typedef enum { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } JvType;

typedef struct Jv {
        JvType type;
        bool boolean;
        char *text;                /* a number's text, or a string decoded to UTF-8 */
        GPtrArray *items;          /* array: Jv*; object: key Jv*, value Jv*, ... */
} Jv;

static void jv_free(Jv *v) {
        if (!v)
                return;
        g_free(v->text);
        if (v->items)
                g_ptr_array_unref(v->items);
        g_free(v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Jv, jv_free)

typedef struct Reader {
        const char *p;
} Reader;

static Jv *jv_new(JvType type) {
        Jv *v = g_new0(Jv, 1);
        v->type = type;
        if (type == JV_ARRAY || type == JV_OBJECT)
                v->items = g_ptr_array_new_with_free_func((GDestroyNotify) jv_free);
        return v;
}

static void reader_space(Reader *r) {
        while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
                r->p++;
}

static int reader_hex4(Reader *r, unsigned *ret) {
        unsigned v = 0;
        for (int i = 0; i < 4; i++, r->p++) {
                if (!g_ascii_isxdigit(*r->p))
                        return -1;
                v = v << 4 | (unsigned) g_ascii_xdigit_value(*r->p);
        }
        *ret = v;
        return 0;
}

static Jv *reader_string(Reader *r) {
        g_autoptr(GString) s = g_string_new(NULL);
        if (*r->p++ != '"')
                return NULL;
        for (;;) {
                unsigned char c = (unsigned char) *r->p++;
                if (c == '"')
                        break;
                if (c < 0x20) /* NUL (the end) and raw control characters */
                        return NULL;
                if (c != '\\') {
                        g_string_append_c(s, (char) c);
                        continue;
                }
                unsigned u, lo;
                switch (*r->p++) {
                case '"': g_string_append_c(s, '"'); break;
                case '\\': g_string_append_c(s, '\\'); break;
                case '/': g_string_append_c(s, '/'); break;
                case 'b': g_string_append_c(s, '\b'); break;
                case 'f': g_string_append_c(s, '\f'); break;
                case 'n': g_string_append_c(s, '\n'); break;
                case 'r': g_string_append_c(s, '\r'); break;
                case 't': g_string_append_c(s, '\t'); break;
                case 'u':
                        if (reader_hex4(r, &u) < 0 || (u >= 0xdc00 && u < 0xe000))
                                return NULL;
                        if (u >= 0xd800 && u < 0xdc00) {
                                if (r->p[0] != '\\' || r->p[1] != 'u')
                                        return NULL;
                                r->p += 2;
                                if (reader_hex4(r, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
                                        return NULL;
                                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        g_string_append_unichar(s, (gunichar) u);
                        break;
                default:
                        return NULL;
                }
        }
        Jv *v = jv_new(JV_STRING);
        v->text = g_string_free(g_steal_pointer(&s), FALSE);
        return v;
}

static Jv *reader_number(Reader *r) {
        const char *start = r->p;
        if (*r->p == '-')
                r->p++;
        if (*r->p == '0')
                r->p++;
        else if (*r->p >= '1' && *r->p <= '9')
                while (g_ascii_isdigit(*r->p))
                        r->p++;
        else
                return NULL;
        /* The writer makes integers only: a fraction or exponent is a bug. */
        if (*r->p == '.' || *r->p == 'e' || *r->p == 'E')
                return NULL;
        Jv *v = jv_new(JV_NUMBER);
        v->text = g_strndup(start, (gsize) (r->p - start));
        return v;
}

static Jv *reader_value(Reader *r, int depth);

/* Elements of an array or members of an object, after the opening bracket. */
static Jv *reader_container(Reader *r, bool object, int depth) {
        g_autoptr(Jv) v = jv_new(object ? JV_OBJECT : JV_ARRAY);
        char close = object ? '}' : ']';
        reader_space(r);
        if (*r->p == close) {
                r->p++;
                return g_steal_pointer(&v);
        }
        for (;;) {
                reader_space(r);
                if (object) {
                        Jv *key = *r->p == '"' ? reader_string(r) : NULL;
                        if (!key)
                                return NULL;
                        for (guint i = 0; i < v->items->len; i += 2)
                                if (strcmp(((Jv *) v->items->pdata[i])->text, key->text) == 0) {
                                        jv_free(key); /* duplicate keys: refused */
                                        return NULL;
                                }
                        g_ptr_array_add(v->items, key);
                        reader_space(r);
                        if (*r->p++ != ':')
                                return NULL;
                }
                Jv *item = reader_value(r, depth + 1);
                if (!item)
                        return NULL;
                g_ptr_array_add(v->items, item);
                reader_space(r);
                if (*r->p == ',') {
                        r->p++;
                        continue;
                }
                if (*r->p++ != close)
                        return NULL;
                return g_steal_pointer(&v);
        }
}

static Jv *reader_value(Reader *r, int depth) {
        reader_space(r);
        if (depth > 64)
                return NULL;
        switch (*r->p) {
        case '{': r->p++; return reader_container(r, true, depth);
        case '[': r->p++; return reader_container(r, false, depth);
        case '"': return reader_string(r);
        }
        static const struct { const char *word; JvType type; bool value; } words[] = {
                { "null", JV_NULL, false }, { "true", JV_BOOL, true }, { "false", JV_BOOL, false },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
                if (g_str_has_prefix(r->p, words[i].word)) {
                        r->p += strlen(words[i].word);
                        Jv *v = jv_new(words[i].type);
                        v->boolean = words[i].value;
                        return v;
                }
        return reader_number(r);
}

/* The document, or NULL when it is not valid UTF-8 JSON with nothing after. */
static Jv *jv_parse(const char *text) {
        Reader r = { text };
        if (!g_utf8_validate(text, -1, NULL))
                return NULL;
        g_autoptr(Jv) v = reader_value(&r, 0);
        if (!v)
                return NULL;
        reader_space(&r);
        return *r.p ? NULL : g_steal_pointer(&v);
}

/* The value at a dotted path ("guest.resources.0.id"); fails the test
 * when there is none. */
static const Jv *jv_at(const Jv *v, const char *path) {
        g_auto(GStrv) parts = g_strsplit(path, ".", -1);
        for (char **p = parts; *p; p++) {
                const Jv *next = NULL;
                if (v->type == JV_ARRAY) {
                        guint i = (guint) atoi(*p);
                        next = i < v->items->len ? v->items->pdata[i] : NULL;
                } else if (v->type == JV_OBJECT)
                        for (guint i = 0; i < v->items->len && !next; i += 2)
                                if (strcmp(((Jv *) v->items->pdata[i])->text, *p) == 0)
                                        next = v->items->pdata[i + 1];
                if (!next)
                        fail_msg("no '%s' in the document (at '%s')", path, *p);
                v = next;
        }
        return v;
}

static bool jv_has(const Jv *v, const char *key) {
        for (guint i = 0; v->type == JV_OBJECT && i < v->items->len; i += 2)
                if (strcmp(((Jv *) v->items->pdata[i])->text, key) == 0)
                        return true;
        return false;
}

static const char *jv_string(const Jv *v, const char *path) {
        v = jv_at(v, path);
        if (v->type != JV_STRING)
                fail_msg("'%s' is not a string", path);
        return v->text;
}

static const char *jv_number(const Jv *v, const char *path) {
        v = jv_at(v, path);
        if (v->type != JV_NUMBER)
                fail_msg("'%s' is not a number", path);
        return v->text;
}

static bool jv_bool(const Jv *v, const char *path) {
        v = jv_at(v, path);
        if (v->type != JV_BOOL)
                fail_msg("'%s' is not a boolean", path);
        return v->boolean;
}

static bool jv_is_null(const Jv *v, const char *path) {
        return jv_at(v, path)->type == JV_NULL;
}

static size_t jv_len(const Jv *v, const char *path) {
        v = jv_at(v, path);
        if (v->type != JV_ARRAY)
                fail_msg("'%s' is not an array", path);
        return v->items->len;
}

/* The writer's rule reversed: every \xHH of a decoded value is the byte. */
static char *jv_unescape_bytes(const char *s) {
        GString *out = g_string_new(NULL);
        while (*s) {
                if (s[0] == '\\' && s[1] == 'x' && g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3])) {
                        g_string_append_c(out, (char) (g_ascii_xdigit_value(s[2]) << 4 | g_ascii_xdigit_value(s[3])));
                        s += 4;
                } else
                        g_string_append_c(out, *s++);
        }
        return g_string_free(out, FALSE);
}

/* ---- The writer ---------------------------------------------------------- */

/* `s` as a top-level JSON string. */
static char *json_of_string(const char *s) {
        g_autoptr(GString) out = g_string_new(NULL);
        json_append_string(out, s);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Writes s, reads it back, and checks the bytes come back exactly. */
static void assert_round_trip(const char *s) {
        g_autofree char *text = json_of_string(s);
        g_autoptr(Jv) v = jv_parse(text);
        if (!v || v->type != JV_STRING)
                fail_msg("not a valid JSON string: %s", text);
        g_autofree char *back = jv_unescape_bytes(v->text);
        if (strcmp(back, s) != 0)
                fail_msg("round trip changed the bytes: %s", text);
}

static void test_json_append_string_control_characters(void **state) {
        (void) state;
        static const char *const short_forms[0x20] = {
                ['\b'] = "\"\\b\"", ['\t'] = "\"\\t\"", ['\n'] = "\"\\n\"", ['\f'] = "\"\\f\"", ['\r'] = "\"\\r\"",
        };
        for (int c = 1; c < 0x20; c++) {
                char in[2] = { (char) c, 0 };
                g_autofree char *want = short_forms[c] ? g_strdup(short_forms[c]) : g_strdup_printf("\"\\u%04x\"", c);
                g_autofree char *text = json_of_string(in);
                assert_string_equal(text, want);
                assert_round_trip(in);
        }
        /* DEL and the C1 controls need no escape in JSON. */
        g_autofree char *del = json_of_string("\x7f");
        assert_string_equal(del, "\"\x7f\"");
}

static void test_json_append_string_quote_backslash(void **state) {
        (void) state;
        g_autofree char *a = json_of_string("say \"hi\"");
        assert_string_equal(a, "\"say \\\"hi\\\"\"");
        g_autofree char *b = json_of_string("C:\\dir\\x");
        assert_string_equal(b, "\"C:\\\\dir\\\\x\"");
        g_autofree char *n = json_of_string(NULL);
        assert_string_equal(n, "null");
        g_autofree char *e = json_of_string("");
        assert_string_equal(e, "\"\"");
        assert_round_trip("a\"b\\c\\\\d\\");
}

static void test_json_append_string_utf8_kept(void **state) {
        (void) state;
        const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xef\xbf\xbd"; /* é € 𝄞 U+FFFD */
        g_autofree char *text = json_of_string(s);
        g_autofree char *want = g_strdup_printf("\"%s\"", s);
        assert_string_equal(text, want);
        assert_round_trip(s);
}

static void test_json_append_string_invalid_utf8(void **state) {
        (void) state;
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "\xff", "\"\\\\xff\"" },
                { "/img/a\xfe\xff.qcow2", "\"/img/a\\\\xfe\\\\xff.qcow2\"" },
                { "trunc\xc3", "\"trunc\\\\xc3\"" },                       /* sequence cut short */
                { "\xc3(", "\"\\\\xc3(\"" },                               /* bad continuation */
                { "\xc0\xaf", "\"\\\\xc0\\\\xaf\"" },                      /* overlong '/' */
                { "\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"" },           /* a surrogate */
                { "\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"" }, /* past U+10FFFF */
                { "\xc3\xa9\xff\xc3\xa9", "\"\xc3\xa9\\\\xff\xc3\xa9\"" },  /* valid around it kept */
                /* Text that reads as an escape gets its backslash escaped. */
                { "\\x41", "\"\\\\x5cx41\"" },
                { "\\xfF", "\"\\\\x5cxfF\"" },
                { "\\x4", "\"\\\\x4\"" },
                { "\\\\x41", "\"\\\\\\\\x5cx41\"" },
                { "\\\xff", "\"\\\\\\\\xff\"" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = json_of_string(cases[i].in);
                assert_string_equal(text, cases[i].out);
                assert_true(g_utf8_validate(text, -1, NULL));
                assert_round_trip(cases[i].in);
        }
}

/* Any bytes at all come back exactly: random strings, fixed seed. */
static void test_json_append_string_random_bytes(void **state) {
        (void) state;
        g_autoptr(GRand) rand = g_rand_new_with_seed(14);
        static const char alphabet[] = "\\x5cFf0\"a\n\xc3\xa9\xff\xe2\x82";
        for (int n = 0; n < 2000; n++) {
                char s[24];
                size_t len = (size_t) g_rand_int_range(rand, 0, sizeof(s));
                for (size_t i = 0; i < len; i++)
                        s[i] = n % 2 ? (char) g_rand_int_range(rand, 1, 256)
                                     : alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
                s[len] = '\0';
                assert_round_trip(s);
        }
}

static char *writer_finish_ok(JsonWriter *w) {
        char *text = NULL;
        assert_int_equal(json_writer_finish(w, &text), 0);
        assert_non_null(text);
        return text;
}

static void test_json_writer_nesting(void **state) {
        (void) state;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_object_begin(w);
        json_writer_key(w, "a");
        json_writer_array_begin(w);
        json_writer_object_begin(w);
        json_writer_object_end(w);
        json_writer_array_begin(w);
        json_writer_array_end(w);
        json_writer_object_begin(w);
        json_writer_member_bool(w, "t", true);
        json_writer_member_bool(w, "f", false);
        json_writer_key(w, "n");
        json_writer_null(w);
        json_writer_key(w, "deep");
        json_writer_array_begin(w);
        json_writer_array_begin(w);
        json_writer_string(w, "x");
        json_writer_array_end(w);
        json_writer_array_end(w);
        json_writer_object_end(w);
        json_writer_array_end(w);
        json_writer_member_string(w, "b", "c\"");
        json_writer_object_end(w);
        g_autofree char *text = writer_finish_ok(w);
        assert_string_equal(text, "{\"a\":[{},[],{\"t\":true,\"f\":false,\"n\":null,\"deep\":[[\"x\"]]}],\"b\":\"c\\\"\"}");
        g_autoptr(Jv) v = jv_parse(text);
        assert_non_null(v);
        assert_string_equal(jv_string(v, "a.2.deep.0.0"), "x");
        assert_string_equal(jv_string(v, "b"), "c\"");
        assert_true(jv_is_null(v, "a.2.n"));
        assert_false(jv_bool(v, "a.2.f"));

        /* The writer is empty again after finish. */
        json_writer_array_begin(w);
        json_writer_array_end(w);
        g_autofree char *again = writer_finish_ok(w);
        assert_string_equal(again, "[]");
}

static void test_json_writer_numbers(void **state) {
        (void) state;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_array_begin(w);
        json_writer_int(w, INT64_MIN);
        json_writer_int(w, INT64_MAX);
        json_writer_int(w, -1);
        json_writer_int(w, 0);
        json_writer_uint(w, UINT64_MAX);
        json_writer_uint(w, (uint64_t) INT64_MAX + 1);
        json_writer_array_end(w);
        g_autofree char *text = writer_finish_ok(w);
        assert_string_equal(text, "[-9223372036854775808,9223372036854775807,-1,0,18446744073709551615,"
                                  "9223372036854775808]");
        g_autoptr(Jv) v = jv_parse(text);
        assert_non_null(v);
        assert_string_equal(jv_number(v, "4"), "18446744073709551615");
}

/* Each misuse makes finish() fail; nothing half-written is handed out. */
static void test_json_writer_misuse(void **state) {
        (void) state;
        g_autoptr(JsonWriter) w = json_writer_new();
        char *text = NULL;

        json_writer_object_begin(w);
        json_writer_string(w, "a value without a key");
        json_writer_object_end(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_array_begin(w);
        json_writer_key(w, "key in an array");
        json_writer_null(w);
        json_writer_array_end(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_array_begin(w);
        json_writer_object_end(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_object_begin(w);
        json_writer_key(w, "k");
        json_writer_object_end(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_object_begin(w);
        json_writer_key(w, "k");
        json_writer_key(w, "k2");
        json_writer_null(w);
        json_writer_object_end(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_array_begin(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        json_writer_null(w);
        json_writer_null(w);
        assert_int_equal(json_writer_finish(w, &text), -EINVAL);

        assert_int_equal(json_writer_finish(w, &text), -EINVAL); /* nothing written */
        assert_null(text);
}

/* ---- The library's JSON ------------------------------------------------------ */

/* Paths a guest may hold: quotes, backslashes, newlines, bytes that are
 * not UTF-8, and text that looks like the byte escape. */
static const char *const odd_paths[] = {
        "/srv/\"quoted\".img", "/srv/back\\slash.img", "/srv/new\nline.img", "/srv/bytes\xff\xfe.img",
        "/srv/literal\\xff.img",
};

static void test_json_guest_info_every_field(void **state) {
        (void) state;
        const BwPathRole roles[] = { BW_PATH_IMAGE, BW_PATH_BACKING, BW_PATH_BACKING, BW_PATH_BACKING,
                                     BW_PATH_BACKING };
        const char *const dev_paths[] = { "/dev/vfio/7" };
        const BwPathRole dev_roles[] = { BW_PATH_DEVICE_NODE };
        const BwResource res[] = {
                { .type = BW_RESOURCE_DISK, .id = "root", .path = odd_paths[0], .shared = true, .n_paths = 5,
                  .paths = odd_paths, .roles = roles },
                { .type = BW_RESOURCE_HOSTDEV, .id = "gpu", .path = dev_paths[0], .hostdev_type = BW_HOSTDEV_VFIO_PCI,
                  .pci_address = "0000:01:00.0", .n_paths = 1, .paths = dev_paths, .roles = dev_roles },
                { .type = BW_RESOURCE_HOSTDEV, .id = "token", .hostdev_type = BW_HOSTDEV_USB, .usb_bus = 3,
                  .usb_device = 127, .paths = dev_paths, .roles = dev_roles },
                { .type = BW_RESOURCE_CHARDEV, .id = "pty0", .chardev_type = BW_CHARDEV_PTY, .paths = dev_paths,
                  .roles = dev_roles },
                { .type = BW_RESOURCE_DEVICE, .id = "fuse", .readonly = true,
                  .access = BW_ACCESS_READ | BW_ACCESS_MKNOD, .paths = dev_paths, .roles = dev_roles },
        };
        const BwResource *const res_ptrs[] = { &res[0], &res[1], &res[2], &res[3], &res[4] };
        const char *const hotplug_dirs[] = { "/srv/hot", "/srv/\"quoted\"" };
        const gid_t groups[] = { 108, 4294967294u };
        const BwGuestInfo info = {
                .size = sizeof(BwGuestInfo),
                .name = "odd", .uuid = "c384adc2-d594-5366-8eaa-b95def14f19e", .uid = 4294967294u, .gid = 0,
                .cgroup = "/sys/fs/cgroup/x\"y", .cgroup_given = true, .hotplug_vfio = true,
                .n_resources = G_N_ELEMENTS(res), .resources = res_ptrs,
                .n_hotplug_dirs = G_N_ELEMENTS(hotplug_dirs), .hotplug_dirs = hotplug_dirs,
                .n_groups = G_N_ELEMENTS(groups), .groups = groups,
        };
        g_autoptr(JsonWriter) w = json_writer_new();
        json_guest_info(w, &info);
        g_autofree char *text = writer_finish_ok(w);
        g_autoptr(Jv) v = jv_parse(text);
        if (!v)
                fail_msg("not valid JSON: %s", text);

        assert_string_equal(jv_string(v, "name"), "odd");
        assert_string_equal(jv_string(v, "uuid"), info.uuid);
        assert_string_equal(jv_number(v, "uid"), "4294967294");
        assert_string_equal(jv_number(v, "gid"), "0");
        assert_string_equal(jv_string(v, "cgroup"), "/sys/fs/cgroup/x\"y");
        assert_true(jv_bool(v, "cgroup_given"));
        assert_true(jv_bool(v, "hotplug_vfio"));
        assert_int_equal(jv_len(v, "hotplug_dirs"), 2);
        assert_string_equal(jv_string(v, "hotplug_dirs.1"), "/srv/\"quoted\"");
        assert_int_equal(jv_len(v, "groups"), 2);
        assert_string_equal(jv_number(v, "groups.1"), "4294967294");
        assert_int_equal(jv_len(v, "resources"), G_N_ELEMENTS(res));

        assert_string_equal(jv_string(v, "resources.0.type"), "disk");
        assert_string_equal(jv_string(v, "resources.0.id"), "root");
        assert_false(jv_bool(v, "resources.0.readonly"));
        assert_true(jv_bool(v, "resources.0.shared"));
        assert_int_equal(jv_len(v, "resources.0.paths"), 5);
        for (size_t k = 0; k < 5; k++) {
                g_autofree char *pk = g_strdup_printf("resources.0.paths.%zu.path", k);
                g_autofree char *rk = g_strdup_printf("resources.0.paths.%zu.role", k);
                g_autofree char *bytes = jv_unescape_bytes(jv_string(v, pk));
                assert_string_equal(bytes, odd_paths[k]);
                assert_string_equal(jv_string(v, rk), k ? "backing" : "image");
        }
        g_autofree char *main_path = jv_unescape_bytes(jv_string(v, "resources.0.path"));
        assert_string_equal(main_path, odd_paths[0]);
        assert_false(jv_has(jv_at(v, "resources.0"), "hostdev_type"));
        assert_false(jv_has(jv_at(v, "resources.0"), "access"));

        assert_string_equal(jv_string(v, "resources.1.hostdev_type"), "vfio-pci");
        assert_string_equal(jv_string(v, "resources.1.pci_address"), "0000:01:00.0");
        assert_string_equal(jv_string(v, "resources.1.paths.0.role"), "device-node");
        assert_false(jv_has(jv_at(v, "resources.1"), "usb_bus"));
        assert_string_equal(jv_string(v, "resources.2.hostdev_type"), "usb");
        assert_string_equal(jv_number(v, "resources.2.usb_bus"), "3");
        assert_string_equal(jv_number(v, "resources.2.usb_device"), "127");
        assert_true(jv_is_null(v, "resources.2.path"));
        assert_int_equal(jv_len(v, "resources.2.paths"), 0);
        assert_string_equal(jv_string(v, "resources.3.chardev_type"), "pty");
        assert_string_equal(jv_string(v, "resources.4.access"), "rm");
        assert_true(jv_bool(v, "resources.4.readonly"));
}

static void test_bw_guest_to_json_check(void **state) {
        (void) state;
        g_autofree char *dir = test_scratch_new("json-guest");
        /* A raw backing file whose name is not UTF-8, named by a qcow2 image. */
        g_autofree char *backing_name = g_strdup_printf("%s/base\xff\xfe.img", dir);
        g_autofree char *backing = test_write_file(dir, "base\xff\xfe.img", "raw bytes", -1);
        uint8_t qcow[4096] = { 0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 2 };
        size_t n = strlen(backing_name);
        qcow[15] = 72 + 8;                 /* backing_file_offset: after the v2 header and end marker */
        qcow[19] = (uint8_t) n;            /* backing_file_size */
        qcow[23] = 16;                     /* cluster_bits */
        qcow[29] = 0x10;                   /* size: 1 MiB */
        memcpy(qcow + 80, backing_name, n);
        g_autofree char *image = test_write_file(dir, "top \"q\" \\b.qcow2", qcow, sizeof(qcow));
        g_autofree char *text = g_strdup_printf(
                "[guest]\nname=odd\nuser=0\ngroup=0\n"
                "[disk:root]\npath=%s/top \"q\" \\\\b.qcow2\nformat=qcow2\n"
                "[hostdev:gpu]\ntype=vfio-pci\naddress=0000:ff:1f.7\n",
                dir);
        g_autoptr(BwGuest) g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_data(text, strlen(text), "odd.guest", &g, &err), 0);

        char *json = NULL;
        assert_int_equal(bw_guest_to_json(g, &json), 0);
        g_autoptr(Jv) v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        assert_string_equal(jv_string(v, "guest.name"), "odd");
        assert_true(jv_is_null(v, "guest.cgroup"));
        assert_false(jv_bool(v, "guest.cgroup_given"));
        assert_string_equal(jv_string(v, "guest.resources.0.paths.0.path"), image);
        assert_string_equal(jv_string(v, "guest.resources.0.paths.0.role"), "image");
        assert_string_equal(jv_string(v, "guest.resources.0.paths.1.role"), "backing");
        g_autofree char *bytes = jv_unescape_bytes(jv_string(v, "guest.resources.0.paths.1.path"));
        assert_string_equal(bytes, backing);
        /* The PCI device is not on this host: listed, not fatal. */
        assert_int_equal(jv_len(v, "unresolved"), 1);
        assert_non_null(strstr(jv_string(v, "unresolved.0"), "[hostdev:gpu]"));
        bw_free(json);

        assert_int_equal(bw_guest_to_json(NULL, &json), -EINVAL);
        assert_int_equal(bw_guest_to_json(g, NULL), -EINVAL);
        test_scratch_remove(dir);
}

static void test_bw_plan_to_json_changes(void **state) {
        (void) state;
        Plugin plugin = { .name = (char *) "fake\"plugin" };
        g_autoptr(BwPlan) plan = plan_new();
        const BwChange changes[] = {
                { .size = sizeof(BwChange), .kind = "chown", .object = odd_paths[2],
                  .detail = "0:0 -> 107:107\n\tnext", .lock_path = odd_paths[3] },
                { .size = sizeof(BwChange), .kind = "note", .object = odd_paths[4] },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(changes); i++)
                assert_int_equal(plan_add(plan, &plugin, &changes[i], NULL), 0);
        g_autofree char *text = g_strdup("[guest]\nname=planned\nuser=0\ngroup=0\n");
        g_autoptr(BwGuest) g = NULL;
        assert_int_equal(bw_guest_load_data(text, strlen(text), "p.guest", &g, NULL), 0);

        char *json = NULL;
        assert_int_equal(bw_plan_to_json(plan, g, &json), 0);
        g_autoptr(Jv) v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        assert_string_equal(jv_string(v, "guest"), "planned");
        assert_int_equal(jv_len(v, "changes"), 2);
        assert_string_equal(jv_string(v, "changes.0.plugin"), "fake\"plugin");
        assert_string_equal(jv_string(v, "changes.0.kind"), "chown");
        assert_string_equal(jv_string(v, "changes.0.object"), odd_paths[2]);
        assert_string_equal(jv_string(v, "changes.0.detail"), "0:0 -> 107:107\n\tnext");
        g_autofree char *lock = jv_unescape_bytes(jv_string(v, "changes.0.lock"));
        assert_string_equal(lock, odd_paths[3]);
        g_autofree char *object = jv_unescape_bytes(jv_string(v, "changes.1.object"));
        assert_string_equal(object, odd_paths[4]);
        assert_string_equal(jv_string(v, "changes.1.detail"), "");
        assert_true(jv_is_null(v, "changes.1.lock"));
        bw_free(json);

        /* Without a guest the name is null; an empty plan is an empty list. */
        g_autoptr(BwPlan) empty = plan_new();
        assert_int_equal(bw_plan_to_json(empty, NULL, &json), 0);
        assert_string_equal(json, "{\"guest\":null,\"changes\":[]}");
        bw_free(json);
        assert_int_equal(bw_plan_to_json(NULL, g, &json), -EINVAL);
}

static void test_json_plugin_info_flags(void **state) {
        (void) state;
        const BwPluginInfo info = {
                .name = "x", .path = "/p/x\xff.so", .abi_major = 1, .abi_minor = 12,
                .flags = BW_PLUGIN_FLAG_LABELS_PATHS | BW_PLUGIN_FLAG_NEEDS_ROOT | (1u << 5),
                .probe_result = -ENODEV, .probe_reason = "no \"kernel\" support",
        };
        g_autoptr(JsonWriter) w = json_writer_new();
        json_plugin_info(w, &info);
        g_autofree char *text = writer_finish_ok(w);
        g_autoptr(Jv) v = jv_parse(text);
        assert_non_null(v);
        assert_string_equal(jv_string(v, "abi"), "1.12");
        assert_string_equal(jv_number(v, "flags"), "35");
        assert_int_equal(jv_len(v, "flag_names"), 3);
        assert_string_equal(jv_string(v, "flag_names.0"), "labels-paths");
        assert_string_equal(jv_string(v, "flag_names.1"), "needs-root");
        assert_string_equal(jv_string(v, "flag_names.2"), "0x20");
        assert_false(jv_bool(v, "usable"));
        assert_string_equal(jv_string(v, "reason"), "no \"kernel\" support");
        g_autofree char *path = jv_unescape_bytes(jv_string(v, "path"));
        assert_string_equal(path, info.path);
}

static void test_bw_manager_plugins_to_json_loaded(void **state) {
        (void) state;
        g_autofree char *dir = test_scratch_new("json-plugins");
        g_autofree char *plugins = test_builddir_path("plugins/nop/.libs");
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = plugins, .plugins = "nop",
                        .state_dir = dir, .cgroup_root = dir };
        BwManager *m = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_new(&o, &m, &err), 0);
        char *json = NULL;
        assert_int_equal(bw_manager_plugins_to_json(m, &json), 0);
        g_autoptr(Jv) v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        assert_int_equal(jv_len(v, ""), 1);
        assert_string_equal(jv_string(v, "0.name"), "nop");
        g_autofree char *abi = g_strdup_printf("%d.%d", BW_PLUGIN_ABI_MAJOR, BW_PLUGIN_ABI_MINOR);
        assert_string_equal(jv_string(v, "0.abi"), abi);
        assert_string_equal(jv_number(v, "0.flags"), "0");
        assert_int_equal(jv_len(v, "0.flag_names"), 0);
        assert_true(jv_bool(v, "0.usable"));
        assert_true(g_str_has_suffix(jv_string(v, "0.path"), "/nop.so"));
        bw_free(json);
        assert_int_equal(bw_manager_plugins_to_json(NULL, &json), -EINVAL);
        bw_manager_free(m);
        test_scratch_remove(dir);
}

/* ---- Guest state and adopt report ---------------------------------------- */

typedef struct StateDir {
        ManagerFixture *mf;
        BwManager *m;
} StateDir;

/* A manager on a fresh state directory (a new one on the same directory
 * when called again) with nop, fake-files and adopt-check; `extra` goes
 * into [plugin:fake-files]. */
static void state_dir_open(StateDir *sd, const char *extra) {
        if (!sd->mf)
                sd->mf = manager_fixture_new("json-state");
        g_autofree char *conf = g_strdup_printf("%s[plugin:adopt-check]\ndir=%s\n", extra ? extra : "", sd->mf->markers);
        bw_manager_free(sd->m);
        sd->m = manager_fixture_manager(sd->mf, "nop,fake-files,adopt-check", conf);
}

static void state_dir_close(StateDir *sd) {
        bw_manager_free(sd->m);
        manager_fixture_free(sd->mf);
}

/* Starts guest `name` with disks <name>-d1..n. */
static void state_dir_start(StateDir *sd, const char *name, int n) {
        BwGuest *g = manager_fixture_guest(sd->mf, name, n, NULL);
        BwError err = {};
        if (bw_manager_start(sd->m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        bw_guest_free(g);
}

static Jv *guest_state_json(StateDir *sd, const char *name, BwGuestState **ret_state) {
        BwGuestState *gs = NULL;
        BwError err = {};
        char *json = NULL;
        if (bw_manager_get_guest(sd->m, name, &gs, &err) < 0)
                fail_msg("get: %s", err.message);
        assert_int_equal(bw_guest_state_to_json(gs, &json), 0);
        Jv *v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        bw_free(json);
        *ret_state = gs;
        return v;
}

/* "started" is RFC 3339 UTC with microseconds and says what started_us says. */
static void assert_started(const Jv *v, const char *prefix, int64_t want_us) {
        g_autofree char *key = g_strdup_printf("%sstarted", prefix);
        g_autofree char *key_us = g_strdup_printf("%sstarted_us", prefix);
        const char *text = jv_string(v, key);
        if (!g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", text, 0, 0))
                fail_msg("'%s' is not RFC 3339 UTC with microseconds: %s", key, text);
        g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);
        assert_non_null(dt);
        int64_t us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
        assert_true(us == want_us);
        g_autofree char *num = g_strdup_printf("%" G_GINT64_FORMAT, want_us);
        assert_string_equal(jv_number(v, key_us), num);
}

static void test_bw_guest_state_to_json_running(void **state) {
        (void) state;
        StateDir sd = {};
        BwGuestState *gs = NULL;
        state_dir_open(&sd, NULL);
        state_dir_start(&sd, "vm", 2);
        g_autoptr(Jv) v = guest_state_json(&sd, "vm", &gs);

        assert_string_equal(jv_string(v, "name"), "vm");
        assert_string_equal(jv_string(v, "status"), "running");
        assert_started(v, "", bw_guest_state_start_time(gs));
        assert_true(bw_guest_state_start_time(gs) > 0);
        g_autofree char *cgroup = g_build_filename(sd.mf->cgroot, "bulwark", "vm", NULL);
        assert_string_equal(jv_string(v, "cgroup"), cgroup);
        assert_string_equal(jv_string(v, "guest.name"), "vm");
        assert_string_equal(jv_string(v, "guest.resources.1.id"), "vm-d2");
        /* Per plugin, in the order each made its first change. */
        assert_int_equal(jv_len(v, "plugins"), 2);
        assert_string_equal(jv_string(v, "plugins.0.name"), "nop");
        assert_int_equal(jv_len(v, "plugins.0.changes"), 2);
        assert_string_equal(jv_string(v, "plugins.0.changes.0.kind"), "note");
        assert_string_equal(jv_string(v, "plugins.0.changes.1.resource"), "disk:vm-d2");
        assert_true(jv_is_null(v, "plugins.0.changes.0.lock"));
        assert_true(jv_bool(v, "plugins.0.changes.0.done"));
        assert_string_equal(jv_string(v, "plugins.1.name"), "fake-files");
        g_autofree char *marker = g_build_filename(sd.mf->markers, "vm-d2", NULL);
        assert_string_equal(jv_string(v, "plugins.1.changes.1.object"), marker);
        assert_string_equal(jv_string(v, "plugins.1.changes.1.lock"), marker);
        assert_string_equal(jv_string(v, "plugins.1.changes.1.kind"), "touch");
        assert_int_equal(jv_len(v, "plugins.1.changes.1.flags"), 0);
        assert_int_equal(bw_guest_state_change_count(gs), 4);
        bw_guest_state_free(gs);
        char *json = NULL;
        assert_int_equal(bw_guest_state_to_json(NULL, &json), -EINVAL);
        state_dir_close(&sd);
}

/* A stop whose undo of one change failed: every other change was undone
 * and is no longer listed; the one left is, with its plugin. */
static void test_bw_guest_state_to_json_partly_undone(void **state) {
        (void) state;
        StateDir sd = {};
        BwGuestState *gs = NULL;
        BwError err = {};
        state_dir_open(&sd, "fail-undo=vm-d2\n");
        state_dir_start(&sd, "vm", 3);
        assert_int_equal(bw_manager_stop(sd.m, "vm", &err), -EIO);
        g_autoptr(Jv) v = guest_state_json(&sd, "vm", &gs);

        assert_string_equal(jv_string(v, "status"), "interrupted");
        assert_int_equal(jv_len(v, "plugins"), 1);
        assert_string_equal(jv_string(v, "plugins.0.name"), "fake-files");
        assert_int_equal(jv_len(v, "plugins.0.changes"), 1);
        assert_string_equal(jv_string(v, "plugins.0.changes.0.resource"), "disk:vm-d2");
        assert_true(jv_bool(v, "plugins.0.changes.0.done"));
        assert_int_equal(bw_guest_state_change_count(gs), 1);
        bw_guest_state_free(gs);
        state_dir_close(&sd);
}

/* A damaged journal: "corrupt", with what the whole records before the
 * damage say (the record of the guest, no change). */
static void test_bw_guest_state_to_json_corrupt(void **state) {
        (void) state;
        StateDir sd = {};
        BwGuestState *gs = NULL;
        state_dir_open(&sd, NULL);
        state_dir_start(&sd, "vm", 2);
        g_autofree char *journal = g_build_filename(sd.mf->state, "guests", "vm.journal", NULL);
        journal_flip_record(journal, 2); /* BEGIN, GUEST, then the first INTENT */
        g_autoptr(Jv) v = guest_state_json(&sd, "vm", &gs);

        assert_string_equal(jv_string(v, "status"), "corrupt");
        assert_string_equal(jv_string(v, "guest.resources.0.id"), "vm-d1");
        assert_int_equal(jv_len(v, "plugins"), 0);
        bw_guest_state_free(gs);
        state_dir_close(&sd);
}

static void test_bw_manager_guests_to_json_list(void **state) {
        (void) state;
        StateDir sd = {};
        BwError err = {};
        char *json = NULL;
        state_dir_open(&sd, NULL);
        state_dir_start(&sd, "zz", 1);
        state_dir_start(&sd, "aa", 1);
        g_autofree char *fifo = g_build_filename(sd.mf->state, "guests", "mm.journal", NULL);
        assert_int_equal(mkfifo(fifo, 0600), 0);

        assert_int_equal(bw_manager_guests_to_json(sd.m, &json, &err), 0);
        g_autoptr(Jv) v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        bw_free(json);
        assert_int_equal(jv_len(v, ""), 3);
        assert_string_equal(jv_string(v, "0.name"), "aa");
        assert_string_equal(jv_string(v, "0.status"), "running");
        assert_string_equal(jv_string(v, "0.plugins.1.changes.0.resource"), "disk:aa-d1");
        assert_string_equal(jv_string(v, "1.name"), "mm");
        assert_string_equal(jv_string(v, "1.status"), "unreadable");
        assert_non_null(strstr(jv_string(v, "1.error"), "mm.journal"));
        assert_string_equal(jv_string(v, "2.name"), "zz");
        assert_string_equal(jv_string(v, "2.guest.resources.0.id"), "zz-d1");
        assert_int_equal(unlink(fifo), 0);
        state_dir_close(&sd);
}

static void test_bw_adopt_report_to_json_lost(void **state) {
        (void) state;
        StateDir sd = {};
        BwAdoptReport *report = NULL;
        BwError err = {};
        char *json = NULL;
        state_dir_open(&sd, NULL);
        state_dir_start(&sd, "here", 1);
        state_dir_start(&sd, "lost", 1);
        g_autofree char *marker = g_build_filename(sd.mf->markers, "lost-d1", NULL);
        assert_int_equal(unlink(marker), 0);
        state_dir_open(&sd, NULL); /* the daemon restarts */

        assert_int_equal(bw_manager_adopt_all(sd.m, &report, &err), 1);
        assert_int_equal(bw_adopt_report_to_json(report, &json), 0);
        g_autoptr(Jv) v = jv_parse(json);
        if (!v)
                fail_msg("not valid JSON: %s", json);
        bw_free(json);
        assert_string_equal(jv_number(v, "recovered"), "0");
        assert_string_equal(jv_number(v, "adopted"), "1");
        assert_int_equal(jv_len(v, "guests"), 2);
        assert_string_equal(jv_string(v, "guests.0.name"), "here");
        assert_string_equal(jv_string(v, "guests.0.outcome"), "adopted");
        assert_false(jv_bool(v, "guests.0.recovered"));
        assert_string_equal(jv_string(v, "guests.0.message"), "");
        assert_int_equal(jv_len(v, "guests.0.plugins"), 3);
        assert_string_equal(jv_number(v, "guests.0.plugins.2.result"), "0");
        assert_true(jv_is_null(v, "guests.0.plugins.2.error"));
        assert_string_equal(jv_string(v, "guests.1.outcome"), "lost");
        assert_non_null(strstr(jv_string(v, "guests.1.message"), "lost-d1' is gone"));
        assert_string_equal(jv_string(v, "guests.1.plugins.2.name"), "adopt-check");
        g_autofree char *enoent = g_strdup_printf("%d", -ENOENT);
        assert_string_equal(jv_number(v, "guests.1.plugins.2.result"), enoent);
        assert_string_equal(jv_string(v, "guests.1.plugins.2.error"), "ENOENT");
        assert_non_null(strstr(jv_string(v, "guests.1.plugins.2.message"), "plugin 'adopt-check'"));
        bw_adopt_report_free(report);
        assert_int_equal(bw_adopt_report_to_json(NULL, &json), -EINVAL);
        state_dir_close(&sd);
}

/* The reader itself must refuse what is not JSON, or the cases above
 * prove nothing. */
static void test_json_reader_refuses(void **state) {
        (void) state;
        const char *const bad[] = {
                "", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "\"raw\nnewline\"", "\"\\x41\"", "[1] 2", "{\"a\":1,\"a\":2}",
                "\"\\ud800\"", "\"\xff\"", "01", "[", "nul",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(Jv) v = jv_parse(bad[i]);
                if (v)
                        fail_msg("the reader accepted '%s'", bad[i]);
        }
        g_autoptr(Jv) ok = jv_parse(" {\"a\" : [1, -2, true, null, \"\\u00e9\\ud834\\udd1e\\/\"]} ");
        assert_non_null(ok);
        assert_string_equal(jv_string(ok, "a.4"), "\xc3\xa9\xf0\x9d\x84\x9e/");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_reader_refuses),
                cmocka_unit_test(test_json_append_string_control_characters),
                cmocka_unit_test(test_json_append_string_quote_backslash),
                cmocka_unit_test(test_json_append_string_utf8_kept),
                cmocka_unit_test(test_json_append_string_invalid_utf8),
                cmocka_unit_test(test_json_append_string_random_bytes),
                cmocka_unit_test(test_json_writer_nesting),
                cmocka_unit_test(test_json_writer_numbers),
                cmocka_unit_test(test_json_writer_misuse),
                cmocka_unit_test(test_json_guest_info_every_field),
                cmocka_unit_test(test_bw_guest_to_json_check),
                cmocka_unit_test(test_bw_plan_to_json_changes),
                cmocka_unit_test(test_json_plugin_info_flags),
                cmocka_unit_test(test_bw_manager_plugins_to_json_loaded),
                cmocka_unit_test(test_bw_guest_state_to_json_running),
                cmocka_unit_test(test_bw_guest_state_to_json_partly_undone),
                cmocka_unit_test(test_bw_guest_state_to_json_corrupt),
                cmocka_unit_test(test_bw_manager_guests_to_json_list),
                cmocka_unit_test(test_bw_adopt_report_to_json_lost),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
