/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition keyfiles (DESIGN.md "Guest definition"): the text
 * index, messages and values every group's parser uses.
 *
 * Two passes over the text.  The first, our own, indexes every group and
 * key with its line number: GKeyFile gives no line numbers, silently
 * merges a repeated group, keeps the last of repeated keys, hides
 * "key[locale]" entries and stops at a NUL byte, and any of those could
 * drop a resource or a key without a word.  It also enforces what GKeyFile
 * accepts but we do not: control characters, invalid UTF-8, repeated
 * groups or keys.  The second pass, GKeyFile's, unescapes the values. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "util/error.h"
#include "guest-parse-private.h"

void gp_init(Parser *p, const char *source, const GuestParseOptions *options, BwError *reterr) {
        static const GuestParseOptions defaults = {};

        *p = (Parser){
                .source = source ? source : "<data>",
                .options = options ? options : &defaults,
                .reterr = reterr,
        };
        p->names = g_string_chunk_new(4096);
        p->groups = g_array_new(FALSE, FALSE, sizeof(GpGroupLine));
        p->keys = g_array_new(FALSE, FALSE, sizeof(GpKeyLine));
        p->group_index = g_hash_table_new(g_str_hash, g_str_equal);
        p->keyfile = g_key_file_new();
        p->pending_chains = g_array_new(FALSE, FALSE, sizeof(GpPendingChain));
}

void gp_done(Parser *p) {
        g_clear_pointer(&p->names, g_string_chunk_free);
        g_clear_pointer(&p->groups, g_array_unref);
        g_clear_pointer(&p->keys, g_array_unref);
        g_clear_pointer(&p->group_index, g_hash_table_unref);
        g_clear_pointer(&p->keyfile, g_key_file_free);
        g_clear_pointer(&p->guest, bw_guest_free);
        g_clear_pointer(&p->pending_chains, g_array_unref);
        g_clear_pointer(&p->listed_block_devices, g_array_unref);
}

/* ---- Messages ---------------------------------------------------------- */

/* A value as messages gp_quote it: shortened, control characters escaped
 * (GKeyFile escapes like \n can put them in a value). */
char *gp_quote(const char *s) {
        GString *q = g_string_new(NULL);
        size_t len = strlen(s), n = MIN(len, (size_t) GP_QUOTE_MAX);

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

char *gp_where(const Parser *p, unsigned line) {
        if (line == 0)
                return g_strdup(p->source);
        if (p->extra_first_line > 0 && line >= p->extra_first_line)
                return g_strdup_printf("%s:%u", p->extra_source, line - p->extra_first_line + 1);
        return g_strdup_printf("%s:%u", p->source, line);
}

/* "<source>:<line>: [<group>] key '<key>': <message>", leaving out what is
 * not known (line 0, no group, no key). */
static int fail_va(Parser *p, unsigned line, const char *key, int code, const char *format, va_list ap)
        G_GNUC_PRINTF(5, 0);
static int fail_va(Parser *p, unsigned line, const char *key, int code, const char *format, va_list ap) {
        g_autofree char *msg = g_strdup_vprintf(format, ap);
        g_autofree char *where = gp_where(p, line);

        if (p->group && key)
                return error_set(p->reterr, code, "%s: [%s] key '%s': %s", where, p->group->name, key, msg);
        if (p->group)
                return error_set(p->reterr, code, "%s: [%s]: %s", where, p->group->name, msg);
        return error_set(p->reterr, code, "%s: %s", where, msg);
}

int gp_fail_line(Parser *p, unsigned line, int code, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, line, NULL, code, format, ap);
        va_end(ap);
        return r;
}

int gp_fail_group(Parser *p, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, p->group->line, NULL, -EINVAL, format, ap);
        va_end(ap);
        return r;
}

const GpKeyLine *gp_group_key(const Parser *p, const char *key) {
        for (guint i = 0; i < p->group->n_keys; i++) {
                const GpKeyLine *k = &g_array_index(p->keys, GpKeyLine, p->group->first_key + i);
                if (strcmp(k->name, key) == 0)
                        return k;
        }
        return NULL;
}

