/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl's connection to bulwarkd, for the transport (ctl-bus.c), the
 * exec attributes (ctl-bus-exec.c) and `monitor`. */
#pragma once

#include <dbus/dbus.h>

#include "bulwarkctl.h"

#define CTL_BUS_NAME "org.bulwark.Bulwark1"
#define CTL_BUS_PATH "/org/bulwark/Bulwark1"
#define CTL_BUS_INTERFACE "org.bulwark.Manager1"

/* --bus, else $DBUS_SYSTEM_BUS_ADDRESS, else the system bus's socket. */
const char *ctl_bus_address(const CtlContext *ctx);
/* The connection (made once); NULL after printing why it cannot be made. */
DBusConnection *ctl_bus_open(const CtlContext *ctx);
/* Calls a method of org.bulwark.Manager1 (dbus_message_append_args()
 * arguments); on failure prints the error and returns the errno the
 * library would have (org.bulwark.Error.Busy: -ETIMEDOUT). */
int ctl_bus_call(const CtlContext *ctx, const char *method, DBusMessage **ret_reply, int first_type, ...);
/* Prints a bus error and returns its errno. */
int ctl_bus_fail(const CtlContext *ctx, const DBusError *error);

/* A signal of org.bulwark.Manager1 as `bulwarkctl monitor` prints it: one
 * line, or one JSON object a line with --json (bulwarkctl-monitor.c). */
void ctl_monitor_print(const CtlContext *ctx, DBusMessage *m);
