/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl --direct: each call opens the manager in this process, makes
 * one library call and closes it. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ctl-transport-impl.h"

/* The failure of a library call: its message, and its return value. */
static int direct_fail(int r, const BwError *err) {
        fprintf(stderr, "bulwarkctl: %s\n", err->message[0] ? err->message : strerror(-r));
        return r;
}

int direct_guest_start(const CtlContext *ctx, const BwGuest *guest) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_start(m, guest, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}

int direct_guest_stop(const CtlContext *ctx, const char *name, unsigned flags) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_stop_with_flags(m, name, flags, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}

int direct_guest_attach(const CtlContext *ctx, const char *name, const char *text) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_attach(m, name, text, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}

int direct_guest_detach(const CtlContext *ctx, const char *name, const char *ref) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_detach(m, name, ref, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}

int direct_recover(const CtlContext *ctx, const char *name, unsigned flags) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0) {
                r = name ? bw_manager_recover_guest(m, name, flags, &err) : bw_manager_recover(m, &err);
                if (r < 0)
                        direct_fail(r, &err);
        }
        bw_manager_free(m);
        /* A guest whose transaction runs is busy, as a lock that is. */
        return r == -EBUSY ? -ETIMEDOUT : r;
}

int direct_plan_json(const CtlContext *ctx, const BwGuest *guest, char **ret_json) {
        BwManager *m = NULL;
        BwPlan *plan = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_plan(m, guest, &plan, &err)) < 0)
                direct_fail(r, &err);
        else if (r >= 0 && (r = bw_plan_to_json(plan, guest, ret_json)) < 0)
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
        bw_plan_free(plan);
        bw_manager_free(m);
        return r;
}

int direct_guests_json(const CtlContext *ctx, char **ret_json) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_guests_to_json(m, ret_json, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}

int direct_guest_json(const CtlContext *ctx, const char *name, char **ret_json) {
        BwManager *m = NULL;
        BwGuestState *s = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_get_guest(m, name, &s, &err)) < 0)
                direct_fail(r, &err);
        else if (r >= 0 && (r = bw_guest_state_to_json(s, ret_json)) < 0)
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
        bw_guest_state_free(s);
        bw_manager_free(m);
        return r;
}

int direct_plugins_json(const CtlContext *ctx, char **ret_json) {
        BwManager *m = NULL;
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_plugins_to_json(m, ret_json)) < 0)
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
        bw_manager_free(m);
        return r;
}

int direct_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_exec_prepare(m, name, ret, &err)) < 0)
                fprintf(stderr, "bulwarkctl: run: %s\n", err.message);
        bw_manager_free(m);
        return r;
}

int direct_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
                 const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata) {
        BwManager *m = NULL;
        BwError err = {};
        int r = ctl_manager_open(ctx, &m);
        if (r >= 0 && (r = bw_manager_query(m, plugin, command, argc, argv, flags, write, userdata, &err)) < 0)
                direct_fail(r, &err);
        bw_manager_free(m);
        return r;
}
