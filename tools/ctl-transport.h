/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl's way to the manager: bulwarkd over D-Bus (the default), or
 * libbulwark in this process (--direct).  Every command that needs the
 * manager calls these functions and nothing else, so it works the same
 * either way; the answer is the library's JSON in both (the tables are
 * printed from it).  Each function prints its error ("bulwarkctl: " and
 * the library's or the service's message) and returns a negative errno:
 * ctl_exit_status() turns it into the exit status. */
#pragma once

#include <stddef.h>

#include "bulwarkctl.h"

/* CTL_EXIT_TEMPFAIL for a lock or a guest that stayed busy (-ETIMEDOUT,
 * -EBUSY: a cgroup that holds processes or belongs to a running guest;
 * over the bus both are org.bulwark.Error.Busy), so both transports exit
 * alike; CTL_EXIT_FAILURE otherwise. */
int ctl_exit_status(int r);

/* Guests.  `path` is a definition file, read (and parsed, so that its
 * errors name the file) here; over the bus its text is sent. */
int ctl_guest_start(const CtlContext *ctx, const char *path, const BwGuest *guest);
int ctl_guest_stop(const CtlContext *ctx, const char *name, unsigned flags);
int ctl_guest_attach(const CtlContext *ctx, const char *name, const char *resource_text);
int ctl_guest_detach(const CtlContext *ctx, const char *name, const char *resource_ref);
/* NULL name: every interrupted transaction.  Returns the count. */
int ctl_recover(const CtlContext *ctx, const char *name, unsigned flags);

/* Documents (bw_free()): bw_plan_to_json(), bw_manager_guests_to_json(),
 * bw_guest_state_to_json(), bw_manager_plugins_to_json(). */
int ctl_plan_json(const CtlContext *ctx, const char *path, const BwGuest *guest, char **ret_json);
int ctl_guests_json(const CtlContext *ctx, char **ret_json);
int ctl_guest_json(const CtlContext *ctx, const char *name, char **ret_json);
int ctl_plugins_json(const CtlContext *ctx, char **ret_json);

/* bulwarkd's ListLocks (bulwarkd asks the lockd it uses); over the bus
 * only: in-process, `locks` asks lockd itself. */
int ctl_locks_json(const CtlContext *ctx, char **ret_json);

/* What the guest's process starts with: bw_manager_exec_prepare(), or
 * ExecAttributes made into the same BwExec (bw_exec_new_from_attrs()). */
int ctl_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret);

/* THE way to a plugin's query: bw_manager_query() in-process, the Query
 * method over the bus (which answers at once what a following query has
 * now; see service/README.md).  Flags and write() as bw_manager_query();
 * the message of a failure is printed here. */
int ctl_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
              const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata);
