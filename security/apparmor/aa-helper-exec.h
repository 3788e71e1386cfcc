/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handing a change to bulwark-aa-helper (`--change [--undo]`, the
 * change's data on standard input), when the plugin is configured with
 * helper=: the daemon then never writes or loads policy itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* HELPER --change [--undo]: NULL-terminated, freed with g_strfreev(). */
char **aa_helper_argv(const char *helper, bool undo);

/* Runs the helper with `data` on its standard input; a non-zero exit is
 * -EIO with the helper's own message. */
int aa_helper_run(const char *helper, bool undo, const void *data, size_t len, BwError *reterr);
