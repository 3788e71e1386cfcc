/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the library's JSON back (json-glib), for the tables bulwarkctl
 * prints from it: one code path for both transports.  A missing key or a
 * null reads as NULL, 0 or false. */
#pragma once

#include <stdbool.h>

#include <json-glib/json-glib.h>

/* The parsed document; NULL after printing why it does not parse. */
JsonNode *json_in_parse(const char *text);

const char *json_in_string(JsonObject *o, const char *key);
gint64 json_in_int(JsonObject *o, const char *key);
bool json_in_bool(JsonObject *o, const char *key);
JsonArray *json_in_array(JsonObject *o, const char *key);
JsonObject *json_in_object(JsonObject *o, const char *key);
/* Element i of an array as an object (NULL when it is none). */
JsonObject *json_in_element(JsonArray *a, guint i);
