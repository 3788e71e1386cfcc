/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The landlock plugin: the guest's process may touch exactly its
 * resources, on any kernel with Landlock (5.13 and later).
 *
 * plan lists what the ruleset will hold: one "landlock-ruleset" change
 * (the ABI and the rights handled) and one "landlock-rule" change per
 * rule (base set and guest paths).  They change nothing on the host and
 * lock no path: a Landlock ruleset is not host state, it is made in the
 * host daemon by exec_attrs when the guest's process is started and
 * handed to the core, whose exec child restricts itself with it after
 * no_new_privs.  apply and undo of these changes therefore do nothing;
 * they are journaled so explain and the journal show what the process
 * was given.
 *
 * A Landlock domain cannot grow: attach plans a "landlock-hotplug"
 * change saying the host daemon must pass an open descriptor (as VMM
 * managers do for hotplug) unless [guest] hotplug-dirs granted the
 * file's directory before start. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulwark/plugin.h>

#include "base-rules.h"
#include "guest-rules.h"
#include "landlock-plugin.h"
#include "ll-abi.h"
#include "ruleset.h"

#define LL_DEFAULT_BASE_RULES BW_DATADIR "/landlock/base.rules"

#define ll_log(s, ...) plugin_log((s)->host, __VA_ARGS__)

int ll_fail(const LlState *s, const PluginError *err, int r) {
        ll_log(s, BW_LOG_ERR, "%s", err->message[0] ? err->message : strerror(-r));
        return r;
}

static const char *ll_config(const BwHost *host, const char *key) {
        return host && host->config ? host->config(host, key) : NULL;
}

/* The ABI used: what the kernel reports, at most max-abi= (tests mask
 * the kernel's answer with it to check older ABIs) and LL_ABI_KNOWN. */
static int ll_abi_used(const BwHost *host, PluginError *err) {
        int abi = ll_abi_kernel();
        if (abi < 0)
                return plugin_error_set(err, abi, "Landlock is not usable in this kernel: landlock_create_ruleset: %m");
        const char *v = ll_config(host, "max-abi");
        if (v) {
                char *end;
                errno = 0;
                long max = strtol(v, &end, 10);
                if (errno || end == v || *end || max < 1 || max > LL_ABI_KNOWN)
                        return plugin_error_set(err, -EINVAL, "[plugin:landlock] key 'max-abi': '%s' is not an ABI version from 1 to %d",
                                            v, LL_ABI_KNOWN);
                if (max < abi)
                        abi = (int) max;
        }
        return abi < LL_ABI_KNOWN ? abi : LL_ABI_KNOWN;
}

static int ll_probe(const BwHost *host, char *reason, size_t reason_size) {
        PluginError err = {};
        int abi = ll_abi_used(host, &err);
        if (abi < 0) {
                snprintf(reason, reason_size, "%s", err.message);
                return abi;
        }
        size_t n;
        const LlAbiFeature *f = ll_abi_features(&n);
        int len = snprintf(reason, reason_size, "Landlock ABI %d (kernel: %d):", abi, ll_abi_kernel());
        for (size_t i = 0; i < n && f[i].abi <= abi && len >= 0 && (size_t) len < reason_size; i++)
                if (f[i].used)
                        len += snprintf(reason + len, reason_size - (size_t) len, " %s", f[i].name);
        return 0;
}

static int ll_init(const BwHost *host, void **ret_state) {
        PluginError err = {};
        LlState *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        s->abi = ll_abi_used(host, &err);
        if (s->abi < 0) {
                int r = ll_fail(s, &err, s->abi);
                free(s);
                return r;
        }
        const char *base = ll_config(host, "base-rules");
        int r = base_rules_load(base ? base : LL_DEFAULT_BASE_RULES, &s->base, &err);
        if (r < 0) {
                ll_fail(s, &err, r);
                rule_list_clear(&s->base);
                free(s);
                return r;
        }
        *ret_state = s;
        return 0;
}

static void ll_fini(void *state) {
        LlState *s = state;
        if (!s)
                return;
        rule_list_clear(&s->base);
        free(s);
}

int ll_guest_rules(LlState *s, const BwGuestInfo *guest, LlRuleList *ret) {
        PluginError err = {};
        int r = guest_rules_build(guest, &s->base, ret, &err);
        if (r < 0) {
                rule_list_clear(ret);
                return ll_fail(s, &err, r);
        }
        return 0;
}

static int ll_emit(BwChangeSink *sink, const char *kind, const char *object, const char *detail, const char *resource) {
        BwChange c = {
                .size = sizeof(BwChange), .kind = kind, .object = object, .detail = detail, .resource = resource,
        };
        return sink->emit(sink, &c);
}

LlRuleTarget ll_rule_rights(const LlRule *rule, int abi, char *buf, size_t size) {
        struct stat st;
        if (stat(rule->path, &st) < 0) {
                snprintf(buf, size, "none");
                return LL_RULE_ABSENT;
        }
        ll_access_format(ruleset_rule_access(rule->access, abi, S_ISDIR(st.st_mode)), buf, size);
        return S_ISDIR(st.st_mode) ? LL_RULE_TREE : LL_RULE_FILE;
}

