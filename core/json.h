/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library JSON: the pieces the public bw_*_to_json() functions are built
 * from, for other parts of the core (the guest list, the D-Bus service)
 * that put the same objects into their own documents, so every front end
 * prints the same keys.  String rules: util/json-writer.h. */
#pragma once

#include <bulwark/bulwark.h>

#include "util/json-writer.h"

/* One guest as an object: name, uuid, uid, gid, cgroup (null when not
 * resolved), cgroup_given, hotplug_vfio, hotplug_dirs (an array of
 * paths) and resources.  Each resource:
 * type, id, path (its main path or null), readonly, shared, paths (an
 * array of {path, role}), and by type: hostdev_type with pci_address
 * (vfio-pci) or usb_bus and usb_device (usb); chardev_type; access
 * ("rwm" letters) for a device. */
void json_guest_info(JsonWriter *w, const BwGuestInfo *info);

/* One plan change as an object: plugin, kind, object, detail, lock
 * (null when the change needs no path lock). */
void json_plan_change(JsonWriter *w, const BwPlanChange *change);

/* One loaded plugin as an object: name, path, abi ("1.1"), flags (the
 * number), flag_names, usable, reason. */
void json_plugin_info(JsonWriter *w, const BwPluginInfo *info);

/* One guest's state as an object: name, status, started (RFC 3339 UTC
 * with microseconds, or null), started_us, cgroup, guest (json_guest_info()
 * of its record, or null) and plugins: [{name, changes: [{kind, object,
 * detail, resource, lock, flags, done}]}] (see bw_guest_state_to_json()). */
void json_guest_state(JsonWriter *w, const BwGuestState *state);
