/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition keyfiles (DESIGN.md "Guest definition").
 *
 * Two passes over the text.  The first, our own, indexes every group and
 * key with its line number: GKeyFile gives no line numbers, silently
 * merges a repeated group, keeps the last of repeated keys, hides
 * "key[locale]" entries and stops at a NUL byte, and any of those could
 * drop a resource or a key without a word.  It also enforces what GKeyFile
 * accepts but we do not: control characters, invalid UTF-8, repeated
 * groups or keys.  The second pass, GKeyFile's, unescapes the values.
 * Then each group is checked against what its type allows. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "error.h"
#include "guest-parse.h"
#include "log.h"
#include "qcow2.h"

#define NAME_MAX_LEN 64
/* Every valid group has a handful of keys; the cap keeps the duplicate
 * check linear on hostile input. */
#define GROUP_KEYS_MAX 64
/* How much of a value a message quotes. */
#define QUOTE_MAX 96

typedef struct KeyLine {
        const char *name;
        unsigned line;
} KeyLine;

typedef struct GroupLine {
        const char *name;
        unsigned line;
        guint first_key;           /* index into Parser.keys: a group's keys are contiguous */
        guint n_keys;
} GroupLine;

typedef struct Parser {
        const char *source;
        const GuestParseOptions *options;
        BwError *reterr;
        GStringChunk *names;
        GArray *groups;            /* GroupLine, in text order */
        GArray *keys;              /* KeyLine */
        GHashTable *group_index;   /* group name -> index in groups + 1 */
        GKeyFile *keyfile;
        BwGuest *guest;
        const GroupLine *group;    /* the group being checked */
} Parser;

static void parser_done(Parser *p) {
        g_clear_pointer(&p->names, g_string_chunk_free);
        g_clear_pointer(&p->groups, g_array_unref);
        g_clear_pointer(&p->keys, g_array_unref);
        g_clear_pointer(&p->group_index, g_hash_table_unref);
        g_clear_pointer(&p->keyfile, g_key_file_free);
        g_clear_pointer(&p->guest, bw_guest_free);
}

/* ---- Messages ---------------------------------------------------------- */

/* A value as messages quote it: shortened, control characters escaped
 * (GKeyFile escapes like \n can put them in a value). */
static char *quote(const char *s) {
        GString *q = g_string_new(NULL);
        size_t len = strlen(s), n = MIN(len, (size_t) QUOTE_MAX);

        while (n > 0 && n < len && ((unsigned char) s[n] & 0xc0) == 0x80)
                n--; /* do not cut a UTF-8 sequence */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c < 0x20 || c == 0x7f)
                        g_string_append_printf(q, "\\x%02x", c);
                else
                        g_string_append_c(q, (char) c);
        }
        if (n < len)
                g_string_append(q, "...");
        return g_string_free(q, FALSE);
}

/* "<source>:<line>: [<group>] key '<key>': <message>", leaving out what is
 * not known (line 0, no group, no key). */
static int fail_va(Parser *p, unsigned line, const char *key, int code, const char *format, va_list ap) {
        g_autofree char *msg = g_strdup_vprintf(format, ap);
        g_autofree char *where = line > 0 ? g_strdup_printf("%s:%u", p->source, line) : g_strdup(p->source);

        if (p->group && key)
                return error_set(p->reterr, code, "%s: [%s] key '%s': %s", where, p->group->name, key, msg);
        if (p->group)
                return error_set(p->reterr, code, "%s: [%s]: %s", where, p->group->name, msg);
        return error_set(p->reterr, code, "%s: %s", where, msg);
}

static int fail_line(Parser *p, unsigned line, int code, const char *format, ...) G_GNUC_PRINTF(4, 5);
static int fail_line(Parser *p, unsigned line, int code, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, line, NULL, code, format, ap);
        va_end(ap);
        return r;
}

static int fail_group(Parser *p, const char *format, ...) G_GNUC_PRINTF(2, 3);
static int fail_group(Parser *p, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, p->group->line, NULL, -EINVAL, format, ap);
        va_end(ap);
        return r;
}

static const KeyLine *group_key(const Parser *p, const char *key) {
        for (guint i = 0; i < p->group->n_keys; i++) {
                const KeyLine *k = &g_array_index(p->keys, KeyLine, p->group->first_key + i);
                if (strcmp(k->name, key) == 0)
                        return k;
        }
        return NULL;
}

