/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest model: a parsed guest definition (see DESIGN.md "Guest
 * definition") and its plugin view, BwGuestInfo.  BwGuest is opaque to
 * library users; core code uses these internal accessors. */
#pragma once

#include <bulwark/bulwark.h>

/* The definition text the guest was parsed from, and its source name:
 * the journal stores the text so a crashed transaction can be undone by
 * another process. */
const char *guest_get_text(const BwGuest *guest);
const char *guest_get_source(const BwGuest *guest);
const char *guest_get_name(const BwGuest *guest);

/* A deep copy (re-parsed from the text, with the same cgroup root). */
int guest_copy(const BwGuest *guest, BwGuest **ret, BwError *reterr);

/* Fills in the default cgroup, <cgroup_root>/bulwark/<name>, when the
 * definition names none (BwGuestInfo.cgroup_given stays false). */
int guest_resolve_cgroup(BwGuest *guest, const char *cgroup_root);
