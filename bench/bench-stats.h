/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every benchmark measures with: a monotonic clock in nanoseconds
 * and the median of a run of samples (sorted in place). */
#pragma once

#include <stdlib.h>
#include <time.h>

static inline double bench_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), bench_cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
