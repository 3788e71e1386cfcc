/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages of the Landlock plugin's code.
 *
 * The code is linked into the plugin module, the tests and the benchmark,
 * none of which may call libbulwark's hidden log functions: a fallible
 * function returns -errno and, when the caller passed an LlError, a
 * message naming the object first.  The caller decides who sees it
 * (host->log in the plugin, stderr in a test or benchmark). */
#pragma once

#include <stddef.h>

#define LL_ERROR_MESSAGE_MAX 1024

typedef struct LlError {
        int code;                               /* negative errno, 0 when unset */
        char message[LL_ERROR_MESSAGE_MAX];     /* NUL-terminated, for people */
} LlError;

/* Formats a message into *err (when non-NULL) and returns `code` as a
 * negative errno (-EIO when it is 0).  %m means `code`. */
int ll_error_set(LlError *err, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
