/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkd reads each running guest's denial log (the cgroup-bpf plugin's
 * ring, through its `devices-denials` query, which consumes what it
 * prints): bulwarkd is its one reader.  Each poll turns the events into
 * DeviceDenied(guest, device, access, pid, comm, count) signals, one per
 * (device, access, pid, comm) with its count; at most
 * DENIAL_SIGNALS_PER_POLL a guest a poll, the rest kept (counts added up)
 * for the next poll, so the counts stay exact however fast a guest is
 * refused.  Events the ring had no room for come as one signal with device
 * "-" and their count.  The last events are kept for ListDenials. */
#pragma once

#include "service.h"

#define DENIAL_POLL_MS 500
#define DENIAL_SIGNALS_PER_POLL 8
#define DENIAL_RECENT_MAX 256

DenialWatch *denial_watch_new(void);
void denial_watch_free(DenialWatch *w);
/* Reads every running guest's log when DENIAL_POLL_MS have passed since
 * the last poll (called from the bus loop), and emits the signals. */
void denial_watch_poll(Service *s);
/* Reads the guest's log one last time and emits everything pending,
 * whatever the rate: called before the guest stops (its log goes with
 * its program). */
void denial_watch_flush(Service *s, const char *guest);
/* {"guest", "cgroup", "events": [the plugin's event objects, oldest first,
 * the last DENIAL_RECENT_MAX], "seen" (events read by this bulwarkd),
 * "dropped" (lost from the ring, ring full), "total" (the kernel's count
 * of denials since the program was made: it survives a restart)}. */
char *denial_watch_json(Service *s, const char *guest, const char *cgroup);
