/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules of one guest: the base set, then one rule per path of every
 * resource, with rights from the path's role (examples/README.md, "Paths
 * each resource lists"), then the VFIO container node and the
 * hotplug-dirs trees.  Reads the host only with stat(): plan runs it. */
#pragma once

#include <bulwark/plugin.h>

#include "util/plugin-error.h"
#include "rule-list.h"

/* Appends the guest's rules to `out` after a copy of `base`.  A path the
 * guest names that does not exist is refused (-ENOENT), naming the guest,
 * the resource and the path: Landlock grants access to existing files
 * only (a chardev socket may be missing: its directory gets make_sock). */
int guest_rules_build(const BwGuestInfo *guest, const LlRuleList *base, LlRuleList *out, PluginError *err);

/* "disk:root", or the bare type of a singleton ("kernel"), into buf. */
const char *guest_rules_resource_ref(const BwResource *res, char *buf, size_t size);
