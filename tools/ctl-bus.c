/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl over the bus: each call is one method of org.bulwark.Manager1
 * on bulwarkd (service/README.md).  The connection is made at the first
 * call and kept for the process. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dbus/dbus.h>
#include <glib.h>

#include "ctl-bus.h"
#include "ctl-transport-impl.h"

static DBusConnection *bus_connection;

const char *ctl_bus_address(const CtlContext *ctx) {
        const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        if (ctx->bus_address)
                return ctx->bus_address;
        return env && *env ? env : "unix:path=/run/dbus/system_bus_socket";
}

DBusConnection *ctl_bus_open(const CtlContext *ctx) {
        DBusError error = DBUS_ERROR_INIT;
        const char *address = ctl_bus_address(ctx);

        if (bus_connection)
                return bus_connection;
        DBusConnection *bus = dbus_connection_open_private(address, &error);
        if (bus && !dbus_bus_register(bus, &error)) {
                dbus_connection_close(bus);
                dbus_connection_unref(bus);
                bus = NULL;
        }
        if (!bus) {
                fprintf(stderr, "bulwarkctl: bus '%s': cannot connect: %s (is bulwarkd's bus running? --direct runs the library in this process)\n",
                        address, error.message);
                dbus_error_free(&error);
                return NULL;
        }
        dbus_connection_set_exit_on_disconnect(bus, FALSE);
        return bus_connection = bus;
}

/* The service's error names, as the errno the library would have returned. */
static int bus_error_to_errno(const char *name) {
        static const struct { const char *name; int error; } map[] = {
                { "org.bulwark.Error.InvalidArgument", EINVAL },
                { "org.bulwark.Error.NoSuchGuest", ENOENT },
                { "org.bulwark.Error.GuestExists", EEXIST },
                { "org.bulwark.Error.Busy", ETIMEDOUT },
                { "org.bulwark.Error.PermissionDenied", EPERM },
                { "org.bulwark.Error.Unsupported", EOPNOTSUPP },
                { DBUS_ERROR_ACCESS_DENIED, EACCES },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
                if (strcmp(name, map[i].name) == 0)
                        return -map[i].error;
        return -EIO;
}

int ctl_bus_fail(const CtlContext *ctx, const DBusError *error) {
        if (dbus_error_has_name(error, DBUS_ERROR_SERVICE_UNKNOWN) || dbus_error_has_name(error, DBUS_ERROR_NAME_HAS_NO_OWNER)) {
                fprintf(stderr, "bulwarkctl: bus '%s': bulwarkd is not running (no owner of %s); start it, or use --direct to run the library in this process\n",
                        ctl_bus_address(ctx), CTL_BUS_NAME);
                return -ECONNREFUSED;
        }
        if (g_str_has_prefix(error->name, "org.bulwark.Error."))
                fprintf(stderr, "bulwarkctl: %s\n", error->message);
        else
                fprintf(stderr, "bulwarkctl: bus '%s': %s: %s\n", ctl_bus_address(ctx), error->name, error->message);
        return bus_error_to_errno(error->name);
}

static int bus_call_va(const CtlContext *ctx, const char *method, DBusMessage **ret_reply, int first_type,
                       va_list ap) {
        DBusError error = DBUS_ERROR_INIT;
        DBusConnection *bus = ctl_bus_open(ctx);
        if (!bus)
                return -ECONNREFUSED;
        DBusMessage *call = dbus_message_new_method_call(CTL_BUS_NAME, CTL_BUS_PATH, CTL_BUS_INTERFACE, method);
        if (!call || !dbus_message_append_args_valist(call, first_type, ap)) {
                fprintf(stderr, "bulwarkctl: %s: cannot build the call (an argument that is not UTF-8?)\n", method);
                if (call)
                        dbus_message_unref(call);
                return -EINVAL;
        }
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(bus, call, DBUS_TIMEOUT_INFINITE, &error);
        dbus_message_unref(call);
        if (!reply) {
                int r = ctl_bus_fail(ctx, &error);
                dbus_error_free(&error);
                return r;
        }
        if (ret_reply)
                *ret_reply = reply;
        else
                dbus_message_unref(reply);
        return 0;
}

int ctl_bus_call(const CtlContext *ctx, const char *method, DBusMessage **ret_reply, int first_type, ...) {
        va_list ap;
        va_start(ap, first_type);
        int r = bus_call_va(ctx, method, ret_reply, first_type, ap);
        va_end(ap);
        return r;
}

/* A reply of one string or one uint32, taken out. */
static int bus_reply_string(DBusMessage *reply, char **ret) {
        const char *s = NULL;
        bool ok = dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
        if (ok)
                *ret = g_strdup(s);
        else
                fprintf(stderr, "bulwarkctl: bulwarkd answered with '%s', not a string\n",
                        dbus_message_get_signature(reply));
        dbus_message_unref(reply);
        return ok ? 0 : -EPROTO;
}

static int bus_read_file(const char *path, char **ret) {
        g_autoptr(GError) error = NULL;
        if (!g_file_get_contents(path, ret, NULL, &error)) {
                fprintf(stderr, "bulwarkctl: '%s': %s\n", path, error->message);
                return -EIO;
        }
        return 0;
}

int bus_guest_start(const CtlContext *ctx, const char *path) {
        g_autofree char *text = NULL;
        int r = bus_read_file(path, &text);
        return r < 0 ? r : ctl_bus_call(ctx, "StartGuest", NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
}

int bus_guest_stop(const CtlContext *ctx, const char *name, unsigned flags) {
        dbus_bool_t kill = (flags & BW_STOP_KILL) != 0;
        return ctl_bus_call(ctx, "StopGuest", NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_BOOLEAN, &kill, DBUS_TYPE_INVALID);
}

int bus_guest_attach(const CtlContext *ctx, const char *name, const char *text) {
        return ctl_bus_call(ctx, "AttachResource", NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &text,
                            DBUS_TYPE_INVALID);
}

int bus_guest_detach(const CtlContext *ctx, const char *name, const char *ref) {
        return ctl_bus_call(ctx, "DetachResource", NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &ref,
                            DBUS_TYPE_INVALID);
}

int bus_recover(const CtlContext *ctx, const char *name, unsigned flags) {
        DBusMessage *reply = NULL;
        dbus_uint32_t count = 0, f = flags;
        int r = name ? ctl_bus_call(ctx, "RecoverGuest", &reply, DBUS_TYPE_STRING, &name, DBUS_TYPE_UINT32, &f,
                                    DBUS_TYPE_INVALID)
                     : ctl_bus_call(ctx, "Recover", &reply, DBUS_TYPE_INVALID);
        if (r < 0)
                return r;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &count, DBUS_TYPE_INVALID))
                r = -EPROTO;
        dbus_message_unref(reply);
        return r < 0 ? r : (int) count;
}

