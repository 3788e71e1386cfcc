/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock table's insides, shared by lock-table.c (locking) and
 * lock-table-state.c (saving and restoring across re-exec).  Nothing
 * else includes this. */
#pragma once

#include "lock-table.h"

/* The byte libvirt's metadata lock takes, and lockd's. */
#define LOCK_BYTE 1

typedef enum LockKind {
        LOCK_KIND_FILE,            /* regular file: OFD lock on byte 1 */
        LOCK_KIND_TABLE,           /* directory, device node, FIFO, socket */
        LOCK_KIND_MISSING,         /* locked by canonical name */
} LockKind;

typedef struct LockKey {
        uint64_t dev;
        uint64_t ino;
} LockKey;

typedef struct LockEntry {
        LockKey key;
        char *name;                /* MISSING: the canonical path, the key */
        LockKind kind;
        LockdMode mode;
        bool read_lock;            /* exclusive, but only a read lock could be taken */
        int fd;                    /* -1 for MISSING, and for a lost FILE lock */
        bool lost;                 /* FILE: the kernel lock was lost (see lock-table-reassert.c) */
        int lost_error;            /* why, a positive errno */
        unsigned n_raised;         /* holds granted exclusive over a shared lease */
        LockHold *holds;           /* oldest first, linked by entry_next */
        LockHold *holds_tail;
        unsigned n_holds;
} LockEntry;

struct LockHold {
        LockEntry *entry;
        LockOwner *owner;
        LockHold *prev, *next;     /* the owner's holds */
        LockHold *entry_prev, *entry_next; /* the entry's holds */
        LockHold *table_prev, *table_next; /* every hold of the table, oldest first */
        uint64_t seq;              /* 1, 2, ... in the order the table made them */
        int64_t since;             /* wall clock, µs */
        int64_t since_mono;        /* CLOCK_MONOTONIC, µs: survives re-exec */
        unsigned count;            /* acquisitions not yet released */
        bool raised;               /* exclusive over the owner key's shared lease */
        GPtrArray *aliases;        /* other paths it was acquired by; NULL when none */
        char name[];               /* the path it was first acquired by */
};

struct LockTable {
        GHashTable *by_key;        /* LockKey* -> LockEntry* */
        GHashTable *by_name;       /* name -> LockEntry* (MISSING entries) */
        LockHold *holds, *holds_tail; /* every hold, by seq: LIST pages through them */
        uint64_t last_seq;
        GHashTable *leases;        /* owner key -> LockOwner* (owned) */
        uint32_t next_lease_id;    /* lease owners' ids: LOCK_LEASE_ID_BASE + n */
        LockLostFn on_lost;
        void *on_lost_userdata;
};

/* Lease owners' ids, apart from the daemon's connection ids (1, 2, ...). */
#define LOCK_LEASE_ID_BASE 0x80000000u
/* A saved hold's count carries `raised` in its top bit. */
#define LOCK_HOLD_RAISED_BIT 0x80000000u

/* lock-table.c */
void lock_table_insert_entry(LockTable *t, LockEntry *e);
LockHold *lock_hold_new(LockTable *t, LockEntry *e, LockOwner *o, const char *name, int64_t since,
                        int64_t since_mono);
void lock_hold_add_name(LockHold *h, const char *name);
LockHold *lock_entry_find_hold(const LockEntry *e, const LockOwner *o);
uint32_t lock_entry_flags(const LockEntry *e);
/* lock-table-reassert.c: re-issues a FILE entry's kernel lock; false when
 * it is lost (now or before): the entry is then marked so, its descriptor
 * closed and the table's on_lost called once. */
bool lock_entry_reassert(LockTable *t, LockEntry *e);
/* Marks a FILE entry lost with a positive errno. */
void lock_entry_mark_lost(LockTable *t, LockEntry *e, int error);
