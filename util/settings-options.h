/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command-line options that fill BwOptions, the library's settings:
 * bulwarkd and bulwarkctl take them with the same names and meanings, so
 * one table and one setter serve both.  The option values start at
 * SETTINGS_OPTION_FIRST, clear of a program's own (0x100 and up) and of
 * short options. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include <bulwark/bulwark.h>

#define SETTINGS_OPTION_FIRST 0x400

/* The entries for a program's `struct option` table. */
#define SETTINGS_LONG_OPTIONS                                                             \
        { "config", required_argument, NULL, SETTINGS_OPTION_FIRST },                     \
        { "plugin-dir", required_argument, NULL, SETTINGS_OPTION_FIRST + 1 },             \
        { "plugins", required_argument, NULL, SETTINGS_OPTION_FIRST + 2 },                \
        { "state-dir", required_argument, NULL, SETTINGS_OPTION_FIRST + 3 },              \
        { "run-dir", required_argument, NULL, SETTINGS_OPTION_FIRST + 4 },                \
        { "cgroup-root", required_argument, NULL, SETTINGS_OPTION_FIRST + 5 }

/* Stores `arg` in the BwOptions field of option `c` (getopt_long's value):
 * true when `c` is one of SETTINGS_LONG_OPTIONS, false otherwise. */
bool settings_option_set(BwOptions *options, int c, const char *arg);
