/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The data blobs of the plugin's changes and undo records.
 *
 * The core journals a change's blob before apply() and may hand it to
 * undo() in another process after a crash, so a blob holds everything:
 * the cgroup, the rules or the device node, the resource it serves.
 * Blobs are fixed little structures with a magic and a version; a blob
 * that does not decode is refused with -EBADMSG, never guessed at. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device-rule.h"

typedef enum PluginChangeOp {
        PLUGIN_CHANGE_CGROUP = 1,      /* create the guest's cgroup */
        PLUGIN_CHANGE_PROGRAM,         /* attach bw_devices with the base rules */
        PLUGIN_CHANGE_DEVICE_ALLOW,    /* a resource's device node: allow it */
        PLUGIN_CHANGE_DEVICE_REMOVE,   /* a resource's device node: take its share away */
} PluginChangeOp;

/* The plugin's record_max: change data and undo records fit in this. */
#define PLUGIN_CHANGE_DATA_MAX 4096
#define PLUGIN_CHANGE_PATH_MAX 1024
#define PLUGIN_CHANGE_NODE_MAX 512
#define PLUGIN_CHANGE_ID_MAX 128

typedef struct PluginChange {
        PluginChangeOp op;
        char cgroup[PLUGIN_CHANGE_PATH_MAX];
        /* DEVICE_*: the node (empty for a VFIO group not yet resolved:
         * then pci_address names the device), the access it needs and the
         * resource it serves (resource_type 0: the guest itself). */
        char node[PLUGIN_CHANGE_NODE_MAX];
        char pci_address[32];
        unsigned access;
        unsigned resource_type;
        char resource_id[PLUGIN_CHANGE_ID_MAX];
        /* DEVICE_REMOVE: the device as it was when the change was made
         * (dev_type 0 when unknown: found again from the node). */
        unsigned dev_type;
        uint32_t dev_major, dev_minor;
        /* PROGRAM: the base rules and the denial log's ring size. */
        uint32_t log_ring_size;
        size_t n_rules;
        const DeviceRule *rules;       /* encode: the caller's; decode: into rules_buf */
} PluginChange;

/* Largest number of base rules one PROGRAM change carries. */
size_t plugin_change_max_rules(void);

/* Encodes into buf (PLUGIN_CHANGE_DATA_MAX bytes); returns the length or -E2BIG. */
int plugin_change_encode(const PluginChange *change, void *buf, size_t size);
/* Decodes; rules land in rules_buf (plugin_change_max_rules() entries). */
int plugin_change_decode(const void *data, size_t len, PluginChange *ret, DeviceRule *rules_buf);

/* Undo records. */
typedef struct PluginUndo {
        PluginChangeOp op;
        bool created;                  /* CGROUP: apply made the directory */
        /* DEVICE_*: the exact entry before apply. */
        unsigned type;
        uint32_t major, minor;
        bool existed;
        unsigned mask;
} PluginUndo;

int plugin_undo_encode(const PluginUndo *undo, void *buf, size_t size);
int plugin_undo_decode(const void *data, size_t len, PluginUndo *ret);
