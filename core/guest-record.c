/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "guest-parse.h"
#include "guest-record.h"
#include "guest.h"

#define GUEST_RECORD_VERSION 1
/* type, id, path, readonly, shared, hostdev type, PCI address, USB bus and
 * device, chardev type, access, then (path, role) pairs. */
#define RESOURCE_TYPE "(usmsbbumsuuuua(su))"

static GVariant *record_resource(const BwResource *res) {
        GVariantBuilder paths;
        g_variant_builder_init(&paths, G_VARIANT_TYPE("a(su)"));
        for (size_t k = 0; k < res->n_paths; k++)
                g_variant_builder_add(&paths, "(su)", res->paths[k], (guint32) res->roles[k]);
        return g_variant_new(RESOURCE_TYPE, (guint32) res->type, res->id, res->path, res->readonly, res->shared,
                             (guint32) res->hostdev_type, res->pci_address, (guint32) res->usb_bus,
                             (guint32) res->usb_device, (guint32) res->chardev_type, (guint32) res->access,
                             &paths);
}

GVariant *guest_record_build(const BwGuestInfo *info, const char *cgroup_root, int64_t start_time_us) {
        GVariantBuilder b, res;
        g_variant_builder_init(&res, G_VARIANT_TYPE("a" RESOURCE_TYPE));
        for (size_t i = 0; i < info->n_resources; i++)
                g_variant_builder_add_value(&res, record_resource(info->resources[i]));

        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "version", g_variant_new_uint32(GUEST_RECORD_VERSION));
        g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(info->name));
        g_variant_builder_add(&b, "{sv}", "uuid", g_variant_new_string(info->uuid));
        g_variant_builder_add(&b, "{sv}", "uid", g_variant_new_uint32((guint32) info->uid));
        g_variant_builder_add(&b, "{sv}", "gid", g_variant_new_uint32((guint32) info->gid));
        g_variant_builder_add(&b, "{sv}", "cgroup", g_variant_new_string(info->cgroup ? info->cgroup : ""));
        g_variant_builder_add(&b, "{sv}", "cgroup-given", g_variant_new_boolean(info->cgroup_given));
        g_variant_builder_add(&b, "{sv}", "cgroup-root", g_variant_new_string(cgroup_root ? cgroup_root : ""));
        g_variant_builder_add(&b, "{sv}", "hotplug-vfio", g_variant_new_boolean(info->hotplug_vfio));
        if (info->n_hotplug_dirs > 0)
                g_variant_builder_add(&b, "{sv}", "hotplug-dirs",
                                      g_variant_new_strv((const char *const *) info->hotplug_dirs,
                                                         (gssize) info->n_hotplug_dirs));
        if (info->n_groups > 0) {
                GVariantBuilder groups;
                g_variant_builder_init(&groups, G_VARIANT_TYPE("au"));
                for (size_t i = 0; i < info->n_groups; i++)
                        g_variant_builder_add(&groups, "u", (guint32) info->groups[i]);
                g_variant_builder_add(&b, "{sv}", "groups", g_variant_builder_end(&groups));
        }
        g_variant_builder_add(&b, "{sv}", "start-time", g_variant_new_int64(start_time_us));
        g_variant_builder_add(&b, "{sv}", "resources", g_variant_builder_end(&res));
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* Adds one recorded resource to the guest being rebuilt. */
static int record_load_resource(BwGuest *g, GVariant *v) {
        guint32 type, hostdev, bus, device, chardev, access, role;
        const char *id, *path, *pci, *p;
        gboolean readonly, shared;
        g_autoptr(GVariantIter) paths = NULL;

        g_variant_get(v, "(u&sm&sbbum&suuuua(su))", &type, &id, &path, &readonly, &shared, &hostdev, &pci,
                      &bus, &device, &chardev, &access, &paths);
        if (!bw_resource_type_to_string((BwResourceType) type) || !*id)
                return -EBADMSG;
        BwResource *res = guest_add_resource(g, (BwResourceType) type, id);
        res->path = guest_intern(g, path);
        res->readonly = readonly;
        res->shared = shared;
        res->hostdev_type = (BwHostdevType) hostdev;
        res->pci_address = guest_intern(g, pci);
        res->usb_bus = bus;
        res->usb_device = device;
        res->chardev_type = (BwChardevType) chardev;
        res->access = access;
        while (g_variant_iter_next(paths, "(&su)", &p, &role)) {
                if (!bw_path_role_to_string((BwPathRole) role) || p[0] != '/')
                        return -EBADMSG;
                guest_add_path(g, p, (BwPathRole) role);
        }
        return 0;
}

