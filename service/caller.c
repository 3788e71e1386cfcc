/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>

#include "bus-error.h"
#include "caller.h"

/* The caller's uid, from the bus (org.freedesktop.DBus.GetConnectionUnixUser);
 * kept per unique name, which the bus never reuses. */
static int caller_uid(Service *s, const char *sender, uid_t *ret, DBusError *error) {
        gpointer cached = g_hash_table_lookup(s->caller_uids, sender);
        if (cached) {
                *ret = (uid_t) (GPOINTER_TO_SIZE(cached) - 1);
                return 0;
        }
        dbus_uint32_t uid;
        DBusMessage *q = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                      "GetConnectionUnixUser");
        if (!q || !dbus_message_append_args(q, DBUS_TYPE_STRING, &sender, DBUS_TYPE_INVALID))
                g_error("bulwarkd: out of memory");
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(s->bus, q, -1, error);
        dbus_message_unref(q);
        if (!reply)
                return -1;
        bool ok = dbus_message_get_args(reply, error, DBUS_TYPE_UINT32, &uid, DBUS_TYPE_INVALID);
        dbus_message_unref(reply);
        if (!ok)
                return -1;
        g_hash_table_insert(s->caller_uids, g_strdup(sender), GSIZE_TO_POINTER((gsize) uid + 1));
        *ret = uid;
        return 0;
}

static bool caller_in_group(gid_t group, uid_t uid) {
        struct passwd *pw = getpwuid(uid);
        if (!pw)
                return false;
        if (pw->pw_gid == group)
                return true;
        int n = 64;
        g_autofree gid_t *groups = g_new(gid_t, n);
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
                groups = g_renew(gid_t, groups, n);
                if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                        return false;
        }
        for (int i = 0; i < n; i++)
                if (groups[i] == group)
                        return true;
        return false;
}

DBusMessage *caller_check(Service *s, DBusMessage *call) {
        const char *sender = dbus_message_get_sender(call);
        DBusError error = DBUS_ERROR_INIT;
        uid_t uid;

        if (!sender) /* a peer-to-peer connection: no bus to ask */
                return bus_error_replyf(call, BULWARK_ERROR_PERMISSION_DENIED,
                                        "bulwarkd: caller unknown: the message has no sender");
        if (caller_uid(s, sender, &uid, &error) < 0) {
                DBusMessage *reply = bus_error_replyf(call, BULWARK_ERROR_FAILED,
                                                      "caller '%s': cannot learn its user from the bus: %s", sender,
                                                      error.message);
                dbus_error_free(&error);
                return reply;
        }
        if (uid == 0 || (s->have_group && caller_in_group(s->group, uid)))
                return NULL;
        if (s->have_group)
                return bus_error_replyf(call, BULWARK_ERROR_PERMISSION_DENIED,
                                        "caller '%s' (uid %u): only root and group %u may call bulwarkd", sender,
                                        (unsigned) uid, (unsigned) s->group);
        return bus_error_replyf(call, BULWARK_ERROR_PERMISSION_DENIED,
                                "caller '%s' (uid %u): only root may call bulwarkd", sender, (unsigned) uid);
}

void caller_forget(Service *s, const char *unique_name) {
        g_hash_table_remove(s->caller_uids, unique_name);
}
