/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest as resolved when it started: what the journal keeps (its GUEST
 * record) so stop, recover, attach, detach and adopt work on exactly the
 * guest that started, never on a re-parse of its definition against
 * today's host or today's settings.
 *
 * The record (GVariant "a{sv}") holds the name, uuid, uid/gid, the cgroup
 * and the cgroup root it was resolved against, hotplug-vfio (and
 * hotplug-dirs when there are any), the start
 * time (CLOCK_REALTIME, microseconds) and every resource with every host
 * path and its role (backing chains, VFIO group nodes). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include <bulwark/bulwark.h>

typedef struct GuestRecord {
        BwGuest *guest;            /* rebuilt from the record: its info is what plugins see */
        char *cgroup_root;         /* "" when none was configured */
        int64_t start_time_us;     /* CLOCK_REALTIME */
} GuestRecord;

/* A new record of a resolved guest (a sunk reference: g_variant_unref()). */
GVariant *guest_record_build(const BwGuestInfo *info, const char *cgroup_root, int64_t start_time_us);

/* Rebuilds the guest from a record; `text` and `source` are the definition
 * the BEGIN record kept (for messages).  -EBADMSG when the record is not
 * one this version wrote. */
int guest_record_load(GVariant *record, const char *text, const char *source, GuestRecord **ret,
                      BwError *reterr);
void guest_record_free(GuestRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestRecord, guest_record_free)
