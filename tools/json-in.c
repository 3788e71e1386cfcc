/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "json-in.h"

JsonNode *json_in_parse(const char *text) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        if (!json_parser_load_from_data(parser, text, -1, &error)) {
                fprintf(stderr, "bulwarkctl: the library's JSON does not parse: %s\n", error->message);
                return NULL;
        }
        return json_node_copy(json_parser_get_root(parser));
}

static JsonNode *json_in_member(JsonObject *o, const char *key) {
        JsonNode *n = o ? json_object_get_member(o, key) : NULL;
        return n && !JSON_NODE_HOLDS_NULL(n) ? n : NULL;
}

const char *json_in_string(JsonObject *o, const char *key) {
        JsonNode *n = json_in_member(o, key);
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                             : NULL;
}

gint64 json_in_int(JsonObject *o, const char *key) {
        JsonNode *n = json_in_member(o, key);
        return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

bool json_in_bool(JsonObject *o, const char *key) {
        JsonNode *n = json_in_member(o, key);
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n);
}

JsonArray *json_in_array(JsonObject *o, const char *key) {
        JsonNode *n = json_in_member(o, key);
        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

JsonObject *json_in_object(JsonObject *o, const char *key) {
        JsonNode *n = json_in_member(o, key);
        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonObject *json_in_element(JsonArray *a, guint i) {
        JsonNode *n = a && i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}