static int record_load_info(BwGuest *g, GuestRecord *rec, GVariant *dict) {
        BwGuestInfo *info = guest_edit_info(g);
        const char *name = NULL, *uuid = NULL, *cgroup = NULL, *root = NULL;
        guint32 version = 0, uid = 0, gid = 0;
        gboolean given = false, hotplug = false;

        if (!g_variant_lookup(dict, "version", "u", &version) || version != GUEST_RECORD_VERSION ||
            !g_variant_lookup(dict, "name", "&s", &name) || !guest_name_is_valid(name) ||
            !g_variant_lookup(dict, "uuid", "&s", &uuid) || !*uuid ||
            !g_variant_lookup(dict, "uid", "u", &uid) || !g_variant_lookup(dict, "gid", "u", &gid) ||
            !g_variant_lookup(dict, "cgroup", "&s", &cgroup) || (*cgroup && *cgroup != '/') ||
            !g_variant_lookup(dict, "cgroup-given", "b", &given) ||
            !g_variant_lookup(dict, "cgroup-root", "&s", &root) ||
            !g_variant_lookup(dict, "hotplug-vfio", "b", &hotplug) ||
            !g_variant_lookup(dict, "start-time", "x", &rec->start_time_us))
                return -EBADMSG;
        info->name = guest_intern(g, name);
        info->uuid = guest_intern(g, uuid);
        info->uid = (uid_t) uid;
        info->gid = (gid_t) gid;
        info->cgroup = *cgroup ? guest_intern(g, cgroup) : NULL;
        info->cgroup_given = given;
        info->hotplug_vfio = hotplug;
        /* Absent from records of guests started before the key existed. */
        g_autofree const char **dirs = NULL;
        if (g_variant_lookup(dict, "hotplug-dirs", "^a&s", &dirs))
                for (const char **d = dirs; *d; d++) {
                        if ((*d)[0] != '/')
                                return -EBADMSG;
                        guest_add_hotplug_dir(g, *d);
                }
        /* Absent from records of guests without groups (and of guests
         * started before the key existed). */
        g_autoptr(GVariant) groups = g_variant_lookup_value(dict, "groups", G_VARIANT_TYPE("au"));
        gsize n_groups = 0;
        const guint32 *gids = groups ? g_variant_get_fixed_array(groups, &n_groups, sizeof(guint32)) : NULL;
        for (gsize i = 0; i < n_groups; i++)
                if (gids[i] == UINT32_MAX || !guest_add_group(g, (gid_t) gids[i]))
                        return -EBADMSG;
        rec->cgroup_root = g_strdup(root);
        return 0;
}

int guest_record_load(GVariant *record, const char *text, const char *source, GuestRecord **ret,
                      BwError *reterr) {
        g_autoptr(GuestRecord) rec = g_new0(GuestRecord, 1);
        g_autoptr(GVariant) resources = NULL;

        if (!record || !g_variant_is_of_type(record, G_VARIANT_TYPE_VARDICT))
                return error_set(reterr, -EBADMSG, "%s: no guest record", source);
        BwGuest *g = rec->guest = guest_new(text, text ? strlen(text) : 0, source, NULL);
        int r = record_load_info(g, rec, record);
        resources = g_variant_lookup_value(record, "resources", G_VARIANT_TYPE("a" RESOURCE_TYPE));
        if (r >= 0 && !resources)
                r = -EBADMSG;
        for (gsize i = 0; r >= 0 && i < g_variant_n_children(resources); i++) {
                g_autoptr(GVariant) v = g_variant_get_child_value(resources, i);
                r = record_load_resource(g, v);
        }
        if (r < 0)
                return error_set(reterr, r, "%s: the guest record is not one this version of bulwark reads",
                                 source);
        guest_seal(g);
        *ret = g_steal_pointer(&rec);
        return 0;
}

void guest_record_free(GuestRecord *rec) {
        if (!rec)
                return;
        bw_guest_free(rec->guest);
        g_free(rec->cgroup_root);
        g_free(rec);
}
