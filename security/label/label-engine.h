/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The labelling engine both drivers share: label one file for one holder
 * and give it back, remembering the original in the file's record
 * (label-record.h, label-store.h).  A driver only says how to read and
 * write its label on an inode.
 *
 * Apply: the record is written (one write) before the label, so a crash
 * in between leaves a record whose holder's undo finds the original still
 * in place.  A file held by another running guest with a different label
 * is refused naming that guest; holders of a different label that no
 * longer run are dropped (the original stays theirs).  Undo: the holder
 * is removed; the last one restores the original, only while the file
 * still has the applied label, then removes the record.  Both are
 * idempotent.  A record from another boot whose holders all stopped is
 * discarded with a warning, the original restored first. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "label-inode.h"
#include "label-record.h"
#include "label-store.h"

typedef struct LabelDriver {
        const char *name;          /* "dac": the record is trusted.bulwark.dac */
        const char *verb;          /* "chown", "label": for messages */
        /* The inode's label now; an empty GBytes when it has none.
         * `shape` (may be NULL) is the label the result is compared with
         * or stored beside: a driver whose labels have optional parts
         * (dac's mode) reads those parts only when `shape` has them. */
        int (*read)(LabelInode *inode, GBytes *shape, GBytes **ret);
        /* Sets the label; an empty one removes it. */
        int (*write)(LabelInode *inode, GBytes *label);
        LabelValidFn valid;
} LabelDriver;

typedef void (*LabelLogFn)(void *userdata, int level, const char *message);

typedef struct LabelEngine {
        const LabelDriver *driver;
        char *state_dir;           /* NULL: no fallback journal, no guest names */
        char *xattr;
        char boot[37];
        LabelStore store;
        LabelLogFn log;
        void *log_userdata;
} LabelEngine;

/* The file one change acts on: path, and the (dev, ino) to insist on. */
typedef struct LabelTarget {
        const char *path;
        const char *what;          /* "disk 'root'": names the resource in messages */
        bool check_id;
        uint64_t dev, ino;
        bool recursive;            /* a directory whose whole tree is labelled */
} LabelTarget;

int label_engine_new(const LabelDriver *driver, const char *state_dir, LabelLogFn log, void *log_userdata,
                     LabelEngine **ret);
void label_engine_free(LabelEngine *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LabelEngine, label_engine_free)

/* Labels the target for `holder`.  On failure nothing of this call is
 * left and *ret_message says why, naming the resource and the path. */
int label_engine_apply(LabelEngine *e, const LabelTarget *t, const char *holder, GBytes *label, char **ret_message);
/* Gives the target back for `holder`. */
int label_engine_undo(LabelEngine *e, const LabelTarget *t, const char *holder, char **ret_message);

/* Restores the original of a file whatever its holders, removes the record
 * (`label restore`).  0 when there was nothing to restore, 1 when done. */
int label_engine_restore(LabelEngine *e, const char *path, char **ret_message);

/* Does the file hold a record naming `holder`? */
bool label_engine_held_by(LabelEngine *e, const char *path, const char *holder);

void label_engine_logf(LabelEngine *e, int level, const char *format, ...) G_GNUC_PRINTF(3, 4);
