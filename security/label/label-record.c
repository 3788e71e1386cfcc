/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The remember record's encoding and its validation (see label-record.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "label-record.h"

#define LABEL_RECORD_MAGIC "bulwark-label-record"

bool label_uuid_is_valid(const char *s) {
        if (!s || strlen(s) != LABEL_UUID_LEN)
                return false;
        for (size_t i = 0; i < LABEL_UUID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !g_ascii_isxdigit(s[i]))
                        return false;
        }
        return true;
}

LabelRecord *label_record_new(const char *driver, const char *boot, GBytes *original, GBytes *applied) {
        LabelRecord *r = g_new0(LabelRecord, 1);
        r->driver = g_strdup(driver);
        g_strlcpy(r->boot, boot, sizeof(r->boot));
        r->original = g_bytes_ref(original);
        r->applied = g_bytes_ref(applied);
        r->holders = g_ptr_array_new_with_free_func(g_free);
        return r;
}

void label_record_free(LabelRecord *r) {
        if (!r)
                return;
        g_free(r->driver);
        if (r->original)
                g_bytes_unref(r->original);
        if (r->applied)
                g_bytes_unref(r->applied);
        if (r->holders)
                g_ptr_array_unref(r->holders);
        g_free(r);
}

char *label_escape(const void *label, size_t len) {
        const unsigned char *p = label;
        GString *s = g_string_sized_new(len + 8);
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '!' || p[i] > '~' || p[i] == '\\')
                        g_string_append_printf(s, "\\x%02x", p[i]);
                else
                        g_string_append_c(s, (char) p[i]);
        }
        return g_string_free(s, FALSE);
}

char *label_display(GBytes *label) {
        size_t len = g_bytes_get_size(label);
        const char *p = g_bytes_get_data(label, NULL);
        if (len > 0 && p[len - 1] == '\0')
                len--;
        return len == 0 ? g_strdup("(none)") : label_escape(p, len);
}

int label_unescape(const char *text, GBytes **ret) {
        GByteArray *b = g_byte_array_new();
        for (const char *p = text; *p; p++) {
                guint8 c = (guint8) *p;
                if (c == '\\') {
                        if (p[1] != 'x' || !g_ascii_isxdigit(p[2]) || !g_ascii_isxdigit(p[3])) {
                                g_byte_array_unref(b);
                                return -EINVAL;
                        }
                        c = (guint8) (g_ascii_xdigit_value(p[2]) << 4 | g_ascii_xdigit_value(p[3]));
                        p += 3;
                } else if (c < '!' || c > '~') {
                        g_byte_array_unref(b);
                        return -EINVAL;
                }
                g_byte_array_append(b, &c, 1);
        }
        *ret = g_byte_array_free_to_bytes(b);
        return 0;
}

char *label_record_format(const LabelRecord *r, size_t *ret_len) {
        g_autofree char *original = label_escape(g_bytes_get_data(r->original, NULL), g_bytes_get_size(r->original));
        g_autofree char *applied = label_escape(g_bytes_get_data(r->applied, NULL), g_bytes_get_size(r->applied));
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "%s %d\ndriver %s\nboot %s\noriginal %s\napplied %s\n", LABEL_RECORD_MAGIC,
                               LABEL_RECORD_VERSION, r->driver, r->boot, original, applied);
        for (guint i = 0; i < r->holders->len; i++)
                g_string_append_printf(s, "holder %s\n", (const char *) r->holders->pdata[i]);
        *ret_len = s->len;
        return g_string_free(s, FALSE);
}

bool label_record_has_holder(const LabelRecord *r, const char *uuid) {
        for (guint i = 0; i < r->holders->len; i++)
                if (g_ascii_strcasecmp(r->holders->pdata[i], uuid) == 0)
                        return true;
        return false;
}

bool label_record_add_holder(LabelRecord *r, const char *uuid) {
        if (label_record_has_holder(r, uuid))
                return false;
        g_ptr_array_add(r->holders, g_ascii_strdown(uuid, -1));
        return true;
}

bool label_record_remove_holder(LabelRecord *r, const char *uuid) {
        for (guint i = 0; i < r->holders->len; i++)
                if (g_ascii_strcasecmp(r->holders->pdata[i], uuid) == 0) {
                        g_ptr_array_remove_index(r->holders, i);
                        return true;
                }
        return false;
}

