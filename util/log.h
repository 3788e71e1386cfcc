/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for libbulwark, its daemons and tools.
 *
 * Library code logs at debug level and returns errors; programs decide
 * what people see.  The _errno variants format %m from the given error and
 * return it as a negative errno, so a failure is logged and returned in
 * one statement: return log_error_errno(r, "cgroup '%s': cannot attach: %m", p);
 */
#pragma once

#include <errno.h>
#include <stdarg.h>

#include <bulwark/plugin.h>

/* Hidden inside libbulwark; programs that link the library's objects
 * statically (tests, tools) use the same functions. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "debug", "info", "notice", "warning", "err"/"error" or a number. */
int log_level_from_string(const char *s);
/* Sets the prefix printed before every message ("bulwarkctl"). */
void log_set_program(const char *name);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) __attribute__((format(printf, 6, 7)));

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(BW_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(BW_LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(BW_LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(BW_LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(BW_LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(BW_LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(BW_LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(BW_LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(BW_LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(BW_LOG_ERR, (e), __VA_ARGS__)
