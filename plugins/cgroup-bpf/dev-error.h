/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages of the device controller code.
 *
 * The controller is linked into the plugin module, the tests and the
 * benchmark.  The plugin must not call libbulwark's hidden log functions, so
 * this code never logs: a fallible function returns -errno and, when the
 * caller passed a DevError, a message naming the object first.  The caller
 * decides what people see (host->log in the plugin, stderr in bulwarkctl). */
#pragma once

#include <stddef.h>

/* The same shape and size as libbulwark's BwError, but the plugin's own:
 * a plugin depends on include/bulwark/plugin.h, never on the manager API,
 * and a message cut at the same length reads the same wherever it ends up
 * (host->log, a query's error, bulwarkctl's stderr). */
#define DEV_ERROR_MESSAGE_MAX 1024

typedef struct DevError {
        int code;                               /* negative errno, 0 when unset */
        char message[DEV_ERROR_MESSAGE_MAX];    /* NUL-terminated, for people */
} DevError;

/* Formats a message into *err (when non-NULL) and returns `code` as a
 * negative errno (-EIO when it is 0).  %m means `code`. */
int dev_error_set(DevError *err, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message already in *err; returns err->code. */
int dev_error_prefix(DevError *err, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* snprintf() for messages that may be cut short on purpose. */
void dev_format(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
