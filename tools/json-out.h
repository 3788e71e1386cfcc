/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON string output for commands whose JSON is not yet the library's
 * (locks, devices).  The rules, invalid UTF-8 included, are those of
 * util/json-writer.h. */
#pragma once

#include <stdio.h>

/* Prints s as a JSON string literal (null when s is NULL). */
void json_print_string(FILE *f, const char *s);
