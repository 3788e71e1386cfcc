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
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "guest-parse.h"
#include "util/log.h"
#include "qcow2.h"

/* Every valid group has a handful of keys; the cap keeps the duplicate
 * check linear on hostile input. */
#define GROUP_KEYS_MAX 64
/* How much of a value a message quotes. */
#define QUOTE_MAX 96
/* Far above any valid group ("hostdev:" and a 64-byte id) or key name;
 * longer ones would crowd the rest of every message out. */
#define GROUP_NAME_MAX 128
#define KEY_NAME_MAX 64

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
static int fail_va(Parser *p, unsigned line, const char *key, int code, const char *format, va_list ap)
        G_GNUC_PRINTF(5, 0);
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
        if (len - 2 > GROUP_NAME_MAX)
                return fail_line(p, lineno, -EINVAL, "group name longer than %d bytes", GROUP_NAME_MAX);
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
        g_autofree char *q = quote(key);
        if (p->groups->len == 0)
                return fail_line(p, lineno, -EINVAL, "key '%s' before the first [group]", q);
        GroupLine *g = &g_array_index(p->groups, GroupLine, p->groups->len - 1);
        if (klen == 0 || klen > KEY_NAME_MAX ||
            strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != klen)
                return fail_line(p, lineno, -EINVAL, "[%s]: invalid key name '%s'", g->name, q);
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

