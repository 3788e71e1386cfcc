/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager: settings, loaded plugins and the path locker; runs plan,
 * start (manager.c), stop and recover (manager-undo.c).
 *
 * Threads: plugins are called under plugin_lock (plugin.h promises them
 * one thread at a time); each transaction on a guest holds the guest's
 * lock (guest-lock.h) from before it reads the journal to after its last
 * record, so calls on one guest are serialized, in one process or many.
 * A thread never waits for a guest or path lock while it holds
 * plugin_lock. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "guest-parse.h"
#include "guest-record.h"
#include "journal.h"
#include "path-lock.h"
#include "settings.h"

struct BwManager {
        Settings *settings;
        GPtrArray *plugins;        /* Plugin*, in apply order */
        PathLocker *locker;
        char *cgroup_root;         /* NULL when no cgroup2 mount was found */
        GMutex plugin_lock;
};

/* Replaces the path locker (tests, and lockd once configured). */
void manager_set_locker(BwManager *m, PathLocker *locker);

/* Undoes everything the journal says is applied, releases the guest in
 * every plugin and removes the journal (manager-undo.c). */
int manager_finish_stop(BwManager *m, Journal *journal, const JournalState *state, const BwGuestInfo *info,
                        BwError *reterr);
/* Opens a guest's journal (cutting a torn tail, refusing corruption) and
 * rebuilds its effective guest from the GUEST record (manager-undo.c);
 * -ENODATA when the journal records no change. */
int manager_load_journal(BwManager *m, const char *name, Journal **ret_journal, JournalState **ret_state,
                         GuestRecord **ret_record, BwError *reterr);
/* -EINVAL naming `name` unless it is a valid guest name. */
int manager_check_name(const char *name, BwError *reterr);
/* bw_manager_attach() with the parse options of the new resource (tests
 * give a sysfs root of their own) (manager-attach.c). */
int manager_attach_with_options(BwManager *m, const char *name, const char *resource_text,
                                const GuestParseOptions *options, BwError *reterr);
/* recover --force of one guest whose lock the caller holds (manager-force.c). */
int manager_recover_force(BwManager *m, const char *name, BwError *reterr);

/* A copy of the guest with its cgroup resolved against the manager's
 * cgroup root, as start and plan see it. */
int manager_resolve_guest(BwManager *m, const BwGuest *guest, BwGuest **ret, BwError *reterr);
