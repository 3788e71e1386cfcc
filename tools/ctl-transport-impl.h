/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two halves of ctl-transport.h: ctl-direct.c (libbulwark in this
 * process) and ctl-bus.c (bulwarkd); ctl-transport.c picks one. */
#pragma once

#include "ctl-transport.h"

int direct_guest_start(const CtlContext *ctx, const BwGuest *guest);
int direct_guest_stop(const CtlContext *ctx, const char *name, unsigned flags);
int direct_guest_attach(const CtlContext *ctx, const char *name, const char *resource_text);
int direct_guest_detach(const CtlContext *ctx, const char *name, const char *resource_ref);
int direct_recover(const CtlContext *ctx, const char *name, unsigned flags);
int direct_plan_json(const CtlContext *ctx, const BwGuest *guest, char **ret_json);
int direct_guests_json(const CtlContext *ctx, char **ret_json);
int direct_guest_json(const CtlContext *ctx, const char *name, char **ret_json);
int direct_plugins_json(const CtlContext *ctx, char **ret_json);
int direct_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret);
int direct_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
                 const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata);

int bus_guest_start(const CtlContext *ctx, const char *path);
int bus_guest_stop(const CtlContext *ctx, const char *name, unsigned flags);
int bus_guest_attach(const CtlContext *ctx, const char *name, const char *resource_text);
int bus_guest_detach(const CtlContext *ctx, const char *name, const char *resource_ref);
int bus_recover(const CtlContext *ctx, const char *name, unsigned flags);
int bus_plan_json(const CtlContext *ctx, const char *path, char **ret_json);
int bus_guests_json(const CtlContext *ctx, char **ret_json);
int bus_guest_json(const CtlContext *ctx, const char *name, char **ret_json);
int bus_plugins_json(const CtlContext *ctx, char **ret_json);
int bus_locks_json(const CtlContext *ctx, char **ret_json);
int bus_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret);
int bus_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
              const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata);
