/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages of the device controller code.
 *
 * The controller is linked into the plugin module, bulwarkctl and the
 * tests.  The plugin must not call libbulwark's hidden log functions, so
 * this code never logs: a fallible function returns -errno and, when the
 * caller passed a BwError, a message naming the object first.  The caller
 * decides what people see (host->log in the plugin, stderr in bulwarkctl). */
#pragma once

#include <bulwark/bulwark.h>

/* Formats a message into *err (when non-NULL) and returns `code` as a
 * negative errno (-EIO when it is 0).  %m means `code`. */
int dev_error_set(BwError *err, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message already in *err; returns err->code. */
int dev_error_prefix(BwError *err, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* snprintf() for messages that may be cut short on purpose. */
void dev_format(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
