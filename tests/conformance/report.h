/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conformance suite's results: one TAP line per check, people first.
 *
 *   ok 3 - plan has no side effects
 *   not ok 5 - apply+undo restores the host: /tmp/x owner changed 0:0 -> 107:107
 *   ok 7 - undo twice is harmless # SKIP plugin not usable on this host
 *   1..12
 *   10 passed, 1 failed, 1 skipped
 *
 * The tally lives in a shared anonymous mapping: the checks run in a child
 * process (a crashing plugin must not take the clean-up with it), and the
 * parent reads the tally to report a crash against the check that was
 * running and to print the summary. */
#pragma once

#include <stdbool.h>

#include <glib.h>

typedef struct Report Report;

/* Maps the shared tally.  -errno when the mapping fails. */
int report_new(Report **ret);
void report_free(Report *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Report, report_free)

/* Remembers the check about to run, so a crash can be reported against it. */
void report_begin(Report *report, const char *name);
void report_pass(Report *report, const char *name);
void report_fail(Report *report, const char *name, const char *message);
void report_skip(Report *report, const char *name, const char *reason);
/* A "# ..." line for people; not a result. */
void report_note(Report *report, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* The checks ran to their end (called by the child). */
void report_done(Report *report);
bool report_is_done(const Report *report);

/* In the parent, when the child ended before report_done(): fails the
 * check that was running (or a "the suite runs to its end" check when
 * none was) with `message` ("the plugin crashed the suite: ..."). */
void report_abort(Report *report, const char *message);

/* Prints the plan line and "N passed, N failed[, N skipped]".  Returns
 * the exit status: 0 when nothing failed, 1 otherwise. */
int report_finish(Report *report);

unsigned report_failed(const Report *report);
