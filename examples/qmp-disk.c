/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qmp-disk: a disk hot-plugged into QEMU by descriptor (see qmp-disk.h). */
#include "qmp-disk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Layer k of disk id: its fdset's opaque string and its node's name. */
static char *layer_opaque(const char *id, size_t k) {
        return k == 0 ? g_strconcat(QMP_DISK_OPAQUE_PREFIX, id, NULL)
                      : g_strdup_printf(QMP_DISK_OPAQUE_PREFIX "%s:%zu", id, k);
}

static char *layer_node(const char *id, size_t k) {
        return k == 0 ? g_strdup(id) : g_strdup_printf("%s-backing-%zu", id, k);
}

static int fdset_add(QmpClient *c, const char *opaque, int fd, gint64 *ret_fdset, GError **error) {
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

/* Layer k of disk id as an opaque string names it: 0 for "disk:ID", K for
 * "disk:ID:K"; -1 for another disk's. */
static gssize opaque_layer(const char *opaque, const char *id) {
        g_autofree char *top = layer_opaque(id, 0);
        if (!opaque || !g_str_has_prefix(opaque, top))
                return -1;
        const char *rest = opaque + strlen(top);
        if (*rest == '\0')
                return 0;
        char *end;
        unsigned long k = *rest == ':' ? strtoul(rest + 1, &end, 10) : 0;
        return k > 0 && *end == '\0' ? (gssize) k : -1;
}

/* The fdsets of disk id, by layer: (*ret)[k] is layer k's fdset, -1 when
 * QEMU has none; empty when QEMU has none of the disk's. */
static int fdsets_find(QmpClient *c, const char *id, GArray **ret, GError **error) {
        g_autoptr(JsonNode) reply = NULL;
        int r = qmp_client_execute(c, "query-fdsets", NULL, -1, &reply, error);
        if (r < 0)
                return r;
        GArray *sets = g_array_new(FALSE, FALSE, sizeof(gint64));
        JsonArray *all = json_node_get_array(reply);
        for (guint i = 0; i < json_array_get_length(all); i++) {
                JsonObject *set = json_array_get_object_element(all, i);
                JsonArray *fds = json_object_get_array_member(set, "fds");
                for (guint j = 0; j < json_array_get_length(fds); j++) {
                        gssize k = opaque_layer(json_object_get_string_member_with_default(
                                                        json_array_get_object_element(fds, j), "opaque", NULL),
                                                id);
                        if (k < 0)
                                continue;
                        gint64 none = -1;
                        while (sets->len <= (guint) k)
                                g_array_append_val(sets, none);
                        g_array_index(sets, gint64, k) = json_object_get_int_member(set, "fdset-id");
                }
        }
        *ret = sets;
        return 0;
}

static int node_add(QmpClient *c, const char *id, size_t k, size_t n, gint64 fdset, gboolean readonly,
                    const char *format, GError **error) {
        g_autofree char *filename = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, fdset);
        g_autofree char *node = layer_node(id, k);
        JsonObject *file = json_object_new();
        json_object_set_string_member(file, "driver", "file");
        json_object_set_string_member(file, "filename", filename);
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "driver", format);
        json_object_set_string_member(args, "node-name", node);
        json_object_set_boolean_member(args, "read-only", readonly || k > 0);
        json_object_set_object_member(args, "file", file);
        if (strcmp(format, "qcow2") == 0 && k + 1 < n) {
                g_autofree char *backing = layer_node(id, k + 1);
                json_object_set_string_member(args, "backing", backing);
        }
        return qmp_client_execute(c, "blockdev-add", args, -1, NULL, error);
}

static int node_del(QmpClient *c, const char *id, size_t k, GError **error) {
        g_autofree char *node = layer_node(id, k);
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "node-name", node);
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

int qmp_disk_hotplug(QmpClient *c, const char *id, const QmpDiskLayer *layers, size_t n, gboolean readonly,
                     const char *bus, gint64 *ret_fdset, GError **error) {
        if (n == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "disk '%s': no file to hot-plug", id);
                return -EINVAL;
        }
        g_autofree gint64 *fdsets = g_new(gint64, n);
        size_t added = 0, nodes = n; /* fdsets added; the lowest layer with a node */
        int r = 0;
        for (; added < n && r == 0; added++) {
                g_autofree char *opaque = layer_opaque(id, added);
                r = fdset_add(c, opaque, layers[added].fd, &fdsets[added], error);
        }
        if (r < 0)
                added--;
        /* Bottom up: a qcow2 node's backing must exist before it. */
        while (r == 0 && nodes > 0) {
                r = node_add(c, id, nodes - 1, n, fdsets[nodes - 1], readonly, layers[nodes - 1].format, error);
                if (r == 0)
                        nodes--;
        }
        if (r == 0)
                r = device_add(c, id, bus, error);
        if (r < 0) {
                for (size_t k = nodes; k < n; k++)
                        node_del(c, id, k, NULL);
                for (size_t k = 0; k < added; k++)
                        fdset_remove(c, fdsets[k], NULL);
                return r;
        }
        if (ret_fdset)
                *ret_fdset = fdsets[0];
        return 0;
}

int qmp_disk_unplug(QmpClient *c, const char *id, int timeout_ms, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "id", id);
        int r = qmp_client_execute(c, "device_del", args, -1, NULL, error);
        if (r == 0)
                r = qmp_client_wait_event(c, "DEVICE_DELETED", id, timeout_ms, error);
        g_autoptr(GArray) fdsets = NULL;
        if (r == 0)
                r = fdsets_find(c, id, &fdsets, error);
        if (r == 0 && (fdsets->len == 0 || g_array_index(fdsets, gint64, 0) < 0)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "disk '%s': no fdset marked '%s%s' in QEMU", id,
                            QMP_DISK_OPAQUE_PREFIX, id);
                r = -ENOENT;
        }
        /* Top down: a node goes before the backing it holds. */
        for (guint k = 0; r == 0 && k < fdsets->len; k++)
                r = node_del(c, id, k, error);
        for (guint k = 0; r == 0 && k < fdsets->len; k++)
                if (g_array_index(fdsets, gint64, k) >= 0)
                        r = fdset_remove(c, g_array_index(fdsets, gint64, k), error);
        return r;
}
