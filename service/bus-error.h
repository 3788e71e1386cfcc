/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The errors bulwarkd answers with: org.bulwark.Error.* from the library's
 * negative errno, and the message the library wrote (naming the object
 * and the cause), made valid UTF-8 for the bus. */
#pragma once

#include <stdbool.h>

#include <dbus/dbus.h>

#define BULWARK_ERROR_INVALID_ARGUMENT "org.bulwark.Error.InvalidArgument"
#define BULWARK_ERROR_NO_SUCH_GUEST "org.bulwark.Error.NoSuchGuest"
#define BULWARK_ERROR_GUEST_EXISTS "org.bulwark.Error.GuestExists"
#define BULWARK_ERROR_BUSY "org.bulwark.Error.Busy"
#define BULWARK_ERROR_PERMISSION_DENIED "org.bulwark.Error.PermissionDenied"
#define BULWARK_ERROR_UNSUPPORTED "org.bulwark.Error.Unsupported"
#define BULWARK_ERROR_FAILED "org.bulwark.Error.Failed"

/* The error name for -errno `r`.  -ENOENT is NoSuchGuest only when
 * `about_guest` (the call names a guest and the library says it has
 * none); otherwise a missing thing is InvalidArgument. */
const char *bus_error_name(int r, bool about_guest);

/* An error reply: the name from `r`, `message` as it is (made valid
 * UTF-8), or strerror when it is empty. */
DBusMessage *bus_error_reply(DBusMessage *call, int r, const char *message, bool about_guest);
DBusMessage *bus_error_replyf(DBusMessage *call, const char *name, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* `s` as valid UTF-8 (bytes that are not become U+FFFD): every string
 * the bus carries must be.  Free with g_free(). */
char *bus_utf8(const char *s);
