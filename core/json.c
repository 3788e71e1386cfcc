/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library JSON: guests, plans and plugins as the CLI and the D-Bus
 * service print them.  Built on util/json-writer; keys are documented in
 * json.h and bulwark.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "guest.h"
#include "json.h"

/* The names the guest definition's type= keys take. */
static const char *json_hostdev_type(BwHostdevType type) {
        static const char *const names[] = {
                [BW_HOSTDEV_VFIO_PCI] = "vfio-pci",
                [BW_HOSTDEV_USB] = "usb",
                [BW_HOSTDEV_SCSI_GENERIC] = "scsi-generic",
        };
        return (unsigned) type < G_N_ELEMENTS(names) ? names[type] : NULL;
}

static const char *json_chardev_type(BwChardevType type) {
        static const char *const names[] = {
                [BW_CHARDEV_FILE] = "file",
                [BW_CHARDEV_SOCKET] = "socket",
                [BW_CHARDEV_PIPE] = "pipe",
                [BW_CHARDEV_PTY] = "pty",
        };
        return (unsigned) type < G_N_ELEMENTS(names) ? names[type] : NULL;
}

/* The fields only some resource types have. */
static void json_resource_typed(JsonWriter *w, const BwResource *res) {
        switch (res->type) {
        case BW_RESOURCE_HOSTDEV:
                json_writer_member_string(w, "hostdev_type", json_hostdev_type(res->hostdev_type));
                if (res->hostdev_type == BW_HOSTDEV_VFIO_PCI)
                        json_writer_member_string(w, "pci_address", res->pci_address);
                if (res->hostdev_type == BW_HOSTDEV_USB) {
                        json_writer_member_uint(w, "usb_bus", res->usb_bus);
                        json_writer_member_uint(w, "usb_device", res->usb_device);
                }
                break;
        case BW_RESOURCE_CHARDEV:
                json_writer_member_string(w, "chardev_type", json_chardev_type(res->chardev_type));
                break;
        case BW_RESOURCE_DEVICE: {
                char access[4], *a = access;
                if (res->access & BW_ACCESS_READ)
                        *a++ = 'r';
                if (res->access & BW_ACCESS_WRITE)
                        *a++ = 'w';
                if (res->access & BW_ACCESS_MKNOD)
                        *a++ = 'm';
                *a = '\0';
                json_writer_member_string(w, "access", access);
                break;
        }
        default:
                break;
        }
}

