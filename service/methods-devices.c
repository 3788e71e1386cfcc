/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bulwark.Manager1's device methods: a running guest's device policy
 * (the cgroup-bpf plugin's queries on the cgroup the guest was started
 * in), and what it was refused (ListDenials, from bulwarkd's own reading
 * of the denial log: denial-watch.c). */
#include "config.h"

#include <errno.h>

#include "bus-error.h"
#include "bus-reply.h"
#include "denial-watch.h"
#include "service.h"

#define DEVICES_PLUGIN "cgroup-bpf"

char *service_guest_cgroup(Service *s, DBusMessage *call, const char *name, DBusMessage **ret_reply) {
        BwGuestState *state = NULL;
        BwError err = {};
        int r = bw_manager_get_guest(s->manager, name, &state, &err);
        if (r < 0) {
                *ret_reply = bus_error_reply(call, r, err.message, true);
                return NULL;
        }
        char *cgroup = g_strdup(bw_guest_state_cgroup(state));
        if (bw_guest_state_status(state) != BW_GUEST_RUNNING || !cgroup)
                *ret_reply = bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT, "guest '%s': %s", name,
                                              cgroup ? "its last transaction did not complete (recover first)"
                                                     : "has no cgroup");
        bw_guest_state_free(state);
        if (*ret_reply)
                g_clear_pointer(&cgroup, g_free);
        return cgroup;
}

/* The plugin's `devices-COMMAND` on the guest's cgroup, then `rest`. */
static DBusMessage *device_query(Service *s, DBusMessage *call, const char *command, const char *const *rest,
                                 size_t n_rest, bool answer) {
        const char *name = NULL;
        DBusMessage *reply = NULL;
        BwError err = {};
        DBusMessageIter it;
        dbus_message_iter_init(call, &it);
        dbus_message_iter_get_basic(&it, &name);
        g_autofree char *cgroup = service_guest_cgroup(s, call, name, &reply);
        if (!cgroup)
                return reply;
        g_autofree const char **argv = g_new0(const char *, n_rest + 2);
        argv[0] = cgroup;
        for (size_t i = 0; i < n_rest; i++)
                argv[i + 1] = rest[i];
        g_autoptr(GString) out = g_string_new(NULL);
        int r = service_query(s, DEVICES_PLUGIN, command, n_rest + 1, argv, BW_QUERY_JSON, out, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, false);
        return answer ? bus_reply_string(call, out->str) : bus_reply_empty(call);
}

/* The string arguments after the guest's name. */
static size_t device_args(DBusMessage *call, const char **ret, size_t max) {
        DBusMessageIter it;
        size_t n = 0;
        dbus_message_iter_init(call, &it);
        while (dbus_message_iter_next(&it) && n < max)
                dbus_message_iter_get_basic(&it, &ret[n++]);
        return n;
}

static DBusMessage *method_allow_device(Service *s, DBusMessage *call) {
        const char *rule[1];
        size_t n = device_args(call, rule, 1);
        return device_query(s, call, "devices-allow", rule, n, false);
}

static DBusMessage *method_deny_device(Service *s, DBusMessage *call) {
        const char *rule[1];
        size_t n = device_args(call, rule, 1);
        return device_query(s, call, "devices-deny", rule, n, false);
}

static DBusMessage *method_list_device_rules(Service *s, DBusMessage *call) {
        return device_query(s, call, "devices-list", NULL, 0, true);
}

static DBusMessage *method_explain_device(Service *s, DBusMessage *call) {
        const char *args[3];
        size_t n = device_args(call, args, 3);
        return device_query(s, call, "devices-explain", args, n, true);
}

static DBusMessage *method_list_denials(Service *s, DBusMessage *call) {
        const char *name = NULL;
        DBusMessage *reply = NULL;
        dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        g_autofree char *cgroup = service_guest_cgroup(s, call, name, &reply);
        if (!cgroup)
                return reply;
        g_autofree char *json = denial_watch_json(s, name, cgroup);
        return bus_reply_string(call, json);
}

const ServiceMethod service_device_methods[] = {
        { "AllowDevice", "ss", method_allow_device },
        { "DenyDevice", "ss", method_deny_device },
        { "ListDeviceRules", "s", method_list_device_rules },
        { "ExplainDevice", "ssss", method_explain_device },
        { "ListDenials", "s", method_list_denials },
        {}
};
