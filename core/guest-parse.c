/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definition keyfiles (DESIGN.md "Guest definition"): the entry
 * points, the [guest] group, and the dispatch of every other group to its
 * type's parser (guest-parse-<type>.c).  The text index, messages and
 * value helpers are in guest-parse-keyfile.c; guest-parse-private.h lists
 * what the files share.
 *
 * Order of work: pass 1 indexes the text, GKeyFile unescapes it, [guest]
 * is checked, then each resource group in text order, then the qcow2
 * backing chains of the disks (they need every path the definition lists,
 * see guest-parse-disk.c). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "util/log.h"
#include "guest-parse-private.h"

/* ---- [guest] ----------------------------------------------------------- */

static int guest_parse_identity(Parser *p, BwGuestInfo *info) {
        g_autofree char *name = NULL, *uuid = NULL;
        uint32_t uid, gid;
        int r;

        r = gp_value_get(p, "name", true, &name);
        if (r < 0)
                return r;
        const char *why = guest_name_why_invalid(name);
        if (why) {
                g_autofree char *q = gp_quote(name);
                return gp_fail_key(p, "name", "invalid name '%s' (" GUEST_NAME_RULE "): %s", q, why);
        }
        r = gp_value_get(p, "uuid", false, &uuid);
        if (r < 0)
                return r;
        if (uuid) {
                g_autofree char *norm = guest_uuid_normalize(uuid);
                g_autofree char *q = gp_quote(uuid);
                if (!norm)
                        return gp_fail_key(p, "uuid", "invalid UUID '%s' (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not nil)", q);
                g_free(uuid);
                uuid = g_steal_pointer(&norm);
        } else
                uuid = guest_uuid_from_name(name);
        r = gp_value_identity(p, "user", false, &uid);
        if (r < 0)
                return r;
        r = gp_value_identity(p, "group", true, &gid);
        if (r < 0)
                return r;
        info->name = guest_intern(p->guest, name);
        info->uuid = guest_intern(p->guest, uuid);
        info->uid = (uid_t) uid;
        info->gid = (gid_t) gid;
        return 0;
}

/* groups: the supplementary groups of the guest's process, by name or
 * number, looked up now.  A name this host does not know leaves the guest
 * unresolved, as a missing device does: the definition still loads where
 * it is checked (a host without a `kvm` group), and a start refuses. */
static int guest_parse_groups(Parser *p) {
        g_auto(GStrv) items = NULL;
        int r = gp_value_list(p, "groups", "group", &items);

        if (r < 0 || !items)
                return r;
        long max = sysconf(_SC_NGROUPS_MAX);
        if (max > 0 && g_strv_length(items) > (guint) max)
                return gp_fail_key(p, "groups", "%u groups, the kernel takes at most %ld", g_strv_length(items), max);
        for (char **item = items; *item; item++) {
                uint32_t gid;
                r = guest_identity_lookup(*item, true, &gid);
                if (r == -ENOENT) {
                        g_autofree char *where = gp_where(p, gp_key_line(p, "groups"));
                        g_autofree char *q = gp_quote(*item);
                        guest_add_unresolved_main(p->guest,
                                                  "%s: [guest] key 'groups': unknown group '%s': the guest's process cannot join it",
                                                  where, q);
                        continue;
                }
                if (r < 0)
                        return gp_fail_identity(p, "groups", true, *item, r);
                if (!guest_add_group(p->guest, (gid_t) gid)) {
                        g_autofree char *q = gp_quote(*item);
                        return gp_fail_key(p, "groups", "group '%s' (gid %u) is listed twice", q, gid);
                }
        }
        return 0;
}

