/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transaction journal: one append-only file per guest,
 * <state-dir>/guests/<name>.journal, fsync'd after every record.
 *
 * A record is a 16-byte header (magic, type, payload length, CRC-32 of the
 * payload) and a GVariant payload.  Every change is written as INTENT
 * before it is made and DONE (with its undo record) after; a rollback or
 * stop writes UNDONE per change.  BEGIN opens a transaction (start,
 * attach, detach, stop) and carries the guest definition it works on;
 * COMMIT closes it; ABORT marks a transaction rolled back in full.
 *
 * While the guest runs the file is its list of applied changes, which is
 * what stop and recover undo.  A torn last record (a crash mid-write) is
 * detected by length or CRC and ignored: the change it described was
 * never started, because records are written before the change. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include <bulwark/bulwark.h>

typedef enum JournalOp {
        JOURNAL_OP_START = 1,
        JOURNAL_OP_ATTACH,
        JOURNAL_OP_DETACH,
        JOURNAL_OP_STOP,
} JournalOp;

/* One change as the journal remembers it. */
typedef struct JournalEntry {
        uint32_t seq;
        unsigned txn;              /* index of the transaction that made it */
        char *plugin;
        char *kind;
        char *object;
        char *detail;
        char *lock_path;
        GBytes *data;
        char *resource;            /* "type:id", NULL: guest-wide */
        uint32_t flags;            /* BW_CHANGE_* */
        GBytes *undo;              /* NULL until DONE */
        bool done;
        bool undone;
} JournalEntry;

/* What a journal file says. */
typedef struct JournalState {
        char *guest_text;          /* definition of the latest transaction */
        char *guest_source;
        JournalOp last_op;
        unsigned n_txn;
        bool last_committed;       /* the latest transaction reached COMMIT */
        bool last_aborted;         /* ... or was rolled back in full */
        GPtrArray *entries;        /* JournalEntry*, in order made */
        uint32_t next_seq;
        size_t valid_length;       /* bytes up to the end of the last whole record */
} JournalState;

typedef struct Journal Journal;

/* Creates the guest's journal; -EEXIST when the guest already has one. */
int journal_create(const char *state_dir, const char *name, Journal **ret, BwError *reterr);
/* Opens an existing journal for appending, cutting off a torn last record
 * so new records follow the last whole one; -ENOENT when there is none. */
int journal_open(const char *state_dir, const char *name, Journal **ret, BwError *reterr);
void journal_close(Journal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Journal, journal_close)

int journal_begin(Journal *j, JournalOp op, const char *guest_text, const char *guest_source);
int journal_intent(Journal *j, uint32_t seq, const char *plugin, const BwChange *change);
int journal_done(Journal *j, uint32_t seq, const void *undo, size_t undo_len);
int journal_undone(Journal *j, uint32_t seq);
int journal_commit(Journal *j);
int journal_abort(Journal *j);
/* Removes the file (the guest is gone) and syncs the directory. */
int journal_remove(Journal *j);
const char *journal_path(const Journal *j);

/* Reads a journal file.  -ENODATA when it records no transaction (a crash
 * right after it was created). */
int journal_read(const char *path, JournalState **ret, BwError *reterr);
void journal_state_free(JournalState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JournalState, journal_state_free)

/* The directory holding the journals, and the path of one. */
char *journal_dir(const char *state_dir);
char *journal_file(const char *state_dir, const char *name);
const char *journal_op_to_string(JournalOp op);
