/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real-kernel helpers for the cgroup-bpf tests: a uniquely named child
 * cgroup of the cgroup2 root, children moved into it that try to open
 * or mknod devices and report the errno, and managers running the
 * cgroup-bpf plugin there. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <bulwark/bulwark.h>

/* Skips the whole binary unless root, cgroup2 and device programs are
 * there.  Returns the cgroup2 root (malloc'd). */
char *cgtest_require(void);

/* Skips the whole binary unless the cgroup-bpf plugin loads into a
 * manager whose cgroup root is `root` and says it is usable. */
void cgtest_require_plugin(const char *root);

/* Whether path is a directory of a cgroup2 file system. */
bool cgtest_is_cgroup2(const char *path);

/* Creates <root>/bulwark-test-<tag>-<pid>-<n>; returns the malloc'd path. */
char *cgtest_create(const char *root, const char *tag);
/* Kills what runs in it (cgroup.kill), removes children and the cgroup. */
void cgtest_remove(const char *path);

/* A test's own cgroup below root and its own scratch directory. */
typedef struct CgFixture {
        char *cgroup;
        char *scratch;
} CgFixture;

/* Creates the cgroup and the scratch directory, both named after tag. */
CgFixture *cgtest_fixture_new(const char *root, const char *tag);
/* Removes both and frees the fixture. */
void cgtest_fixture_free(CgFixture *f);

/* A manager with `plugins` (from the build's cgroup-bpf and test plugins)
 * whose state directory is <scratch>/<state> and whose cgroup root is
 * `cgroup_root`, configured with cgroup-bpf's default rules, then `extra`
 * (NULL: nothing).  Fails the test unless every plugin is usable. */
BwManager *cgtest_manager(const CgFixture *f, const char *plugins, const char *state, const char *cgroup_root,
                          const char *extra);

/* One access tried from inside the cgroup. */
typedef struct CgAccess {
        const char *path;
        int flags;                 /* open() flags; -1: mknod(path, mode, dev) */
        mode_t mode;
        dev_t dev;
        int result;                /* out: 0 or the errno */
} CgAccess;

/* Runs the accesses in one child placed in the cgroup. */
void cgtest_try(const char *cgroup, CgAccess *accesses, size_t n);
/* One open; returns 0 or errno. */
int cgtest_open(const char *cgroup, const char *path, int flags);
/* One mknod; returns 0 or errno (a node made is removed again). */
int cgtest_mknod(const char *cgroup, const char *path, mode_t mode, dev_t dev);

/* Makes character node dir/name c major:minor; returns the malloc'd path. */
char *cgtest_node(const char *dir, const char *name, bool block, unsigned major, unsigned minor);

/* The number of device programs attached to the cgroup itself. */
int cgtest_prog_count(const char *cgroup);

/* Writes a keyfile-less string to a file (for configs). */
void cgtest_write(const char *path, const char *text);
