/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One guest's profile on disk and in the kernel: the operations the
 * plugin's changes, its queries and bulwark-aa-helper are made of.
 *
 * Every text that would replace a profile is first compiled by
 * apparmor_parser -Q -K from a temporary file, the rules written in place
 * of the include; a failing compile keeps the old files and returns the
 * parser's message.  Files whose text is unchanged are not rewritten, and
 * an unchanged profile costs no parser run.  Loading (-r) and removal (-R)
 * happen only where the kernel has AppArmor; elsewhere note() is told why
 * they were skipped. */
#pragma once

#include <stdbool.h>

#include <bulwark/plugin.h>

#include "aa-parser.h"
#include "util/error.h"

typedef struct AaConfig {
        const char *profile_dir;   /* where bulwark-<uuid> and its .files live */
        const char *template_path; /* TEMPLATE.guest */
        AaParser parser;
        bool kernel_enabled;       /* aa_is_enabled() */
        /* Where texts that compiled cleanly are remembered
         * (aa-compile-cache.h); NULL: every text is compiled. */
        const char *compiled_dir;
        /* Told about every step skipped, and why; may be NULL. */
        void (*note)(void *userdata, const char *message);
        void *userdata;
} AaConfig;

char *aa_guest_profile_path(const AaConfig *cfg, const char *name);
char *aa_guest_files_path(const AaConfig *cfg, const char *name);

/* Sets the rule lines of section `ref` of profile `name` (rules NULL:
 * drops the section).  When the profile itself exists, the result is
 * compiled before it replaces the old and loaded; otherwise only the
 * .files is written (the profile comes with aa_guest_profile_install()),
 * and a .files left with no section is removed. */
int aa_guest_profile_section(const AaConfig *cfg, const char *name, const char *ref, const char *rules,
                             BwError *reterr);

/* Writes the profile `name` from the template, its guest-wide section set
 * to `guest_rules`, compiles it and loads it. */
int aa_guest_profile_install(const AaConfig *cfg, const char *name, const char *guest_rules, BwError *reterr);

/* Writes the whole profile of `guest` (every section anew, sections of
 * resources it no longer has dropped), compiles it and loads it. */
int aa_guest_profile_write(const AaConfig *cfg, const BwGuestInfo *guest, BwError *reterr);

/* Unloads profile `name` and removes its files; what is gone already is
 * not an error. */
int aa_guest_profile_remove(const AaConfig *cfg, const char *name, BwError *reterr);

/* The profile name, the .files text and the profile text a whole guest
 * gets (nothing written): the dry run. */
int aa_guest_profile_render(const AaConfig *cfg, const BwGuestInfo *guest, char **ret_name, char **ret_files,
                            char **ret_profile, BwError *reterr);

/* The rules of every resource of `guest` as sections of `files`
 * (AaFiles), and the guest-wide section. */
typedef struct AaFiles AaFiles;
int aa_guest_profile_sections(const BwGuestInfo *guest, AaFiles *files, BwError *reterr);