static int bus_call_string(const CtlContext *ctx, const char *method, char **ret, int first_type, ...) {
        DBusMessage *reply = NULL;
        va_list ap;
        va_start(ap, first_type);
        int r = bus_call_va(ctx, method, &reply, first_type, ap);
        va_end(ap);
        return r < 0 ? r : bus_reply_string(reply, ret);
}

int bus_plan_json(const CtlContext *ctx, const char *path, char **ret_json) {
        g_autofree char *text = NULL;
        int r = bus_read_file(path, &text);
        return r < 0 ? r : bus_call_string(ctx, "Explain", ret_json, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
}

int bus_guests_json(const CtlContext *ctx, char **ret_json) {
        return bus_call_string(ctx, "DescribeGuests", ret_json, DBUS_TYPE_INVALID);
}

int bus_guest_json(const CtlContext *ctx, const char *name, char **ret_json) {
        return bus_call_string(ctx, "GetGuest", ret_json, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
}

int bus_plugins_json(const CtlContext *ctx, char **ret_json) {
        return bus_call_string(ctx, "ListPlugins", ret_json, DBUS_TYPE_INVALID);
}

int bus_locks_json(const CtlContext *ctx, char **ret_json) {
        return bus_call_string(ctx, "ListLocks", ret_json, DBUS_TYPE_INVALID);
}

int bus_query(const CtlContext *ctx, const char *plugin, const char *command, size_t argc,
              const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata) {
        g_autofree char *output = NULL;
        dbus_uint32_t f = flags;
        int n = (int) argc;
        int r = bus_call_string(ctx, "Query", &output, DBUS_TYPE_STRING, &plugin, DBUS_TYPE_STRING, &command,
                                DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &argv, n, DBUS_TYPE_UINT32, &f, DBUS_TYPE_INVALID);
        if (r < 0)
                return r;
        r = write(userdata, output, strlen(output));
        return r == -EPIPE ? 0 : r;
}
