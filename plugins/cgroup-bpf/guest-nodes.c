/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev-error.h"
#include "guest-nodes.h"

const char *guest_nodes_kind(unsigned resource_type) {
        switch (resource_type) {
        case BW_RESOURCE_DISK: return "disk";
        case BW_RESOURCE_HOSTDEV: return "hostdev";
        case BW_RESOURCE_DEVICE: return "device";
        case BW_RESOURCE_CHARDEV: return "chardev";
        case BW_RESOURCE_KERNEL: return "kernel";
        case BW_RESOURCE_FIRMWARE: return "firmware";
        case BW_RESOURCE_TPM: return "tpm";
        case BW_RESOURCE_MEMORY: return "memory";
        default: return "guest";
        }
}

int guest_nodes_vfio_group(const char *pci_address, char *buf, size_t size, DevError *reterr) {
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;

        if (!pci_address || !*pci_address || strchr(pci_address, '/'))
                return dev_error_set(reterr, EINVAL, "PCI address '%s' is not valid", pci_address ? pci_address : "");
        snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", pci_address);
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return dev_error_set(reterr, errno, "PCI device '%s': no IOMMU group ('%s'): %m", pci_address, link);
        target[n] = '\0';
        const char *group = strrchr(target, '/');
        group = group ? group + 1 : target;
        if (snprintf(buf, size, "/dev/vfio/%s", group) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

int guest_nodes_stat(const char *path, const char *what, unsigned *ret_type, uint32_t *ret_major,
                     uint32_t *ret_minor, DevError *reterr) {
        struct stat st;

        if (stat(path, &st) < 0)
                return dev_error_set(reterr, errno, "%s: device node '%s': %m", what, path);
        if (S_ISCHR(st.st_mode))
                *ret_type = DEVICE_TYPE_CHAR;
        else if (S_ISBLK(st.st_mode))
                *ret_type = DEVICE_TYPE_BLOCK;
        else
                return dev_error_set(reterr, ENODEV, "%s: '%s' is not a device node", what, path);
        *ret_major = major(st.st_rdev);
        *ret_minor = minor(st.st_rdev);
        return 0;
}

/* A disk that is a block device needs a device rule.  A disk path under
 * /dev that does not exist yet is taken as one too, so that starting
 * fails on it with a clear message rather than leaving it denied. */
static bool path_is_block_device(const char *path) {
        struct stat st;
        if (stat(path, &st) == 0)
                return S_ISBLK(st.st_mode);
        return errno == ENOENT && strncmp(path, "/dev/", 5) == 0;
}

typedef struct NodeList {
        GuestNode *items;
        size_t n, allocated;
} NodeList;

static GuestNode *node_list_add(NodeList *l, const char *path, unsigned access, const BwResource *res) {
        if (l->n == l->allocated) {
                size_t na = l->allocated ? l->allocated * 2 : 8;
                GuestNode *ni = realloc(l->items, na * sizeof(*ni));
                if (!ni)
                        return NULL;
                l->items = ni;
                l->allocated = na;
        }
        GuestNode *g = &l->items[l->n++];
        memset(g, 0, sizeof(*g));
        snprintf(g->path, sizeof(g->path), "%s", path ? path : "");
        g->access = access;
        g->resource = res;
        return g;
}

static unsigned role_access(const BwResource *res, BwPathRole role) {
        switch (role) {
        case BW_PATH_DEVICE_NODE:
                if (res->type == BW_RESOURCE_DEVICE && res->access)
                        return res->access & DEVICE_ACCESS_ALL;
                return res->readonly ? BW_ACCESS_READ : BW_ACCESS_READ | BW_ACCESS_WRITE;
        case BW_PATH_IMAGE:
                return res->readonly ? BW_ACCESS_READ : BW_ACCESS_READ | BW_ACCESS_WRITE;
        default:
                return BW_ACCESS_READ;
        }
}

int guest_nodes_of(const BwGuestInfo *guest, const BwResource *res, GuestNode **ret, size_t *ret_n) {
        NodeList l = {};

        if (!res) {
                if (guest->hotplug_vfio &&
                    !node_list_add(&l, GUEST_NODES_VFIO_CONTAINER, BW_ACCESS_READ | BW_ACCESS_WRITE, NULL))
                        goto oom;
                goto done;
        }
        for (size_t i = 0; i < res->n_paths; i++) {
                BwPathRole role = res->roles ? res->roles[i] : BW_PATH_IMAGE;
                const char *path = res->paths[i];
                bool take = role == BW_PATH_DEVICE_NODE ||
                            ((role == BW_PATH_IMAGE || role == BW_PATH_IMAGE_READONLY || role == BW_PATH_BACKING) &&
                             path_is_block_device(path));
                if (take && !node_list_add(&l, path, role_access(res, role), res))
                        goto oom;
        }
        if (res->n_paths == 0 && res->path && res->type == BW_RESOURCE_DEVICE &&
            !node_list_add(&l, res->path, role_access(res, BW_PATH_DEVICE_NODE), res))
                goto oom;
        if (res->type == BW_RESOURCE_HOSTDEV && res->hostdev_type == BW_HOSTDEV_VFIO_PCI) {
                char group[PLUGIN_CHANGE_NODE_MAX] = "";
                bool listed = false;
                if (guest_nodes_vfio_group(res->pci_address, group, sizeof(group), NULL) < 0)
                        group[0] = '\0';
                for (size_t i = 0; i < l.n; i++)
                        listed = listed || (group[0] && strcmp(l.items[i].path, group) == 0);
                if (!listed) {
                        GuestNode *g = node_list_add(&l, group, BW_ACCESS_READ | BW_ACCESS_WRITE, res);
                        if (!g)
                                goto oom;
                        snprintf(g->pci_address, sizeof(g->pci_address), "%s", res->pci_address ? res->pci_address : "");
                }
                if (!node_list_add(&l, GUEST_NODES_VFIO_CONTAINER, BW_ACCESS_READ | BW_ACCESS_WRITE, res))
                        goto oom;
        }
done:
        *ret = l.items;
        *ret_n = l.n;
        return 0;
oom:
        free(l.items);
        return -ENOMEM;
}

static unsigned guest_nodes_match(const GuestNode *nodes, size_t n, unsigned type, uint32_t major,
                                  uint32_t minor) {
        unsigned access = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned t;
                uint32_t ma, mi;
                if (!nodes[i].path[0])
                        continue;
                if (guest_nodes_stat(nodes[i].path, "", &t, &ma, &mi, NULL) == 0 && t == type && ma == major &&
                    mi == minor)
                        access |= nodes[i].access;
        }
        return access;
}

unsigned guest_nodes_access(const BwGuestInfo *guest, const RuleTable *base, unsigned type, uint32_t major,
                            uint32_t minor, unsigned skip_type, const char *skip_id) {
        RuleDecision d;
        GuestNode *nodes = NULL;
        size_t n = 0;
        unsigned access;

        rule_table_decide(base, type, major, minor, &d);
        access = d.level != RULE_LEVEL_NONE ? d.mask : 0;
        if (!(skip_id && !*skip_id && skip_type == 0) && guest_nodes_of(guest, NULL, &nodes, &n) == 0) {
                access |= guest_nodes_match(nodes, n, type, major, minor);
                free(nodes);
        }
        for (size_t i = 0; i < guest->n_resources; i++) {
                const BwResource *res = guest->resources[i];
                if ((unsigned) res->type == skip_type && skip_id && res->id && strcmp(res->id, skip_id) == 0)
                        continue;
                if (guest_nodes_of(guest, res, &nodes, &n) == 0) {
                        access |= guest_nodes_match(nodes, n, type, major, minor);
                        free(nodes);
                }
        }
        return access;
}
