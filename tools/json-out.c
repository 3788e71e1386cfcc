/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>

#include "json-out.h"
#include "util/json-writer.h"

void json_print_string(FILE *f, const char *s) {
        g_autoptr(GString) out = g_string_new(NULL);
        json_append_string(out, s);
        fputs(out->str, f);
}
