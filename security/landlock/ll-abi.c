/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ll-abi.h"

/* The numbers are the same on every architecture. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes the size we
 * pass, so the shorter ABI 1 form is sent to older kernels. */
typedef struct LlRulesetAttr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
} LlRulesetAttr;

/* struct landlock_path_beneath_attr: packed in the UAPI. */
typedef struct __attribute__((packed)) LlPathBeneath {
        uint64_t allowed_access;
        int32_t parent_fd;
} LlPathBeneath;

static const LlAbiFeature ll_features[] = {
        { 1, "filesystem", "filesystem access control (execute, read, write, directory and create rights)", true },
        { 2, "refer", "linking and renaming files between directories (REFER)", true },
        { 3, "truncate", "truncating files (TRUNCATE)", true },
        { 4, "network", "TCP bind and connect control (not used: a guest definition names no ports)", false },
        { 5, "ioctl-dev", "ioctl on device files (IOCTL_DEV)", true },
        { 6, "scoping", "scoping abstract UNIX sockets and signals to the domain", true },
        { 7, "audit", "audit records of denials (LANDLOCK_RESTRICT_SELF_LOG_*)", true },
};

const LlAbiFeature *ll_abi_features(size_t *ret_n) {
        *ret_n = sizeof(ll_features) / sizeof(ll_features[0]);
        return ll_features;
}

int ll_abi_kernel(void) {
        long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        if (abi < 0)
                return -errno;
        return abi == 0 ? -EOPNOTSUPP : (int) abi;
}

uint64_t ll_abi_fs_access(int abi) {
        uint64_t access = 0;
        if (abi >= 1)
                access |= (LL_FS_MAKE_SYM << 1) - 1;
        if (abi >= 2)
                access |= LL_FS_REFER;
        if (abi >= 3)
                access |= LL_FS_TRUNCATE;
        if (abi >= 5)
                access |= LL_FS_IOCTL_DEV;
        return access;
}

uint64_t ll_abi_scoped(int abi) {
        return abi >= 6 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL : 0;
}

int ll_ruleset_create(uint64_t handled_fs, uint64_t scoped) {
        LlRulesetAttr attr = { .handled_access_fs = handled_fs, .scoped = scoped };
        /* A kernel that knows a shorter struct takes a longer one whose
         * extra bytes are zero (copy_min_struct_from_user). */
        size_t size = sizeof(attr);
        long fd = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
        return fd < 0 ? -errno : (int) fd;
}

int ll_ruleset_add_path(int ruleset_fd, int parent_fd, uint64_t access) {
        LlPathBeneath rule = { .allowed_access = access, .parent_fd = parent_fd };
        return syscall(__NR_landlock_add_rule, ruleset_fd, LL_RULE_PATH_BENEATH, &rule, 0) < 0 ? -errno : 0;
}

int ll_restrict_self(int ruleset_fd) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0 ? -errno : 0;
}

const char *ll_access_format(uint64_t access, char *buf, size_t size) {
        static const char *const names[] = {
                "execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
                "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block",
                "make_sym", "refer", "truncate", "ioctl_dev",
        };
        size_t len = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if (!(access & (1ull << i)))
                        continue;
                int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", names[i]);
                if (n < 0 || (size_t) n >= size - len)
                        break;
                len += (size_t) n;
        }
        if (len == 0)
                snprintf(buf, size, "none");
        return buf;
}
