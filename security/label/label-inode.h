/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one file a change acts on: opened once O_PATH|O_NOFOLLOW, checked
 * against the (dev, ino) the lock step locked, then changed only through
 * that descriptor, so a symlink or file swapped in afterwards changes
 * nothing.  A regular file or directory is reopened for reading through
 * /proc/self/fd/N (the same inode, whatever its path names now) at the
 * first call that needs it, and its xattrs and owner are changed through
 * that descriptor (f*xattr, fchown): no path walk per call.  Other files
 * (device nodes, FIFOs, sockets) are never opened for reading, which
 * could have effects of its own: their xattrs go through /proc/self/fd/N,
 * their owner through fchownat(AT_EMPTY_PATH). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

typedef struct LabelInode {
        int fd;                    /* O_PATH */
        int io_fd;                 /* O_RDONLY, regular files and directories; else -1 */
                                   /* (LABEL_INODE_IO_UNTRIED until first needed) */
        struct stat st;
        char proc[32];             /* "/proc/self/fd/N" */
} LabelInode;

#define LABEL_INODE_IO_UNTRIED (-2)
#define LABEL_INODE_INIT { .fd = -1, .io_fd = -1 }

/* Opens `path`.  -ENOENT when it does not exist; -ELOOP for a symlink;
 * -ESTALE when want_dev/want_ino (check_id) name another inode. */
int label_inode_open(const char *path, bool check_id, uint64_t want_dev, uint64_t want_ino, LabelInode *ret);
/* Opens what `path` leads to, following symlinks (plan's one resolution):
 * -ENOENT for a dangling one.  Its xattrs go through the proc path. */
int label_inode_open_resolved(const char *path, LabelInode *ret);
void label_inode_close(LabelInode *inode);
/* Takes `fd` (O_PATH, of the inode `st` describes) into `inode`. */
void label_inode_take(LabelInode *inode, int fd, const struct stat *st);

/* xattrs of the inode.  get: the value's length, -ENODATA when unset. */
int label_inode_getxattr(LabelInode *inode, const char *name, void *buf, size_t size);
int label_inode_setxattr(LabelInode *inode, const char *name, const void *value, size_t len);
int label_inode_removexattr(LabelInode *inode, const char *name);
int label_inode_chown(LabelInode *inode, uid_t uid, gid_t gid);
/* The permission bits and set-id bits (mode & 07777). */
int label_inode_chmod(LabelInode *inode, mode_t mode);

/* /proc/sys/kernel/random/boot_id, 36 characters and a NUL. */
int label_boot_id(char ret[37]);
