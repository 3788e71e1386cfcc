/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's profile: its name, and its text made from the template. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

#define AA_PROFILE_PREFIX "bulwark-"
/* The token of TEMPLATE.guest that becomes the profile name. */
#define AA_TEMPLATE_TOKEN "BULWARK_TEMPLATE"
/* The longest profile name: its include "<name>.files" must still be a
 * file name (NAME_MAX 255). */
#define AA_PROFILE_NAME_MAX 249

/* prefix + id, e.g. "bulwark-<uuid>".  When longer than
 * AA_PROFILE_NAME_MAX it is cut and ends in "-" and 16 hex digits of the
 * SHA-256 of the whole name, so two long names never meet. */
char *aa_profile_name(const char *prefix, const char *id);

/* True for a name this plugin made: the prefix, then [A-Za-z0-9._-]. */
bool aa_profile_name_is_valid(const char *name);

/* True when a profile directory can be written into an include line
 * as is: absolute, and made of plain bytes only. */
bool aa_profile_dir_is_valid(const char *dir);

/* The lines a guest profile ends with: the include of its .files (by
 * absolute path, so any profile directory works) and of its local file
 * "<dir>/local/<name>". */
char *aa_profile_include_body(const char *dir, const char *name);
/* The same with the rules written in place of the .files include: the
 * text apparmor_parser checks before the files replace the old ones. */
char *aa_profile_inline_body(const char *dir, const char *name, const char *rules);

/* The template with AA_TEMPLATE_TOKEN (exactly once, after "profile ")
 * replaced by `name` and `body` put before the template's last line that
 * is "}".  -EINVAL, naming the template, when it has no such token or
 * closing brace. */
int aa_profile_render(const char *template_text, const char *template_name, const char *name, const char *body,
                      char **ret_text, BwError *reterr);
