/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule-list.h"

int rule_list_add(LlRuleList *l, const char *path, uint64_t access, const char *source, const char *role,
                  bool optional, unsigned line) {
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 32;
                LlRule *rules = realloc(l->rules, cap * sizeof(*rules));
                if (!rules)
                        return -ENOMEM;
                l->rules = rules;
                l->cap = cap;
        }
        LlRule r = {
                .path = strdup(path), .access = access, .source = strdup(source), .role = strdup(role),
                .optional = optional, .line = line,
        };
        if (!r.path || !r.source || !r.role) {
                free(r.path);
                free(r.source);
                free(r.role);
                return -ENOMEM;
        }
        l->rules[l->n++] = r;
        return 0;
}

int rule_list_extend(LlRuleList *l, const LlRuleList *from) {
        for (size_t i = 0; i < from->n; i++) {
                const LlRule *r = &from->rules[i];
                int e = rule_list_add(l, r->path, r->access, r->source, r->role, r->optional, r->line);
                if (e < 0)
                        return e;
        }
        return 0;
}

void rule_list_clear(LlRuleList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->rules[i].path);
                free(l->rules[i].source);
                free(l->rules[i].role);
        }
        free(l->rules);
        *l = (LlRuleList) {};
}