static void json_resource(JsonWriter *w, const BwResource *res) {
        json_writer_object_begin(w);
        json_writer_member_string(w, "type", bw_resource_type_to_string(res->type));
        json_writer_member_string(w, "id", res->id);
        json_writer_member_string(w, "path", res->path);
        json_writer_member_bool(w, "readonly", res->readonly);
        json_writer_member_bool(w, "shared", res->shared);
        json_resource_typed(w, res);
        json_writer_key(w, "paths");
        json_writer_array_begin(w);
        for (size_t k = 0; k < res->n_paths; k++) {
                json_writer_object_begin(w);
                json_writer_member_string(w, "path", res->paths[k]);
                json_writer_member_string(w, "role", bw_path_role_to_string(res->roles[k]));
                json_writer_object_end(w);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
}

void json_guest_info(JsonWriter *w, const BwGuestInfo *info) {
        json_writer_object_begin(w);
        json_writer_member_string(w, "name", info->name);
        json_writer_member_string(w, "uuid", info->uuid);
        json_writer_member_uint(w, "uid", info->uid);
        json_writer_member_uint(w, "gid", info->gid);
        json_writer_member_string(w, "cgroup", info->cgroup);
        json_writer_member_bool(w, "cgroup_given", info->cgroup_given);
        json_writer_member_bool(w, "hotplug_vfio", info->hotplug_vfio);
        json_writer_key(w, "hotplug_dirs");
        json_writer_array_begin(w);
        for (size_t i = 0; i < info->n_hotplug_dirs; i++)
                json_writer_string(w, info->hotplug_dirs[i]);
        json_writer_array_end(w);
        json_writer_key(w, "groups");
        json_writer_array_begin(w);
        for (size_t i = 0; i < info->n_groups; i++)
                json_writer_uint(w, info->groups[i]);
        json_writer_array_end(w);
        json_writer_key(w, "resources");
        json_writer_array_begin(w);
        for (size_t i = 0; i < info->n_resources; i++)
                json_resource(w, info->resources[i]);
        json_writer_array_end(w);
        json_writer_object_end(w);
}

static void json_change_flags(JsonWriter *w, uint32_t flags) {
        json_writer_key(w, "flags");
        json_writer_array_begin(w);
        if (flags & BW_CHANGE_LOCK_SHARED)
                json_writer_string(w, "lock-shared");
        json_writer_array_end(w);
}

void json_plan_change(JsonWriter *w, const BwPlanChange *c) {
        json_writer_object_begin(w);
        json_writer_member_string(w, "plugin", c->plugin);
        json_writer_member_string(w, "kind", c->kind);
        json_writer_member_string(w, "object", c->object);
        json_writer_member_string(w, "detail", c->detail);
        json_writer_member_string(w, "lock", c->lock_path);
        json_writer_member_string(w, "resource", c->resource);
        json_change_flags(w, c->flags);
        json_writer_object_end(w);
}

void json_plugin_info(JsonWriter *w, const BwPluginInfo *info) {
        static const struct {
                uint32_t bit;
                const char *name;
        } flags[] = {
                { BW_PLUGIN_FLAG_LABELS_PATHS, "labels-paths" },
                { BW_PLUGIN_FLAG_NEEDS_ROOT, "needs-root" },
        };
        g_autofree char *abi = g_strdup_printf("%u.%u", info->abi_major, info->abi_minor);
        uint32_t rest = info->flags;

        json_writer_object_begin(w);
        json_writer_member_string(w, "name", info->name);
        json_writer_member_string(w, "abi", abi);
        json_writer_member_uint(w, "flags", info->flags);
        json_writer_key(w, "flag_names");
        json_writer_array_begin(w);
        for (size_t i = 0; i < G_N_ELEMENTS(flags); i++)
                if (info->flags & flags[i].bit) {
                        json_writer_string(w, flags[i].name);
                        rest &= ~flags[i].bit;
                }
        /* The loader refuses unknown bits; should one appear, show it. */
        for (uint32_t bit = 1; rest; bit <<= 1)
                if (rest & bit) {
                        g_autofree char *hex = g_strdup_printf("0x%x", bit);
                        json_writer_string(w, hex);
                        rest &= ~bit;
                }
        json_writer_array_end(w);
        json_writer_member_bool(w, "usable", info->probe_result >= 0);
        json_writer_member_string(w, "reason", info->probe_reason);
        json_writer_member_string(w, "path", info->path);
        json_writer_object_end(w);
}

/* RFC 3339 in UTC with microseconds: "2026-12-03T08:46:55.123456Z". */
static void json_member_time(JsonWriter *w, const char *key, int64_t us) {
        struct tm tm;
        time_t secs = (time_t) (us / G_USEC_PER_SEC);
        char text[64];

        if (us <= 0 || !gmtime_r(&secs, &tm) || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                json_writer_member_string(w, key, NULL);
                return;
        }
        g_autofree char *full = g_strdup_printf("%s.%06dZ", text, (int) (us % G_USEC_PER_SEC));
        json_writer_member_string(w, key, full);
}

static void json_guest_change(JsonWriter *w, const BwGuestChange *c) {
        json_writer_object_begin(w);
        json_writer_member_string(w, "kind", c->kind);
        json_writer_member_string(w, "object", c->object);
        json_writer_member_string(w, "detail", c->detail);
        json_writer_member_string(w, "resource", c->resource);
        json_writer_member_string(w, "lock", c->lock_path);
        json_change_flags(w, c->flags);
        json_writer_member_bool(w, "done", c->done);
        json_writer_object_end(w);
}

/* The changes grouped per plugin, plugins in the order each first made
 * one, changes in the order made. */
static void json_guest_state_plugins(JsonWriter *w, const BwGuestState *gs) {
        size_t n = bw_guest_state_change_count(gs);
        g_autoptr(GPtrArray) seen = g_ptr_array_new();

        json_writer_key(w, "plugins");
        json_writer_array_begin(w);
        for (size_t i = 0; i < n; i++) {
                BwGuestChange first;
                if (bw_guest_state_change(gs, i, &first) < 0 ||
                    g_ptr_array_find_with_equal_func(seen, first.plugin, g_str_equal, NULL))
                        continue;
                g_ptr_array_add(seen, (char *) first.plugin);
                json_writer_object_begin(w);
                json_writer_member_string(w, "name", first.plugin);
                json_writer_key(w, "changes");
                json_writer_array_begin(w);
                for (size_t k = i; k < n; k++) {
                        BwGuestChange c;
                        if (bw_guest_state_change(gs, k, &c) == 0 && strcmp(c.plugin, first.plugin) == 0)
                                json_guest_change(w, &c);
                }
                json_writer_array_end(w);
                json_writer_object_end(w);
        }
        json_writer_array_end(w);
}

void json_guest_state(JsonWriter *w, const BwGuestState *gs) {
        const BwGuestInfo *info = bw_guest_state_info(gs);
        int64_t started = bw_guest_state_start_time(gs);

        json_writer_object_begin(w);
        json_writer_member_string(w, "name", bw_guest_state_name(gs));
        json_writer_member_string(w, "status", bw_guest_status_to_string(bw_guest_state_status(gs)));
        json_member_time(w, "started", started);
        json_writer_key(w, "started_us");
        if (started > 0)
                json_writer_int(w, started);
        else
                json_writer_null(w);
        json_writer_member_string(w, "cgroup", bw_guest_state_cgroup(gs));
        json_writer_key(w, "guest");
        if (info)
                json_guest_info(w, info);
        else
                json_writer_null(w);
        json_guest_state_plugins(w, gs);
        json_writer_object_end(w);
}

static void json_adopt_guest(JsonWriter *w, const BwAdoptReport *report, size_t index) {
        BwAdoptGuest g;
        if (bw_adopt_report_guest(report, index, &g) < 0)
                return;
        json_writer_object_begin(w);
        json_writer_member_string(w, "name", g.name);
        json_writer_member_string(w, "outcome", bw_adopt_outcome_to_string(g.outcome));
        json_writer_member_bool(w, "recovered", g.recovered);
        json_writer_member_string(w, "message", g.message);
        json_writer_key(w, "plugins");
        json_writer_array_begin(w);
        for (size_t k = 0; k < g.n_plugins; k++) {
                BwAdoptPlugin p;
                if (bw_adopt_report_plugin(report, index, k, &p) < 0)
                        continue;
                json_writer_object_begin(w);
                json_writer_member_string(w, "name", p.plugin);
                json_writer_member_int(w, "result", p.result);
                json_writer_member_string(w, "error", p.result < 0 ? strerrorname_np(-p.result) : NULL);
                json_writer_member_string(w, "message", p.message);
                json_writer_object_end(w);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
}

/* ---- Public entry points ------------------------------------------------ */

static int json_finish(JsonWriter *w, char **ret_json) {
        char *text = NULL;
        int r = json_writer_finish(w, &text);
        if (r < 0)
                return r; /* a bug here, not bad input */
        *ret_json = text;
        return 0;
}

BW_PUBLIC void bw_free(void *p) {
        g_free(p);
}

BW_PUBLIC int bw_guest_to_json(const BwGuest *guest, char **ret_json) {
        if (!guest || !ret_json)
                return -EINVAL;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_object_begin(w);
        json_writer_key(w, "guest");
        json_guest_info(w, bw_guest_info(guest));
        json_writer_key(w, "unresolved");
        json_writer_array_begin(w);
        for (size_t i = 0; i < guest_get_n_unresolved(guest); i++)
                json_writer_string(w, guest_get_unresolved(guest, i));
        json_writer_array_end(w);
        json_writer_object_end(w);
        return json_finish(w, ret_json);
}

BW_PUBLIC int bw_plan_to_json(const BwPlan *plan, const BwGuest *guest, char **ret_json) {
        if (!plan || !ret_json)
                return -EINVAL;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_object_begin(w);
        json_writer_member_string(w, "guest", guest ? bw_guest_info(guest)->name : NULL);
        json_writer_key(w, "changes");
        json_writer_array_begin(w);
        for (size_t i = 0; i < bw_plan_count(plan); i++) {
                BwPlanChange c;
                int r = bw_plan_change(plan, i, &c);
                if (r < 0)
                        return r;
                json_plan_change(w, &c);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
        return json_finish(w, ret_json);
}

BW_PUBLIC int bw_manager_plugins_to_json(const BwManager *manager, char **ret_json) {
        if (!manager || !ret_json)
                return -EINVAL;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_array_begin(w);
        for (size_t i = 0; i < bw_manager_plugin_count(manager); i++) {
                BwPluginInfo info;
                int r = bw_manager_plugin_info(manager, i, &info);
                if (r < 0)
                        return r;
                json_plugin_info(w, &info);
        }
        json_writer_array_end(w);
        return json_finish(w, ret_json);
}

BW_PUBLIC int bw_guest_state_to_json(const BwGuestState *state, char **ret_json) {
        if (!state || !ret_json)
                return -EINVAL;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_guest_state(w, state);
        return json_finish(w, ret_json);
}

/* A guest whose journal cannot be read is listed with the reason rather
 * than hidden: a list that leaves it out would say it is not there. */
static void json_guest_unreadable(JsonWriter *w, const char *name, const char *message) {
        json_writer_object_begin(w);
        json_writer_member_string(w, "name", name);
        json_writer_member_string(w, "status", "unreadable");
        json_writer_member_string(w, "error", message);
        json_writer_object_end(w);
}

BW_PUBLIC int bw_manager_guests_to_json(BwManager *manager, char **ret_json, BwError *reterr) {
        char **names = NULL;
        if (!manager || !ret_json)
                return error_set(reterr, -EINVAL, "bw_manager_guests_to_json: missing argument");
        int r = bw_manager_list_guests(manager, &names, reterr);
        if (r < 0)
                return r;
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_array_begin(w);
        for (size_t i = 0; names[i]; i++) {
                BwGuestState *gs = NULL;
                BwError err = {};
                r = bw_manager_get_guest(manager, names[i], &gs, &err);
                if (r == -ENOENT)
                        continue; /* stopped since the directory was listed */
                if (r < 0)
                        json_guest_unreadable(w, names[i], err.message);
                else
                        json_guest_state(w, gs);
                bw_guest_state_free(gs);
        }
        json_writer_array_end(w);
        bw_strv_free(names);
        return json_finish(w, ret_json);
}

BW_PUBLIC int bw_adopt_report_to_json(const BwAdoptReport *report, char **ret_json) {
        if (!report || !ret_json)
                return -EINVAL;
        size_t n = bw_adopt_report_count(report);
        int64_t adopted = 0;
        for (size_t i = 0; i < n; i++) {
                BwAdoptGuest g;
                adopted += bw_adopt_report_guest(report, i, &g) == 0 && g.outcome == BW_ADOPT_ADOPTED;
        }
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_object_begin(w);
        json_writer_member_uint(w, "recovered", bw_adopt_report_recovered(report));
        json_writer_member_int(w, "adopted", adopted);
        json_writer_key(w, "guests");
        json_writer_array_begin(w);
        for (size_t i = 0; i < n; i++)
                json_adopt_guest(w, report, i);
        json_writer_array_end(w);
        json_writer_object_end(w);
        return json_finish(w, ret_json);
}
