/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl: shared pieces of the command-line tool.  Each command group
 * lives in its own file (bulwarkctl-<group>.c) and has one entry point
 * taking the arguments after the group name. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <bulwark/bulwark.h>

/* Exit statuses, sysexits-style where one fits. */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1,
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_TEMPFAIL = 75,   /* busy: a lock not had in time, a cgroup in use */
};

typedef struct CtlContext {
        bool json;
        bool direct;              /* libbulwark in this process, not bulwarkd */
        const char *bus_address;  /* --bus; NULL: $DBUS_SYSTEM_BUS_ADDRESS or the system bus */
        BwOptions options;        /* from --config, --state-dir, ... */
} CtlContext;

/* Opens a manager from the context's options; prints the error itself. */
int ctl_manager_open(const CtlContext *ctx, BwManager **ret);

/* Command groups: argv[0] is the group name ("guest", "devices", ...). */
int ctl_plugins_main(CtlContext *ctx, int argc, char **argv);
int ctl_guest_main(CtlContext *ctx, int argc, char **argv);
int ctl_run_main(CtlContext *ctx, int argc, char **argv);
int ctl_recover_main(CtlContext *ctx, int argc, char **argv);
int ctl_locks_main(CtlContext *ctx, int argc, char **argv);
int ctl_lock_main(CtlContext *ctx, int argc, char **argv);
int ctl_devices_main(CtlContext *ctx, int argc, char **argv);
int ctl_label_main(CtlContext *ctx, int argc, char **argv);
int ctl_landlock_main(CtlContext *ctx, int argc, char **argv);

/* A query's answer to stdout, flushed (query-write.c).  While following
 * events (`follow`), a pending SIGINT or SIGTERM (blocked by the caller)
 * or a reader that closed stdout ends the query: -EPIPE. */
int ctl_query_write(bool follow, const char *data, size_t len);
int ctl_profile_main(CtlContext *ctx, int argc, char **argv);
int ctl_monitor_main(CtlContext *ctx, int argc, char **argv);
