/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where an inode's remember record lives: its `trusted.bulwark.<driver>`
 * xattr, or, where the filesystem refuses xattrs (EOPNOTSUPP), the host
 * journal <state-dir>/label/<driver>/<dev>-<ino> (hex), written to a
 * temporary name and renamed.  Either way one write replaces the whole
 * record. */
#pragma once

#include "label-inode.h"
#include "label-record.h"

typedef struct LabelStore {
        const char *driver;
        const char *xattr;         /* "trusted.bulwark.<driver>" */
        const char *state_dir;     /* NULL: no fallback journal */
        LabelValidFn valid;
} LabelStore;

/* 0 and *ret NULL when there is no record; -EBADMSG with *ret_why when
 * the record is damaged. */
int label_store_read(const LabelStore *store, LabelInode *inode, LabelRecord **ret, char **ret_why);
int label_store_write(const LabelStore *store, LabelInode *inode, const LabelRecord *record);
int label_store_remove(const LabelStore *store, LabelInode *inode);

/* The fallback journal's file for an inode (free it). */
char *label_store_journal_file(const LabelStore *store, const struct stat *st);