static int guest_parse_main(Parser *p) {
        static const char *const keys[] = { "name", "uuid", "user", "group", "groups", "cgroup", "hotplug-vfio",
                                            "hotplug-dirs", NULL };
        gpointer index = g_hash_table_lookup(p->group_index, "guest");
        BwGuestInfo *info = guest_edit_info(p->guest);
        int r;

        if (!index)
                return gp_fail_line(p, 0, -EINVAL, "missing group [guest]");
        p->group = &g_array_index(p->groups, GpGroupLine, GPOINTER_TO_UINT(index) - 1);
        r = gp_group_check_keys(p, "guest", keys);
        if (r < 0)
                return r;
        r = guest_parse_identity(p, info);
        if (r < 0)
                return r;
        r = guest_parse_groups(p);
        if (r < 0)
                return r;
        r = gp_value_path(p, "cgroup", false, &info->cgroup);
        if (r < 0)
                return r;
        info->cgroup_given = info->cgroup != NULL;
        r = gp_value_bool(p, "hotplug-vfio", &info->hotplug_vfio);
        if (r < 0)
                return r;
        return gp_value_path_list(p, "hotplug-dirs");
}

/* ---- Resources --------------------------------------------------------- */

typedef struct ResourceKind {
        BwResourceType type;
        bool singleton;            /* [kernel], not [kernel:<id>] */
        const char *keys[7];
        int (*parse)(Parser *p, BwResource *res);
} ResourceKind;

static const ResourceKind resource_kinds[] = {
        { BW_RESOURCE_DISK, false, { "path", "readonly", "shared", "format" }, gp_disk_parse },
        { BW_RESOURCE_HOSTDEV, false, { "type", "address", "bus", "device", "path" }, gp_hostdev_parse },
        { BW_RESOURCE_DEVICE, false, { "path", "access" }, gp_device_parse },
        { BW_RESOURCE_CHARDEV, false, { "type", "path" }, gp_chardev_parse },
        { BW_RESOURCE_KERNEL, true, { "kernel", "initrd" }, gp_kernel_parse },
        { BW_RESOURCE_FIRMWARE, true, { "loader", "nvram" }, gp_firmware_parse },
        { BW_RESOURCE_TPM, true, { "state" }, gp_tpm_parse },
        { BW_RESOURCE_MEMORY, true, { "backing" }, gp_memory_parse },
};

static const ResourceKind *kind_by_name(const char *type, size_t len) {
        for (size_t i = 0; i < G_N_ELEMENTS(resource_kinds); i++) {
                const char *name = bw_resource_type_to_string(resource_kinds[i].type);
                if (strlen(name) == len && strncmp(type, name, len) == 0)
                        return &resource_kinds[i];
        }
        return NULL;
}

static const ResourceKind *kind_by_type(BwResourceType type) {
        for (size_t i = 0; i < G_N_ELEMENTS(resource_kinds); i++)
                if (resource_kinds[i].type == type)
                        return &resource_kinds[i];
        return NULL;
}

char *guest_resource_ref(const BwResource *res) {
        const ResourceKind *k = kind_by_type(res->type);
        const char *type = bw_resource_type_to_string(res->type);

        if (k && k->singleton)
                return g_strdup(type);
        return g_strdup_printf("%s:%s", type ? type : "?", res->id);
}

/* Splits "<type>:<id>" (or a singleton's bare name) and checks both. */
static int resource_kind(Parser *p, const ResourceKind **ret_kind, const char **ret_id) {
        const char *name = p->group->name;
        const char *colon = strchr(name, ':');
        size_t type_len = colon ? (size_t) (colon - name) : strlen(name);
        const ResourceKind *k = kind_by_name(name, type_len);

        if (k) {
                const char *type = bw_resource_type_to_string(k->type);
                if (k->singleton && colon)
                        return gp_fail_group(p, "group [%s] takes no id", type);
                if (!k->singleton && !colon)
                        return gp_fail_group(p, "group [%s] needs an id, as in [%s:<id>]", type, type);
                const char *why = colon ? guest_name_why_invalid(colon + 1) : NULL;
                if (why)
                        return gp_fail_group(p, "invalid id '%s' (" GUEST_NAME_RULE "): %s", colon + 1, why);
                *ret_kind = k;
                *ret_id = colon ? colon + 1 : type;
                return 0;
        }
        /* No group prefix: the group is what is unknown. */
        unsigned line = p->group->line;
        p->group = NULL;
        return gp_fail_line(p, line, -EINVAL, "unknown group [%s]", name);
}

