/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The generated include bulwark-<uuid>.files: one section of rule lines
 * per resource ("# section disk:root"), plus the guest-wide section
 * "guest".  Each change of the plugin sets or drops the section of its
 * resource, read back from the file on disk, so a change applied, undone
 * or replayed in another process after a crash touches its own rules and
 * no others. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct AaFiles AaFiles;

/* Sections of a .files text, in the order they appear (NULL text: none).
 * Comment lines other than section heads are the header and are dropped;
 * rule lines before the first section head too. */
AaFiles *aa_files_parse(const char *text);
void aa_files_free(AaFiles *files);

/* Replaces the rules of section `ref`, or appends it.  `rules` are whole
 * lines, each ending in "\n" (an empty string: a section without rules). */
void aa_files_set(AaFiles *files, const char *ref, const char *rules);
/* Removes section `ref`; false when there was none. */
bool aa_files_drop(AaFiles *files, const char *ref);
size_t aa_files_count(const AaFiles *files);
/* The rules of section `ref`, or NULL. */
const char *aa_files_get(const AaFiles *files, const char *ref);

/* The file's text: a header naming the profile, then each section. */
char *aa_files_render(const AaFiles *files, const char *profile);
/* The rule lines of every section, for a profile compiled inline. */
char *aa_files_rules(const AaFiles *files);
