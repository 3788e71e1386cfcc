/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bulwark/bulwark.h>

#include "log.h"

/* The level and program name are process-wide by nature (like stderr
 * itself); they are set once at start-up by the program. */
static int log_max_level = -1;
static const char *log_program;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_level_from_string(const char *s) {
        static const struct {
                const char *name;
                int level;
        } names[] = {
                { "debug", BW_LOG_DEBUG },     { "info", BW_LOG_INFO },
                { "notice", BW_LOG_NOTICE },   { "warning", BW_LOG_WARNING },
                { "warn", BW_LOG_WARNING },    { "err", BW_LOG_ERR },
                { "error", BW_LOG_ERR },
        };
        if (!s || !*s)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcasecmp(s, names[i].name) == 0)
                        return names[i].level;
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || v < 0 || v > 7)
                return -EINVAL;
        return (int) v;
}

int log_get_max_level(void) {
        if (log_max_level < 0) {
                int l = log_level_from_string(getenv("BULWARK_LOG_LEVEL"));
                log_max_level = l >= 0 ? l : BW_LOG_WARNING;
        }
        return log_max_level;
}

void log_set_program(const char *name) {
        log_program = name;
}

static const char *log_level_name(int level) {
        switch (level) {
        case BW_LOG_ERR: return "error";
        case BW_LOG_WARNING: return "warning";
        case BW_LOG_NOTICE: return "notice";
        case BW_LOG_INFO: return "info";
        default: return "debug";
        }
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        int saved = errno;
        if (error < 0)
                error = -error;
        if (level <= log_get_max_level()) {
                char buf[2048];
                va_list ap;
                /* %m in the format means the error we were given. */
                errno = error;
                va_start(ap, format);
                vsnprintf(buf, sizeof(buf), format, ap);
                va_end(ap);
                if (log_get_max_level() >= BW_LOG_DEBUG)
                        fprintf(stderr, "%s%s%s: %s (%s:%d %s)\n", log_program ? log_program : "",
                                log_program ? ": " : "", log_level_name(level), buf, file, line, func);
                else
                        fprintf(stderr, "%s%s%s\n", log_program ? log_program : "",
                                log_program ? ": " : "", buf);
        }
        errno = saved;
        return -error;
}

BW_PUBLIC void bw_log_set_level(int level) {
        log_set_max_level(level);
}