static int fail_key_code(Parser *p, const char *key, int code, const char *format, ...) G_GNUC_PRINTF(4, 5);
static int fail_key_code(Parser *p, const char *key, int code, const char *format, ...) {
        const KeyLine *k = group_key(p, key);
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, k ? k->line : p->group->line, key, code, format, ap);
        va_end(ap);
        return r;
}

#define fail_key(p, key, ...) fail_key_code((p), (key), -EINVAL, __VA_ARGS__)

/* ---- Pass 1: the text index -------------------------------------------- */

static int scan_bytes(Parser *p, const char *line, size_t len, unsigned lineno) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) line[i];
                if (c == '\0')
                        return fail_line(p, lineno, -EINVAL, "NUL byte in the definition");
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return fail_line(p, lineno, -EINVAL, "control character 0x%02x in the definition", c);
        }
        if (!g_utf8_validate_len(line, len, NULL))
                return fail_line(p, lineno, -EINVAL, "not valid UTF-8");
        return 0;
}

static int scan_group(Parser *p, const char *line, size_t len, unsigned lineno) {
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        if (len < 2 || line[len - 1] != ']')
                return fail_line(p, lineno, -EINVAL, "group line without a closing ']'");
        g_autofree char *name = g_strndup(line + 1, len - 2);
        if (name[0] == '\0' || strpbrk(name, "[]"))
                return fail_line(p, lineno, -EINVAL, "invalid group name '%s'", name);
        gpointer first = g_hash_table_lookup(p->group_index, name);
        if (first) {
                const GroupLine *g = &g_array_index(p->groups, GroupLine, GPOINTER_TO_UINT(first) - 1);
                return fail_line(p, lineno, -EINVAL, "[%s]: duplicate group (first at line %u)", name, g->line);
        }
        /* [guest] and one per resource. */
        if (p->groups->len > GUEST_RESOURCES_MAX)
                return fail_line(p, lineno, -E2BIG, "more than %u resources", GUEST_RESOURCES_MAX);
        GroupLine g = {
                .name = g_string_chunk_insert(p->names, name),
                .line = lineno,
                .first_key = p->keys->len,
        };
        g_array_append_val(p->groups, g);
        g_hash_table_insert(p->group_index, (char *) g.name, GUINT_TO_POINTER(p->groups->len));
        return 0;
}

static int scan_key(Parser *p, const char *line, size_t len, unsigned lineno) {
        const char *eq = memchr(line, '=', len);
        size_t klen;

        if (!eq)
                return fail_line(p, lineno, -EINVAL, "line is not a [group], a key=value pair or a # comment");
        klen = (size_t) (eq - line);
        while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
                klen--;
        g_autofree char *key = g_strndup(line, klen);
        if (p->groups->len == 0)
                return fail_line(p, lineno, -EINVAL, "key '%s' before the first [group]", key);
        GroupLine *g = &g_array_index(p->groups, GroupLine, p->groups->len - 1);
        if (klen == 0 || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != klen)
                return fail_line(p, lineno, -EINVAL, "[%s]: invalid key name '%s'", g->name, key);
        for (guint i = 0; i < g->n_keys; i++) {
                const KeyLine *k = &g_array_index(p->keys, KeyLine, g->first_key + i);
                if (strcmp(k->name, key) == 0)
                        return fail_line(p, lineno, -EINVAL, "[%s] key '%s': duplicate key (first at line %u)",
                                         g->name, key, k->line);
        }
        if (g->n_keys >= GROUP_KEYS_MAX)
                return fail_line(p, lineno, -E2BIG, "[%s]: more than %d keys", g->name, GROUP_KEYS_MAX);
        KeyLine k = { g_string_chunk_insert(p->names, key), lineno };
        g_array_append_val(p->keys, k);
        g->n_keys++;
        return 0;
}

static int scan_line(Parser *p, const char *line, size_t len, unsigned lineno) {
        int r = scan_bytes(p, line, len, lineno);
        if (r < 0)
                return r;
        while (len > 0 && (*line == ' ' || *line == '\t')) {
                line++;
                len--;
        }
        if (len == 0 || *line == '#')
                return 0;
        if (*line == '[')
                return scan_group(p, line, len, lineno);
        return scan_key(p, line, len, lineno);
}

static int scan_text(Parser *p, const char *text, size_t len) {
        unsigned lineno = 1;

        for (size_t pos = 0; pos < len; lineno++) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t end = nl ? (size_t) (nl - text) : len;
                size_t line_len = end - pos;
                /* CRLF line ends, as GKeyFile reads them. */
                if (nl && line_len > 0 && text[end - 1] == '\r')
                        line_len--;
                int r = scan_line(p, text + pos, line_len, lineno);
                if (r < 0)
                        return r;
                pos = nl ? end + 1 : len;
        }
        return 0;
}

