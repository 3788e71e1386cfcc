/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile files on disk: read, replace atomically and only when the text
 * changed (the parser's cache and the loaded policy stay valid), remove. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

/* The whole file, or -ENOENT. */
int aa_store_read(const char *path, char **ret_text, BwError *reterr);

/* Writes `text` to `path` unless the file already holds exactly that
 * text: to ".<name>.tmp-<pid>" in the same directory (O_EXCL, 0644),
 * fsync, rename over `path`.  A process killed at any point leaves the
 * old file whole (and at most a temporary file).  *ret_changed (may be
 * NULL): the file was rewritten. */
int aa_store_replace(const char *path, const char *text, bool *ret_changed, BwError *reterr);

/* Writes `text` to a new temporary file beside `path` and returns its
 * name: the profile apparmor_parser checks before anything is replaced. */
int aa_store_temp(const char *path, const char *text, char **ret_temp, BwError *reterr);

/* Removes `path`; a missing file is not an error. */
int aa_store_remove(const char *path, BwError *reterr);
