/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transaction journal: one append-only file per guest,
 * <state-dir>/guests/<name>.journal.
 *
 * A record is a 16-byte header (magic, type, payload length, CRC-32 of the
 * payload) and a GVariant payload.  Every change is written as INTENT
 * before it is made and DONE (with its undo record) after; a rollback or
 * stop writes UNDONE per change.  BEGIN opens a transaction (start,
 * attach, detach, stop) and carries the guest definition it works on;
 * GUEST, right after it, the guest as resolved when it started (see
 * guest-record.h): stop and recover work from that, never from a
 * re-parse.  COMMIT closes a transaction; ABORT marks one rolled back in
 * full.
 *
 * Durability comes in batches, not per record.  BEGIN and INTENT are
 * only buffered; GUEST, COMMIT, ABORT and journal_sync() write what is
 * buffered and fdatasync it, so every INTENT of a batch is on disk before
 * the first of its changes is made.  DONE and UNDONE are written at once
 * (a killed process loses none) and not synced: a host crash may lose
 * them, which costs an undo without its record (DONE lost) or a second
 * undo (UNDONE lost), both harmless by the plugin contract (plugin.h).
 *
 * While the guest runs the file is its list of applied changes, which is
 * what stop and recover undo.  Only a bad record that ends at end of file
 * is a torn write (a crash mid-write: header or payload cut short, or the
 * CRC of the very last record wrong) and is cut off: the change it
 * described was never started, because records are written before the
 * change.  A bad record followed by more data is corruption: reading
 * refuses it (-EBADMSG, naming the file and the offset) and nothing
 * changes the file; only recover --force reads past it (resync). */
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
        bool undone;               /* undone, or retired by a committed detach */
        bool retired;              /* ... by a committed detach (see JournalState) */
        size_t offset;             /* of its INTENT record */
        size_t done_offset;        /* of its DONE record, 0: none read */
        bool txn_closed;           /* its transaction reached COMMIT or ABORT */
} JournalEntry;

/* journal_read_resync(): bytes that hold no readable record. */
typedef struct JournalSpan {
        size_t offset;
        size_t length;
} JournalSpan;

/* journal_read_resync(): a DONE or UNDONE whose INTENT was unreadable. */
typedef struct JournalOrphan {
        uint32_t seq;
        bool done;
        bool undone;
} JournalOrphan;

/* What a journal file says.
 *
 * The effective guest (guest_text, guest_source, guest_record) is the one
 * of the last transaction that committed (start, attach, detach), or of
 * the latest one while none has: an attach or detach that was rolled back
 * (ABORT) or is still unfinished leaves the guest as it was before it.
 *
 * last_op and last_committed describe the latest transaction, except that
 * an ABORTed attach or detach is as if it never ran: they go back to those
 * of the committed transaction before it (last_aborted stays false).
 * last_aborted is true only for a start (or a first transaction) rolled
 * back in full.
 *
 * A committed DETACH retires changes: every change of its own, and every
 * change of an earlier transaction still applied that has the same
 * plugin, resource and object as one of its changes.  Retired entries
 * read as undone (stop and recover skip them): the detach change took
 * back what the earlier one granted, and undoing it at stop would only
 * grant it again. */
typedef struct JournalState {
        char *guest_text;          /* definition of the effective guest */
        char *guest_source;
        JournalOp last_op;
        unsigned n_txn;
        bool last_committed;       /* the latest transaction reached COMMIT */
        bool last_aborted;         /* ... or was rolled back in full (see above) */
        GVariant *guest_record;    /* GUEST of the effective guest, NULL when none */
        char *last_text;           /* definition and GUEST of the latest transaction */
        char *last_source;         /* (an unfinished attach's new guest) */
        GVariant *last_record;
        bool has_committed;        /* some transaction committed */
        JournalOp committed_op;    /* ... the op of the last one that did */
        GPtrArray *entries;        /* JournalEntry*, in order made */
        GHashTable *by_seq;        /* seq -> its latest JournalEntry* in entries */
        uint32_t next_seq;
        size_t valid_length;       /* bytes up to the end of the last whole record */
        size_t file_length;
        bool corrupt;              /* salvage: stopped at corruption; resync: some span was damaged */
        size_t corrupt_offset;     /* ... where (the first one) */
        GVariant *committed_record; /* GUEST of the last committed transaction that had one */
        GArray *damaged;           /* resync: JournalSpan, in file order */
        GArray *orphans;           /* resync: JournalOrphan */
        bool torn_tail;            /* resync: a torn last record was left out */
        size_t stop_offset;        /* resync: of the first readable STOP's BEGIN, or SIZE_MAX */
} JournalState;

