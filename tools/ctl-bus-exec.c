/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ExecAttributes read back into a BwExec (bw_exec_new_from_attrs()): the
 * reply's a{sv} (service/methods-exec.c lists the keys) and its Landlock
 * ruleset descriptor. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "ctl-bus.h"
#include "ctl-transport-impl.h"
#include "util/fd-util.h"

typedef struct ExecReply {
        BwExecAttrs attrs;
        GArray *groups;            /* gid_t */
        GArray *labels;            /* BwExecLabelAttr, strings owned by the message */
        bool landlock;
} ExecReply;

static void exec_reply_groups(ExecReply *e, DBusMessageIter *variant) {
        DBusMessageIter array;
        dbus_message_iter_recurse(variant, &array);
        while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_UINT32) {
                dbus_uint32_t g;
                dbus_message_iter_get_basic(&array, &g);
                gid_t gid = g;
                g_array_append_val(e->groups, gid);
                dbus_message_iter_next(&array);
        }
}

static void exec_reply_labels(ExecReply *e, DBusMessageIter *variant) {
        DBusMessageIter array, pair;
        dbus_message_iter_recurse(variant, &array);
        while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
                BwExecLabelAttr l = {};
                dbus_message_iter_recurse(&array, &pair);
                dbus_message_iter_get_basic(&pair, &l.lsm);
                dbus_message_iter_next(&pair);
                dbus_message_iter_get_basic(&pair, &l.label);
                g_array_append_val(e->labels, l);
                dbus_message_iter_next(&array);
        }
}

/* One entry of the a{sv}; a key this bulwarkctl does not know is skipped
 * (keys are only ever added), a known key of the wrong type refused. */
static int exec_reply_entry(ExecReply *e, const char *key, DBusMessageIter *variant) {
        static const struct { const char *key; const char *sig; } known[] = {
                { "guest", "s" }, { "cgroup", "s" }, { "uid", "u" }, { "gid", "u" },
                { "groups", "au" }, { "labels", "a(ss)" }, { "landlock", "b" },
        };
        g_autofree char *sig = dbus_message_iter_get_signature(variant);
        for (size_t i = 0; i < G_N_ELEMENTS(known); i++) {
                if (strcmp(key, known[i].key) != 0)
                        continue;
                if (strcmp(sig, known[i].sig) != 0) {
                        fprintf(stderr, "bulwarkctl: run: exec attribute '%s' of type '%s', expected '%s'\n", key, sig,
                                known[i].sig);
                        return -EPROTO;
                }
                dbus_uint32_t u;
                dbus_bool_t b;
                if (strcmp(key, "guest") == 0)
                        dbus_message_iter_get_basic(variant, &e->attrs.guest);
                else if (strcmp(key, "cgroup") == 0)
                        dbus_message_iter_get_basic(variant, &e->attrs.cgroup);
                else if (strcmp(key, "uid") == 0) {
                        dbus_message_iter_get_basic(variant, &u);
                        e->attrs.uid = u;
                } else if (strcmp(key, "gid") == 0) {
                        dbus_message_iter_get_basic(variant, &u);
                        e->attrs.gid = u;
                } else if (strcmp(key, "groups") == 0)
                        exec_reply_groups(e, variant);
                else if (strcmp(key, "labels") == 0)
                        exec_reply_labels(e, variant);
                else {
                        dbus_message_iter_get_basic(variant, &b);
                        e->landlock = b;
                }
        }
        return 0;
}

static int exec_reply_parse(ExecReply *e, DBusMessage *reply, int *ret_fd) {
        DBusMessageIter it, dict, entry, variant;
        if (!dbus_message_has_signature(reply, "a{sv}h")) {
                fprintf(stderr, "bulwarkctl: run: ExecAttributes answered '%s', expected 'a{sv}h'\n",
                        dbus_message_get_signature(reply));
                return -EPROTO;
        }
        dbus_message_iter_init(reply, &it);
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                const char *key;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &variant);
                int r = exec_reply_entry(e, key, &variant);
                if (r < 0)
                        return r;
                dbus_message_iter_next(&dict);
        }
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, ret_fd); /* a new descriptor, ours to close */
        return 0;
}

int bus_exec_prepare(const CtlContext *ctx, const char *name, BwExec **ret) {
        ExecReply e = {
                .attrs.landlock_fd = -1,
                .groups = g_array_new(FALSE, FALSE, sizeof(gid_t)),
                .labels = g_array_new(FALSE, FALSE, sizeof(BwExecLabelAttr)),
        };
        DBusMessage *reply = NULL;
        _cleanup_close_ int fd = -1;
        BwError err = {};

        int r = ctl_bus_call(ctx, "ExecAttributes", &reply, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        if (r >= 0)
                r = exec_reply_parse(&e, reply, &fd);
        if (r >= 0 && !e.attrs.guest) {
                fprintf(stderr, "bulwarkctl: run: guest '%s': ExecAttributes lacks 'guest'\n", name);
                r = -EPROTO;
        }
        if (r >= 0) {
                e.attrs.n_groups = e.groups->len;
                e.attrs.groups = (const gid_t *) (void *) e.groups->data;
                e.attrs.n_labels = e.labels->len;
                e.attrs.labels = (const BwExecLabelAttr *) (void *) e.labels->data;
                e.attrs.landlock_fd = e.landlock ? fd : -1;
                r = bw_exec_new_from_attrs(&e.attrs, ret, &err);
                if (r < 0)
                        fprintf(stderr, "bulwarkctl: run: %s\n", err.message);
        }
        g_array_unref(e.groups);
        g_array_unref(e.labels);
        if (reply)
                dbus_message_unref(reply);
        return r;
}
