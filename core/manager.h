/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager: settings, loaded plugins and the path locker; runs plan,
 * start, stop and recover. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "path-lock.h"
#include "settings.h"

struct BwManager {
        Settings *settings;
        GPtrArray *plugins;        /* Plugin*, in apply order */
        PathLocker *locker;
        char *cgroup_root;         /* NULL when no cgroup2 mount was found */
};

/* Replaces the path locker (tests, and lockd once configured). */
void manager_set_locker(BwManager *m, PathLocker *locker);
