/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Landlock kernel interface: system calls, the access rights by value
 * (Debian 12's linux/landlock.h is the 6.1 UAPI, ABI 3 names only), and
 * what each ABI version adds, as one table (the shape of the kernel's
 * samples/landlock/sandboxer.c): handled access is everything the running
 * ABI knows, never more, so an older kernel gets a smaller ruleset instead
 * of a refused one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Filesystem access rights (LANDLOCK_ACCESS_FS_*). */
enum {
        LL_FS_EXECUTE = 1ull << 0,
        LL_FS_WRITE_FILE = 1ull << 1,
        LL_FS_READ_FILE = 1ull << 2,
        LL_FS_READ_DIR = 1ull << 3,
        LL_FS_REMOVE_DIR = 1ull << 4,
        LL_FS_REMOVE_FILE = 1ull << 5,
        LL_FS_MAKE_CHAR = 1ull << 6,
        LL_FS_MAKE_DIR = 1ull << 7,
        LL_FS_MAKE_REG = 1ull << 8,
        LL_FS_MAKE_SOCK = 1ull << 9,
        LL_FS_MAKE_FIFO = 1ull << 10,
        LL_FS_MAKE_BLOCK = 1ull << 11,
        LL_FS_MAKE_SYM = 1ull << 12,
        LL_FS_REFER = 1ull << 13,      /* ABI 2 */
        LL_FS_TRUNCATE = 1ull << 14,   /* ABI 3 */
        LL_FS_IOCTL_DEV = 1ull << 15,  /* ABI 5 */
};

/* The rights a rule on a file (not a directory) may carry: Landlock
 * refuses directory rights on a file. */
#define LL_FS_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* Scopes (LANDLOCK_SCOPE_*, ABI 6). */
enum {
        LL_SCOPE_ABSTRACT_UNIX_SOCKET = 1ull << 0,
        LL_SCOPE_SIGNAL = 1ull << 1,
};

/* The newest ABI this code knows; a newer kernel is used at this one. */
#define LL_ABI_KNOWN 7

/* What one ABI version adds. */
typedef struct LlAbiFeature {
        int abi;
        const char *name;          /* "truncate" */
        const char *what;          /* for people */
        bool used;                 /* the plugin uses it where the kernel has it */
} LlAbiFeature;

/* The features of ABI 1 to LL_ABI_KNOWN, in order; *ret_n their count. */
const LlAbiFeature *ll_abi_features(size_t *ret_n);

/* The ABI the running kernel reports: >= 1, or -errno (-EOPNOTSUPP:
 * built without Landlock or disabled at boot; -ENOSYS: too old). */
int ll_abi_kernel(void);

/* The filesystem rights and scopes ABI `abi` handles (0 below 1 and for
 * scopes below 6). */
uint64_t ll_abi_fs_access(int abi);
uint64_t ll_abi_scoped(int abi);

/* landlock_create_ruleset() for these handled rights and scopes; a
 * descriptor (close-on-exec) or -errno.  `scoped` must be 0 below ABI 6. */
int ll_ruleset_create(uint64_t handled_fs, uint64_t scoped);
/* landlock_add_rule(LANDLOCK_RULE_PATH_BENEATH) for `parent_fd`: 0 or -errno. */
int ll_ruleset_add_path(int ruleset_fd, int parent_fd, uint64_t access);
/* prctl(PR_SET_NO_NEW_PRIVS) and landlock_restrict_self(fd, 0), for tests
 * and the benchmark (the core does this in the exec child): 0 or -errno. */
int ll_restrict_self(int ruleset_fd);

/* Writes the names of the rights in `access` ("read_file,write_file"),
 * "none" for 0, into buf; returns buf. */
const char *ll_access_format(uint64_t access, char *buf, size_t size);
