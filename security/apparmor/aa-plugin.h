/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin's state, shared by its module (apparmor.c) and its query
 * commands (aa-query.c). */
#pragma once

#include <bulwark/plugin.h>

#include "aa-change.h"
#include "aa-guest-profile.h"
#include "util/plugin-error.h"

typedef struct AaState {
        const BwHost *host;
        AaConfig cfg;              /* strings below, owned */
        char *profile_dir;
        char *template_path;
        char *parser;
        char *features;
        char *include_dir;
        char *helper;              /* bulwark-aa-helper makes the changes, or NULL */
        char *compiled_dir;        /* <state-dir>/apparmor-compiled, or NULL */
} AaState;

#define aa_plugin_log(s, ...) plugin_log((s)->host, __VA_ARGS__)

/* The configuration with another profile directory (the helper's
 * --profile-dir, a change journaled with its own). */
AaConfig aa_plugin_config_at(const AaState *s, const char *dir);

/* Makes (or undoes) one change in this process. */
int aa_plugin_change(const AaState *s, const AaChange *c, bool undo, BwError *reterr);

int aa_query(void *state, const BwQuery *query, BwQuerySink *sink);
