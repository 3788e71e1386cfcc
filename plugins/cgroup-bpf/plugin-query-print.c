/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a query's answer to the core's sink, text or JSON. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin-query.h"

/* Handed to the sink once this much is buffered, or at a flush. */
#define PLUGIN_QUERY_BUFFER 8192

static void plugin_query_append(PluginQuery *q, const char *data, size_t len) {
        if (q->error < 0)
                return;
        if (q->len + len + 1 > q->allocated) {
                size_t n = q->allocated ? q->allocated : 1024;
                while (n < q->len + len + 1)
                        n *= 2;
                char *b = realloc(q->buf, n);
                if (!b) {
                        q->error = -ENOMEM;
                        return;
                }
                q->buf = b;
                q->allocated = n;
        }
        memcpy(q->buf + q->len, data, len);
        q->len += len;
        if (q->len >= PLUGIN_QUERY_BUFFER)
                (void) plugin_query_flush(q);
}

void plugin_query_print(PluginQuery *q, const char *format, ...) {
        char small[512], *big = NULL;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(small, sizeof(small), format, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n < sizeof(small)) {
                plugin_query_append(q, small, (size_t) n);
                return;
        }
        va_start(ap, format);
        n = vasprintf(&big, format, ap);
        va_end(ap);
        if (n < 0) {
                if (q->error == 0)
                        q->error = -ENOMEM;
                return;
        }
        plugin_query_append(q, big, (size_t) n);
        free(big);
}

void plugin_query_print_json_string(PluginQuery *q, const char *s) {
        if (!s) {
                plugin_query_append(q, "null", 4);
                return;
        }
        plugin_query_append(q, "\"", 1);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                char esc[8];
                if (*p == '"' || *p == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", *p);
                else if (*p == '\n')
                        snprintf(esc, sizeof(esc), "\\n");
                else if (*p == '\r')
                        snprintf(esc, sizeof(esc), "\\r");
                else if (*p == '\t')
                        snprintf(esc, sizeof(esc), "\\t");
                else if (*p < 0x20)
                        snprintf(esc, sizeof(esc), "\\u%04x", *p);
                else {
                        plugin_query_append(q, (const char *) p, 1);
                        continue;
                }
                plugin_query_append(q, esc, strlen(esc));
        }
        plugin_query_append(q, "\"", 1);
}

int plugin_query_flush(PluginQuery *q) {
        if (q->error < 0 || q->len == 0)
                return q->error;
        int r = q->sink->write(q->sink, q->buf, q->len);
        q->len = 0;
        if (r < 0)
                q->error = r;
        return q->error;
}

int plugin_query_alive(PluginQuery *q) {
        int r = plugin_query_flush(q);
        if (r < 0)
                return r;
        r = q->sink->write(q->sink, "", 0);
        if (r < 0)
                q->error = r;
        return q->error;
}