/* ---- Values ------------------------------------------------------------ */

/* The unescaped value of a key of the current group.  An empty value
 * counts as absent, so "initrd=" means no initrd. */
static int value_get(Parser *p, const char *key, bool required, char **ret) {
        g_autoptr(GError) error = NULL;
        g_autofree char *value = NULL;

        *ret = NULL;
        if (group_key(p, key)) {
                value = g_key_file_get_string(p->keyfile, p->group->name, key, &error);
                if (!value)
                        return fail_key(p, key, "%s", error->message);
                for (const char *c = value; *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f) {
                                g_autofree char *q = quote(value);
                                return fail_key(p, key, "control character in value '%s'", q);
                        }
        }
        if (value && value[0] != '\0') {
                *ret = g_steal_pointer(&value);
                return 0;
        }
        if (required)
                return value ? fail_key(p, key, "empty value") : fail_group(p, "missing required key '%s'", key);
        return 0;
}

static int value_bool(Parser *p, const char *key, bool *ret) {
        g_autofree char *s = NULL;
        int r = value_get(p, key, false, &s);

        if (r < 0)
                return r;
        *ret = false;
        if (!s || strcmp(s, "false") == 0)
                return 0;
        if (strcmp(s, "true") == 0) {
                *ret = true;
                return 0;
        }
        g_autofree char *q = quote(s);
        return fail_key(p, key, "'%s' is not a boolean (true or false)", q);
}

static int value_uint(Parser *p, const char *key, unsigned min, unsigned max, unsigned *ret) {
        g_autofree char *s = NULL;
        int r = value_get(p, key, true, &s);

        if (r < 0)
                return r;
        /* Leading zeros are fine: lsusb prints "Bus 001 Device 004". */
        size_t n = strspn(s, "0123456789");
        guint64 v = n > 0 && n <= 10 ? g_ascii_strtoull(s, NULL, 10) : G_MAXUINT64;
        if (s[n] != '\0' || v < min || v > max) {
                g_autofree char *q = quote(s);
                return fail_key(p, key, "'%s' is not a number from %u to %u", q, min, max);
        }
        *ret = (unsigned) v;
        return 0;
}

/* The value's index in a NULL-terminated table; `def` when absent. */
static int value_enum(Parser *p, const char *key, const char *const *names, int def, int *ret) {
        g_autofree char *s = NULL;
        int r = value_get(p, key, def < 0, &s);

        if (r < 0)
                return r;
        *ret = def;
        if (!s)
                return 0;
        for (int i = 0; names[i]; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = i;
                        return 0;
                }
        g_autofree char *q = quote(s);
        g_autofree char *all = g_strjoinv("|", (char **) names);
        return fail_key(p, key, "'%s' is not one of %s", q, all);
}

/* Absolute, no "." or ".." component (a path is what the user meant, not
 * something to resolve); repeated and trailing slashes are dropped so
 * equal paths compare equal. */
static int path_normalize(Parser *p, const char *key, const char *s, char **ret) {
        g_autofree char *q = quote(s);

        if (s[0] != '/')
                return fail_key(p, key, "relative path '%s' (an absolute path is required)", q);
        if (strlen(s) >= PATH_MAX)
                return fail_key(p, key, "path '%s' longer than %d bytes", q, PATH_MAX - 1);
        g_auto(GStrv) parts = g_strsplit(s, "/", -1);
        GString *out = g_string_sized_new(strlen(s));
        for (char **c = parts; *c; c++) {
                if (**c == '\0')
                        continue;
                if (strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0) {
                        g_string_free(out, TRUE);
                        return fail_key(p, key, "path '%s' has a '.' or '..' component", q);
                }
                g_string_append_c(out, '/');
                g_string_append(out, *c);
        }
        if (out->len == 0)
                g_string_append_c(out, '/');
        *ret = g_string_free(out, FALSE);
        return 0;
}

/* An absolute path, interned in the guest; NULL when absent and optional. */
static int value_path(Parser *p, const char *key, bool required, const char **ret) {
        g_autofree char *s = NULL, *norm = NULL;
        int r = value_get(p, key, required, &s);

        *ret = NULL;
        if (r < 0 || !s)
                return r;
        r = path_normalize(p, key, s, &norm);
        if (r < 0)
                return r;
        *ret = guest_intern(p->guest, norm);
        return 0;
}

