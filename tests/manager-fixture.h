/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scratch world a manager test runs in, without root: a scratch
 * directory holding the state directory, fake-files' marker directory
 * and a plain directory as cgroup root, with the plugin path of the
 * build's test plugins and nop.  The test fails (cmocka) on any setup
 * error; manager_fixture_free() removes the scratch directory. */
#pragma once

#include <bulwark/bulwark.h>

typedef struct ManagerFixture {
        char *dir;                 /* scratch directory */
        char *markers;             /* fake-files' dir= */
        char *state;               /* the manager's state directory */
        char *cgroot;              /* cgroup root: a plain directory */
        char *plugin_dir;          /* tests/plugins and plugins/nop, built */
} ManagerFixture;

ManagerFixture *manager_fixture_new(const char *tag);
void manager_fixture_free(ManagerFixture *f);

/* A manager with `plugins` on the fixture, configured by <dir>/bulwark.conf:
 * a lock timeout of 0.3 s, [plugin:fake-files] dir=<markers>, then
 * `extra` (NULL: nothing). */
BwManager *manager_fixture_manager(ManagerFixture *f, const char *plugins, const char *extra);

/* Guest `name` with `extra` after its [guest] keys (NULL: nothing) and
 * n raw disks <name>-d1..n, their images in the scratch directory. */
BwGuest *manager_fixture_guest(ManagerFixture *f, const char *name, int n, const char *extra);

/* <state>/guests/<name>.journal; g_free() it. */
char *manager_fixture_journal(ManagerFixture *f, const char *name);
