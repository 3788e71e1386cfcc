/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which paths a guest resource may name, by path component: system
 * directories are refused, and skip-paths= prefixes are never relabelled. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

/* Is `path` (absolute, resolved) `prefix` or inside it, by component?
 * ("/lib" does not contain "/library".) */
bool label_path_has_prefix(const char *path, const char *prefix);

/* NULL when a resource may name `path` (absolute and resolved, of file
 * type `mode`); else why not ("a system directory ('/etc')").  A device
 * node under /dev or /sys is allowed: the resource names it. */
const char *label_path_refusal(const char *path, mode_t mode);

/* label_path_refusal(), and a regular file with more than one hard link:
 * another name of the same inode may be anything, /etc/shadow included. */
const char *label_file_refusal(const char *path, const struct stat *st);

/* A file a guest may read where it is, unlabelled: a read-only file
 * (firmware loader, kernel, backing file) the distribution ships under
 * /usr or /boot.  Labelling it would change a system file for every
 * guest; it is skipped, not refused. */
bool label_path_is_shipped(const char *path, mode_t mode);

/* Does `path` fall under one of the colon- or comma-separated prefixes
 * of `list` (NULL: none)?  *ret_prefix gets the matching one (free it). */
bool label_path_skipped(const char *list, const char *path, char **ret_prefix);
