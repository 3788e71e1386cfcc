/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which guest a holder uuid is, and whether it runs, from files only:
 * <state-dir>/label/guests/<uuid> holds the guest's name (written when it
 * first labels a file, removed at release), and a guest runs while the
 * core keeps its journal, <state-dir>/guests/<name>.journal. */
#pragma once

#include <stdbool.h>

int label_guests_remember(const char *state_dir, const char *uuid, const char *name);
void label_guests_forget(const char *state_dir, const char *uuid);

/* The guest's name (free it), or NULL when the uuid is unknown. */
char *label_guests_name(const char *state_dir, const char *uuid);

/* Is the guest of this uuid running?  *ret_name (may be NULL) gets its name. */
bool label_guests_running(const char *state_dir, const char *uuid, char **ret_name);
