/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running guest's leases on its images: held by the lock backend for
 * the guest's uuid from its start to its stop (lock-backend=lockd; the
 * local backend keeps none), so that another host's start of a guest
 * naming the same images is refused for as long as this one runs, as
 * virtlockd keeps a VM's disk leases.
 *
 * Read-write images and the nvram are leased exclusively; read-only
 * disks, backing files, kernel, initrd and loader shared; a disk marked
 * shared too.  Device nodes, chardevs, TPM state and memory are not
 * leased.  The guest's own transactions act for its uuid, so its leases
 * never refuse them. */
#pragma once

#include <bulwark/plugin.h>

#include "path-lock.h"

/* Leases the images of `only` (NULL: of every resource of the guest).
 * Nothing is leased on failure; -ETIMEDOUT names the holder as a lock
 * step does.  A lockd without leases (older, not yet re-executed) leases
 * nothing: a warning, and 0. */
int guest_lease_take(PathLocker *locker, const BwGuestInfo *info, const BwResource *only, unsigned timeout_ms,
                     BwError *reterr);
/* Releases the leases of `only`, except on paths another resource of the
 * guest still uses (NULL: every lease of the guest).  Logs a failure: the
 * caller's work is done either way. */
void guest_lease_release(PathLocker *locker, const BwGuestInfo *info, const BwResource *only);
