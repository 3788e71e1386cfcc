/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apparmor_parser: the command lines this plugin runs, and running them.
 * The command lines are built apart from running them so tests check
 * them on hosts whose kernel has no AppArmor. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

/* The kernel's feature set, when AppArmor is in the kernel. */
#define AA_KERNEL_FEATURES "/sys/kernel/security/apparmor/features"
/* Debian's apparmor package ships the feature set of its kernel here. */
#define AA_SHIPPED_FEATURES "/usr/share/apparmor-features/features"

typedef struct AaParser {
        const char *parser;        /* apparmor_parser */
        const char *features;      /* -M FILE, NULL: the kernel's */
        const char *include_dir;   /* -I DIR besides /etc/apparmor.d, or NULL */
} AaParser;

/* The features file to compile against: `configured` when given; none
 * (the kernel's own) when the kernel has AppArmor; else the shipped one
 * when present; else none, and the parser says what it lacks. */
const char *aa_parser_features(const char *configured);

/* apparmor_parser -Q -K [-M features] [-I dir] PROFILE: compile only, no
 * kernel, no cache.  NULL-terminated, freed with g_strfreev(). */
char **aa_parser_argv_check(const AaParser *p, const char *profile);
/* apparmor_parser -r [-I dir] PROFILE: load or replace in the kernel. */
char **aa_parser_argv_replace(const AaParser *p, const char *profile);
/* apparmor_parser -R PROFILE: remove from the kernel. */
char **aa_parser_argv_remove(const AaParser *p, const char *profile);

/* The kernel's list of loaded profiles, one "name (mode)" a line. */
#define AA_KERNEL_PROFILES "/sys/kernel/security/apparmor/profiles"

/* True when the kernel lists profile `name` as loaded (`profiles`: the
 * text of AA_KERNEL_PROFILES, so tests can hand in their own). */
bool aa_parser_profile_listed(const char *profiles, const char *name);

/* Runs argv; a non-zero exit is -EINVAL with the parser's own message
 * ("apparmor_parser: profile 'X': <its stderr>"). */
int aa_parser_run(char **argv, const char *what, BwError *reterr);