static int resource_parse(Parser *p) {
        const ResourceKind *kind = NULL;
        const char *id = NULL;
        int r;

        r = resource_kind(p, &kind, &id);
        if (r < 0 || !kind)
                return r < 0 ? r : -EINVAL;
        r = gp_group_check_keys(p, bw_resource_type_to_string(kind->type), kind->keys);
        if (r < 0)
                return r;
        BwResource *res = guest_add_resource(p->guest, kind->type, id);
        p->resource = (guint) guest_get_n_added(p->guest) - 1;
        return kind->parse(p, res);
}

/* ---- Entry points ------------------------------------------------------ */

static int parse_all(Parser *p, const char *text, size_t len) {
        g_autoptr(GError) error = NULL;
        int r;

        r = gp_scan_text(p, text, len);
        if (r < 0)
                return r;
        /* The index accepted only what GKeyFile reads the same way; a
         * failure here is a disagreement, reported as GKeyFile words it. */
        if (!g_key_file_load_from_data(p->keyfile, text, len, G_KEY_FILE_NONE, &error))
                return gp_fail_line(p, 0, -EINVAL, "%s", error->message);
        r = guest_parse_main(p);
        if (r < 0)
                return r;
        for (guint i = 0; i < p->groups->len; i++) {
                p->group = &g_array_index(p->groups, GpGroupLine, i);
                if (strcmp(p->group->name, "guest") == 0)
                        continue;
                r = resource_parse(p);
                if (r < 0)
                        return r;
        }
        return gp_disk_resolve_chains(p);
}

/* Parses `len` bytes with a parser set up by gp_init() (and done by the
 * caller): the guest, sealed, on success. */
static int parse_text(Parser *p, const char *text, size_t len, BwGuest **ret) {
        if (len > GUEST_TEXT_MAX)
                return error_set(p->reterr, -E2BIG, "%s: guest definition of %zu bytes (the limit is %zu MiB)",
                                 p->source, len, GUEST_TEXT_MAX / (1024 * 1024));
        p->guest = guest_new(text, len, p->source, p->options);
        int r = parse_all(p, text, len);
        if (r < 0)
                return r;
        guest_seal(p->guest);
        log_debug("%s: guest '%s', %u resource(s)", p->source, bw_guest_info(p->guest)->name,
                  (unsigned) bw_guest_info(p->guest)->n_resources);
        *ret = g_steal_pointer(&p->guest);
        return 0;
}

int guest_parse(const char *text, size_t len, const char *source, const GuestParseOptions *options,
                BwGuest **ret, BwError *reterr) {
        Parser p;

        gp_init(&p, source, options, reterr);
        int r = parse_text(&p, text, len, ret);
        gp_done(&p);
        return r < 0 ? r : 0;
}

/* Parses the edited text of `guest` as guest_copy() would re-parse it.
 * `extra_first_line`, `extra_source`: see Parser. */
static int reparse_edited(const BwGuest *guest, const char *text, size_t len, unsigned extra_first_line,
                          const char *extra_source, BwGuest **ret, BwError *reterr) {
        g_autoptr(BwGuest) edited = NULL;
        GuestParseOptions options;
        Parser p;
        int r;

        guest_get_parse_options(guest, &options);
        gp_init(&p, guest_get_source(guest), &options, reterr);
        p.extra_first_line = extra_first_line;
        p.extra_source = extra_source;
        r = parse_text(&p, text, len, &edited);
        gp_done(&p);
        if (r < 0)
                return r;
        r = guest_inherit_cgroup(guest, edited, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&edited);
        return 0;
}

static const BwResource *guest_find_resource(const BwGuest *guest, const char *ref) {
        const BwGuestInfo *info = bw_guest_info(guest);

        for (size_t i = 0; i < info->n_resources; i++) {
                g_autofree char *r = guest_resource_ref(info->resources[i]);
                if (strcmp(r, ref) == 0)
                        return info->resources[i];
        }
        return NULL;
}

