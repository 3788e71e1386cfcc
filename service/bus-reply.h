/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Method returns with the few shapes bulwarkd answers with. */
#pragma once

#include <dbus/dbus.h>

DBusMessage *bus_reply_empty(DBusMessage *call);
/* One string; `s` need not be valid UTF-8 (see bus_utf8()). */
DBusMessage *bus_reply_string(DBusMessage *call, const char *s);
DBusMessage *bus_reply_uint32(DBusMessage *call, dbus_uint32_t u);
DBusMessage *bus_reply_strv(DBusMessage *call, char **strv);
