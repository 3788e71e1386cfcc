/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BwExec: what the guest's process needs, prepared in the parent
 * (exec-prepare.c) so the child applies it with async-signal-safe calls
 * only (exec-apply.c); exec-spawn.c is the library's own fork + apply +
 * exec.  Everything the child touches is plain memory and descriptors
 * made here: the child never allocates, formats or looks anything up. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <bulwark/bulwark.h>

/* LSMs one process can carry an exec label for at once. */
#define EXEC_LABELS_MAX 4

typedef struct ExecLabel {
        char *lsm;                 /* "selinux", "apparmor", ... */
        char *plugin;              /* who gave it */
        char *path;                /* /proc/thread-self/attr/.../exec: the child's own */
        char *label;               /* as the plugin gave it, for messages */
        char *bytes;               /* exactly what is written ("exec <profile>" for AppArmor) */
        size_t len;
} ExecLabel;

struct BwExec {
        char *guest;               /* name, for messages */

        char *cgroup;              /* NULL: no plugin placed the process */
        char *cgroup_plugin;
        int cgroup_fd;             /* O_PATH|O_DIRECTORY: clone3(CLONE_INTO_CGROUP) */
        int cgroup_procs_fd;       /* O_WRONLY cgroup.procs: the fallback */

        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t *groups;
        char *identity_plugin;     /* NULL: the guest definition's */

        ExecLabel labels[EXEC_LABELS_MAX];
        size_t n_labels;

        int landlock_fd;           /* -1: none */
        char *landlock_plugin;
        unsigned landlock_flags;   /* landlock_restrict_self() flags */
};

/* The steps of bw_exec_apply() from `first` on: bw_exec_spawn() starts at
 * BW_EXEC_STEP_GROUPS when clone3() already placed the child.  Returns 0
 * or -step with errno set.  Async-signal-safe. */
int exec_apply_from(const BwExec *exec, int first);

/* An empty BwExec: every descriptor -1. */
BwExec *exec_new(const char *guest);

/* Shared by bw_manager_exec_prepare() and bw_exec_new_from_attrs()
 * (exec-attrs.c): the label's /proc/thread-self path and the bytes
 * written there, the LSM name check, and the cgroup's descriptors. */
char *exec_label_path(const char *lsm);
char *exec_label_bytes(const char *lsm, const char *label);
bool exec_lsm_name_is_valid(const char *lsm);
int exec_open_cgroup(BwExec *e, BwError *reterr);
bool exec_fd_is_landlock_ruleset(int fd);
