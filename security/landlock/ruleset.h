/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A Landlock ruleset made from a rule list, in the parent: every path
 * opened once (O_PATH, following symlinks, so the rule lands on the file
 * the guest will open) and added with what the running ABI handles. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/plugin-error.h"
#include "rule-list.h"

/* The rights a rule wanting `wanted` gets at `abi`: only what the ABI
 * handles, and only file rights on anything but a directory. */
uint64_t ruleset_rule_access(uint64_t wanted, int abi, bool is_dir);

/* Makes the ruleset of `rules` for ABI `abi` (handled: every filesystem
 * right of that ABI, and its scopes) and returns its descriptor
 * (close-on-exec) in *ret_fd.  An optional rule whose path is absent is
 * skipped; any other path that cannot be opened or added fails, naming
 * `guest`, the rule's source and the path. */
int ruleset_build(const char *guest, const LlRuleList *rules, int abi, int *ret_fd, PluginError *err);
