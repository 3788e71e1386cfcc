/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin's query commands, each about the guest the query carries:
 *   profile [--profile-dir DIR]         the profile and include it would get
 *   profile-write ACTION [--profile-dir DIR] [TYPE:ID]
 *       ACTION create (refused when the profile exists), replace, remove,
 *       add-resource TYPE:ID (that resource's section, the rest kept)
 *   profile-change [--undo] DATA        one change of the plugin's journal
 *       (the helper's --change), in the configured profile directory
 *       only, its rules checked first: only rules this
 *       plugin would write pass, so a daemon that hands the helper its
 *       changes cannot have it write any other policy
 * `bulwarkctl profile` and bulwark-aa-helper are built on them. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "aa-plugin.h"
#include "aa-profile.h"
#include "aa-rule-check.h"
#include "aa-rules.h"
#include "util/json-writer.h"

typedef struct QueryArgs {
        const char *action;        /* profile-write only */
        const char *dir;
        const char *ref;
} QueryArgs;

static int query_fail(const AaState *s, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int query_fail(const AaState *s, int code, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_autofree char *m = g_strdup_vprintf(format, ap);
        va_end(ap);
        aa_plugin_log(s, BW_LOG_ERR, "%s", m);
        return code;
}

static int query_args(const AaState *s, const BwQuery *q, bool write, QueryArgs *ret) {
        size_t i = 0;
        *ret = (QueryArgs){ .dir = s->profile_dir };
        if (write) {
                if (q->argc < 1)
                        return query_fail(s, -EINVAL, "profile-write: missing action (create, replace, remove, add-resource)");
                ret->action = q->argv[i++];
        }
        for (; i < q->argc; i++) {
                if (strcmp(q->argv[i], "--profile-dir") == 0 && i + 1 < q->argc)
                        ret->dir = q->argv[++i];
                else if (write && !ret->ref && q->argv[i][0] != '-')
                        ret->ref = q->argv[i];
                else
                        return query_fail(s, -EINVAL, "%s: unexpected argument '%s'", q->command, q->argv[i]);
        }
        if (!aa_profile_dir_is_valid(ret->dir))
                return query_fail(s, -EINVAL, "profile directory '%s': not an absolute path of plain characters",
                                  ret->dir);
        if (!q->guest)
                return query_fail(s, -EINVAL, "%s: needs a guest", q->command);
        return 0;
}

static int query_write(BwQuerySink *sink, const char *text) {
        return sink->write(sink, text, strlen(text));
}

static int query_profile(AaState *s, const BwQuery *q, BwQuerySink *sink) {
        QueryArgs a;
        BwError err = {};
        g_autofree char *name = NULL, *files = NULL, *profile = NULL, *out = NULL;
        int r = query_args(s, q, false, &a);
        if (r < 0)
                return r;
        AaConfig cfg = aa_plugin_config_at(s, a.dir);
        r = aa_guest_profile_render(&cfg, q->guest, &name, &files, &profile, &err);
        if (r < 0)
                return query_fail(s, r, "%s", err.message);
        g_autofree char *path = aa_guest_profile_path(&cfg, name), *fpath = aa_guest_files_path(&cfg, name);
        if (q->flags & BW_QUERY_JSON) {
                g_autoptr(JsonWriter) w = json_writer_new();
                json_writer_object_begin(w);
                json_writer_member_string(w, "profile", name);
                json_writer_member_string(w, "profile_path", path);
                json_writer_member_string(w, "profile_text", profile);
                json_writer_member_string(w, "files_path", fpath);
                json_writer_member_string(w, "files_text", files);
                json_writer_object_end(w);
                r = json_writer_finish(w, &out);
                if (r < 0)
                        return r;
                return query_write(sink, out);
        }
        out = g_strdup_printf("# ---- %s\n%s# ---- %s\n%s", path, profile, fpath, files);
        return query_write(sink, out);
}

static const BwResource *query_find(const BwGuestInfo *g, const char *ref) {
        for (size_t i = 0; i < g->n_resources; i++) {
                g_autofree char *r = aa_rules_resource_ref(g->resources[i]);
                if (strcmp(r, ref) == 0)
                        return g->resources[i];
        }
        return NULL;
}

static int query_add_resource(AaState *s, const AaConfig *cfg, const BwGuestInfo *g, const char *name,
                              const char *ref, BwError *err) {
        const BwResource *res = ref ? query_find(g, ref) : NULL;
        g_autoptr(GString) rules = g_string_new(NULL);
        g_autofree char *path = aa_guest_profile_path(cfg, name);

        if (!res)
                return query_fail(s, -ENOENT, "guest '%s': no resource '%s' to add", g->name, ref ? ref : "");
        if (access(path, F_OK) < 0)
                return query_fail(s, -ENOENT, "profile '%s': does not exist (create it first)", path);
        int r = aa_rules_resource(g, res, rules, err);
        return r < 0 ? r : aa_guest_profile_section(cfg, name, ref, rules->str, err);
}

static int query_profile_write(AaState *s, const BwQuery *q, BwQuerySink *sink) {
        QueryArgs a;
        BwError err = {};
        int r = query_args(s, q, true, &a);
        if (r < 0)
                return r;
        AaConfig cfg = aa_plugin_config_at(s, a.dir);
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, q->guest->uuid);
        g_autofree char *path = aa_guest_profile_path(&cfg, name);

        if (strcmp(a.action, "create") == 0 && access(path, F_OK) == 0)
                return query_fail(s, -EEXIST, "profile '%s': exists already (use replace)", path);
        if (strcmp(a.action, "create") == 0 || strcmp(a.action, "replace") == 0)
                r = aa_guest_profile_write(&cfg, q->guest, &err);
        else if (strcmp(a.action, "remove") == 0)
                r = aa_guest_profile_remove(&cfg, name, &err);
        else if (strcmp(a.action, "add-resource") == 0)
                r = query_add_resource(s, &cfg, q->guest, name, a.ref, &err);
        else
                return query_fail(s, -EINVAL, "profile-write: unknown action '%s'", a.action);
        if (r < 0)
                return err.message[0] ? query_fail(s, r, "%s", err.message) : r;
        g_autofree char *done = g_strdup_printf("profile '%s': %s done\n", path, a.action);
        return query_write(sink, done);
}

static int query_profile_change(AaState *s, const BwQuery *q, BwQuerySink *sink) {
        bool undo = q->argc == 2 && strcmp(q->argv[0], "--undo") == 0;
        AaChange c;
        BwError err = {};

        if (q->argc != (undo ? 2u : 1u))
                return query_fail(s, -EINVAL, "profile-change: usage: profile-change [--undo] DATA");
        const char *data = q->argv[q->argc - 1];
        int r = aa_change_decode(data, strlen(data), &c, &err);
        if (r >= 0 && strcmp(c.dir, s->profile_dir) != 0)
                r = error_set(&err, -EPERM, "profile directory '%s': not the configured '%s'", c.dir, s->profile_dir);
        if (r >= 0)
                r = aa_rule_check_section(c.ref, c.rules, &err);
        if (r >= 0)
                r = aa_plugin_change(s, &c, undo, &err);
        g_autofree char *done = r >= 0 ? g_strdup_printf("profile '%s/%s': %s%s done\n", c.dir, c.name,
                                                          undo ? "undo of " : "", aa_change_kind(c.op))
                                       : NULL;
        aa_change_clear(&c);
        if (r < 0)
                return query_fail(s, r, "%s", err.message);
        return query_write(sink, done);
}

int aa_query(void *state, const BwQuery *q, BwQuerySink *sink) {
        if (strcmp(q->command, "profile") == 0)
                return query_profile(state, q, sink);
        if (strcmp(q->command, "profile-write") == 0)
                return query_profile_write(state, q, sink);
        if (strcmp(q->command, "profile-change") == 0)
                return query_profile_change(state, q, sink);
        return query_fail(state, -EOPNOTSUPP, "unknown command '%s' (commands: profile, profile-write, profile-change)",
                          q->command);
}
