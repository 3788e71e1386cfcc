/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin's query op, for `bulwarkctl landlock`:
 *   landlock-abi       the ABI used here and what each version adds
 *   landlock-ruleset   the ruleset the query's guest would get (every rule,
 *                      as plan lists it)
 * Text for people, or JSON with BW_QUERY_JSON. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "landlock-plugin.h"
#include "ll-abi.h"

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

int ll_query(void *state, const BwQuery *q, BwQuerySink *sink) {
        LlState *s = state;
        LlOut o = { .sink = sink };
        bool json = q->flags & BW_QUERY_JSON;
        if (strcmp(q->command, "landlock-abi") == 0 && q->argc == 0)
                return ll_query_abi(s, json, &o);
        if (strcmp(q->command, "landlock-ruleset") == 0 && q->argc == 0)
                return ll_query_ruleset(s, q, json, &o);
        char msg[512];
        snprintf(msg, sizeof(msg), "unknown command '%s' (with %zu arguments); commands: landlock-abi, landlock-ruleset (no arguments)",
                 q->command, q->argc);
        s->host->log(s->host, BW_LOG_ERR, msg);
        return -EOPNOTSUPP;
}
