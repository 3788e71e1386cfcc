/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_exec_spawn(): the library's own fork + apply + exec.
 *
 * The child is made with clone3(CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND)
 * where the kernel has it (born in the guest's cgroup, with no handler of
 * ours), else with fork() and the handlers reset by hand.  Signals stay
 * blocked in the parent around the clone, so none runs a handler of the
 * caller in the child.  The child talks back through one close-on-exec
 * pipe: end of file means execve() succeeded; a fixed-size record (step,
 * errno) means it failed and exits without exec'ing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "exec.h"

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
/* The UAPI values (linux/sched.h), defined here because that header
 * clashes with glibc's <sched.h>. */
#define EXEC_CLONE_CLEAR_SIGHAND 0x100000000ULL
#define EXEC_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args up to and including `cgroup` (CLONE_ARGS_SIZE_VER2). */
typedef struct ExecCloneArgs {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
} ExecCloneArgs;

/* What a child that failed writes to the pipe. */
typedef struct ExecFailure {
        int32_t step;              /* BwExecStep */
        int32_t error;             /* errno */
} ExecFailure;

extern char **environ;

/* Returns the pid (0 in the child), or -1 with errno.  *ret_placed: the
 * child is in the cgroup already; *ret_cleared: its handlers are reset. */
static pid_t exec_clone(const BwExec *e, bool *ret_placed, bool *ret_cleared) {
        ExecCloneArgs args = { .flags = EXEC_CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD };
        if (e->cgroup_fd >= 0) {
                args.flags |= EXEC_CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t) e->cgroup_fd;
        }
        long pid = syscall(__NR_clone3, &args, sizeof(args));
        if (pid >= 0) {
                *ret_placed = e->cgroup_fd >= 0;
                *ret_cleared = true;
                return (pid_t) pid;
        }
        /* An old kernel (ENOSYS, E2BIG, EINVAL), or a cgroup clone3 cannot
         * enter: fork, and the child's own cgroup step reports why. */
        *ret_placed = *ret_cleared = false;
        return fork();
}

/* What CLONE_CLEAR_SIGHAND does: handled signals back to their default,
 * ignored ones stay ignored (as execve() keeps them). */
static void exec_reset_handlers(void) {
        for (int sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;
                if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
                        continue;
                if (sa.sa_handler == SIG_IGN || sa.sa_handler == SIG_DFL)
                        continue;
                memset(&sa, 0, sizeof(sa));
                sa.sa_handler = SIG_DFL;
                (void) sigaction(sig, &sa, NULL);
        }
}

/* The child: async-signal-safe calls only, then execve() or _exit(). */
static _Noreturn void exec_child(const BwExec *e, bool placed, bool cleared, int report_fd,
                                 const sigset_t *mask, const char *path, char *const argv[],
                                 char *const envp[]) {
        if (!cleared)
                exec_reset_handlers();
        int r = exec_apply_from(e, placed ? BW_EXEC_STEP_GROUPS : BW_EXEC_STEP_CGROUP);
        if (r == 0) {
                (void) sigprocmask(SIG_SETMASK, mask, NULL);
                execve(path, argv, envp ? envp : environ);
                r = -BW_EXEC_STEP_EXEC;
        }
        ExecFailure f = { .step = -r, .error = errno };
        (void) !write(report_fd, &f, sizeof(f));
        _exit(BW_EXEC_EXIT_BASE + f.step);
}

/* 1: a failure record was read; 0: end of file (exec'd, or died). */
static int exec_read_failure(int fd, ExecFailure *ret) {
        size_t got = 0;
        while (got < sizeof(*ret)) {
                ssize_t n = read(fd, (char *) ret + got, sizeof(*ret) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t) n;
        }
        return got == sizeof(*ret);
}

static void exec_reap(pid_t pid) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static int exec_report(const BwExec *e, const ExecFailure *f, const char *path, BwError *reterr) {
        int code = f->error > 0 ? -f->error : -EIO;
        const char *what = bw_exec_step_to_string(f->step);
        switch (f->step) {
        case BW_EXEC_STEP_CGROUP:
                return error_set(reterr, code, "guest '%s': exec: cannot %s '%s': %m", e->guest, what, e->cgroup);
        case BW_EXEC_STEP_GROUPS:
        case BW_EXEC_STEP_GID:
                return error_set(reterr, code, "guest '%s': exec: cannot %s %u (%zu supplementary): %m", e->guest, what,
                                 (unsigned) e->gid, e->n_groups);
        case BW_EXEC_STEP_UID:
                return error_set(reterr, code, "guest '%s': exec: cannot %s %u: %m", e->guest, what, (unsigned) e->uid);
        case BW_EXEC_STEP_LSM_LABEL:
                return error_set(reterr, code, "guest '%s': exec: cannot %s '%s' to '%s'%s: %m", e->guest, what,
                                 e->labels[0].label, e->labels[0].path, e->n_labels > 1 ? " (or a later label)" : "");
        case BW_EXEC_STEP_LANDLOCK:
                return error_set(reterr, code, "guest '%s': exec: cannot %s (ruleset from plugin '%s'): %m", e->guest,
                                 what, e->landlock_plugin);
        case BW_EXEC_STEP_EXEC:
                return error_set(reterr, code, "guest '%s': exec: cannot exec '%s': %m", e->guest, path);
        default:
                return error_set(reterr, code, "guest '%s': exec: cannot %s: %m", e->guest, what);
        }
}

BW_PUBLIC int bw_exec_spawn(const BwExec *e, const char *path, char *const argv[], char *const envp[],
                            pid_t *ret_pid, BwExecStep *ret_failed_step, BwError *reterr) {
        _cleanup_close_ int rd = -1, wr = -1;
        sigset_t all, saved;
        bool placed, cleared;
        int fds[2];

        /* Set on every return: a pid only when a command runs, a step only
         * when the child failed at it. */
        if (ret_pid)
                *ret_pid = 0;
        if (ret_failed_step)
                *ret_failed_step = 0;
        if (!e || !path || !argv || !argv[0] || !ret_pid)
                return error_set(reterr, -EINVAL, "bw_exec_spawn: missing argument");
        if (pipe2(fds, O_CLOEXEC) < 0)
                return error_set(reterr, -errno, "guest '%s': exec: cannot make a pipe: %m", e->guest);
        rd = fds[0];
        wr = fds[1];

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        pid_t pid = exec_clone(e, &placed, &cleared);
        if (pid == 0)
                exec_child(e, placed, cleared, wr, &saved, path, argv, envp);
        int saved_errno = errno;
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (pid < 0)
                return error_set(reterr, -saved_errno, "guest '%s': exec: cannot fork: %m", e->guest);

        close_fdp(&wr);
        wr = -1;
        ExecFailure f;
        if (exec_read_failure(rd, &f) == 0) {
                *ret_pid = pid;
                return 0;
        }
        exec_reap(pid);
        if (ret_failed_step)
                *ret_failed_step = (BwExecStep) f.step;
        return exec_report(e, &f, path, reterr);
}
