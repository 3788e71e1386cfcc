/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ll-layers CMD [ARGS...]: runs CMD inside as many nested Landlock domains
 * as the kernel allows (16, counting any the caller was already in), each handling only make_block with no rule
 * (so nothing CMD does is refused but creating block devices).  A
 * process there cannot add a 17th: landlock_restrict_self() fails with
 * E2BIG, which is how the tests make the kernel refuse a guest's ruleset.
 * Exits 77 when Landlock is unusable, 2 on a usage error. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#define MAKE_BLOCK (1ull << 11)
/* Far more than the kernel's limit: a loop that never meets it is a bug. */
#define LAYERS_TRY 64

int main(int argc, char **argv) {
        uint64_t handled = MAKE_BLOCK;
        if (argc < 2) {
                fprintf(stderr, "usage: ll-layers CMD [ARGS...]\n");
                return 2;
        }
        int fd = (int) syscall(__NR_landlock_create_ruleset, &handled, sizeof(handled), 0);
        if (fd < 0) {
                fprintf(stderr, "ll-layers: Landlock unusable: %s\n", strerror(errno));
                return 77;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                perror("ll-layers: no_new_privs");
                return 1;
        }
        int layer = 0;
        while (syscall(__NR_landlock_restrict_self, fd, 0) == 0)
                if (++layer == LAYERS_TRY) {
                        fprintf(stderr, "ll-layers: %d layers and the kernel took every one\n", layer);
                        return 1;
                }
        if (errno != E2BIG) {
                fprintf(stderr, "ll-layers: layer %d: %s\n", layer + 1, strerror(errno));
                return 1;
        }
        close(fd);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "ll-layers: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
