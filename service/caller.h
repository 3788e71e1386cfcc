/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may call bulwarkd: root, and members of the configured group.  The
 * bus policy (policy/dbus/org.bulwark.Bulwark1.conf) says the same; the
 * service checks again so that a permissive or broken bus policy never
 * lets anyone else change the host. */
#pragma once

#include <dbus/dbus.h>

#include "service.h"

/* NULL when the sender of `call` may call; otherwise the
 * PermissionDenied (or Failed, when the bus cannot say who it is) reply. */
DBusMessage *caller_check(Service *s, DBusMessage *call);

/* Forgets a connection that left the bus (NameOwnerChanged). */
void caller_forget(Service *s, const char *unique_name);
