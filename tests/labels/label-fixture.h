/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The world a labelling test runs in, as root: a scratch directory with
 * the guest files on a tmpfs or an ext4 image (a loop mount) mounted in
 * it, a device directory
 * under /dev/shm, a real bulwark-lockd, and a manager loading dac and
 * selinux (and fake-files) from the build tree through lockd.  Guest
 * files start with an owner and a security.selinux context no guest
 * uses, so a wrong restore shows.  Everything is removed by
 * label_fixture_free(), even after a failed assertion (cmocka teardown). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "lockd-test.h"

#define LABEL_ORIGINAL_UID 1
#define LABEL_ORIGINAL_GID 2
#define LABEL_ORIGINAL_CONTEXT "system_u:object_r:user_home_t:s0"

typedef struct LabelFixture {
        char *dir;                 /* scratch directory */
        char *files;               /* guest files: the mount point dir/files */
        bool mounted;
        char *devdir;              /* /dev/shm/bulwark-labels-<pid>-<n>: device nodes */
        char *state;
        char *cgroot;
        char *plugin_dir;
        TestDaemon lockd;
        GPtrArray *mounts;         /* what label_fixture_mount() mounted */
} LabelFixture;

typedef enum LabelFs {
        LABEL_FS_TMPFS,
        LABEL_FS_EXT4,             /* a 32 MiB image made with mkfs.ext4, loop-mounted */
} LabelFs;

/* NULL, with the reason printed, when the filesystem cannot be had here
 * (no mkfs.ext4, no loop device). */
LabelFixture *label_fixture_new(const char *tag, LabelFs fs);
void label_fixture_free(LabelFixture *f);

/* A manager with `plugins` through lockd, `extra` appended to bulwark.conf. */
BwManager *label_fixture_manager(LabelFixture *f, const char *plugins, const char *extra);

/* Mounts a filesystem of `type` on the new directory dir/name (removed
 * with the fixture, even when a check fails first); returns its path. */
char *label_fixture_mount(LabelFixture *f, const char *name, const char *type, const char *options);

/* A file in f->files with the original owner and context; returns its path. */
char *label_fixture_file(LabelFixture *f, const char *name);

/* The text of guest `name` (uid:gid 107:107) with one resource of every
 * type that names a file: disk, read-only disk (`ro`, shared between
 * guests when it is the same name), chardev file, kernel and initrd,
 * firmware loader and nvram (`nvram`), TPM state tree, memory backing
 * file, a device node, a socket and a FIFO chardev, and a pty (nothing
 * to label).  Files are made when missing. */
char *label_fixture_guest_text(LabelFixture *f, const char *name, const char *ro, const char *nvram);

/* A smaller guest for the crash tests: a disk, a read-only disk and a
 * TPM state tree. */
char *label_fixture_small_guest_text(LabelFixture *f, const char *name);

/* Every file, directory and node under the guest files and the device
 * directory: "path uid:gid mode context xattrs" lines, sorted. */
char *label_fixture_snapshot(LabelFixture *f);

/* trusted.bulwark.* xattrs left under the guest files and devices. */
int label_fixture_count_records(LabelFixture *f);

/* The owner "uid:gid" and the context of a path (free them). */
char *label_fixture_owner(const char *path);
char *label_fixture_context(const char *path);

BwGuest *label_fixture_guest(const char *text, const char *name);
