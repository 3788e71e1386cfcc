/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the cmocka tests.
 *
 * Skipping: automake's TAP driver counts cmocka's "not ok # SKIP" as a
 * failure, so a test binary that cannot run here skips as a whole with
 * test_skip_all(), which prints "1..0 # SKIP <reason>" and exits 0.  Put
 * cases with different needs in different binaries. */
#pragma once

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Prints the TAP skip plan with the reason and exits. */
_Noreturn void test_skip_all(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Skips the whole binary unless running as root. */
void test_require_root(void);

/* A fresh scratch directory under $TMPDIR (or /tmp); removed recursively
 * by test_scratch_remove().  Returns a malloc'd path. */
char *test_scratch_new(const char *tag);
void test_scratch_remove(const char *path);

/* Writes `len` bytes (or strlen when len < 0) to dir/name; returns the
 * malloc'd full path. */
char *test_write_file(const char *dir, const char *name, const void *data, long len);

/* Absolute path of a file in the source or build tree (from the
 * BW_TOP_SRCDIR / BW_TOP_BUILDDIR the test harness exports, or the
 * compile-time fallbacks).  Returns a malloc'd path. */
char *test_srcdir_path(const char *relative);
char *test_builddir_path(const char *relative);

/* Makes device node `path` (type S_IFCHR or S_IFBLK, mode 0600); false,
 * with a note in the output, when this process may not make one (only
 * EPERM and EACCES are accepted). */
bool test_node_make(const char *path, mode_t type, dev_t dev);

/* Counts the entries of a directory, dot files aside: 0 when it does
 * not exist, -1 when it cannot be read. */
int test_count_entries(const char *dir);

/* Counts the open descriptors of this process. */
int test_count_fds(void);

/* Forks a child that takes a lock of `type` (F_RDLCK, F_WRLCK) on byte 1 of
 * `path` with a classic POSIX lock, as an unrelated program or libvirt
 * would, and holds it until killed; returns its pid once the lock is held.
 * The caller kills and reaps it. */
pid_t test_hold_byte1_lock(const char *path, short type);

/* Forks a child that takes an exclusive flock on `path` (made if missing),
 * as another process in a transaction holds a guest's lock, and holds it
 * until killed; returns its pid once the lock is held. */
pid_t test_hold_flock(const char *path);
