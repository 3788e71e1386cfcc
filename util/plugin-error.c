/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

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
