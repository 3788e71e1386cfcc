/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking rule text that comes from elsewhere: the section a change
 * carries, handed to bulwark-aa-helper by a daemon that may not be
 * trusted to write policy.  Only what aa-rules.c itself writes passes:
 * each line `  "<quoted path>" <perms>,` with the path normalized, not
 * restricted for those perms, and quoted exactly as aa_path_quote() would
 * (or a directory "<dir>/" r, or the tree rule aa_path_quote_tree()
 * makes); perms one of r, rk, rw, rwk. */
#pragma once

#include "util/error.h"

int aa_rule_check_section(const char *ref, const char *rules, BwError *reterr);
