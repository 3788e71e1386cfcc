/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "report.h"

#define REPORT_NAME_MAX 256

struct Report {
        unsigned number;           /* checks reported so far */
        unsigned passed;
        unsigned failed;
        unsigned skipped;
        bool running;              /* `current` has begun and not been reported */
        bool done;
        char current[REPORT_NAME_MAX];
};

int report_new(Report **ret) {
        void *p = mmap(NULL, sizeof(Report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -errno;
        memset(p, 0, sizeof(Report));
        *ret = p;
        return 0;
}

void report_free(Report *report) {
        if (report)
                (void) munmap(report, sizeof(Report));
}

void report_begin(Report *report, const char *name) {
        g_strlcpy(report->current, name, sizeof(report->current));
        report->running = true;
}

/* Messages are one line: a plugin's message may carry a newline. */
static void report_print_line(const char *head, const char *message, const char *tail) {
        g_autofree char *flat = g_strdup(message ? message : "");
        g_strdelimit(flat, "\r\n", ' ');
        printf("%s%s%s\n", head, flat, tail ? tail : "");
        fflush(stdout);
}

void report_pass(Report *report, const char *name) {
        report->running = false;
        report->passed++;
        printf("ok %u - %s\n", ++report->number, name);
        fflush(stdout);
}

void report_fail(Report *report, const char *name, const char *message) {
        report->running = false;
        report->failed++;
        g_autofree char *head = g_strdup_printf("not ok %u - %s: ", ++report->number, name);
        report_print_line(head, message, NULL);
}

void report_skip(Report *report, const char *name, const char *reason) {
        report->running = false;
        report->skipped++;
        g_autofree char *head = g_strdup_printf("ok %u - %s # SKIP ", ++report->number, name);
        report_print_line(head, reason, NULL);
}

void report_note(Report *report, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_autofree char *msg = g_strdup_vprintf(format, ap);
        va_end(ap);
        report_print_line("# ", msg, NULL);
}

void report_done(Report *report) {
        report->done = true;
}

bool report_is_done(const Report *report) {
        return report->done;
}

void report_abort(Report *report, const char *message) {
        fflush(stdout);
        if (report->running)
                report_fail(report, report->current, message);
        else
                report_fail(report, "the suite runs to its end", message);
}

int report_finish(Report *report) {
        printf("1..%u\n", report->number);
        printf("%u passed, %u failed", report->passed, report->failed);
        if (report->skipped > 0)
                printf(", %u skipped", report->skipped);
        printf("\n");
        fflush(stdout);
        return report->failed > 0 || report->number == 0 ? 1 : 0;
}

unsigned report_failed(const Report *report) {
        return report->failed;
}