static int value_dev_path(Parser *p, const char *key, const char **ret) {
        int r = value_path(p, key, true, ret);

        if (r < 0)
                return r;
        if (!g_str_has_prefix(*ret, "/dev/"))
                return fail_key(p, key, "path '%s' is not under /dev", *ret);
        return 0;
}

/* ---- Names and identities ---------------------------------------------- */

static bool name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        /* "." and ".." would name directories, not a guest. */
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* bulwark's namespace for name-based (version 5) guest UUIDs.  Changing
 * it changes the UUID, and so the AppArmor profile name, of every guest
 * that gives none. */
static const uint8_t guest_uuid_namespace[16] = {
        0x5f, 0x3c, 0xf7, 0x90, 0x37, 0x4f, 0x4c, 0xdb,
        0x9c, 0xf6, 0xf8, 0x57, 0xc8, 0xa6, 0xf7, 0x2b,
};

static char *uuid_format(const uint8_t b[16]) {
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                               b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                               b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static char *uuid_from_name(const char *name) {
        g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
        uint8_t digest[20];
        gsize len = sizeof(digest);

        g_checksum_update(sha1, guest_uuid_namespace, sizeof(guest_uuid_namespace));
        g_checksum_update(sha1, (const guchar *) name, (gssize) strlen(name));
        g_checksum_get_digest(sha1, digest, &len);
        digest[6] = (uint8_t) ((digest[6] & 0x0f) | 0x50); /* version 5 */
        digest[8] = (uint8_t) ((digest[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        return uuid_format(digest);
}

/* The canonical lower-case form of a 36-character UUID, or NULL. */
static char *uuid_normalize(const char *s) {
        uint8_t b[16] = {}, any = 0;
        size_t n = 0;

        if (strlen(s) != 36)
                return NULL;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash != (s[i] == '-') || (!dash && !g_ascii_isxdigit(s[i])))
                        return NULL;
                if (!dash) {
                        b[n / 2] = (uint8_t) (b[n / 2] << 4 | g_ascii_xdigit_value(s[i]));
                        any |= b[n / 2];
                        n++;
                }
        }
        /* The nil UUID is a placeholder, not an identity. */
        return any ? uuid_format(b) : NULL;
}

/* A user or group: a number, or a name looked up in the system database. */
static int identity_lookup(const char *s, bool is_group, uint32_t *ret) {
        size_t n = strspn(s, "0123456789");

        if (n > 0 && s[n] == '\0') {
                guint64 v = n <= 10 ? g_ascii_strtoull(s, NULL, 10) : G_MAXUINT64;
                /* (uid_t) -1 means "no change" to chown(): never an identity. */
                if (v >= UINT32_MAX)
                        return -ERANGE;
                *ret = (uint32_t) v;
                return 0;
        }
        if (s[0] == '-' || strlen(s) > 256 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$") != strlen(s))
                return -EINVAL;
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        for (size_t bufsize = size > 0 ? (size_t) size : 4096; bufsize <= 1024 * 1024; bufsize *= 2) {
                g_autofree char *buf = g_malloc(bufsize);
                int r;
                if (is_group) {
                        struct group gr, *found = NULL;
                        r = getgrnam_r(s, &gr, buf, bufsize, &found);
                        if (r == 0 && found)
                                *ret = (uint32_t) found->gr_gid;
                        if (r == 0)
                                return found ? 0 : -ENOENT;
                } else {
                        struct passwd pw, *found = NULL;
                        r = getpwnam_r(s, &pw, buf, bufsize, &found);
                        if (r == 0 && found)
                                *ret = (uint32_t) found->pw_uid;
                        if (r == 0)
                                return found ? 0 : -ENOENT;
                }
                if (r != ERANGE)
                        return -r;
        }
        return -ERANGE;
}

static int value_identity(Parser *p, const char *key, bool is_group, uint32_t *ret) {
        const char *what = is_group ? "group" : "user";
        g_autofree char *s = NULL, *q = NULL;
        int r = value_get(p, key, true, &s);

        if (r < 0)
                return r;
        q = quote(s);
        r = identity_lookup(s, is_group, ret);
        switch (r) {
        case 0:
                return 0;
        case -ERANGE:
                return fail_key(p, key, "%s id '%s' out of range (0 to %u)", what, q, UINT32_MAX - 1);
        case -EINVAL:
                return fail_key(p, key, "'%s' is not a %s id or a valid %s name", q, what, what);
        case -ENOENT:
                return fail_key(p, key, "unknown %s '%s'", what, q);
        default:
                return fail_key_code(p, key, r, "cannot look up %s '%s': %s", what, q, g_strerror(-r));
        }
}
