/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bulwark.Manager1.Query: a plugin's own command (bw_manager_query()),
 * the answer collected and returned whole.  A query that follows events
 * (devices-denials --follow) would never end in the one thread that runs
 * the bus: its first "nothing new" beat ends it, so over the bus it
 * answers what is there now (the DeviceDenied signals are the bus's way
 * to follow). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "bus-error.h"
#include "bus-reply.h"
#include "service.h"

/* Far below the bus's message limit; no query answer comes close. */
#define QUERY_OUTPUT_MAX (8u * 1024u * 1024u)
#define QUERY_ARGS_MAX 64

static int query_collect(void *userdata, const char *data, size_t len) {
        GString *out = userdata;
        if (len == 0)
                return -EPIPE;
        if (out->len + len > QUERY_OUTPUT_MAX)
                return -EFBIG;
        g_string_append_len(out, data, (gssize) len);
        return 0;
}

int service_query(Service *s, const char *plugin, const char *command, size_t argc, const char *const *argv,
                  unsigned flags, GString *out, BwError *reterr) {
        int r = bw_manager_query(s->manager, plugin, command, argc, argv, flags, query_collect, out, reterr);
        if (r == -EFBIG)
                snprintf(reterr->message, sizeof(reterr->message), "plugin '%s': query '%s': answer longer than %u bytes",
                         plugin, command, QUERY_OUTPUT_MAX);
        return r;
}

static DBusMessage *method_query(Service *s, DBusMessage *call) {
        const char *plugin = NULL, *command = NULL;
        char **args = NULL;
        int n_args = 0;
        dbus_uint32_t flags = 0;
        BwError err = {};

        dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &plugin, DBUS_TYPE_STRING, &command, DBUS_TYPE_ARRAY,
                              DBUS_TYPE_STRING, &args, &n_args, DBUS_TYPE_UINT32, &flags, DBUS_TYPE_INVALID);
        g_auto(GStrv) owned_args = args;
        if (flags & ~(dbus_uint32_t) (BW_QUERY_JSON | BW_MANAGER_QUERY_LOAD))
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "plugin '%s': query '%s': unknown flags 0x%x", plugin, command, flags);
        if (n_args > QUERY_ARGS_MAX)
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "plugin '%s': query '%s': %d arguments, more than %d", plugin, command,
                                        n_args, QUERY_ARGS_MAX);
        g_autoptr(GString) out = g_string_new(NULL);
        int r = service_query(s, plugin, command, (size_t) n_args, (const char *const *) args, flags, out, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, false);
        return bus_reply_string(call, out->str);
}

const ServiceMethod service_query_methods[] = {
        { "Query", "ssasu", method_query },
        {}
};
