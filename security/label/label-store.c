/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record of an inode: its xattr, or the fallback journal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <unistd.h>

#include "util/fd-util.h"

#include "label-store.h"

static bool label_store_unsupported(int r) {
        return r == -EOPNOTSUPP || r == -ENOTSUP;
}

char *label_store_journal_file(const LabelStore *store, const struct stat *st) {
        g_autofree char *file = g_strdup_printf("%" PRIx64 "-%" PRIx64, (uint64_t) st->st_dev, (uint64_t) st->st_ino);
        return g_build_filename(store->state_dir, "label", store->driver, file, NULL);
}

static int label_store_read_journal(const LabelStore *store, LabelInode *inode, char **ret, size_t *ret_len) {
        if (!store->state_dir)
                return -EOPNOTSUPP;
        g_autofree char *file = label_store_journal_file(store, &inode->st);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ENODATA : -errno;
        char buf[LABEL_RECORD_SIZE_MAX + 1];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return -errno;
        *ret = g_strndup(buf, (gsize) n);
        *ret_len = (size_t) n;
        return 0;
}

int label_store_read(const LabelStore *store, LabelInode *inode, LabelRecord **ret, char **ret_why) {
        char buf[LABEL_RECORD_SIZE_MAX + 1];
        g_autofree char *text = NULL;
        size_t len = 0;
        *ret = NULL;
        int n = label_inode_getxattr(inode, store->xattr, buf, sizeof(buf) - 1);
        if (n == -ERANGE)
                n = LABEL_RECORD_SIZE_MAX + 1;      /* too large: parse refuses it */
        if (label_store_unsupported(n)) {
                int r = label_store_read_journal(store, inode, &text, &len);
                if (r == -ENODATA)
                        return 0;
                if (r < 0)
                        return r;
        } else if (n == -ENODATA)
                return 0;
        else if (n < 0)
                return n;
        else {
                len = (size_t) n;
                text = g_strndup(buf, MIN(len, sizeof(buf) - 1));
        }
        return label_record_parse(store->driver, store->valid, text, len, ret, ret_why);
}

static int label_store_write_journal(const LabelStore *store, LabelInode *inode, const char *text, size_t len) {
        if (!store->state_dir)
                return -EOPNOTSUPP;
        g_autofree char *file = label_store_journal_file(store, &inode->st);
        g_autofree char *dir = g_path_get_dirname(file);
        if (g_mkdir_with_parents(dir, 0700) < 0)
                return -errno;
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents_full(file, text, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
                return -EIO;
        return 0;
}

int label_store_write(const LabelStore *store, LabelInode *inode, const LabelRecord *record) {
        size_t len;
        g_autofree char *text = label_record_format(record, &len);
        if (len > LABEL_RECORD_SIZE_MAX)
                return -E2BIG;
        int r = label_inode_setxattr(inode, store->xattr, text, len);
        if (label_store_unsupported(r))
                return label_store_write_journal(store, inode, text, len);
        return r;
}

int label_store_remove(const LabelStore *store, LabelInode *inode) {
        int r = label_inode_removexattr(inode, store->xattr);
        if (label_store_unsupported(r)) {
                if (!store->state_dir)
                        return 0;
                g_autofree char *file = label_store_journal_file(store, &inode->st);
                return g_unlink(file) < 0 && errno != ENOENT ? -errno : 0;
        }
        return r == -ENODATA ? 0 : r;
}