static int label_record_refuse(char **ret_why, const char *format, ...) G_GNUC_PRINTF(2, 3);
static int label_record_refuse(char **ret_why, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        *ret_why = g_strdup_vprintf(format, ap);
        va_end(ap);
        return -EBADMSG;
}

static int label_record_parse_label(LabelValidFn valid, const char *key, const char *value, bool may_be_empty,
                                    GBytes **ret, char **ret_why) {
        g_autoptr(GBytes) b = NULL;
        if (label_unescape(value, &b) < 0)
                return label_record_refuse(ret_why, "%s label '%s' is badly escaped", key, value);
        size_t len = g_bytes_get_size(b);
        /* Empty: the file had no label; only a driver with such files (SELinux) says that is valid. */
        if (len == 0 && (!may_be_empty || (valid && !valid("", 0))))
                return label_record_refuse(ret_why, "%s label is empty", key);
        if (len > LABEL_LABEL_MAX || (len > 0 && valid && !valid(g_bytes_get_data(b, NULL), len)))
                return label_record_refuse(ret_why, "%s label '%s' is not a valid label", key, value);
        *ret = g_steal_pointer(&b);
        return 0;
}

int label_record_parse(const char *driver, LabelValidFn valid, const char *text, size_t len, LabelRecord **ret,
                       char **ret_why) {
        if (len == 0 || len > LABEL_RECORD_SIZE_MAX)
                return label_record_refuse(ret_why, "record of %zu bytes (at most %d)", len, LABEL_RECORD_SIZE_MAX);
        if (memchr(text, '\0', len) || text[len - 1] != '\n')
                return label_record_refuse(ret_why, "record is not newline-terminated text");
        g_autofree char *copy = g_strndup(text, len - 1);
        g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
        g_autofree char *magic = g_strdup_printf("%s %d", LABEL_RECORD_MAGIC, LABEL_RECORD_VERSION);
        if (!lines[0] || strcmp(lines[0], magic) != 0)
                return label_record_refuse(ret_why, "first line '%s' is not '%s'", lines[0] ? lines[0] : "", magic);

        g_autoptr(LabelRecord) r = g_new0(LabelRecord, 1);
        r->holders = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 1; lines[i]; i++) {
                char *sp = strchr(lines[i], ' ');
                if (!sp)
                        return label_record_refuse(ret_why, "line %zu '%s' has no value", i + 1, lines[i]);
                *sp = '\0';
                const char *key = lines[i], *value = sp + 1;
                int k;
                if (strcmp(key, "driver") == 0 && !r->driver) {
                        if (strcmp(value, driver) != 0)
                                return label_record_refuse(ret_why, "record of driver '%s', not '%s'", value, driver);
                        r->driver = g_strdup(value);
                } else if (strcmp(key, "boot") == 0 && !r->boot[0]) {
                        if (!label_uuid_is_valid(value))
                                return label_record_refuse(ret_why, "boot id '%s' is not a uuid", value);
                        g_strlcpy(r->boot, value, sizeof(r->boot));
                } else if (strcmp(key, "original") == 0 && !r->original) {
                        if ((k = label_record_parse_label(valid, key, value, true, &r->original, ret_why)) < 0)
                                return k;
                } else if (strcmp(key, "applied") == 0 && !r->applied) {
                        if ((k = label_record_parse_label(valid, key, value, false, &r->applied, ret_why)) < 0)
                                return k;
                } else if (strcmp(key, "holder") == 0) {
                        if (!label_uuid_is_valid(value))
                                return label_record_refuse(ret_why, "holder '%s' is not a uuid", value);
                        if (!label_record_add_holder(r, value))
                                return label_record_refuse(ret_why, "holder '%s' is listed twice", value);
                        if (r->holders->len > LABEL_RECORD_HOLDERS_MAX)
                                return label_record_refuse(ret_why, "more than %d holders", LABEL_RECORD_HOLDERS_MAX);
                } else
                        return label_record_refuse(ret_why, "line %zu: unknown or repeated key '%s'", i + 1, key);
        }
        if (!r->driver || !r->boot[0] || !r->original || !r->applied || r->holders->len == 0)
                return label_record_refuse(ret_why, "record lacks %s",
                                           !r->driver     ? "its driver"
                                           : !r->boot[0]  ? "its boot id"
                                           : !r->original ? "the original label"
                                           : !r->applied  ? "the applied label"
                                                          : "a holder");
        *ret = g_steal_pointer(&r);
        return 0;
}
