/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /org/bulwark/Bulwark1: dispatches org.bulwark.Manager1's methods (after
 * the signature and the caller are checked), answers Introspect with
 * policy/dbus/org.bulwark.Manager1.xml, and emits the signals. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "bus-error.h"
#include "caller.h"
#include "manager1-xml.h"
#include "service.h"

static const ServiceMethod *const service_method_tables[] = {
        service_guest_methods,
        service_exec_methods,
        service_query_methods,
        service_device_methods,
        service_lock_methods,
};

static const ServiceMethod *object_find_method(const char *member) {
        for (size_t t = 0; t < G_N_ELEMENTS(service_method_tables); t++)
                for (const ServiceMethod *m = service_method_tables[t]; m->name; m++)
                        if (strcmp(m->name, member) == 0)
                                return m;
        return NULL;
}

static void object_send(Service *s, DBusMessage *reply) {
        if (!dbus_connection_send(s->bus, reply, NULL))
                g_error("bulwarkd: out of memory");
        dbus_message_unref(reply);
}

static DBusMessage *object_introspect(DBusMessage *call) {
        const char *xml = manager1_xml;
        DBusMessage *reply = dbus_message_new_method_return(call);
        if (!reply || !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID))
                g_error("bulwarkd: out of memory");
        return reply;
}

static DBusMessage *object_call(Service *s, DBusMessage *call) {
        const char *member = dbus_message_get_member(call);
        const ServiceMethod *m = object_find_method(member);

        if (!m)
                return bus_error_replyf(call, DBUS_ERROR_UNKNOWN_METHOD, "%s: no method '%s'",
                                        BULWARK_MANAGER_INTERFACE, member);
        if (!dbus_message_has_signature(call, m->in_signature))
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "%s: arguments of type '%s', expected '%s'", member,
                                        dbus_message_get_signature(call), m->in_signature);
        DBusMessage *refused = caller_check(s, call);
        if (refused)
                return refused;
        return m->fn(s, call);
}

static DBusHandlerResult object_message(DBusConnection *bus, DBusMessage *call, void *userdata) {
        Service *s = userdata;
        const char *iface = dbus_message_get_interface(call);
        DBusMessage *reply;
        (void) bus;

        if (dbus_message_get_type(call) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (dbus_message_is_method_call(call, DBUS_INTERFACE_INTROSPECTABLE, "Introspect"))
                reply = object_introspect(call);
        else if (!iface || strcmp(iface, BULWARK_MANAGER_INTERFACE) == 0)
                reply = object_call(s, call);
        else
                reply = bus_error_replyf(call, DBUS_ERROR_UNKNOWN_INTERFACE, "%s: no interface '%s'",
                                         BULWARK_OBJECT_PATH, iface);
        if (dbus_message_get_no_reply(call))
                dbus_message_unref(reply);
        else
                object_send(s, reply);
        return DBUS_HANDLER_RESULT_HANDLED;
}

int service_object_register(Service *s) {
        static const DBusObjectPathVTable vtable = { .message_function = object_message };
        DBusError error = DBUS_ERROR_INIT;
        if (!dbus_connection_try_register_object_path(s->bus, BULWARK_OBJECT_PATH, &vtable, s, &error)) {
                g_printerr("bulwarkd: %s: cannot register: %s\n", BULWARK_OBJECT_PATH, error.message);
                dbus_error_free(&error);
                return -1;
        }
        return 0;
}

void service_emit(Service *s, const char *signal, int first_type, ...) {
        DBusMessage *m = dbus_message_new_signal(BULWARK_OBJECT_PATH, BULWARK_MANAGER_INTERFACE, signal);
        va_list ap;
        va_start(ap, first_type);
        bool ok = m && dbus_message_append_args_valist(m, first_type, ap);
        va_end(ap);
        if (!ok)
                g_error("bulwarkd: out of memory");
        object_send(s, m);
}
