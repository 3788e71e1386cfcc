/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_exec_apply(): the child's half of exec, between fork and exec.
 *
 * Every function here runs in a child that may have been forked from a
 * threaded daemon: only async-signal-safe system calls, on memory and
 * descriptors exec-prepare.c made.  No allocation, no lock, no stdio, no
 * logging, no GLib.  Each step is one small function returning 0 or
 * -errno; the order is the one bulwark.h documents (cgroup, groups, gid,
 * uid, LSM labels, no_new_privs, Landlock last). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"

/* Only landlock_restrict_self() is needed here (with flags only where
 * exec-prepare.c found ABI 7); its number is the same on every architecture, for C libraries
 * whose headers predate it. */
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

static int exec_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static int exec_write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? exec_errno() : -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

static int exec_join_cgroup(const BwExec *e) {
        if (e->cgroup_procs_fd < 0)
                return 0;
        return exec_write_all(e->cgroup_procs_fd, "0", 1);
}

/* Raw system calls: glibc's wrappers would try to change every thread of
 * the parent it still believes in (setxid broadcast), which a forked or
 * cloned child must not do; the raw calls change this thread, the only one. */
static int exec_set_groups(const BwExec *e) {
        return syscall(SYS_setgroups, e->n_groups, e->groups) < 0 ? exec_errno() : 0;
}

static int exec_set_gid(const BwExec *e) {
        gid_t r, w, s;
        if (syscall(SYS_setresgid, e->gid, e->gid, e->gid) < 0)
                return exec_errno();
        if (syscall(SYS_getresgid, &r, &w, &s) < 0)
                return exec_errno();
        return r == e->gid && w == e->gid && s == e->gid ? 0 : -EPERM;
}

static int exec_set_uid(const BwExec *e) {
        uid_t r, w, s;
        if (syscall(SYS_setresuid, e->uid, e->uid, e->uid) < 0)
                return exec_errno();
        if (syscall(SYS_getresuid, &r, &w, &s) < 0)
                return exec_errno();
        return r == e->uid && w == e->uid && s == e->uid ? 0 : -EPERM;
}

/* The path names /proc/thread-self: opened here, it is the child's own. */
static int exec_write_labels(const BwExec *e) {
        for (size_t i = 0; i < e->n_labels; i++) {
                int fd = open(e->labels[i].path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return exec_errno();
                int r = exec_write_all(fd, e->labels[i].bytes, e->labels[i].len);
                int saved = errno;
                close(fd);
                errno = saved;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Always: a guest never gains privileges through a set-id binary, and
 * Landlock requires it of an unprivileged caller anyway. */
static int exec_no_new_privs(const BwExec *e) {
        (void) e;
        return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? exec_errno() : 0;
}

static int exec_landlock(const BwExec *e) {
        if (e->landlock_fd < 0)
                return 0;
        return syscall(__NR_landlock_restrict_self, e->landlock_fd, e->landlock_flags) < 0 ? exec_errno() : 0;
}

int exec_apply_from(const BwExec *e, int first) {
        static int (*const steps[])(const BwExec *) = {
                [BW_EXEC_STEP_CGROUP] = exec_join_cgroup,
                [BW_EXEC_STEP_GROUPS] = exec_set_groups,
                [BW_EXEC_STEP_GID] = exec_set_gid,
                [BW_EXEC_STEP_UID] = exec_set_uid,
                [BW_EXEC_STEP_LSM_LABEL] = exec_write_labels,
                [BW_EXEC_STEP_NO_NEW_PRIVS] = exec_no_new_privs,
                [BW_EXEC_STEP_LANDLOCK] = exec_landlock,
        };
        if (!e) {
                errno = EINVAL;
                return -BW_EXEC_STEP_CGROUP;
        }
        for (int step = first < 1 ? 1 : first; step <= BW_EXEC_STEP_LANDLOCK; step++) {
                int r = steps[step](e);
                if (r < 0) {
                        errno = -r;
                        return -step;
                }
        }
        return 0;
}

BW_PUBLIC int bw_exec_apply(const BwExec *exec) {
        return exec_apply_from(exec, BW_EXEC_STEP_CGROUP);
}

BW_PUBLIC const char *bw_exec_step_to_string(int step) {
        switch (step) {
        case BW_EXEC_STEP_CGROUP: return "join cgroup";
        case BW_EXEC_STEP_GROUPS: return "set supplementary groups";
        case BW_EXEC_STEP_GID: return "set group id";
        case BW_EXEC_STEP_UID: return "set user id";
        case BW_EXEC_STEP_LSM_LABEL: return "write LSM exec label";
        case BW_EXEC_STEP_NO_NEW_PRIVS: return "set no_new_privs";
        case BW_EXEC_STEP_LANDLOCK: return "restrict itself with Landlock";
        case BW_EXEC_STEP_EXEC: return "exec";
        default: return "unknown step";
        }
}