static int value_identity(Parser *p, const char *key, bool is_group, uint32_t *ret) {
        const char *what = is_group ? "group" : "user";
        g_autofree char *s = NULL, *q = NULL;
        int r = value_get(p, key, true, &s);

        if (r < 0)
                return r;
        q = quote(s);
        r = guest_identity_lookup(s, is_group, ret);
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

/* ---- Keys a group may hold --------------------------------------------- */

/* Keys people may expect that bulwark refuses on purpose, with the reason. */
static const struct {
        const char *group, *key, *why;
} refused_keys[] = {
        { "kernel", "cmdline",
          "the kernel command line is not a host resource: a definition lists only what the guest opens on the host" },
};

static int group_check_keys(Parser *p, const char *kind, const char *const *allowed) {
        for (guint i = 0; i < p->group->n_keys; i++) {
                const char *key = g_array_index(p->keys, KeyLine, p->group->first_key + i).name;
                if (g_strv_contains(allowed, key))
                        continue;
                for (size_t j = 0; j < G_N_ELEMENTS(refused_keys); j++)
                        if (strcmp(refused_keys[j].group, kind) == 0 && strcmp(refused_keys[j].key, key) == 0)
                                return fail_key(p, key, "%s", refused_keys[j].why);
                g_autofree char *all = g_strjoinv(", ", (char **) allowed);
                return fail_key(p, key, "unknown key (known: %s)", all);
        }
        return 0;
}

/* ---- [guest] ----------------------------------------------------------- */

static int guest_parse_identity(Parser *p, BwGuestInfo *info) {
        g_autofree char *name = NULL, *uuid = NULL;
        uint32_t uid, gid;
        int r;

        r = value_get(p, "name", true, &name);
        if (r < 0)
                return r;
        if (!guest_name_is_valid(name)) {
                g_autofree char *q = quote(name);
                return fail_key(p, "name", "invalid name '%s' (1 to %d of a-z A-Z 0-9 _ . -)", q, GUEST_NAME_MAX);
        }
        r = value_get(p, "uuid", false, &uuid);
        if (r < 0)
                return r;
        if (uuid) {
                g_autofree char *norm = guest_uuid_normalize(uuid);
                g_autofree char *q = quote(uuid);
                if (!norm)
                        return fail_key(p, "uuid", "invalid UUID '%s' (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not nil)", q);
                g_free(uuid);
                uuid = g_steal_pointer(&norm);
        } else
                uuid = guest_uuid_from_name(name);
        r = value_identity(p, "user", false, &uid);
        if (r < 0)
                return r;
        r = value_identity(p, "group", true, &gid);
        if (r < 0)
                return r;
        info->name = guest_intern(p->guest, name);
        info->uuid = guest_intern(p->guest, uuid);
        info->uid = (uid_t) uid;
        info->gid = (gid_t) gid;
        return 0;
}

static int guest_parse_main(Parser *p) {
        static const char *const keys[] = { "name", "uuid", "user", "group", "cgroup", "hotplug-vfio", NULL };
        gpointer index = g_hash_table_lookup(p->group_index, "guest");
        BwGuestInfo *info = guest_edit_info(p->guest);
        int r;

        if (!index)
                return fail_line(p, 0, -EINVAL, "missing group [guest]");
        p->group = &g_array_index(p->groups, GroupLine, GPOINTER_TO_UINT(index) - 1);
        r = group_check_keys(p, "guest", keys);
        if (r < 0)
                return r;
        r = guest_parse_identity(p, info);
        if (r < 0)
                return r;
        r = value_path(p, "cgroup", false, &info->cgroup);
        if (r < 0)
                return r;
        info->cgroup_given = info->cgroup != NULL;
        return value_bool(p, "hotplug-vfio", &info->hotplug_vfio);
}

/* ---- Resources --------------------------------------------------------- */

static unsigned key_line(const Parser *p, const char *key) {
        const KeyLine *k = group_key(p, key);
        return k ? k->line : p->group->line;
}

enum { DISK_RAW, DISK_QCOW2, DISK_AUTO };
static const char *const disk_formats[] = { "raw", "qcow2", "auto", NULL };

static int disk_add_chain(Parser *p, const char *path, bool sniff) {
        g_auto(Qcow2Chain) chain = {};
        BwError e = {};
        int r;

        r = qcow2_chain_resolve(path, sniff, &chain, &e);
        if (r < 0)
                return fail_key_code(p, "path", r, "%s", e.message);
        for (char **b = chain.backing; *b; b++)
                guest_add_path(p->guest, *b, BW_PATH_BACKING);
        if (chain.unresolved)
                guest_add_unresolved(p->guest, "%s:%u: [%s] %s: its backing chain is not known", p->source,
                                     key_line(p, "path"), p->group->name, chain.unresolved);
        return 0;
}

static int disk_parse(Parser *p, BwResource *res) {
        const char *path;
        bool readonly, shared;
        int format, r;

        if ((r = value_path(p, "path", true, &path)) < 0 || (r = value_bool(p, "readonly", &readonly)) < 0 ||
            (r = value_bool(p, "shared", &shared)) < 0 ||
            (r = value_enum(p, "format", disk_formats, DISK_RAW, &format)) < 0)
                return r;
        /* A writable raw image holds whatever the guest wrote, a qcow2 header
         * naming any host file included: that file would be labelled for the
         * guest.  The format of a writable disk must be stated. */
        if (format == DISK_AUTO && !readonly)
                return fail_key(p, "format",
                                "format=auto on a writable disk (the guest could write a qcow2 header naming any host file): give format=raw or format=qcow2");
        res->path = path;
        res->readonly = readonly;
        res->shared = shared;
        guest_add_path(p->guest, path, readonly ? BW_PATH_IMAGE_READONLY : BW_PATH_IMAGE);
        if (format == DISK_RAW || p->options->skip_host)
                return 0;
        return disk_add_chain(p, path, format == DISK_AUTO);
}

/* "DDDD:BB:DD.F" in hex, returned in lower case as sysfs names devices. */
static char *pci_address_normalize(const char *s) {
        unsigned domain, bus, slot, function;
        char tail;

        if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
                return NULL;
        for (size_t i = 0; i < 12; i++)
                if (i != 4 && i != 7 && i != 10 && !g_ascii_isxdigit(s[i]))
                        return NULL;
        if (sscanf(s, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &function, &tail) != 4 || slot > 0x1f ||
            function > 7)
                return NULL;
        return g_strdup_printf("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

/* The VFIO group node of a PCI device, from its sysfs iommu_group link.
 * A device missing from sysfs is not an error (see examples/README.md):
 * the hostdev gets no path and the guest records why. */
static int hostdev_vfio_group(Parser *p, BwResource *res) {
        const char *sysfs = p->options->sysfs_root ? p->options->sysfs_root : "/sys";
        g_autofree char *dev = g_strdup_printf("%s/bus/pci/devices/%s", sysfs, res->pci_address);
        g_autofree char *link = g_strdup_printf("%s/iommu_group", dev);
        char target[PATH_MAX];
        ssize_t n = readlink(link, target, sizeof(target) - 1);

        if (n < 0) {
                int err = errno;
                if (err != ENOENT && err != ENOTDIR)
                        return fail_key_code(p, "address", -err, "cannot read '%s': %s", link, g_strerror(err));
                bool present = g_file_test(dev, G_FILE_TEST_EXISTS);
                guest_add_unresolved(p->guest, "%s:%u: [%s] PCI device %s %s: its VFIO group is not known",
                                     p->source, key_line(p, "address"), p->group->name, res->pci_address,
                                     present ? "has no IOMMU group (is the IOMMU enabled?)" : "is not present");
                return 0;
        }
        target[n] = '\0';
        g_autofree char *group = g_path_get_basename(target);
        size_t digits = strlen(group);
        if (digits == 0 || digits > 10 || strspn(group, "0123456789") != digits)
                return fail_key(p, "address", "'%s' points to '%s', not an IOMMU group", link, target);
        g_autofree char *node = g_strdup_printf("/dev/vfio/%s", group);
        res->path = guest_intern(p->guest, node);
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}

static int hostdev_parse_type(Parser *p, BwResource *res) {
        g_autofree char *s = NULL;
        g_autofree char *addr = NULL;
        unsigned bus, device;
        int r;

        switch (res->hostdev_type) {
        case BW_HOSTDEV_VFIO_PCI:
                if ((r = value_get(p, "address", true, &s)) < 0)
                        return r;
                addr = pci_address_normalize(s);
                if (!addr) {
                        g_autofree char *q = quote(s);
                        return fail_key(p, "address", "invalid PCI address '%s' (DDDD:BB:DD.F)", q);
                }
                res->pci_address = guest_intern(p->guest, addr);
                return p->options->skip_host ? 0 : hostdev_vfio_group(p, res);
        case BW_HOSTDEV_USB:
                /* USB allows 127 device addresses per bus. */
                if ((r = value_uint(p, "bus", 1, 999, &bus)) < 0 || (r = value_uint(p, "device", 1, 127, &device)) < 0)
                        return r;
                res->usb_bus = bus;
                res->usb_device = device;
                s = g_strdup_printf("/dev/bus/usb/%03u/%03u", bus, device);
                res->path = guest_intern(p->guest, s);
                break;
        default:
                if ((r = value_dev_path(p, "path", &res->path)) < 0)
                        return r;
                break;
        }
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}

static int hostdev_parse(Parser *p, BwResource *res) {
        /* In BwHostdevType order, from BW_HOSTDEV_VFIO_PCI. */
        static const char *const types[] = { "vfio-pci", "usb", "scsi-generic", NULL };
        static const char *const type_keys[][3] = {
                [BW_HOSTDEV_VFIO_PCI] = { "address" },
                [BW_HOSTDEV_USB] = { "bus", "device" },
                [BW_HOSTDEV_SCSI_GENERIC] = { "path" },
        };
        int index, r;

        r = value_enum(p, "type", types, -1, &index);
        if (r < 0)
                return r;
        int type = BW_HOSTDEV_VFIO_PCI + index;
        /* Keys of another type are mistakes, not extras to ignore. */
        for (guint i = 0; i < p->group->n_keys; i++) {
                const char *key = g_array_index(p->keys, KeyLine, p->group->first_key + i).name;
                bool ok = strcmp(key, "type") == 0;
                for (size_t j = 0; j < 3 && type_keys[type][j]; j++)
                        ok = ok || strcmp(key, type_keys[type][j]) == 0;
                if (!ok)
                        return fail_key(p, key, "does not apply to type=%s", types[index]);
        }
        res->hostdev_type = (BwHostdevType) type;
        return hostdev_parse_type(p, res);
}

static int device_parse(Parser *p, BwResource *res) {
        g_autofree char *access = NULL;
        int r;

        if ((r = value_dev_path(p, "path", &res->path)) < 0 || (r = value_get(p, "access", false, &access)) < 0)
                return r;
        res->access = access ? 0 : BW_ACCESS_READ | BW_ACCESS_WRITE;
        for (const char *c = access; c && *c; c++) {
                unsigned bit = *c == 'r' ? BW_ACCESS_READ : *c == 'w' ? BW_ACCESS_WRITE : *c == 'm' ? BW_ACCESS_MKNOD : 0;
                if (bit == 0 || (res->access & bit)) {
                        g_autofree char *q = quote(access);
                        return fail_key(p, "access", "'%s' is not a combination of r, w and m", q);
                }
                res->access |= bit;
        }
        res->readonly = !(res->access & BW_ACCESS_WRITE);
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}

static int chardev_parse(Parser *p, BwResource *res) {
        /* In BwChardevType order, from BW_CHARDEV_FILE. */
        static const char *const types[] = { "file", "socket", "pipe", "pty", NULL };
        int index, r;

        r = value_enum(p, "type", types, -1, &index);
        if (r < 0)
                return r;
        res->chardev_type = (BwChardevType) (BW_CHARDEV_FILE + index);
        /* A pty is allocated when the guest starts: there is no path to name. */
        if (res->chardev_type == BW_CHARDEV_PTY)
                return group_key(p, "path") ? fail_key(p, "path", "type=pty takes no path") : 0;
        r = value_path(p, "path", true, &res->path);
        if (r < 0)
                return r;
        guest_add_path(p->guest, res->path, BW_PATH_CHARDEV);
        return 0;
}

static int kernel_parse(Parser *p, BwResource *res) {
        const char *initrd;
        int r;

        if ((r = value_path(p, "kernel", true, &res->path)) < 0 || (r = value_path(p, "initrd", false, &initrd)) < 0)
                return r;
        res->readonly = true;
        guest_add_path(p->guest, res->path, BW_PATH_KERNEL);
        if (initrd)
                guest_add_path(p->guest, initrd, BW_PATH_KERNEL);
        return 0;
}

static int firmware_parse(Parser *p, BwResource *res) {
        const char *loader, *nvram;
        int r;

        if ((r = value_path(p, "loader", false, &loader)) < 0 || (r = value_path(p, "nvram", false, &nvram)) < 0)
                return r;
        if (!loader && !nvram)
                return fail_group(p, "needs 'loader', 'nvram' or both");
        res->path = loader ? loader : nvram;
        res->readonly = !nvram;
        if (loader)
                guest_add_path(p->guest, loader, BW_PATH_KERNEL);
        if (nvram)
                guest_add_path(p->guest, nvram, BW_PATH_NVRAM);
        return 0;
}

/* [tpm] and [memory]: one required path. */
static int single_path_parse(Parser *p, BwResource *res, const char *key, BwPathRole role) {
        int r = value_path(p, key, true, &res->path);

        if (r < 0)
                return r;
        guest_add_path(p->guest, res->path, role);
        return 0;
}

static int tpm_parse(Parser *p, BwResource *res) {
        return single_path_parse(p, res, "state", BW_PATH_STATE_DIR);
}

static int memory_parse(Parser *p, BwResource *res) {
        return single_path_parse(p, res, "backing", BW_PATH_MEMORY);
}

typedef struct ResourceKind {
        BwResourceType type;
        bool singleton;            /* [kernel], not [kernel:<id>] */
        const char *keys[7];
        int (*parse)(Parser *p, BwResource *res);
} ResourceKind;

static const ResourceKind resource_kinds[] = {
        { BW_RESOURCE_DISK, false, { "path", "readonly", "shared", "format" }, disk_parse },
        { BW_RESOURCE_HOSTDEV, false, { "type", "address", "bus", "device", "path" }, hostdev_parse },
        { BW_RESOURCE_DEVICE, false, { "path", "access" }, device_parse },
        { BW_RESOURCE_CHARDEV, false, { "type", "path" }, chardev_parse },
        { BW_RESOURCE_KERNEL, true, { "kernel", "initrd" }, kernel_parse },
        { BW_RESOURCE_FIRMWARE, true, { "loader", "nvram" }, firmware_parse },
        { BW_RESOURCE_TPM, true, { "state" }, tpm_parse },
        { BW_RESOURCE_MEMORY, true, { "backing" }, memory_parse },
};

/* Splits "<type>:<id>" (or a singleton's bare name) and checks both. */
static int resource_kind(Parser *p, const ResourceKind **ret_kind, const char **ret_id) {
        const char *name = p->group->name;
        const char *colon = strchr(name, ':');
        g_autofree char *type = colon ? g_strndup(name, (size_t) (colon - name)) : g_strdup(name);

        for (size_t i = 0; i < G_N_ELEMENTS(resource_kinds); i++) {
                const ResourceKind *k = &resource_kinds[i];
                if (strcmp(type, bw_resource_type_to_string(k->type)) != 0)
                        continue;
                if (k->singleton && colon)
                        return fail_group(p, "group [%s] takes no id", type);
                if (!k->singleton && !colon)
                        return fail_group(p, "group [%s] needs an id, as in [%s:<id>]", type, type);
                if (colon && !guest_name_is_valid(colon + 1))
                        return fail_group(p, "invalid id '%s' (1 to %d of a-z A-Z 0-9 _ . -)", colon + 1,
                                          GUEST_NAME_MAX);
                *ret_kind = k;
                *ret_id = colon ? colon + 1 : bw_resource_type_to_string(k->type);
                return 0;
        }
        /* No group prefix: the group is what is unknown. */
        unsigned line = p->group->line;
        p->group = NULL;
        return fail_line(p, line, -EINVAL, "unknown group [%s]", name);
}

static int resource_parse(Parser *p) {
        const ResourceKind *kind = NULL;
        const char *id = NULL;
        int r;

        r = resource_kind(p, &kind, &id);
        if (r < 0 || !kind)
                return r < 0 ? r : -EINVAL;
        r = group_check_keys(p, bw_resource_type_to_string(kind->type), kind->keys);
        if (r < 0)
                return r;
        return kind->parse(p, guest_add_resource(p->guest, kind->type, id));
}

/* ---- Entry point ------------------------------------------------------- */

static int parse_all(Parser *p, const char *text, size_t len) {
        g_autoptr(GError) error = NULL;
        int r;

        r = scan_text(p, text, len);
        if (r < 0)
                return r;
        /* The index accepted only what GKeyFile reads the same way; a
         * failure here is a disagreement, reported as GKeyFile words it. */
        if (!g_key_file_load_from_data(p->keyfile, text, len, G_KEY_FILE_NONE, &error))
                return fail_line(p, 0, -EINVAL, "%s", error->message);
        r = guest_parse_main(p);
        if (r < 0)
                return r;
        for (guint i = 0; i < p->groups->len; i++) {
                p->group = &g_array_index(p->groups, GroupLine, i);
                if (strcmp(p->group->name, "guest") == 0)
                        continue;
                r = resource_parse(p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int guest_parse(const char *text, size_t len, const char *source, const GuestParseOptions *options,
                BwGuest **ret, BwError *reterr) {
        static const GuestParseOptions defaults = {};
        Parser p = {
                .source = source ? source : "<data>",
                .options = options ? options : &defaults,
                .reterr = reterr,
        };
        int r;

        if (len > GUEST_TEXT_MAX)
                return error_set(reterr, -E2BIG, "%s: guest definition of %zu bytes (the limit is %zu MiB)",
                                 p.source, len, GUEST_TEXT_MAX / (1024 * 1024));
        p.names = g_string_chunk_new(4096);
        p.groups = g_array_new(FALSE, FALSE, sizeof(GroupLine));
        p.keys = g_array_new(FALSE, FALSE, sizeof(KeyLine));
        p.group_index = g_hash_table_new(g_str_hash, g_str_equal);
        p.keyfile = g_key_file_new();
        p.guest = guest_new(text, len, p.source, options);
        r = parse_all(&p, text, len);
        if (r >= 0) {
                guest_seal(p.guest);
                log_debug("%s: guest '%s', %u resource(s)", p.source, bw_guest_info(p.guest)->name,
                          (unsigned) bw_guest_info(p.guest)->n_resources);
                *ret = g_steal_pointer(&p.guest);
        }
        parser_done(&p);
        return r < 0 ? r : 0;
}
