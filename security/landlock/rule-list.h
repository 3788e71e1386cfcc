/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules a guest's ruleset is built from: a path, the rights wanted on
 * it (before they are cut to what the running ABI handles) and where the
 * rule comes from, for plan, explain and `bulwarkctl landlock`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LlRule {
        char *path;
        uint64_t access;           /* LL_FS_* wanted */
        char *source;              /* "base", a resource "disk:root", "hotplug-dirs" */
        char *role;                /* for people: "read-write image", "base" */
        bool optional;             /* skipped when the path does not exist (base rules) */
        unsigned line;             /* the base rules' line, 0 for others */
} LlRule;

typedef struct LlRuleList {
        LlRule *rules;
        size_t n, cap;
} LlRuleList;

/* Appends a copy of the strings; 0 or -ENOMEM. */
int rule_list_add(LlRuleList *list, const char *path, uint64_t access, const char *source, const char *role,
                  bool optional, unsigned line);
/* Appends copies of every rule of `from`; 0 or -ENOMEM. */
int rule_list_extend(LlRuleList *list, const LlRuleList *from);
/* Frees every rule; the list is empty and usable again. */
void rule_list_clear(LlRuleList *list);
