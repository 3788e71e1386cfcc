/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "log.h"

int error_set(BwError *err, int code, const char *format, ...) {
        char buf[BW_ERROR_MESSAGE_MAX];
        va_list ap;

        if (code > 0)
                code = -code;
        if (code == 0)
                code = -EIO;
        errno = -code;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        log_debug("%s", buf);
        if (err) {
                err->code = code;
                memcpy(err->message, buf, sizeof(buf));
        }
        return code;
}

int error_propagate(BwError *dst, const BwError *src) {
        if (dst && src && dst != src)
                *dst = *src;
        return src ? src->code : -EIO;
}
