/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin's query op, for `bulwarkctl landlock`:
 *   landlock-abi       the ABI used here and what each version adds
 *   landlock-ruleset   the ruleset the query's guest would get (every rule,
 *                      as plan lists it)
 *   landlock-denials CGROUP [--count N]
 *                      follows the Landlock denials of processes in CGROUP
 *                      (an absolute cgroup2 directory) through audit
 *                      (audit-denials.h), N at most
 * Text for people, or JSON with BW_QUERY_JSON. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit-denials.h"
#include "landlock-plugin.h"
#include "ll-abi.h"
#include "util/cgroup2-root.h"

typedef struct LlOut {
        BwQuerySink *sink;
        int error;                 /* the sink's first error; later output is dropped */
} LlOut;

static void ll_out(LlOut *o, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void ll_out(LlOut *o, const char *format, ...) {
        char buf[4096 + 1024];
        va_list ap;
        if (o->error)
                return;
        va_start(ap, format);
        int n = vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        if (n < 0)
                return;
        int r = o->sink->write(o->sink, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
        if (r < 0)
                o->error = r;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void ll_out_json_string(LlOut *o, const char *s) {
        char buf[4096 * 2 + 8];
        size_t n = 0;
        buf[n++] = '"';
        for (; *s && n < sizeof(buf) - 8; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\') {
                        buf[n++] = '\\';
                        buf[n++] = (char) c;
                } else if (c < 0x20)
                        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
                else
                        buf[n++] = (char) c;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        ll_out(o, "%s", buf);
}

static int ll_query_abi(LlState *s, bool json, LlOut *o) {
        size_t n;
        const LlAbiFeature *f = ll_abi_features(&n);
        int kernel = ll_abi_kernel();
        if (json)
                ll_out(o, "{\"abi\":%d,\"kernel_abi\":%d,\"features\":[", s->abi, kernel);
        else
                ll_out(o, "Landlock ABI %d used (the kernel reports %d)\n", s->abi, kernel);
        for (size_t i = 0; i < n; i++) {
                bool on = f[i].abi <= s->abi && f[i].used;
                if (json) {
                        ll_out(o, "%s{\"abi\":%d,\"name\":", i ? "," : "", f[i].abi);
                        ll_out_json_string(o, f[i].name);
                        ll_out(o, ",\"used\":%s}", on ? "true" : "false");
                } else
                        ll_out(o, "  %s ABI %d %-10s %s\n", on ? "yes" : "no ", f[i].abi, f[i].name, f[i].what);
        }
        if (json)
                ll_out(o, "]}\n");
        return o->error;
}

static int ll_query_ruleset(LlState *s, const BwQuery *q, bool json, LlOut *o) {
        const BwGuestInfo *guest = BW_FIELD_VALID(q, guest) ? q->guest : NULL;
        LlRuleList rules = {};
        char detail[1024];
        if (!guest) {
                s->host->log(s->host, BW_LOG_ERR, "landlock-ruleset: the query names no guest");
                return -EINVAL;
        }
        int r = ll_guest_rules(s, guest, &rules);
        if (r < 0)
                return r;
        ll_ruleset_describe(s->abi, detail, sizeof(detail));
        if (json) {
                ll_out(o, "{\"guest\":");
                ll_out_json_string(o, guest->name);
                ll_out(o, ",\"abi\":%d,\"ruleset\":", s->abi);
                ll_out_json_string(o, detail);
                ll_out(o, ",\"rules\":[");
        } else
                ll_out(o, "guest '%s': %s\n", guest->name, detail);
        for (size_t i = 0; i < rules.n; i++) {
                static const char *const targets[] = {
                        [LL_RULE_FILE] = "file", [LL_RULE_TREE] = "tree", [LL_RULE_ABSENT] = "absent",
                };
                const LlRule *rule = &rules.rules[i];
                LlRuleTarget target = ll_rule_rights(rule, s->abi, detail, sizeof(detail));
                if (json) {
                        ll_out(o, "%s{\"path\":", i ? "," : "");
                        ll_out_json_string(o, rule->path);
                        ll_out(o, ",\"source\":");
                        ll_out_json_string(o, rule->source);
                        ll_out(o, ",\"role\":");
                        ll_out_json_string(o, rule->role);
                        ll_out(o, ",\"target\":\"%s\",\"access\":", targets[target]);
                        ll_out_json_string(o, detail);
                        ll_out(o, "}");
                } else
                        ll_out(o, "  %-16s %-40s %s%s (%s)\n", rule->source, rule->path,
                               target == LL_RULE_ABSENT ? "absent here: skipped" : detail,
                               target == LL_RULE_TREE ? " beneath" : "", rule->role);
        }
        if (json)
                ll_out(o, "]}\n");
        rule_list_clear(&rules);
        return o->error;
}

typedef struct LlFollow {
        LlOut *out;
        bool json;
        const char *cgroup;
} LlFollow;

static void ll_denials_ready(void *userdata) {
        LlFollow *f = userdata;
        if (!f->json)
                ll_out(f->out, "following Landlock denials in cgroup '%s' (through audit)\n%-16s %-8s %-16s %-20s %s\n",
                       f->cgroup, "TIME", "PID", "COMM", "BLOCKED", "OBJECT");
}

static int ll_denials_one(const AuditDenial *d, void *userdata) {
        LlFollow *f = userdata;
        if (f->json) {
                ll_out(f->out, "{\"time\":");
                ll_out_json_string(f->out, d->time);
                ll_out(f->out, ",\"domain\":");
                ll_out_json_string(f->out, d->domain);
                ll_out(f->out, ",\"pid\":%ld,\"comm\":", d->pid);
                ll_out_json_string(f->out, d->comm);
                ll_out(f->out, ",\"blockers\":");
                ll_out_json_string(f->out, d->blockers);
                ll_out(f->out, ",\"object\":");
                ll_out_json_string(f->out, d->object);
                ll_out(f->out, "}\n");
        } else
                ll_out(f->out, "%-16s %-8ld %-16s %-20s %s\n", d->time, d->pid, d->comm, d->blockers, d->object);
        return f->out->error;
}

static int ll_denials_idle(void *userdata) {
        LlFollow *f = userdata;
        if (!f->out->error) {
                int r = f->out->sink->write(f->out->sink, "", 0);
                if (r < 0)
                        f->out->error = r;
        }
        return f->out->error;
}

/* The length of the cgroup2 mount `cgroup` lies in (the highest
 * directory above it still on cgroup2): /proc/PID/cgroup names a cgroup
 * relative to the mount, whichever directory below it cgroup-root is. */
static size_t ll_cgroup_mount_len(const char *cgroup) {
        char path[PATH_MAX];
        size_t len = strlen(cgroup);
        snprintf(path, sizeof(path), "%s", cgroup);
        for (char *slash; (slash = strrchr(path, '/')) && slash != path;) {
                *slash = '\0';
                if (!cgroup2_is_dir(path))
                        break;
                len = strlen(path);
        }
        return len;
}

static int ll_query_denials(LlState *s, const BwQuery *q, bool json, LlOut *o) {
        const char *root = s->host->config(s->host, "cgroup-root");
        const char *cgroup = q->argv[0];
        PluginError err = {};
        size_t count = 0;
        if (q->argc == 3 && strcmp(q->argv[1], "--count") != 0) {
                plugin_error_set(&err, -EINVAL, "landlock-denials: unknown option '%s' (--count N)", q->argv[1]);
                return ll_fail(s, &err, -EINVAL);
        }
        if (q->argc == 3) {
                char *end;
                count = strtoul(q->argv[2], &end, 10);
                if (*end || end == q->argv[2] || count == 0) {
                        plugin_error_set(&err, -EINVAL, "landlock-denials: --count '%s': not a positive number", q->argv[2]);
                        return ll_fail(s, &err, -EINVAL);
                }
        }
        size_t n = root ? strlen(root) : 0;
        if (!root || strncmp(cgroup, root, n) != 0 || (cgroup[n] != '/' && cgroup[n] != '\0')) {
                plugin_error_set(&err, -EINVAL, "landlock-denials: cgroup '%s' is not below the cgroup2 root '%s'", cgroup,
                             root ? root : "(none)");
                return ll_fail(s, &err, -EINVAL);
        }
        int r = audit_denials_enabled(&err);
        if (r == 0)
                r = plugin_error_set(&err, -ENODATA, "audit is disabled in the kernel (no audit daemon enabled it): Landlock writes no denial records; 'auditctl -e 1' enables it");
        if (r < 0)
                return ll_fail(s, &err, r);
        LlFollow f = { .out = o, .json = json, .cgroup = cgroup };
        size_t mount = ll_cgroup_mount_len(cgroup);
        r = audit_denials_follow(cgroup[mount] ? cgroup + mount : "/", count, ll_denials_one, ll_denials_idle, ll_denials_ready, &f,
                                 &err);
        if (r == -EPIPE)
                return 0;
        return r < 0 && err.code ? ll_fail(s, &err, r) : r;
}

int ll_query(void *state, const BwQuery *q, BwQuerySink *sink) {
        LlState *s = state;
        LlOut o = { .sink = sink };
        bool json = q->flags & BW_QUERY_JSON;
        if (strcmp(q->command, "landlock-abi") == 0 && q->argc == 0)
                return ll_query_abi(s, json, &o);
        if (strcmp(q->command, "landlock-ruleset") == 0 && q->argc == 0)
                return ll_query_ruleset(s, q, json, &o);
        if (strcmp(q->command, "landlock-denials") == 0 && (q->argc == 1 || q->argc == 3))
                return ll_query_denials(s, q, json, &o);
        char msg[512];
        snprintf(msg, sizeof(msg), "unknown command '%s' (with %zu arguments); commands: landlock-abi, landlock-ruleset (no arguments), landlock-denials CGROUP [--count N]",
                 q->command, q->argc);
        s->host->log(s->host, BW_LOG_ERR, msg);
        return -EOPNOTSUPP;
}
