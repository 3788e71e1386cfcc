/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "plugin-error.h"

int plugin_error_set(PluginError *err, int code, const char *format, ...) {
        va_list ap;

        if (code > 0)
                code = -code;
        if (code == 0)
                code = -EIO;
        if (err) {
                int saved = errno;
                errno = -code;
                va_start(ap, format);
                vsnprintf(err->message, sizeof(err->message), format, ap);
                va_end(ap);
                errno = saved;
                err->code = code;
        }
        return code;
}

void plugin_log(const BwHost *host, int level, const char *format, ...) {
        char fallback[PLUGIN_ERROR_MESSAGE_MAX], *message = NULL;
        va_list ap;

        if (!host || !host->log)
                return;
        va_start(ap, format);
        int n = vasprintf(&message, format, ap);
        va_end(ap);
        if (n < 0) {
                /* Out of memory: the message cut to the fixed size. */
                message = NULL;
                va_start(ap, format);
                vsnprintf(fallback, sizeof(fallback), format, ap);
                va_end(ap);
        }
        host->log(host, level, message ? message : fallback);
        free(message);
}
