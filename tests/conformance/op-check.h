/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking the query and exec_attrs operations (plugin ABI 2):
 *  - query answers a command it does not know with -EOPNOTSUPP, and stops
 *    writing at the first error the sink returns;
 *  - exec_attrs only calls the sink's setters, with valid values, and
 *    succeeds on the test guest.
 * Each returns NULL when the plugin passes, else why it fails; *ret_skip
 * is set instead when the plugin lacks the operation. */
#pragma once

#include <bulwark/bulwark.h>

#include "plugin-loader.h"

/* The command no plugin knows. */
#define OP_CHECK_UNKNOWN_COMMAND "bulwark-conformance-no-such-command"

char *op_check_query_unknown(Plugin *plugin, char **ret_skip);
/* Runs `commands` (NULL-terminated; NULL: those the plugin names in its
 * answer to an unknown command) against a sink that fails every write. */
char *op_check_query_sink_error(Plugin *plugin, char *const *commands, char **ret_skip);
char *op_check_exec_attrs(Plugin *plugin, const BwGuestInfo *guest, char **ret_skip);
