/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The base set every guest process gets to exec and run (policy/landlock/
 * base.rules, installed as $datadir/bulwark/landlock/base.rules and
 * replaceable with base-rules= in [plugin:landlock]).
 *
 * One rule a line, `RIGHTS PATH`: RIGHTS are letters, r read (files, and
 * listing when PATH is a directory), w write, x execute, t truncate,
 * i ioctl on devices; a directory grants its whole tree.  `#` starts a
 * comment line; blank lines are skipped.  Anything else is an error naming
 * the file and the line.  A path absent on this host is skipped (/lib64
 * is not everywhere). */
#pragma once

#include "util/plugin-error.h"
#include "rule-list.h"

/* Parses `text` (named `source` in messages) and appends its rules. */
int base_rules_parse(const char *text, const char *source, LlRuleList *out, PluginError *err);
/* Reads and parses `file`. */
int base_rules_load(const char *file, LlRuleList *out, PluginError *err);
