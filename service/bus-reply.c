/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib.h>

#include "bus-error.h"
#include "bus-reply.h"

static DBusMessage *bus_reply_new(DBusMessage *call) {
        DBusMessage *reply = dbus_message_new_method_return(call);
        if (!reply)
                g_error("bulwarkd: out of memory");
        return reply;
}

DBusMessage *bus_reply_empty(DBusMessage *call) {
        return bus_reply_new(call);
}

DBusMessage *bus_reply_string(DBusMessage *call, const char *s) {
        DBusMessage *reply = bus_reply_new(call);
        g_autofree char *text = bus_utf8(s);
        if (!dbus_message_append_args(reply, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID))
                g_error("bulwarkd: out of memory");
        return reply;
}

DBusMessage *bus_reply_uint32(DBusMessage *call, dbus_uint32_t u) {
        DBusMessage *reply = bus_reply_new(call);
        if (!dbus_message_append_args(reply, DBUS_TYPE_UINT32, &u, DBUS_TYPE_INVALID))
                g_error("bulwarkd: out of memory");
        return reply;
}

DBusMessage *bus_reply_strv(DBusMessage *call, char **strv) {
        DBusMessage *reply = bus_reply_new(call);
        g_autoptr(GPtrArray) valid = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; strv && strv[i]; i++)
                g_ptr_array_add(valid, bus_utf8(strv[i]));
        char **items = (char **) valid->pdata;
        if (!dbus_message_append_args(reply, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &items, (int) valid->len,
                                      DBUS_TYPE_INVALID))
                g_error("bulwarkd: out of memory");
        return reply;
}
