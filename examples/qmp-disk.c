/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp-disk: a disk hot-plugged into QEMU by descriptor (see qmp-disk.h). */
#include "qmp-disk.h"

#include <errno.h>

static int fdset_add(QmpClient *c, const char *id, int fd, gint64 *ret_fdset, GError **error) {
        g_autofree char *opaque = g_strconcat(QMP_DISK_OPAQUE_PREFIX, id, NULL);
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "opaque", opaque);
        g_autoptr(JsonNode) ret = NULL;
        int r = qmp_client_execute(c, "add-fd", args, fd, &ret, error);
        if (r < 0)
                return r;
        *ret_fdset = json_object_get_int_member(json_node_get_object(ret), "fdset-id");
        return 0;
}

static int fdset_remove(QmpClient *c, gint64 fdset, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_int_member(args, "fdset-id", fdset);
        return qmp_client_execute(c, "remove-fd", args, -1, NULL, error);
}

/* The fdset whose descriptor carries disk id's opaque string, or -1. */
static int fdset_find(QmpClient *c, const char *id, gint64 *ret_fdset, GError **error) {
        g_autofree char *opaque = g_strconcat(QMP_DISK_OPAQUE_PREFIX, id, NULL);
        g_autoptr(JsonNode) ret = NULL;
        int r = qmp_client_execute(c, "query-fdsets", NULL, -1, &ret, error);
        if (r < 0)
                return r;
        *ret_fdset = -1;
        JsonArray *sets = json_node_get_array(ret);
        for (guint i = 0; i < json_array_get_length(sets); i++) {
                JsonObject *set = json_array_get_object_element(sets, i);
                JsonArray *fds = json_object_get_array_member(set, "fds");
                for (guint j = 0; j < json_array_get_length(fds); j++)
                        if (g_strcmp0(json_object_get_string_member_with_default(
                                              json_array_get_object_element(fds, j), "opaque", NULL), opaque) == 0)
                                *ret_fdset = json_object_get_int_member(set, "fdset-id");
        }
        return 0;
}

static int node_add(QmpClient *c, const char *id, gint64 fdset, gboolean readonly, const char *format,
                    GError **error) {
        g_autofree char *filename = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, fdset);
        JsonObject *file = json_object_new();
        json_object_set_string_member(file, "driver", "file");
        json_object_set_string_member(file, "filename", filename);
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "driver", format);
        json_object_set_string_member(args, "node-name", id);
        json_object_set_boolean_member(args, "read-only", readonly);
        json_object_set_object_member(args, "file", file);
        return qmp_client_execute(c, "blockdev-add", args, -1, NULL, error);
}

static int node_del(QmpClient *c, const char *id, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "node-name", id);
        return qmp_client_execute(c, "blockdev-del", args, -1, NULL, error);
}

static int device_add(QmpClient *c, const char *id, const char *bus, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "driver", "scsi-hd");
        json_object_set_string_member(args, "drive", id);
        json_object_set_string_member(args, "bus", bus);
        json_object_set_string_member(args, "id", id);
        return qmp_client_execute(c, "device_add", args, -1, NULL, error);
}

int qmp_disk_hotplug(QmpClient *c, const char *id, int fd, gboolean readonly, const char *format, const char *bus,
                     gint64 *ret_fdset, GError **error) {
        gint64 fdset = -1;
        int r = fdset_add(c, id, fd, &fdset, error);
        if (r < 0)
                return r;
        r = node_add(c, id, fdset, readonly, format, error);
        if (r == 0) {
                r = device_add(c, id, bus, error);
                if (r < 0)
                        node_del(c, id, NULL);
        }
        if (r < 0) {
                fdset_remove(c, fdset, NULL);
                return r;
        }
        if (ret_fdset)
                *ret_fdset = fdset;
        return 0;
}

int qmp_disk_unplug(QmpClient *c, const char *id, int timeout_ms, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "id", id);
        int r = qmp_client_execute(c, "device_del", args, -1, NULL, error);
        if (r == 0)
                r = qmp_client_wait_event(c, "DEVICE_DELETED", id, timeout_ms, error);
        if (r == 0)
                r = node_del(c, id, error);
        gint64 fdset = -1;
        if (r == 0)
                r = fdset_find(c, id, &fdset, error);
        if (r == 0 && fdset < 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "disk '%s': no fdset marked '%s%s' in QEMU", id,
                            QMP_DISK_OPAQUE_PREFIX, id);
                r = -ENOENT;
        }
        return r == 0 ? fdset_remove(c, fdset, error) : r;
}
