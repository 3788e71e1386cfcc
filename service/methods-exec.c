/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bulwark.Manager1.ExecAttributes: what bw_manager_exec_prepare()
 * collected for a running guest, for a client that forks the guest's
 * process itself (bulwarkctl run; a VMM).  The client rebuilds the BwExec
 * with bw_exec_new_from_attrs() (tools/ctl-exec-attrs.c reads this reply).
 *
 * attrs: "guest" s, "uid" u, "gid" u, "groups" au, "labels" a(ss) (LSM,
 * label), "landlock" b, and "cgroup" s when a plugin places the process.
 * landlock_ruleset: the ruleset when "landlock" is true, else /dev/null
 * (a D-Bus 'h' cannot be empty). */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "bus-error.h"
#include "service.h"
#include "util/fd-util.h"

static void dict_open_entry(DBusMessageIter *dict, const char *key, const char *sig, DBusMessageIter *entry,
                            DBusMessageIter *variant) {
        dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, entry);
        dbus_message_iter_append_basic(entry, DBUS_TYPE_STRING, &key);
        dbus_message_iter_open_container(entry, DBUS_TYPE_VARIANT, sig, variant);
}

static void dict_close_entry(DBusMessageIter *dict, DBusMessageIter *entry, DBusMessageIter *variant) {
        dbus_message_iter_close_container(entry, variant);
        dbus_message_iter_close_container(dict, entry);
}

static void dict_add_basic(DBusMessageIter *dict, const char *key, int type, const void *value) {
        DBusMessageIter entry, variant;
        char sig[2] = { (char) type, '\0' };
        dict_open_entry(dict, key, sig, &entry, &variant);
        dbus_message_iter_append_basic(&variant, type, value);
        dict_close_entry(dict, &entry, &variant);
}

static void attrs_add_groups(DBusMessageIter *dict, const BwExec *exec) {
        DBusMessageIter entry, variant, array;
        size_t n = 0;
        const gid_t *groups = NULL;
        bw_exec_identity(exec, NULL, NULL, &n, &groups);
        dict_open_entry(dict, "groups", "au", &entry, &variant);
        dbus_message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "u", &array);
        for (size_t i = 0; i < n; i++) {
                dbus_uint32_t g = groups[i];
                dbus_message_iter_append_basic(&array, DBUS_TYPE_UINT32, &g);
        }
        dbus_message_iter_close_container(&variant, &array);
        dict_close_entry(dict, &entry, &variant);
}

static void attrs_add_labels(DBusMessageIter *dict, const BwExec *exec) {
        DBusMessageIter entry, variant, array, pair;
        dict_open_entry(dict, "labels", "a(ss)", &entry, &variant);
        dbus_message_iter_open_container(&variant, DBUS_TYPE_ARRAY, "(ss)", &array);
        for (size_t i = 0; i < bw_exec_label_count(exec); i++) {
                BwExecLabelAttr l;
                if (bw_exec_label(exec, i, &l) < 0)
                        continue;
                g_autofree char *lsm = bus_utf8(l.lsm), *label = bus_utf8(l.label);
                dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &pair);
                dbus_message_iter_append_basic(&pair, DBUS_TYPE_STRING, &lsm);
                dbus_message_iter_append_basic(&pair, DBUS_TYPE_STRING, &label);
                dbus_message_iter_close_container(&array, &pair);
        }
        dbus_message_iter_close_container(&variant, &array);
        dict_close_entry(dict, &entry, &variant);
}

static void attrs_append(DBusMessage *reply, const BwExec *exec) {
        DBusMessageIter it, dict;
        uid_t uid;
        gid_t gid;
        bw_exec_identity(exec, &uid, &gid, NULL, NULL);
        dbus_uint32_t u = uid, g = gid;
        dbus_bool_t landlock = bw_exec_landlock_fd(exec) >= 0;
        g_autofree char *guest = bus_utf8(bw_exec_guest(exec));
        g_autofree char *cgroup = bw_exec_cgroup(exec) ? bus_utf8(bw_exec_cgroup(exec)) : NULL;
        const char *guest_arg = guest, *cgroup_arg = cgroup;

        dbus_message_iter_init_append(reply, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        dict_add_basic(&dict, "guest", DBUS_TYPE_STRING, &guest_arg);
        if (cgroup)
                dict_add_basic(&dict, "cgroup", DBUS_TYPE_STRING, &cgroup_arg);
        dict_add_basic(&dict, "uid", DBUS_TYPE_UINT32, &u);
        dict_add_basic(&dict, "gid", DBUS_TYPE_UINT32, &g);
        attrs_add_groups(&dict, exec);
        attrs_add_labels(&dict, exec);
        dict_add_basic(&dict, "landlock", DBUS_TYPE_BOOLEAN, &landlock);
        dbus_message_iter_close_container(&it, &dict);
}

static DBusMessage *method_exec_attributes(Service *s, DBusMessage *call) {
        const char *name = NULL;
        BwExec *exec = NULL;
        BwError err = {};

        dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        if (!dbus_connection_can_send_type(s->bus, DBUS_TYPE_UNIX_FD))
                return bus_error_replyf(call, BULWARK_ERROR_UNSUPPORTED,
                                        "guest '%s': exec attributes: this bus cannot pass file descriptors", name);
        int r = bw_manager_exec_prepare(s->manager, name, &exec, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, true);
        _cleanup_close_ int devnull = -1;
        int fd = bw_exec_landlock_fd(exec);
        if (fd < 0)
                fd = devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        DBusMessage *reply = dbus_message_new_method_return(call);
        if (!reply)
                g_error("bulwarkd: out of memory");
        attrs_append(reply, exec);
        if (fd < 0 || !dbus_message_append_args(reply, DBUS_TYPE_UNIX_FD, &fd, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                reply = bus_error_replyf(call, BULWARK_ERROR_FAILED,
                                         "guest '%s': exec attributes: cannot pass the Landlock ruleset", name);
        }
        bw_exec_free(exec);
        return reply;
}

const ServiceMethod service_exec_methods[] = {
        { "ExecAttributes", "s", method_exec_attributes },
        {}
};
