/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "plugin-change.h"

#define CHANGE_MAGIC 0x43477762u       /* "bwGC" */
#define UNDO_MAGIC 0x55477762u         /* "bwGU" */
#define CHANGE_VERSION 1

typedef struct WireRule {
        uint32_t major;
        uint32_t minor;
        uint8_t types;
        uint8_t access;
        uint8_t allow;
        uint8_t reserved;
} WireRule;

typedef struct WireChange {
        uint32_t magic;
        uint16_t version;
        uint16_t op;
        uint32_t access;
        uint32_t resource_type;
        uint32_t log_ring_size;
        uint32_t n_rules;
        uint32_t dev_type;
        uint32_t dev_major;
        uint32_t dev_minor;
        char cgroup[PLUGIN_CHANGE_PATH_MAX];
        char node[PLUGIN_CHANGE_NODE_MAX];
        char pci_address[32];
        char resource_id[PLUGIN_CHANGE_ID_MAX];
        WireRule rules[];
} WireChange;

typedef struct WireUndo {
        uint32_t magic;
        uint16_t version;
        uint16_t op;
        uint8_t created;
        uint8_t type;
        uint8_t existed;
        uint8_t mask;
        uint32_t major;
        uint32_t minor;
} WireUndo;

size_t plugin_change_max_rules(void) {
        return (PLUGIN_CHANGE_DATA_MAX - sizeof(WireChange)) / sizeof(WireRule);
}

static bool copy_string(char *dst, size_t size, const char *src) {
        size_t len = src ? strlen(src) : 0;
        if (len >= size)
                return false;
        memset(dst, 0, size);
        if (len)
                memcpy(dst, src, len);
        return true;
}

int plugin_change_encode(const PluginChange *c, void *buf, size_t size) {
        size_t len = sizeof(WireChange) + c->n_rules * sizeof(WireRule);
        WireChange *w = buf;

        if (c->n_rules > plugin_change_max_rules() || len > size)
                return -E2BIG;
        memset(buf, 0, len);
        w->magic = CHANGE_MAGIC;
        w->version = CHANGE_VERSION;
        w->op = (uint16_t) c->op;
        w->access = c->access;
        w->resource_type = c->resource_type;
        w->log_ring_size = c->log_ring_size;
        w->n_rules = (uint32_t) c->n_rules;
        w->dev_type = c->dev_type;
        w->dev_major = c->dev_major;
        w->dev_minor = c->dev_minor;
        if (!copy_string(w->cgroup, sizeof(w->cgroup), c->cgroup) ||
            !copy_string(w->node, sizeof(w->node), c->node) ||
            !copy_string(w->pci_address, sizeof(w->pci_address), c->pci_address) ||
            !copy_string(w->resource_id, sizeof(w->resource_id), c->resource_id))
                return -ENAMETOOLONG;
        for (size_t i = 0; i < c->n_rules; i++)
                w->rules[i] = (WireRule) { c->rules[i].major, c->rules[i].minor, c->rules[i].types,
                                           c->rules[i].access, c->rules[i].allow, 0 };
        return (int) len;
}

static bool string_is_terminated(const char *s, size_t size) {
        return memchr(s, '\0', size) != NULL;
}

int plugin_change_decode(const void *data, size_t len, PluginChange *ret, DeviceRule *rules_buf) {
        WireChange w;

        if (!data || len < sizeof(WireChange))
                return -EBADMSG;
        memcpy(&w, data, sizeof(w));
        if (w.magic != CHANGE_MAGIC || w.version != CHANGE_VERSION || w.op < PLUGIN_CHANGE_CGROUP ||
            w.op > PLUGIN_CHANGE_DEVICE_REMOVE || w.n_rules > plugin_change_max_rules() ||
            len != sizeof(WireChange) + w.n_rules * sizeof(WireRule) ||
            !string_is_terminated(w.cgroup, sizeof(w.cgroup)) || !string_is_terminated(w.node, sizeof(w.node)) ||
            !string_is_terminated(w.pci_address, sizeof(w.pci_address)) ||
            !string_is_terminated(w.resource_id, sizeof(w.resource_id)) || w.cgroup[0] != '/' ||
            (w.access & ~DEVICE_ACCESS_ALL) || w.dev_type > DEVICE_TYPE_CHAR)
                return -EBADMSG;
        *ret = (PluginChange) {
                .op = w.op,
                .access = w.access,
                .resource_type = w.resource_type,
                .log_ring_size = w.log_ring_size,
                .n_rules = w.n_rules,
                .rules = rules_buf,
                .dev_type = w.dev_type,
                .dev_major = w.dev_major,
                .dev_minor = w.dev_minor,
        };
        memcpy(ret->cgroup, w.cgroup, sizeof(w.cgroup));
        memcpy(ret->node, w.node, sizeof(w.node));
        memcpy(ret->pci_address, w.pci_address, sizeof(w.pci_address));
        memcpy(ret->resource_id, w.resource_id, sizeof(w.resource_id));
        for (size_t i = 0; i < w.n_rules; i++) {
                WireRule r;
                memcpy(&r, (const char *) data + sizeof(WireChange) + i * sizeof(WireRule), sizeof(r));
                if (r.types == 0 || (r.types & ~DEVICE_TYPE_ALL) || r.access == 0 ||
                    (r.access & ~DEVICE_ACCESS_ALL) || r.allow > 1)
                        return -EBADMSG;
                rules_buf[i] = (DeviceRule) { .allow = r.allow, .types = r.types, .access = r.access,
                                              .major = r.major, .minor = r.minor };
        }
        return 0;
}

int plugin_undo_encode(const PluginUndo *u, void *buf, size_t size) {
        WireUndo w = {
                .magic = UNDO_MAGIC,
                .version = CHANGE_VERSION,
                .op = (uint16_t) u->op,
                .created = u->created,
                .type = (uint8_t) u->type,
                .existed = u->existed,
                .mask = (uint8_t) u->mask,
                .major = u->major,
                .minor = u->minor,
        };
        if (size < sizeof(w))
                return -E2BIG;
        memcpy(buf, &w, sizeof(w));
        return (int) sizeof(w);
}

int plugin_undo_decode(const void *data, size_t len, PluginUndo *ret) {
        WireUndo w;
        if (!data || len != sizeof(w))
                return -EBADMSG;
        memcpy(&w, data, sizeof(w));
        if (w.magic != UNDO_MAGIC || w.version != CHANGE_VERSION || w.created > 1 || w.existed > 1 ||
            (w.mask & ~DEVICE_ACCESS_ALL))
                return -EBADMSG;
        *ret = (PluginUndo) { .op = w.op, .created = w.created, .type = w.type, .major = w.major,
                              .minor = w.minor, .existed = w.existed, .mask = w.mask };
        return 0;
}