typedef struct Journal Journal;

/* Creates the guest's journal; -EEXIST when the guest already has one. */
int journal_create(const char *state_dir, const char *name, Journal **ret, BwError *reterr);
/* Opens an existing journal for appending, cutting off a torn last record
 * so new records follow the last whole one; -ENOENT when there is none,
 * -EBADMSG when it is corrupt (the file is left as it is).  ret_state,
 * when non-NULL, receives what the journal says (-ENODATA: nothing). */
int journal_open(const char *state_dir, const char *name, Journal **ret, JournalState **ret_state,
                 BwError *reterr);
/* Opens it cutting it at `length`, whatever follows: for recover --force,
 * after journal_keep_copy(). */
int journal_open_truncated(const char *state_dir, const char *name, size_t length, Journal **ret,
                           BwError *reterr);
/* Copies a damaged journal to <path>.corrupt-<UTC time> for a person. */
int journal_keep_copy(const char *path, char **ret_copy, BwError *reterr);
void journal_close(Journal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Journal, journal_close)

/* Buffered (cannot fail): written and synced with the GUEST record that
 * always follows it. */
void journal_begin(Journal *j, JournalOp op, const char *guest_text, const char *guest_source);
/* The resolved guest (a GUEST record, type "a{sv}"): right after BEGIN;
 * written and synced with BEGIN. */
int journal_guest(Journal *j, GVariant *record);
/* Buffered (cannot fail): the caller makes a batch of INTENTs durable
 * with journal_sync() before applying any of them.  (The plan bounds a
 * change far below the largest record a reader accepts.) */
void journal_intent(Journal *j, uint32_t seq, const char *plugin, const BwChange *change);
/* Written, not synced (see above). */
int journal_done(Journal *j, uint32_t seq, const void *undo, size_t undo_len);
int journal_undone(Journal *j, uint32_t seq);
/* Written with everything before them and synced. */
int journal_commit(Journal *j);
int journal_abort(Journal *j);
/* Writes what is buffered and makes every record so far durable. */
int journal_sync(Journal *j);
/* Removes the file (the guest is gone) and syncs the directory. */
int journal_remove(Journal *j);
const char *journal_path(const Journal *j);

/* Reads a journal file.  -ENODATA when it records no transaction (a crash
 * right after it was created), -EBADMSG when it is corrupt, -EINVAL when
 * it is not a regular file (a FIFO is refused without blocking). */
int journal_read(const char *path, JournalState **ret, BwError *reterr);
/* The same, but corruption ends the reading instead of failing it: the
 * state holds every whole record before it, corrupt and corrupt_offset
 * say where it stopped, and n_txn may be 0 (guest list and show). */
int journal_read_salvage(const char *path, JournalState **ret, BwError *reterr);
/* For recover --force only: a bad record is a damaged span, and reading
 * goes on at the next offset that holds a whole record (magic, known
 * type, a length that fits, CRC, a payload in normal form of its type).
 * Every span is listed in `damaged` (corrupt and corrupt_offset name the
 * first); a DONE or UNDONE of an unknown seq is listed in `orphans`; a
 * GUEST or INTENT whose BEGIN was lost opens a transaction of op 0.  A
 * torn last record is left out as journal_open() would cut it:
 * valid_length is where new records may follow.  n_txn may be 0. */
int journal_read_resync(const char *path, JournalState **ret, BwError *reterr);
/* Can the damaged span have held an INTENT that was applied?  false when
 * a readable STOP begins before it (nothing but a stop's records ever
 * follows one: start, attach and detach refuse a guest being stopped), or
 * a readable INTENT follows it and every seq before that one is a
 * readable INTENT or an orphan that was undone (seqs grow in file order),
 * or it is the only damaged span and the record right after it is the
 * DONE of a readable INTENT whose transaction reached COMMIT or ABORT: it
 * lies in that transaction's apply, where an INTENT it hid has its DONE
 * or UNDONE after the span, readable, an orphan (see transaction.h). */
bool journal_span_may_hold_change(const JournalState *s, const JournalSpan *span);
/* An orphan that was not undone: a change applied whose INTENT is lost. */
bool journal_state_has_applied_orphan(const JournalState *s);
void journal_state_free(JournalState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JournalState, journal_state_free)

/* The directory holding the journals, and the path of one. */
char *journal_dir(const char *state_dir);
char *journal_file(const char *state_dir, const char *name);
const char *journal_op_to_string(JournalOp op);
