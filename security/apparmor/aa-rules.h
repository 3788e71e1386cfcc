/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules a guest's resources need: one section of rule lines per
 * resource, by the role of each of its paths.  Every path goes through
 * aa_path_check() (refused paths fail the whole section) and
 * aa_path_quote(), so no byte of a path reaches the profile raw. */
#pragma once

#include <glib.h>

#include <bulwark/plugin.h>

#include "util/error.h"

/* The VFIO container every VFIO user opens besides its group node. */
#define AA_VFIO_CONTAINER "/dev/vfio/vfio"

/* The section name of the guest-wide rules (hotplug-vfio). */
#define AA_SECTION_GUEST "guest"

/* "disk:root": the name a resource's section and changes carry. */
char *aa_rules_resource_ref(const BwResource *res);

/* Appends the rule lines ("  \"/path\" rwk,\n") of one resource to `out`:
 * image rwk, read-only and backing rk, nvram rwk, kernel/initrd/loader r,
 * TPM state directory and its tree, chardev file/socket rw (a pipe also
 * its .in and .out), memory backing (a directory as a tree), device nodes
 * by their access, a VFIO group node rw plus the container.  A path listed
 * twice gets one rule.  Errors name the guest, the resource and the path. */
int aa_rules_resource(const BwGuestInfo *guest, const BwResource *res, GString *out, BwError *reterr);

/* Appends the guest-wide rule lines: the VFIO container when hotplug-vfio
 * is set, so the first hot-plugged device never meets a deny. */
void aa_rules_guest_wide(const BwGuestInfo *guest, GString *out);

/* True when the resource is a VFIO host device. */
bool aa_rules_is_vfio(const BwResource *res);
