/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-guest exclusion: every transaction on a guest (start, stop, recover,
 * attach, detach) holds an exclusive flock() on
 * <state-dir>/guests/.<name>.lock (a dot file: no guest name starts with
 * one) for its whole length, so two of them never
 * interleave their journal records or their changes.
 *
 * flock() belongs to the open file description, and every acquire opens the
 * file anew: two threads of one process exclude each other exactly as two
 * processes do.  The file is removed by the holder when the guest has no
 * journal any more; an acquirer that locked a file removed meanwhile sees
 * that (the path names another inode, or none) and tries again, so a
 * removed lock file never lets two holders in.
 *
 * The same object serves as the state-directory-wide lock of the cgroup
 * ownership check (state_lock_acquire()). */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

typedef struct GuestLock GuestLock;

/* Takes the guest's lock, waiting up to timeout_ms for a running
 * transaction to finish; 0 means one try.  -EBUSY (timeout 0) or
 * -ETIMEDOUT when it stayed held, with a message naming the guest. */
int guest_lock_acquire(const char *state_dir, const char *name, unsigned timeout_ms, GuestLock **ret,
                       BwError *reterr);

/* The lock every start takes around its cgroup ownership check and the
 * creation of its journal: an flock() on the <state-dir>/guests directory. */
int state_lock_acquire(const char *state_dir, unsigned timeout_ms, GuestLock **ret, BwError *reterr);

/* Drops the lock; removes a guest lock file first when the guest has no
 * journal.  Accepts NULL. */
void guest_lock_release(GuestLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestLock, guest_lock_release)
