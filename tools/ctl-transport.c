/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "ctl-transport-impl.h"

int ctl_exit_status(int r) {
        return r == -ETIMEDOUT || r == -EBUSY ? CTL_EXIT_TEMPFAIL : CTL_EXIT_FAILURE;
}

int ctl_guest_start(const CtlContext *ctx, const char *path, const BwGuest *guest) {
        return ctx->direct ? direct_guest_start(ctx, guest) : bus_guest_start(ctx, path);
}

int ctl_guest_stop(const CtlContext *ctx, const char *name, unsigned flags) {
        return ctx->direct ? direct_guest_stop(ctx, name, flags) : bus_guest_stop(ctx, name, flags);
}

int ctl_guest_attach(const CtlContext *ctx, const char *name, const char *text) {
        return ctx->direct ? direct_guest_attach(ctx, name, text) : bus_guest_attach(ctx, name, text);
}

int ctl_guest_detach(const CtlContext *ctx, const char *name, const char *ref) {
        return ctx->direct ? direct_guest_detach(ctx, name, ref) : bus_guest_detach(ctx, name, ref);
}

int ctl_recover(const CtlContext *ctx, const char *name, unsigned flags) {
        return ctx->direct ? direct_recover(ctx, name, flags) : bus_recover(ctx, name, flags);
}

int ctl_plan_json(const CtlContext *ctx, const char *path, const BwGuest *guest, char **ret_json) {
        return ctx->direct ? direct_plan_json(ctx, guest, ret_json) : bus_plan_json(ctx, path, ret_json);
}

int ctl_guests_json(const CtlContext *ctx, char **ret_json) {
        return ctx->direct ? direct_guests_json(ctx, ret_json) : bus_guests_json(ctx, ret_json);
}

int ctl_guest_json(const CtlContext *ctx, const char *name, char **ret_json) {
        return ctx->direct ? direct_guest_json(ctx, name, ret_json) : bus_guest_json(ctx, name, ret_json);
}

int ctl_plugins_json(const CtlContext *ctx, char **ret_json) {
        return ctx->direct ? direct_plugins_json(ctx, ret_json) : bus_plugins_json(ctx, ret_json);
}

int ctl_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret) {
        return ctx->direct ? direct_exec_prepare(ctx, name, ret) : bus_exec_prepare(ctx, name, ret);
}

int ctl_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
              const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata) {
        return ctx->direct ? direct_query(ctx, plugin, command, argc, argv, flags, write, userdata)
                           : bus_query(ctx, plugin, command, argc, argv, flags, write, userdata);
}

int ctl_locks_json(const CtlContext *ctx, char **ret_json) {
        return bus_locks_json(ctx, ret_json);
}
