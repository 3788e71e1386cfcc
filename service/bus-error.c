/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "bus-error.h"

const char *bus_error_name(int r, bool about_guest) {
        switch (-r) {
        case ENOENT:
                return about_guest ? BULWARK_ERROR_NO_SUCH_GUEST : BULWARK_ERROR_INVALID_ARGUMENT;
        case ESRCH:
                return BULWARK_ERROR_NO_SUCH_GUEST;
        case EINVAL: case E2BIG: case ENAMETOOLONG: case EILSEQ: case ENODEV: case ENOTDIR:
                return BULWARK_ERROR_INVALID_ARGUMENT;
        case EEXIST:
                return BULWARK_ERROR_GUEST_EXISTS;
        case EBUSY: case EAGAIN: case ETIMEDOUT: case EDEADLK:
                return BULWARK_ERROR_BUSY;
        case EPERM: case EACCES:
                return BULWARK_ERROR_PERMISSION_DENIED;
        case EOPNOTSUPP: case ENOSYS: case EPROTONOSUPPORT:
                return BULWARK_ERROR_UNSUPPORTED;
        default:
                return BULWARK_ERROR_FAILED;
        }
}

char *bus_utf8(const char *s) {
        return g_utf8_make_valid(s ? s : "", -1);
}

static DBusMessage *bus_error_new(DBusMessage *call, const char *name, const char *message) {
        g_autofree char *text = bus_utf8(message);
        DBusMessage *reply = dbus_message_new_error(call, name, text);
        if (!reply)
                g_error("bulwarkd: out of memory");
        return reply;
}

DBusMessage *bus_error_reply(DBusMessage *call, int r, const char *message, bool about_guest) {
        return bus_error_new(call, bus_error_name(r, about_guest), message && *message ? message : g_strerror(-r));
}

DBusMessage *bus_error_replyf(DBusMessage *call, const char *name, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_autofree char *message = g_strdup_vprintf(format, ap);
        va_end(ap);
        return bus_error_new(call, name, message);
}