int guest_parse_with_resource(const BwGuest *guest, const char *resource_text, const char *source,
                              BwGuest **ret_guest, const BwResource **ret_added, BwError *reterr) {
        g_autoptr(BwGuest) edited = NULL;
        Parser scan;
        int r;

        if (!source)
                source = "<resource>";
        if (!guest || !resource_text || !ret_guest)
                return error_set(reterr, -EINVAL, "%s: adding a resource: missing argument", source);
        size_t rlen = strlen(resource_text);
        if (rlen > GUEST_TEXT_MAX)
                return error_set(reterr, -E2BIG, "%s: resource text of %zu bytes (the limit is %zu MiB)", source,
                                 rlen, GUEST_TEXT_MAX / (1024 * 1024));
        /* The resource text alone first: its syntax errors, and what
         * groups it holds, located in it. */
        gp_init(&scan, source, NULL, reterr);
        r = gp_scan_text(&scan, resource_text, rlen);
        if (r >= 0 && scan.groups->len != 1) {
                const GpGroupLine *g = scan.groups->len > 1 ? &g_array_index(scan.groups, GpGroupLine, 1) : NULL;
                r = g ? error_set(reterr, -EINVAL,
                                  "%s:%u: [%s]: a second group (a resource text holds exactly one resource group)",
                                  source, g->line, g->name)
                      : error_set(reterr, -EINVAL, "%s: no group (a resource text holds one group, such as [disk:<id>])",
                                  source);
        }
        if (r >= 0) {
                const GpGroupLine *g = &g_array_index(scan.groups, GpGroupLine, 0);
                if (strcmp(g->name, "guest") == 0)
                        r = error_set(reterr, -EINVAL,
                                      "%s:%u: [guest]: not a resource (a resource text holds one resource group, not [guest])",
                                      source, g->line);
                else if (guest_find_resource(guest, g->name))
                        r = error_set(reterr, -EEXIST, "%s:%u: [%s]: guest '%s' already has resource [%s]", source,
                                      g->line, g->name, guest_get_name(guest), g->name);
        }
        gp_done(&scan);
        if (r < 0)
                return r;

        /* The old text, a line end where it lacks one, the resource text. */
        const char *old = guest_get_text(guest);
        g_autoptr(GString) text = g_string_new(old);
        if (text->len > 0 && text->str[text->len - 1] != '\n')
                g_string_append_c(text, '\n');
        unsigned first_line = 1;
        for (const char *c = text->str; (c = strchr(c, '\n')); c++)
                first_line++;
        g_string_append_len(text, resource_text, (gssize) rlen);
        if (rlen > 0 && resource_text[rlen - 1] != '\n')
                g_string_append_c(text, '\n');
        if (text->len > GUEST_TEXT_MAX)
                return error_set(reterr, -E2BIG,
                                 "%s: with this resource the definition of guest '%s' would be %zu bytes (the limit is %zu MiB)",
                                 source, guest_get_name(guest), text->len, GUEST_TEXT_MAX / (1024 * 1024));
        r = reparse_edited(guest, text->str, text->len, first_line, source, &edited, reterr);
        if (r < 0)
                return r;
        /* Groups become resources in text order: the new one is last. */
        const BwGuestInfo *info = bw_guest_info(edited);
        g_assert(info->n_resources > 0);
        if (ret_added)
                *ret_added = info->resources[info->n_resources - 1];
        *ret_guest = g_steal_pointer(&edited);
        return 0;
}

/* Whether `ref` has the form of a resource reference. */
static bool resource_ref_is_valid(const char *ref) {
        const char *colon = strchr(ref, ':');
        const ResourceKind *k = kind_by_name(ref, colon ? (size_t) (colon - ref) : strlen(ref));

        if (!k || k->singleton != !colon)
                return false;
        return !colon || guest_name_is_valid(colon + 1);
}

