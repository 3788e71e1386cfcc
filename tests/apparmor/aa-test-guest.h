/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guests built by hand, as the core hands them to plugins (every role,
 * backing chains and VFIO group nodes already resolved), and the
 * plugin's configuration pointed at a scratch profile directory. */
#pragma once

#include <bulwark/plugin.h>

#include "aa-guest-profile.h"

/* A guest with one resource of every type and every path role. */
const BwGuestInfo *aa_test_guest_every_resource(void);
/* A guest with no host device and hotplug-vfio=true. */
const BwGuestInfo *aa_test_guest_hotplug(void);
/* The VFIO host device "gpu" in IOMMU group `group` ("12"). */
const BwResource *aa_test_vfio(const char *id, const char *group);
/* `guest` with `extra` appended (a new guest each call, kept for the run). */
const BwGuestInfo *aa_test_guest_plus(const BwGuestInfo *guest, const BwResource *extra);

/* The configuration the tests use: the source tree's template and
 * policy directory, apparmor_parser with the shipped features file. */
AaConfig aa_test_config(const char *profile_dir);
/* Skips the whole binary when apparmor_parser is not installed. */
void aa_test_require_parser(void);
