/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filling the optional BwError of public entry points. */
#pragma once

#include <bulwark/bulwark.h>

/* Formats a message into *err (when non-NULL), logs it at debug level and
 * returns `code` as a negative errno.  %m means `code`. */
int error_set(BwError *err, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Copies src into dst (either may be NULL) and returns src->code. */
int error_propagate(BwError *dst, const BwError *src);
