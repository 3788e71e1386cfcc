/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal JSON output for --json: strings escaped per RFC 8259. */
#pragma once

#include <stdio.h>

/* Prints s as a JSON string literal (null when s is NULL). */
void json_print_string(FILE *f, const char *s);
