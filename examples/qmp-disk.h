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
 * A qcow2 image with a backing file cannot be added this way alone: QEMU
 * would open the backing file by path; pass each file as its own fdset.
 */
#pragma once

#include "qmp.h"

/* The fdset of disk ID is marked with this opaque string, "disk:ID", so
 * unplugging finds it without the manager remembering its number. */
#define QMP_DISK_OPAQUE_PREFIX "disk:"

/* Hot-plugs the open file `fd` (O_RDONLY for a read-only disk, else
 * O_RDWR) as disk `id` of `format` ("raw" or "qcow2") on SCSI bus `bus`.
 * On failure what was added is removed again.  *ret_fdset (may be NULL)
 * gets the fdset's number. */
int qmp_disk_hotplug(QmpClient *client, const char *id, int fd, gboolean readonly, const char *format,
                     const char *bus, gint64 *ret_fdset, GError **error);

/* Unplugs disk `id`: device_del and its DEVICE_DELETED (up to
 * `timeout_ms`), blockdev-del, remove-fd of its fdset. */
int qmp_disk_unplug(QmpClient *client, const char *id, int timeout_ms, GError **error);
