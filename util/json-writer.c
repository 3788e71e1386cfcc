/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <inttypes.h>

#include "json-writer.h"

/* One open object or array. */
typedef struct JsonFrame {
        bool object;
        bool first;                /* nothing written in it yet */
        bool want_value;           /* object: a key was written, its value is due */
} JsonFrame;

struct JsonWriter {
        GString *out;
        GArray *stack;             /* JsonFrame, innermost last */
        bool done;                 /* the top-level value is complete */
        int error;                 /* 0, or -EINVAL after a misuse */
};

JsonWriter *json_writer_new(void) {
        JsonWriter *w = g_new0(JsonWriter, 1);
        w->out = g_string_new(NULL);
        w->stack = g_array_new(FALSE, FALSE, sizeof(JsonFrame));
        return w;
}

void json_writer_free(JsonWriter *w) {
        if (!w)
                return;
        g_string_free(w->out, TRUE);
        g_array_unref(w->stack);
        g_free(w);
}

static JsonFrame *json_writer_top(JsonWriter *w) {
        return w->stack->len ? &g_array_index(w->stack, JsonFrame, w->stack->len - 1) : NULL;
}

static bool json_writer_fail(JsonWriter *w) {
        w->error = -EINVAL;
        return false;
}

/* Places a value: the comma before it, or the key it completes.  False
 * (and the writer failed) when no value may come here. */
static bool json_writer_value_begin(JsonWriter *w) {
        JsonFrame *top = json_writer_top(w);

        if (w->error)
                return false;
        if (!top)
                return w->done ? json_writer_fail(w) : true;
        if (top->object) {
                if (!top->want_value)
                        return json_writer_fail(w);
                top->want_value = false;
                return true;
        }
        if (!top->first)
                g_string_append_c(w->out, ',');
        top->first = false;
        return true;
}

/* A scalar or a closed container completed a value. */
static void json_writer_value_end(JsonWriter *w) {
        if (w->stack->len == 0)
                w->done = true;
}

static void json_writer_open(JsonWriter *w, bool object) {
        if (!json_writer_value_begin(w))
                return;
        JsonFrame f = { .object = object, .first = true };
        g_array_append_val(w->stack, f);
        g_string_append_c(w->out, object ? '{' : '[');
}

static void json_writer_close(JsonWriter *w, bool object) {
        JsonFrame *top = json_writer_top(w);

        if (w->error)
                return;
        if (!top || top->object != object || top->want_value) {
                json_writer_fail(w);
                return;
        }
        g_array_set_size(w->stack, w->stack->len - 1);
        g_string_append_c(w->out, object ? '}' : ']');
        json_writer_value_end(w);
}

void json_writer_object_begin(JsonWriter *w) {
        json_writer_open(w, true);
}

void json_writer_object_end(JsonWriter *w) {
        json_writer_close(w, true);
}

void json_writer_array_begin(JsonWriter *w) {
        json_writer_open(w, false);
}

void json_writer_array_end(JsonWriter *w) {
        json_writer_close(w, false);
}

void json_writer_key(JsonWriter *w, const char *key) {
        JsonFrame *top = json_writer_top(w);

        if (w->error)
                return;
        if (!top || !top->object || top->want_value || !key) {
                json_writer_fail(w);
                return;
        }
        if (!top->first)
                g_string_append_c(w->out, ',');
        top->first = false;
        top->want_value = true;
        json_append_string(w->out, key);
        g_string_append_c(w->out, ':');
}

void json_writer_string(JsonWriter *w, const char *s) {
        if (!json_writer_value_begin(w))
                return;
        json_append_string(w->out, s);
        json_writer_value_end(w);
}

void json_writer_int(JsonWriter *w, int64_t v) {
        if (!json_writer_value_begin(w))
                return;
        g_string_append_printf(w->out, "%" PRId64, v);
        json_writer_value_end(w);
}

void json_writer_uint(JsonWriter *w, uint64_t v) {
        if (!json_writer_value_begin(w))
                return;
        g_string_append_printf(w->out, "%" PRIu64, v);
        json_writer_value_end(w);
}

void json_writer_bool(JsonWriter *w, bool v) {
        if (!json_writer_value_begin(w))
                return;
        g_string_append(w->out, v ? "true" : "false");
        json_writer_value_end(w);
}

void json_writer_null(JsonWriter *w) {
        if (!json_writer_value_begin(w))
                return;
        g_string_append(w->out, "null");
        json_writer_value_end(w);
}

void json_writer_member_string(JsonWriter *w, const char *key, const char *s) {
        json_writer_key(w, key);
        json_writer_string(w, s);
}

void json_writer_member_int(JsonWriter *w, const char *key, int64_t v) {
        json_writer_key(w, key);
        json_writer_int(w, v);
}

void json_writer_member_uint(JsonWriter *w, const char *key, uint64_t v) {
        json_writer_key(w, key);
        json_writer_uint(w, v);
}

void json_writer_member_bool(JsonWriter *w, const char *key, bool v) {
        json_writer_key(w, key);
        json_writer_bool(w, v);
}

int json_writer_finish(JsonWriter *w, char **ret_text) {
        int r = w->error ? w->error : (w->stack->len > 0 || !w->done) ? -EINVAL : 0;

        if (r == 0)
                *ret_text = g_strdup(w->out->str);
        g_string_truncate(w->out, 0);
        g_array_set_size(w->stack, 0);
        w->done = false;
        w->error = 0;
        return r;
}

/* ---- Strings ----------------------------------------------------------- */

static bool json_is_hex_escape(const char *p) {
        return p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit(p[2]) && g_ascii_isxdigit(p[3]);
}

/* Appends the valid UTF-8 run [p, end) with JSON's escapes. */
static void json_append_valid(GString *out, const char *p, const char *end) {
        for (; p < end; p++) {
                unsigned char c = (unsigned char) *p;
                switch (c) {
                case '"': g_string_append(out, "\\\""); break;
                case '\b': g_string_append(out, "\\b"); break;
                case '\f': g_string_append(out, "\\f"); break;
                case '\n': g_string_append(out, "\\n"); break;
                case '\r': g_string_append(out, "\\r"); break;
                case '\t': g_string_append(out, "\\t"); break;
                case '\\':
                        /* Text that reads as a byte escape gets its
                         * backslash escaped, so \xHH stays unambiguous. */
                        g_string_append(out, json_is_hex_escape(p) ? "\\\\x5c" : "\\\\");
                        break;
                default:
                        if (c < 0x20)
                                g_string_append_printf(out, "\\u%04x", c);
                        else
                                g_string_append_c(out, (char) c);
                }
        }
}

void json_append_string(GString *out, const char *s) {
        if (!s) {
                g_string_append(out, "null");
                return;
        }
        g_string_append_c(out, '"');
        while (*s) {
                const char *end = NULL;
                g_utf8_validate(s, -1, &end);
                json_append_valid(out, s, end);
                s = end;
                if (*s) {
                        g_string_append_printf(out, "\\\\x%02x", (unsigned) (unsigned char) *s);
                        s++;
                }
        }
        g_string_append_c(out, '"');
}
