/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the conformance suite calls "the host": the metadata a plugin may
 * change, recorded before and after an operation and compared.
 *
 * For every path in scope: whether it exists, its type, owner, mode,
 * device numbers, size (regular files) and every extended attribute with
 * its value (trusted.* and security.* included when running as root).
 * For every cgroup directory in scope: the same, its subdirectories, and
 * the BPF device programs attached to it (ids and names).  File contents
 * and times are not compared. */
#pragma once

#include <glib.h>

typedef struct SnapshotScope SnapshotScope;
typedef struct Snapshot Snapshot;

SnapshotScope *snapshot_scope_new(void);
void snapshot_scope_free(SnapshotScope *scope);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SnapshotScope, snapshot_scope_free)

/* A directory and everything below it (not following symlinks). */
void snapshot_scope_add_tree(SnapshotScope *scope, const char *path);
/* One path; when it is a directory, its entries too (one level). */
void snapshot_scope_add_path(SnapshotScope *scope, const char *path);
/* A cgroup directory, its subdirectories and their device programs. */
void snapshot_scope_add_cgroup(SnapshotScope *scope, const char *path);

/* Records the scope.  Paths that do not exist are recorded as absent;
 * -errno only for a failure to read what exists. */
int snapshot_take(const SnapshotScope *scope, Snapshot **ret);
void snapshot_free(Snapshot *snapshot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Snapshot, snapshot_free)

/* NULL when the snapshots agree; otherwise the differences for people,
 * "/tmp/x owner changed 0:0 -> 107:107; ...".  Paths at or below `ignore`
 * (may be NULL) are not compared. */
char *snapshot_diff(const Snapshot *before, const Snapshot *after, const char *ignore);
