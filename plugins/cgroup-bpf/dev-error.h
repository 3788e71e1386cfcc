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

#include "util/plugin-error.h"

/* util/plugin-error.h's, under the names this code uses. */
#define DEV_ERROR_MESSAGE_MAX PLUGIN_ERROR_MESSAGE_MAX
typedef PluginError DevError;
#define dev_error_set plugin_error_set

/* Prepends "prefix: " to the message already in *err; returns err->code. */
int dev_error_prefix(DevError *err, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* snprintf() for messages that may be cut short on purpose. */
void dev_format(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
