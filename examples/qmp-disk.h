/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp-disk: hot-plugging a disk into a running QEMU by descriptor, the
 * way a VMM manager does it when QEMU may not open files by path (a
 * Landlock domain cannot grow after QEMU started, and an SELinux or
 * AppArmor policy may forbid the path too).  The manager opens the file
 * and hands QEMU the descriptor:
 *
 *   add-fd (the descriptor by SCM_RIGHTS, into a new fdset N)
 *   blockdev-add  driver=FORMAT, node-name=ID, file: filename=/dev/fdset/N
 *   device_add    scsi-hd, drive=ID, bus=BUS, id=ID
 *
 * and unplugging reverses it: device_del, wait for DEVICE_DELETED,
 * blockdev-del, remove-fd.  A SCSI disk is used because its unplug needs
 * no guest cooperation (PCI unplug waits for the guest OS's ACPI eject):
 * start QEMU with "-device virtio-scsi-pci,id=scsi0" and use bus "scsi0.0".
 * A qcow2 image with a backing file is a chain: QEMU would open the backing
 * file by path, so each file of the chain is passed as its own fdset and
 * added as its own node, bottom up, each qcow2 node naming the next as its
 * "backing" (what libvirt does with -blockdev).
 */
#pragma once

#include "qmp.h"

/* The fdsets of disk ID are marked with this opaque string: "disk:ID" for
 * the top image, "disk:ID:K" for its K-th backing file, so unplugging finds
 * them without the manager remembering their numbers.  Backing file K is
 * node "ID-backing-K". */
#define QMP_DISK_OPAQUE_PREFIX "disk:"

/* One file of a disk, opened by the manager: the top image first (O_RDWR,
 * or O_RDONLY for a read-only disk), then its backing chain in order
 * (O_RDONLY), each with its format, "raw" or "qcow2". */
typedef struct QmpDiskLayer {
        int fd;
        const char *format;
} QmpDiskLayer;

/* Hot-plugs the chain `layers` (n >= 1; layers[0] the top) as disk `id` on
 * SCSI bus `bus`.  A qcow2 layer with a layer below it gets it as backing;
 * the last layer is opened as QEMU's driver opens it (a qcow2 whose header
 * names a backing file not passed here makes QEMU open that by path, which
 * a confined QEMU may not).  On failure what was added is removed again.
 * *ret_fdset (may be NULL) gets the top image's fdset. */
int qmp_disk_hotplug(QmpClient *client, const char *id, const QmpDiskLayer *layers, size_t n, gboolean readonly,
                     const char *bus, gint64 *ret_fdset, GError **error);

/* Unplugs disk `id`: device_del and its DEVICE_DELETED (up to
 * `timeout_ms`), blockdev-del of its nodes top down, remove-fd of its
 * fdsets. */
int qmp_disk_unplug(QmpClient *client, const char *id, int timeout_ms, GError **error);
