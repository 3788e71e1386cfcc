/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The conformance suite's test host: a scratch directory holding the test
 * guest's files, state and configuration, device nodes under /dev/shm
 * (root only: device resources must live under /dev), a cgroup of its own
 * (root only, when a cgroup2 mount exists), the guest parsed from them,
 * and the scope of "the host" the checks compare (see snapshot.h).
 *
 * fixture_free() removes everything the fixture made, and the guest's
 * cgroup (with its subdirectories) and its parents when they did not exist
 * before, whatever state a plugin left them in. */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "settings.h"
#include "snapshot.h"

typedef struct FixtureOptions {
        const char *config_path;   /* --config: plugin settings; NULL: an empty file */
        const char *guest_path;    /* --guest: a definition of one's own; NULL: generated */
        const char *cgroup_root;   /* --cgroup-root; NULL: discovered */
        const char *state_dir;     /* --state-dir; NULL: inside the scratch directory */
        char **watch;              /* --watch: more directories that count as the host */
} FixtureOptions;

typedef struct Fixture {
        char *scratch;             /* removed at the end */
        char *dev_scratch;         /* /dev/shm/...: device nodes; NULL when not root */
        char *state_dir;
        char *cgroup_root;         /* NULL when there is no cgroup2 mount */
        char *cgroup_made;         /* a cgroup the fixture created, or NULL */
        /* The guest's cgroup and its ancestors below the cgroup root that
         * did not exist at the start, deepest first: removed at the end. */
        GPtrArray *cgroups_absent;
        Settings *settings;
        char *guest_text;
        char *guest_source;
        BwGuest *guest;            /* parsed, cgroup resolved */
        SnapshotScope *scope;
} Fixture;

int fixture_new(const FixtureOptions *options, Fixture **ret, BwError *reterr);
void fixture_free(Fixture *fixture);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fixture, fixture_free)

/* The test guest without its resource number `index` (what the guest
 * looked like before that resource was attached).  -ENOENT when the
 * resource's group cannot be found in the definition. */
int fixture_guest_without(const Fixture *fixture, size_t index, BwGuest **ret, BwError *reterr);
