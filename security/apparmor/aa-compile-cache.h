/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile texts apparmor_parser compiled cleanly, remembered by digest,
 * so that a guest started again with the same profile costs no parser
 * run (about 40 ms, the largest share of a start with every plugin).
 * The digest covers everything the compile read: the text with its rules
 * in place, the parser binary, the features file, this boot (the
 * kernel's features), and the name, size, inode and mtime of every file
 * below the include directories (/etc/apparmor.d's abi, tunables,
 * abstractions and local, the configured -I directory, the profile
 * directory's local/).  Any edit there compiles again. */
#pragma once

#include <stdbool.h>

#include "aa-parser.h"

/* Entries kept at most; the least recently used go first. */
#define AA_COMPILE_CACHE_MAX 256

/* The digest (hex, g_free()) of compiling `text` in `profile_dir`. */
char *aa_compile_cache_key(const AaParser *parser, const char *profile_dir, const char *text);

/* True when `key` compiled cleanly before; marks it used. */
bool aa_compile_cache_has(const char *dir, const char *key);

/* Remembers `key` (best effort: a cache that cannot be written only
 * costs parser runs). */
void aa_compile_cache_add(const char *dir, const char *key);
