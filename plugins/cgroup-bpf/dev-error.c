/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dev-error.h"

int dev_error_prefix(DevError *err, const char *format, ...) {
        char prefix[256], old[DEV_ERROR_MESSAGE_MAX];
        va_list ap;

        if (!err)
                return -EIO;
        va_start(ap, format);
        vsnprintf(prefix, sizeof(prefix), format, ap);
        va_end(ap);
        memcpy(old, err->message, sizeof(old));
        size_t n = strlen(prefix);
        if (n + 2 >= sizeof(err->message))
                n = sizeof(err->message) - 3;
        memcpy(err->message, prefix, n);
        memcpy(err->message + n, ": ", 2);
        size_t rest = sizeof(err->message) - n - 3;
        size_t m = strnlen(old, rest);
        memcpy(err->message + n + 2, old, m);
        err->message[n + 2 + m] = '\0';
        return err->code ? err->code : -EIO;
}

void dev_format(char *buf, size_t size, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(buf, size, format, ap);
        va_end(ap);
}
