/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device nodes a guest's resources need, and the access each needs.
 *
 * - paths with role BW_PATH_DEVICE_NODE: `device:` entries (their access
 *   bits, rw when none), USB and SCSI host devices (rw);
 * - disk images and backing files that are block devices (or missing
 *   paths under /dev): rw, or r for read-only disks and backing files;
 * - a vfio-pci host device: its group node /dev/vfio/N (rw) and the
 *   container node /dev/vfio/vfio (rw); the guest itself needs
 *   /dev/vfio/vfio when hotplug_vfio is set.
 *
 * Several resources may need one node (two VFIO devices, one container
 * node): the node stays allowed while any of them remains. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <bulwark/plugin.h>

#include "plugin-change.h"
#include "rule-table.h"

/* "disk", "hostdev", ... for messages; "guest" for 0. */
const char *guest_nodes_kind(unsigned resource_type);

#define GUEST_NODES_VFIO_CONTAINER "/dev/vfio/vfio"

typedef struct GuestNode {
        char path[PLUGIN_CHANGE_NODE_MAX];  /* "" for an unresolved VFIO group */
        char pci_address[32];               /* vfio-pci group node: the device */
        unsigned access;
        const BwResource *resource;         /* NULL: needed by the guest itself */
} GuestNode;

/* The nodes of one resource (resource != NULL) or of the guest itself
 * (resource == NULL: the hot-plug VFIO container node).  Reads sysfs and
 * stat()s image paths; changes nothing.  *ret is malloc'd. */
int guest_nodes_of(const BwGuestInfo *guest, const BwResource *resource, GuestNode **ret, size_t *ret_n);

/* The group node of a PCI device, "/dev/vfio/N", from its iommu_group link. */
int guest_nodes_vfio_group(const char *pci_address, char *buf, size_t size, DevError *reterr);

/* A node's type and numbers; -ENOENT, -ENODEV (not a device node) with a
 * message naming the node and what needs it. */
int guest_nodes_stat(const char *path, const char *what, unsigned *ret_type, uint32_t *ret_major,
                     uint32_t *ret_minor, DevError *reterr);

/* The access the guest should have to one device: what the base rules
 * (`base`, compiled) give it, plus every node of every resource (and of
 * the guest itself) that is the same device — except the resource of
 * (skip_type, skip_id), or the guest's own when skip_type is 0 and
 * skip_id is "".  skip_id NULL skips nothing. */
unsigned guest_nodes_access(const BwGuestInfo *guest, const RuleTable *base, unsigned type, uint32_t major,
                            uint32_t minor, unsigned skip_type, const char *skip_id);
