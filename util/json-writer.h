/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small JSON builder (RFC 8259) on a GString: objects, arrays, strings,
 * integers, booleans and null.  Commas and colons are placed by the
 * writer; the caller says what comes next.
 *
 * Misuse (a value where a key is due, a key inside an array, a closing
 * bracket that does not match, a second top-level value) is not fatal:
 * the writer remembers it, ignores every later call, and
 * json_writer_finish() returns -EINVAL.  So a caller checks once, at the
 * end.
 *
 * Strings.  Output is always valid UTF-8.  '"', '\' and the control
 * characters U+0000..U+001F are escaped ("\n", "\t", ... or "\u00XX");
 * every other valid UTF-8 sequence is copied as is.
 *
 * Bytes that are not valid UTF-8.  A Linux path, or a backing file name
 * read from an image, may hold any byte but NUL, and JSON text must be
 * UTF-8.  Rule: in a string value, the four characters \xHH always stand
 * for the byte 0xHH.
 *   - each byte that is not part of a valid UTF-8 sequence is written as
 *     \xHH (lower-case hex; in the JSON text, "\\xHH");
 *   - a backslash of the input that is followed by 'x' and two hex digits
 *     is itself written \x5c, so it cannot be mistaken for one;
 *   - everything else, other backslashes included, is kept.
 * So replacing every \xHH of a decoded value with its byte gives back the
 * exact input (jv_unescape_bytes() in tests/test-json.c does it, and so
 * does a one-line re.sub in Python); a valid string without such text,
 * the normal case, reads exactly as it is; and a reader that ignores the
 * rule still sees which byte it was.  Why not U+FFFD: it loses the
 * byte, so two different paths could print the same and a script could
 * not find the file again.  Why not a lone surrogate (\udcHH, Python's
 * surrogateescape): strict parsers (serde_json, Go) reject or replace it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

typedef struct JsonWriter JsonWriter;

JsonWriter *json_writer_new(void);
void json_writer_free(JsonWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonWriter, json_writer_free)

void json_writer_object_begin(JsonWriter *w);
void json_writer_object_end(JsonWriter *w);
void json_writer_array_begin(JsonWriter *w);
void json_writer_array_end(JsonWriter *w);
/* The name of the next member of the current object. */
void json_writer_key(JsonWriter *w, const char *key);

/* Values: in an array, at the top level, or after json_writer_key(). */
void json_writer_string(JsonWriter *w, const char *s);   /* NULL writes null */
void json_writer_int(JsonWriter *w, int64_t v);
void json_writer_uint(JsonWriter *w, uint64_t v);
void json_writer_bool(JsonWriter *w, bool v);
void json_writer_null(JsonWriter *w);

/* A key and its value in one call. */
void json_writer_member_string(JsonWriter *w, const char *key, const char *s);
void json_writer_member_int(JsonWriter *w, const char *key, int64_t v);
void json_writer_member_uint(JsonWriter *w, const char *key, uint64_t v);
void json_writer_member_bool(JsonWriter *w, const char *key, bool v);

/* The finished document, a NUL-terminated string to g_free(); -EINVAL
 * (and *ret_text untouched) when a call was misused or a container is
 * still open or nothing was written.  The writer is empty afterwards. */
int json_writer_finish(JsonWriter *w, char **ret_text);

/* Appends `s` as a JSON string literal, quotes included (null for NULL),
 * by the rules above.  For code that prints JSON without a writer. */
void json_append_string(GString *out, const char *s);
