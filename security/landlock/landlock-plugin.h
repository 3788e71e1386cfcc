/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the plugin's files share: its state, and the helpers the query
 * (plugin-query.c) uses to print what plan lists. */
#pragma once

#include <bulwark/plugin.h>

#include "util/plugin-error.h"
#include "rule-list.h"

typedef struct LlState {
        const BwHost *host;
        int abi;                   /* the ABI used: kernel's, at most max-abi= */
        LlRuleList base;           /* the base rules */
} LlState;

/* Logs err's message (or strerror) at error level and returns r. */
int ll_fail(const LlState *s, const PluginError *err, int r);
/* The guest's rules (base set included) into *ret; logs and returns
 * -errno on failure. */
int ll_guest_rules(LlState *s, const BwGuestInfo *guest, LlRuleList *ret);
typedef enum LlRuleTarget {
        LL_RULE_FILE,              /* the path is a file: file rights only */
        LL_RULE_TREE,              /* a directory: the rights hold beneath it */
        LL_RULE_ABSENT,            /* absent here: an optional rule is skipped */
} LlRuleTarget;

/* The rights a rule gives on this host at `abi` ("read_file,write_file")
 * into buf, and what the path is. */
LlRuleTarget ll_rule_rights(const LlRule *rule, int abi, char *buf, size_t size);
/* The same with the role, for people: "read_file (backing file)". */
void ll_rule_describe(const LlRule *rule, int abi, char *buf, size_t size);
/* The ABI and what a ruleset made at it handles, for people. */
void ll_ruleset_describe(int abi, char *buf, size_t size);

/* The query op (plugin-query.c). */
int ll_query(void *state, const BwQuery *query, BwQuerySink *sink);
