/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The open descriptors of this process, from /proc/self/fd, for telling
 * which ones a plugin left open: number and what it points to. */
#pragma once

#include <glib.h>

typedef struct FdCensus FdCensus;

/* -errno when /proc/self/fd cannot be read. */
int fd_census_take(FdCensus **ret);
void fd_census_free(FdCensus *census);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FdCensus, fd_census_free)

unsigned fd_census_count(const FdCensus *census);

/* NULL when `after` counts no more descriptors than `before`; otherwise a
 * message for people: "2 descriptors left open: 7 -> /dev/null, 8 -> ...". */
char *fd_census_diff(const FdCensus *before, const FdCensus *after);
