/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-process profile generation: load and resolve a guest definition with
 * libbulwark, then render its profile and .files with the apparmor
 * plugin's code (nothing written).  Prints the median of N runs in µs,
 * and, as the floor, the median of loading the definition alone.
 * Usage: bench-apparmor GUEST TEMPLATE [RUNS] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "aa-guest-profile.h"

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
        qsort(v, (size_t) n, sizeof(*v), cmp_double);
        return v[n / 2];
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "Usage: bench-apparmor GUEST TEMPLATE [RUNS]\n");
                return 2;
        }
        int runs = argc > 3 ? atoi(argv[3]) : 1000;
        double *load = g_new(double, runs), *full = g_new(double, runs);
        AaConfig cfg = { .profile_dir = "/etc/apparmor.d/bulwark", .template_path = argv[2] };
        size_t bytes = 0;

        for (int i = 0; i < runs; i++) {
                BwGuest *g = NULL;
                BwError err = {};
                g_autofree char *name = NULL, *files = NULL, *profile = NULL;
                double t0 = now_us();
                if (bw_guest_load_file(argv[1], &g, &err) < 0) {
                        fprintf(stderr, "bench-apparmor: %s\n", err.message);
                        return 1;
                }
                double t1 = now_us();
                if (aa_guest_profile_render(&cfg, bw_guest_info(g), &name, &files, &profile, &err) < 0) {
                        fprintf(stderr, "bench-apparmor: %s\n", err.message);
                        return 1;
                }
                double t2 = now_us();
                load[i] = t1 - t0;
                full[i] = t2 - t0;
                bytes = strlen(files) + strlen(profile);
                bw_guest_free(g);
        }
        printf("in-process: load+render median %.1f us (load alone %.1f us), %zu bytes, %d runs\n",
               median(full, runs), median(load, runs), bytes, runs);
        g_free(load);
        g_free(full);
        return 0;
}
