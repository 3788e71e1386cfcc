/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checks of the plugin conformance suite, in the order they run.
 * README.md lists them with what each one proves. */
#pragma once

#include <stdbool.h>

#include "fixture.h"
#include "report.h"

/* Loads the plugin at `plugin_path` through the real loader and runs
 * every check against the fixture's guest and host, reporting each one.
 * Every instance of the plugin is freed before it returns. */
void suite_run(Fixture *fixture, Report *report, const char *plugin_path, bool verbose);
