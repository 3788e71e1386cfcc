/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-guest MCS category pairs s0:cA,cB (A<B, from c0.c1023), unique among
 * running guests.  A reservation is the file <state-dir>/selinux/mcs/cA,cB
 * holding the guest's uuid, created O_EXCL (so two daemons never take one
 * pair), kept across daemon restarts and removed at release.  A pair whose
 * guest no longer runs (label-guests.h) is free again. */
#pragma once

#include <stdbool.h>

#define SELINUX_MCS_CATEGORIES 1024

/* The guest's pair: its reservation, else the first free pair from a
 * start derived from its uuid (so a plan is the same every time).
 * Changes nothing. */
int selinux_mcs_find(const char *state_dir, const char *uuid, unsigned *ret_a, unsigned *ret_b);

/* Takes the pair for the guest; -EBUSY when a running guest has it. */
int selinux_mcs_reserve(const char *state_dir, const char *uuid, unsigned a, unsigned b);

/* Drops every reservation of the guest. */
void selinux_mcs_release(const char *state_dir, const char *uuid);

/* Has the guest a reservation? */
bool selinux_mcs_reserved(const char *state_dir, const char *uuid);
