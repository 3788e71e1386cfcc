/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [hostdev:<id>]: a host device passed to the guest, by type: vfio-pci
 * (a PCI address; its VFIO group node is looked up in sysfs), usb (bus and
 * device numbers) or scsi-generic (a path under /dev). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "guest-parse-private.h"

/* "DDDD:BB:DD.F" in hex, returned in lower case as sysfs names devices. */
static char *pci_address_normalize(const char *s) {
        unsigned domain, bus, slot, function;
        char tail;

        if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
                return NULL;
        for (size_t i = 0; i < 12; i++)
                if (i != 4 && i != 7 && i != 10 && !g_ascii_isxdigit(s[i]))
                        return NULL;
        if (sscanf(s, "%4x:%2x:%2x.%1x%c", &domain, &bus, &slot, &function, &tail) != 4 || slot > 0x1f ||
            function > 7)
                return NULL;
        return g_strdup_printf("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

/* The VFIO group node of a PCI device, from its sysfs iommu_group link.
 * A device missing from sysfs is not an error (see examples/README.md):
 * the hostdev gets no path and the guest records why. */
static int hostdev_vfio_group(Parser *p, BwResource *res) {
        const char *sysfs = p->options->sysfs_root ? p->options->sysfs_root : "/sys";
        g_autofree char *dev = g_strdup_printf("%s/bus/pci/devices/%s", sysfs, res->pci_address);
        g_autofree char *link = g_strdup_printf("%s/iommu_group", dev);
        char target[PATH_MAX];
        ssize_t n = readlink(link, target, sizeof(target) - 1);

        if (n < 0) {
                int err = errno;
                if (err != ENOENT && err != ENOTDIR)
                        return gp_fail_key_code(p, "address", -err, "cannot read '%s': %s", link, g_strerror(err));
                bool present = g_file_test(dev, G_FILE_TEST_EXISTS);
                g_autofree char *where = gp_where(p, gp_key_line(p, "address"));
                guest_add_unresolved_to(p->guest, p->resource, "%s: [%s] PCI device %s %s: its VFIO group is not known",
                                        where, p->group->name, res->pci_address,
                                        present ? "has no IOMMU group (is the IOMMU enabled?)" : "is not present");
                return 0;
        }
        target[n] = '\0';
        g_autofree char *group = g_path_get_basename(target);
        size_t digits = strlen(group);
        if (digits == 0 || digits > 10 || strspn(group, "0123456789") != digits)
                return gp_fail_key(p, "address", "'%s' points to '%s', not an IOMMU group", link, target);
        g_autofree char *node = g_strdup_printf("/dev/vfio/%s", group);
        res->path = guest_intern(p->guest, node);
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}

static int hostdev_parse_type(Parser *p, BwResource *res) {
        g_autofree char *s = NULL;
        g_autofree char *addr = NULL;
        unsigned bus, device;
        int r;

        switch (res->hostdev_type) {
        case BW_HOSTDEV_VFIO_PCI:
                if ((r = gp_value_get(p, "address", true, &s)) < 0)
                        return r;
                addr = pci_address_normalize(s);
                if (!addr) {
                        g_autofree char *q = gp_quote(s);
                        return gp_fail_key(p, "address", "invalid PCI address '%s' (DDDD:BB:DD.F)", q);
                }
                res->pci_address = guest_intern(p->guest, addr);
                return p->options->skip_host ? 0 : hostdev_vfio_group(p, res);
        case BW_HOSTDEV_USB:
                /* USB allows 127 device addresses per bus. */
                if ((r = gp_value_uint(p, "bus", 1, 999, &bus)) < 0 ||
                    (r = gp_value_uint(p, "device", 1, 127, &device)) < 0)
                        return r;
                res->usb_bus = bus;
                res->usb_device = device;
                s = g_strdup_printf("/dev/bus/usb/%03u/%03u", bus, device);
                res->path = guest_intern(p->guest, s);
                break;
        default:
                if ((r = gp_value_dev_path(p, "path", &res->path)) < 0)
                        return r;
                break;
        }
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}

int gp_hostdev_parse(Parser *p, BwResource *res) {
        /* In BwHostdevType order, from BW_HOSTDEV_VFIO_PCI. */
        static const char *const types[] = { "vfio-pci", "usb", "scsi-generic", NULL };
        static const char *const type_keys[][3] = {
                [BW_HOSTDEV_VFIO_PCI] = { "address" },
                [BW_HOSTDEV_USB] = { "bus", "device" },
                [BW_HOSTDEV_SCSI_GENERIC] = { "path" },
        };
        int index, r;

        r = gp_value_enum(p, "type", types, -1, &index);
        if (r < 0)
                return r;
        int type = BW_HOSTDEV_VFIO_PCI + index;
        /* Keys of another type are mistakes, not extras to ignore. */
        for (guint i = 0; i < p->group->n_keys; i++) {
                const char *key = g_array_index(p->keys, GpKeyLine, p->group->first_key + i).name;
                bool ok = strcmp(key, "type") == 0;
                for (size_t j = 0; j < 3 && type_keys[type][j]; j++)
                        ok = ok || strcmp(key, type_keys[type][j]) == 0;
                if (!ok)
                        return gp_fail_key(p, key, "does not apply to type=%s", types[index]);
        }
        res->hostdev_type = (BwHostdevType) type;
        return hostdev_parse_type(p, res);
}
