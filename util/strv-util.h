/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small string helpers the core shares. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Splits a list separated by any of `seps`, trimming spaces and dropping
 * empty items.  Returns a NULL-terminated g_strfreev()-able vector. */
char **strv_split_list(const char *list, const char *seps);

/* True when s is 1..max characters, each alphanumeric or in `extra`. */
bool string_is_name(const char *s, size_t max, const char *extra);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
