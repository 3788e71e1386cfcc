/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Acting on the locked inode through one O_PATH descriptor. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/fd-util.h"

#include "label-inode.h"

static int label_inode_open_flags(const char *path, int flags, bool check_id, uint64_t want_dev, uint64_t want_ino,
                                  LabelInode *ret) {
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC | flags);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (check_id && ((uint64_t) st.st_dev != want_dev || (uint64_t) st.st_ino != want_ino))
                return -ESTALE;
        label_inode_take(ret, steal_fd(&fd), &st);
        return 0;
}

void label_inode_take(LabelInode *inode, int fd, const struct stat *st) {
        inode->fd = fd;
        inode->io_fd = LABEL_INODE_IO_UNTRIED;
        inode->st = *st;
        snprintf(inode->proc, sizeof(inode->proc), "/proc/self/fd/%d", fd);
}

/* The reading descriptor, opened at the first call that can use one (a
 * plan that only looks at the owner never needs it): the magic link is
 * the inode itself, so no O_NOFOLLOW (it would refuse the link) and no
 * other file can be opened through it.  -1: use the proc path (not a
 * regular file or directory, or the open failed, EACCES say). */
static int label_inode_io(LabelInode *inode) {
        if (inode->io_fd == LABEL_INODE_IO_UNTRIED)
                inode->io_fd = S_ISREG(inode->st.st_mode) || S_ISDIR(inode->st.st_mode)
                                       ? open(inode->proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
                                       : -1;
        return inode->io_fd;
}

int label_inode_open(const char *path, bool check_id, uint64_t want_dev, uint64_t want_ino, LabelInode *ret) {
        return label_inode_open_flags(path, O_NOFOLLOW, check_id, want_dev, want_ino, ret);
}

int label_inode_open_resolved(const char *path, LabelInode *ret) {
        int r = label_inode_open_flags(path, 0, false, 0, 0, ret);
        if (r >= 0)
                ret->io_fd = -1;   /* plan reads one label: the proc path is one call, a descriptor three */
        return r;
}

void label_inode_close(LabelInode *inode) {
        if (inode->io_fd >= 0)
                close(inode->io_fd);
        if (inode->fd >= 0)
                close(inode->fd);
        inode->fd = inode->io_fd = -1;
}

int label_inode_getxattr(LabelInode *inode, const char *name, void *buf, size_t size) {
        int io = label_inode_io(inode);
        ssize_t n = io >= 0 ? fgetxattr(io, name, buf, size) : getxattr(inode->proc, name, buf, size);
        return n < 0 ? -errno : (int) n;
}

int label_inode_setxattr(LabelInode *inode, const char *name, const void *value, size_t len) {
        int io = label_inode_io(inode);
        int r = io >= 0 ? fsetxattr(io, name, value, len, 0) : setxattr(inode->proc, name, value, len, 0);
        return r < 0 ? -errno : 0;
}

int label_inode_removexattr(LabelInode *inode, const char *name) {
        int io = label_inode_io(inode);
        int r = io >= 0 ? fremovexattr(io, name) : removexattr(inode->proc, name);
        return r < 0 ? -errno : 0;
}

int label_inode_chown(LabelInode *inode, uid_t uid, gid_t gid) {
        int io = label_inode_io(inode);
        int r = io >= 0 ? fchown(io, uid, gid) : fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return -errno;
        /* chown clears set-id bits on some files: keep st what the file is now. */
        return fstat(inode->fd, &inode->st) < 0 ? -errno : 0;
}

int label_inode_chmod(LabelInode *inode, mode_t mode) {
        int io = label_inode_io(inode);
        /* chmod of the magic link changes the inode it names (an O_PATH
         * descriptor has no fchmod). */
        int r = io >= 0 ? fchmod(io, mode & 07777) : chmod(inode->proc, mode & 07777);
        if (r < 0)
                return -errno;
        return fstat(inode->fd, &inode->st) < 0 ? -errno : 0;
}

int label_boot_id(char ret[37]) {
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char buf[64];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        if (n < 36)
                return -EIO;
        memcpy(ret, buf, 36);
        ret[36] = '\0';
        return 0;
}
