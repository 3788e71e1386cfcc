/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host path as an AppArmor rule may name it: normalized, checked by
 * component against the restricted lists, and quoted so that the rule
 * names exactly that one file.
 *
 * Every function here is pure (no file system access): the plugin, the
 * helper and the path matrix test share it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* What a rule grants: read-only access can be given to more places
 * (/usr, /boot, firmware) than write access. */
typedef enum AaAccess {
        AA_ACCESS_READ,
        AA_ACCESS_WRITE,
} AaAccess;

/* The `len` bytes at `path` as a canonical absolute path: "." and empty
 * components dropped, ".." taking the previous component away (at the
 * root it stays there, as in the kernel), no trailing "/".  Lexical only:
 * symbolic links are the resolver's business (the core resolves a guest
 * before any plugin sees it).  Refused (-EINVAL, message naming the path as
 * given): an empty or relative path, an embedded NUL, a path or component
 * longer than the kernel accepts (PATH_MAX, NAME_MAX).  *ret_path is freed
 * with g_free(). */
int aa_path_normalize(const char *path, size_t len, char **ret_path, BwError *reterr);

/* True when `path` is `prefix` or lies below it, compared by whole
 * components: "/library/x" is not below "/lib".  Both normalized. */
bool aa_path_has_prefix(const char *path, const char *prefix);

/* The restricted entry that keeps a normalized path from being granted
 * with `access` ("/etc" for a writable "/etc/x"), or NULL when it may be.
 * *ret_never: the entry is never allowed at all (else: never writable). */
const char *aa_path_restricted(const char *path, AaAccess access, bool *ret_never);

/* The normalized path as a quoted AppArmor file name that matches exactly
 * that file: every byte outside [A-Za-z0-9/._+:=~%-] is written as a
 * three-digit octal escape, which apparmor_parser turns into the literal
 * byte (never a glob: "\052" is a literal '*', "\134" a literal '\').
 * Freed with g_free(). */
char *aa_path_quote(const char *path);

/* The same quoting with a glob suffix that is ours, not the path's:
 * aa_path_quote_tree("/var/x y") is the quoted "/var/x\040y" and then a
 * slash and two stars, inside the quotes. */
char *aa_path_quote_tree(const char *path);

/* Normalize, then check against the restricted lists: the one call the
 * rule builder makes per path.  Messages: "path '<as given>': <why>". */
int aa_path_check(const char *path, size_t len, AaAccess access, char **ret_path, BwError *reterr);