/* The byte offset where each line starts, from line 1; one more entry,
 * the length, ends the last line. */
static GArray *line_starts(const char *text, size_t len) {
        GArray *starts = g_array_new(FALSE, FALSE, sizeof(size_t));
        size_t pos = 0;

        g_array_append_val(starts, pos);
        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                pos = nl ? (size_t) (nl - text) + 1 : len;
                g_array_append_val(starts, pos);
        }
        return starts;
}

/* Where line `line` (from 1) starts; the length past the last line. */
static size_t line_offset(const GArray *starts, unsigned line) {
        guint i = MIN(line - 1, starts->len - 1);
        return g_array_index(starts, size_t, i);
}

static bool line_is_blank(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
                        return false;
        return true;
}

int guest_parse_without_resource(const BwGuest *guest, const char *resource_ref, BwGuest **ret_guest,
                                 BwError *reterr) {
        g_autoptr(BwGuest) edited = NULL;
        Parser scan;
        int r;

        if (!guest || !resource_ref || !ret_guest)
                return error_set(reterr, -EINVAL, "removing a resource: missing argument");
        const char *name = guest_get_name(guest);
        if (strcmp(resource_ref, "guest") == 0)
                return error_set(reterr, -EINVAL, "guest '%s': the [guest] group cannot be removed", name);
        if (!resource_ref_is_valid(resource_ref)) {
                g_autofree char *q = gp_quote(resource_ref);
                return error_set(reterr, -EINVAL,
                                 "guest '%s': '%s' is not a resource reference (<type>:<id>, or kernel, firmware, tpm, memory)",
                                 name, q);
        }
        if (!guest_find_resource(guest, resource_ref))
                return error_set(reterr, -ENOENT, "guest '%s' has no resource [%s]", name, resource_ref);

        /* Where the group is: the text parsed, so the index holds it. */
        const char *old = guest_get_text(guest);
        size_t len = strlen(old);
        gp_init(&scan, guest_get_source(guest), NULL, reterr);
        r = gp_scan_text(&scan, old, len);
        gpointer index = r < 0 ? NULL : g_hash_table_lookup(scan.group_index, resource_ref);
        unsigned first = 0, last = 0;
        if (index) {
                const GpGroupLine *g = &g_array_index(scan.groups, GpGroupLine, GPOINTER_TO_UINT(index) - 1);
                first = last = g->line;
                for (guint i = 0; i < g->n_keys; i++)
                        last = MAX(last, g_array_index(scan.keys, GpKeyLine, g->first_key + i).line);
        }
        gp_done(&scan);
        if (!index)
                return error_set(reterr, r < 0 ? r : -EIO, "guest '%s': group [%s] not found in the definition text",
                                 name, resource_ref);

        /* The comment lines right above its header (no blank line between:
         * they describe it), its header to its last key, and the blank
         * lines after them. */
        g_autoptr(GArray) starts = line_starts(old, len);
        while (first > 1) {
                const char *c = old + line_offset(starts, first - 1), *end = old + line_offset(starts, first);
                while (c < end && (*c == ' ' || *c == '\t'))
                        c++;
                if (c == end || *c != '#')
                        break;
                first--;
        }
        size_t start = line_offset(starts, first);
        unsigned after = last + 1;
        while (line_offset(starts, after) < len &&
               line_is_blank(old + line_offset(starts, after), line_offset(starts, after + 1) - line_offset(starts, after)))
                after++;
        size_t end = line_offset(starts, after);
        g_autoptr(GString) text = g_string_new_len(old, (gssize) start);
        g_string_append_len(text, old + end, (gssize) (len - end));
        /* What fails now is in the rest of the definition (a backing block
         * device only this group listed): say which edit made it fail. */
        BwError e = {};
        r = reparse_edited(guest, text->str, text->len, 0, NULL, &edited, &e);
        if (r < 0)
                return error_set(reterr, r, "guest '%s' without [%s]: %s", name, resource_ref, e.message);
        *ret_guest = g_steal_pointer(&edited);
        return 0;
}