void ll_rule_describe(const LlRule *rule, int abi, char *buf, size_t size) {
        char rights[256];
        switch (ll_rule_rights(rule, abi, rights, sizeof(rights))) {
        case LL_RULE_ABSENT:
                snprintf(buf, size, "absent here: skipped (%s)", rule->role);
                break;
        case LL_RULE_TREE:
                snprintf(buf, size, "%s beneath (%s)", rights, rule->role);
                break;
        case LL_RULE_FILE:
                snprintf(buf, size, "%s (%s)", rights, rule->role);
                break;
        }
}

void ll_ruleset_describe(int abi, char *buf, size_t size) {
        char rights[512];
        snprintf(buf, size, "Landlock ABI %d, handled: %s%s", abi,
                 ll_access_format(ll_abi_fs_access(abi), rights, sizeof(rights)),
                 ll_abi_scoped(abi) ? "; scoped: abstract UNIX sockets, signals" : "");
}

static int ll_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        LlState *s = state;
        LlRuleList rules = {};
        char detail[1024];
        int r = ll_guest_rules(s, guest, &rules);
        if (r < 0)
                return r;
        ll_ruleset_describe(s->abi, detail, sizeof(detail));
        r = ll_emit(sink, "landlock-ruleset", "guest process", detail, NULL);
        for (size_t i = 0; r >= 0 && i < rules.n; i++) {
                const LlRule *rule = &rules.rules[i];
                ll_rule_describe(rule, s->abi, detail, sizeof(detail));
                bool from_resource = strcmp(rule->source, "base") != 0 && strcmp(rule->source, "hotplug-dirs") != 0 &&
                                     strcmp(rule->source, "hotplug-vfio") != 0;
                r = ll_emit(sink, "landlock-rule", rule->path, detail, from_resource ? rule->source : NULL);
        }
        rule_list_clear(&rules);
        return r < 0 ? r : 0;
}

/* Nothing on the host to change or restore: see the top of this file. */
static int ll_apply(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                    void *undo, size_t undo_size, size_t *ret_undo_len) {
        (void) state, (void) guest, (void) change, (void) ctx, (void) undo, (void) undo_size;
        *ret_undo_len = 0;
        return 0;
}

static int ll_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                   const void *undo, size_t undo_len) {
        (void) state, (void) guest, (void) change, (void) ctx, (void) undo, (void) undo_len;
        return 0;
}

static int ll_adopt(void *state, const BwGuestInfo *guest) {
        (void) state, (void) guest;
        return 0;
}

/* The hotplug-dirs entry `path` lies beneath, or NULL. */
static const char *ll_hotplug_dir_of(const BwGuestInfo *guest, const char *path) {
        if (!BW_FIELD_VALID(guest, hotplug_dirs))
                return NULL;
        for (size_t i = 0; i < guest->n_hotplug_dirs; i++) {
                const char *d = guest->hotplug_dirs[i];
                size_t n = strlen(d);
                if (strncmp(path, d, n) == 0 && (path[n] == '/' || (n == 1 && d[0] == '/')))
                        return d;
        }
        return NULL;
}

static int ll_attach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        (void) state;
        char ref[160], detail[1024];
        guest_rules_resource_ref(res, ref, sizeof(ref));
        for (size_t k = 0; k < res->n_paths; k++) {
                const char *dir = ll_hotplug_dir_of(guest, res->paths[k]);
                if (dir)
                        snprintf(detail, sizeof(detail), "in the running process's Landlock domain already: beneath hotplug-dirs '%s'", dir);
                else
                        snprintf(detail, sizeof(detail), "not in the running process's Landlock domain, which cannot grow: the host daemon must open it and pass the descriptor (or list its directory in [guest] hotplug-dirs before start)");
                int r = ll_emit(sink, "landlock-hotplug", res->paths[k], detail, ref);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ll_detach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        (void) state, (void) guest;
        char ref[160];
        guest_rules_resource_ref(res, ref, sizeof(ref));
        for (size_t k = 0; k < res->n_paths; k++) {
                int r = ll_emit(sink, "landlock-hotplug", res->paths[k],
                                "stays in the running process's Landlock domain until it exits (a domain cannot shrink); a process started later does not get it",
                                ref);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ll_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        LlState *s = state;
        LlRuleList rules = {};
        PluginError err = {};
        int fd = -1;
        int r = ll_guest_rules(s, guest, &rules);
        if (r < 0)
                return r;
        r = ruleset_build(guest->name, &rules, s->abi, &fd, &err);
        rule_list_clear(&rules);
        if (r < 0)
                return ll_fail(s, &err, r);
        r = sink->set_landlock_ruleset(sink, fd);
        close(fd);
        return r;
}

static const char *const ll_config_keys[] = { "base-rules", "max-abi", NULL };

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "landlock",
        .config_keys = ll_config_keys,
        .probe = ll_probe,
        .init = ll_init,
        .fini = ll_fini,
        .plan = ll_plan,
        .apply = ll_apply,
        .undo = ll_undo,
        .attach = ll_attach,
        .detach = ll_detach,
        .adopt = ll_adopt,
        .query = ll_query,
        .exec_attrs = ll_exec_attrs,
};