unsigned gp_key_line(const Parser *p, const char *key) {
        const GpKeyLine *k = gp_group_key(p, key);
        return k ? k->line : p->group->line;
}

int gp_fail_key_code(Parser *p, const char *key, int code, const char *format, ...) {
        const GpKeyLine *k = gp_group_key(p, key);
        va_list ap;
        va_start(ap, format);
        int r = fail_va(p, k ? k->line : p->group->line, key, code, format, ap);
        va_end(ap);
        return r;
}

/* ---- Pass 1: the text index -------------------------------------------- */

static int scan_bytes(Parser *p, const char *line, size_t len, unsigned lineno) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) line[i];
                if (c == '\0')
                        return gp_fail_line(p, lineno, -EINVAL, "NUL byte in the definition");
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return gp_fail_line(p, lineno, -EINVAL, "control character 0x%02x in the definition", c);
        }
        if (!g_utf8_validate_len(line, len, NULL))
                return gp_fail_line(p, lineno, -EINVAL, "not valid UTF-8");
        return 0;
}

static int scan_group(Parser *p, const char *line, size_t len, unsigned lineno) {
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        if (len < 2 || line[len - 1] != ']')
                return gp_fail_line(p, lineno, -EINVAL, "group line without a closing ']'");
        if (len - 2 > GP_GROUP_NAME_MAX)
                return gp_fail_line(p, lineno, -EINVAL, "group name longer than %d bytes", GP_GROUP_NAME_MAX);
        g_autofree char *name = g_strndup(line + 1, len - 2);
        if (name[0] == '\0' || strpbrk(name, "[]"))
                return gp_fail_line(p, lineno, -EINVAL, "invalid group name '%s'", name);
        gpointer first = g_hash_table_lookup(p->group_index, name);
        if (first) {
                const GpGroupLine *g = &g_array_index(p->groups, GpGroupLine, GPOINTER_TO_UINT(first) - 1);
                return gp_fail_line(p, lineno, -EINVAL, "[%s]: duplicate group (first at line %u)", name, g->line);
        }
        /* [guest] and one per resource. */
        if (p->groups->len > GUEST_RESOURCES_MAX)
                return gp_fail_line(p, lineno, -E2BIG, "more than %u resources", GUEST_RESOURCES_MAX);
        GpGroupLine g = {
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
                return gp_fail_line(p, lineno, -EINVAL, "line is not a [group], a key=value pair or a # comment");
        klen = (size_t) (eq - line);
        while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
                klen--;
        g_autofree char *key = g_strndup(line, klen);
        g_autofree char *q = gp_quote(key);
        if (p->groups->len == 0)
                return gp_fail_line(p, lineno, -EINVAL, "key '%s' before the first [group]", q);
        GpGroupLine *g = &g_array_index(p->groups, GpGroupLine, p->groups->len - 1);
        if (klen == 0 || klen > GP_KEY_NAME_MAX ||
            strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != klen)
                return gp_fail_line(p, lineno, -EINVAL, "[%s]: invalid key name '%s'", g->name, q);
        for (guint i = 0; i < g->n_keys; i++) {
                const GpKeyLine *k = &g_array_index(p->keys, GpKeyLine, g->first_key + i);
                if (strcmp(k->name, key) == 0)
                        return gp_fail_line(p, lineno, -EINVAL, "[%s] key '%s': duplicate key (first at line %u)",
                                         g->name, key, k->line);
        }
        if (g->n_keys >= GP_GROUP_KEYS_MAX)
                return gp_fail_line(p, lineno, -E2BIG, "[%s]: more than %d keys", g->name, GP_GROUP_KEYS_MAX);
        GpKeyLine k = { g_string_chunk_insert(p->names, key), lineno };
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

int gp_scan_text(Parser *p, const char *text, size_t len) {
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
int gp_value_get(Parser *p, const char *key, bool required, char **ret) {
        g_autoptr(GError) error = NULL;
        g_autofree char *value = NULL;

        *ret = NULL;
        if (gp_group_key(p, key)) {
                value = g_key_file_get_string(p->keyfile, p->group->name, key, &error);
                if (!value)
                        return gp_fail_key(p, key, "%s", error->message);
                for (const char *c = value; *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f) {
                                g_autofree char *q = gp_quote(value);
                                return gp_fail_key(p, key, "control character in value '%s'", q);
                        }
        }
        if (value && value[0] != '\0') {
                *ret = g_steal_pointer(&value);
                return 0;
        }
        if (required)
                return value ? gp_fail_key(p, key, "empty value") : gp_fail_group(p, "missing required key '%s'", key);
        return 0;
}

int gp_value_bool(Parser *p, const char *key, bool *ret) {
        g_autofree char *s = NULL;
        int r = gp_value_get(p, key, false, &s);

        if (r < 0)
                return r;
        *ret = false;
        if (!s || strcmp(s, "false") == 0)
                return 0;
        if (strcmp(s, "true") == 0) {
                *ret = true;
                return 0;
        }
        g_autofree char *q = gp_quote(s);
        return gp_fail_key(p, key, "'%s' is not a boolean (true or false)", q);
}

int gp_value_uint(Parser *p, const char *key, unsigned min, unsigned max, unsigned *ret) {
        g_autofree char *s = NULL;
        int r = gp_value_get(p, key, true, &s);

        if (r < 0)
                return r;
        /* Leading zeros are fine: lsusb prints "Bus 001 Device 004". */
        size_t n = strspn(s, "0123456789");
        guint64 v = n > 0 && n <= 10 ? g_ascii_strtoull(s, NULL, 10) : G_MAXUINT64;
        if (s[n] != '\0' || v < min || v > max) {
                g_autofree char *q = gp_quote(s);
                return gp_fail_key(p, key, "'%s' is not a number from %u to %u", q, min, max);
        }
        *ret = (unsigned) v;
        return 0;
}

/* The value's index in a NULL-terminated table; `def` when absent. */
int gp_value_enum(Parser *p, const char *key, const char *const *names, int def, int *ret) {
        g_autofree char *s = NULL;
        int r = gp_value_get(p, key, def < 0, &s);

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
        g_autofree char *q = gp_quote(s);
        g_autofree char *all = g_strjoinv("|", (char **) names);
        return gp_fail_key(p, key, "'%s' is not one of %s", q, all);
}

/* Absolute, no "." or ".." component (a path is what the user meant, not
 * something to resolve); repeated and trailing slashes are dropped so
 * equal paths compare equal. */
static int path_normalize(Parser *p, const char *key, const char *s, char **ret) {
        g_autofree char *q = gp_quote(s);

        if (s[0] != '/')
                return gp_fail_key(p, key, "relative path '%s' (an absolute path is required)", q);
        if (strlen(s) >= PATH_MAX)
                return gp_fail_key(p, key, "path '%s' longer than %d bytes", q, PATH_MAX - 1);
        g_auto(GStrv) parts = g_strsplit(s, "/", -1);
        GString *out = g_string_sized_new(strlen(s));
        for (char **c = parts; *c; c++) {
                if (**c == '\0')
                        continue;
                if (strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0) {
                        g_string_free(out, TRUE);
                        return gp_fail_key(p, key, "path '%s' has a '.' or '..' component", q);
                }
                g_string_append_c(out, '/');
                g_string_append(out, *c);
        }
        if (out->len == 0)
                g_string_append_c(out, '/');
        *ret = g_string_free(out, FALSE);
        return 0;
}

int gp_value_path(Parser *p, const char *key, bool required, const char **ret) {
        g_autofree char *s = NULL, *norm = NULL;
        int r = gp_value_get(p, key, required, &s);

        *ret = NULL;
        if (r < 0 || !s)
                return r;
        r = path_normalize(p, key, s, &norm);
        if (r < 0)
                return r;
        /* On the normalized path, so "//dev//stdin/" cannot slip past. */
        const char *why = guest_path_per_process(norm);
        if (why) {
                g_autofree char *q = gp_quote(norm);
                return gp_fail_key(p, key, "path '%s' is refused: %s", q, why);
        }
        *ret = guest_intern(p->guest, norm);
        return 0;
}

int gp_value_list(Parser *p, const char *key, const char *what, char ***ret) {
        g_autofree char *s = NULL;
        int r = gp_value_get(p, key, false, &s);

        *ret = NULL;
        if (r < 0 || !s)
                return r;
        g_auto(GStrv) items = g_strsplit(s, ";", -1);
        guint n = g_strv_length(items);
        if (n > 1 && *items[n - 1] == '\0')
                g_clear_pointer(&items[n - 1], g_free); /* a trailing ';', as GLib's lists allow */
        for (char **item = items; *item; item++)
                if (**item == '\0') {
                        g_autofree char *q = gp_quote(s);
                        return gp_fail_key(p, key, "empty %s in the list '%s'", what, q);
                }
        *ret = g_steal_pointer(&items);
        return 0;
}

int gp_value_path_list(Parser *p, const char *key) {
        g_auto(GStrv) items = NULL;
        int r = gp_value_list(p, key, "path", &items);

        if (r < 0 || !items)
                return r;
        for (char **item = items; *item; item++) {
                g_autofree char *norm = NULL;
                g_autofree char *q = gp_quote(*item);
                r = path_normalize(p, key, *item, &norm);
                if (r < 0)
                        return r;
                const char *why = guest_path_per_process(norm);
                if (why)
                        return gp_fail_key(p, key, "path '%s' is refused: %s", q, why);
                guest_add_hotplug_dir(p->guest, norm);
        }
        return 0;
}

int gp_value_dev_path(Parser *p, const char *key, const char **ret) {
        int r = gp_value_path(p, key, true, ret);

        if (r < 0)
                return r;
        if (!g_str_has_prefix(*ret, "/dev/"))
                return gp_fail_key(p, key, "path '%s' is not under /dev", *ret);
        return 0;
}

int gp_fail_identity(Parser *p, const char *key, bool is_group, const char *s, int r) {
        const char *what = is_group ? "group" : "user";
        g_autofree char *q = gp_quote(s);

        switch (r) {
        case 0:
                return 0;
        case -ERANGE:
                return gp_fail_key(p, key, "%s id '%s' out of range (0 to %u)", what, q, UINT32_MAX - 1);
        case -EINVAL:
                return gp_fail_key(p, key, "'%s' is not a %s id or a valid %s name", q, what, what);
        case -ENOENT:
                return gp_fail_key(p, key, "unknown %s '%s'", what, q);
        default:
                return gp_fail_key_code(p, key, r, "cannot look up %s '%s': %s", what, q, g_strerror(-r));
        }
}

int gp_value_identity(Parser *p, const char *key, bool is_group, uint32_t *ret) {
        g_autofree char *s = NULL;
        int r = gp_value_get(p, key, true, &s);

        if (r < 0)
                return r;
        return gp_fail_identity(p, key, is_group, s, guest_identity_lookup(s, is_group, ret));
}

/* ---- Keys a group may hold --------------------------------------------- */

/* Keys people may expect that bulwark refuses on purpose, with the reason. */
static const struct {
        const char *group, *key, *why;
} refused_keys[] = {
        { "kernel", "cmdline",
          "the kernel command line is not a host resource: a definition lists only what the guest opens on the host" },
};

int gp_group_check_keys(Parser *p, const char *kind, const char *const *allowed) {
        for (guint i = 0; i < p->group->n_keys; i++) {
                const char *key = g_array_index(p->keys, GpKeyLine, p->group->first_key + i).name;
                if (g_strv_contains(allowed, key))
                        continue;
                for (size_t j = 0; j < G_N_ELEMENTS(refused_keys); j++)
                        if (strcmp(refused_keys[j].group, kind) == 0 && strcmp(refused_keys[j].key, key) == 0)
                                return gp_fail_key(p, key, "%s", refused_keys[j].why);
                g_autofree char *all = g_strjoinv(", ", (char **) allowed);
                return gp_fail_key(p, key, "unknown key (known: %s)", all);
        }
        return 0;
}
