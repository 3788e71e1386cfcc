/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup-bpf plugin: the plugin ABI glue around the device controller
 * in libcgroup-bpf-core.  Starting a guest plans up to three kinds of
 * change:
 *   cgroup          create <cgroup-root>/bulwark/<name> (unless the
 *                   definition names a cgroup); undo removes it;
 *   device-program  attach bw_devices holding the base rules; undo
 *                   detaches our program (never anyone else's);
 *   device-rule     one per device node a resource needs; undo restores
 *                   the entry it replaced.
 * Attaching a resource to a running guest plans device-rule changes;
 * detaching one plans changes that set the node's entry to what the
 * base rules and the remaining resources still give it, which is how a
 * node shared by several resources (/dev/vfio/vfio) stays allowed until
 * the last of them goes. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bulwark/plugin.h>

#include "cgroup-root.h"
#include "dev-error.h"
#include "dev-log.h"
#include "dev-probe.h"
#include "device-cgroup.h"
#include "guest-nodes.h"
#include "plugin-change.h"
#include "plugin-exec.h"
#include "plugin-query.h"

#define CGB_DEFAULT_RULES BW_DATADIR "/devices/default.rules"

typedef struct CgbState {
        const BwHost *host;
        const char *rules_path;
        DeviceRule *base;          /* the default rules, loaded on first use */
        size_t n_base;
        bool base_loaded;
        RuleTable *base_table;     /* the same, compiled */
        uint32_t log_ring_size;
        bool allow_unsupported;
        bool probed;
        int probe_result;
        DevProbe probe;
} CgbState;

#define cgb_log(s, ...) plugin_log((s)->host, __VA_ARGS__)

/* Logs the error's message and returns its code. */
static int cgb_fail(const CgbState *s, const DevError *err, int r) {
        cgb_log(s, BW_LOG_ERR, "%s", err->message[0] ? err->message : strerror(-r));
        return r;
}

static const char *cgb_config(const CgbState *s, const char *key) {
        return s->host && s->host->config ? s->host->config(s->host, key) : NULL;
}

/* "262144", "256K", "1M"; 0 turns the denial log off. */
static int cgb_parse_size(const char *v, uint32_t *ret) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno || end == v)
                return -EINVAL;
        if (*end == 'K' || *end == 'k')
                n *= 1024, end++;
        else if (*end == 'M' || *end == 'm')
                n *= 1024 * 1024, end++;
        if (*end || n > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) n;
        return 0;
}

/* The core finds the cgroup2 root (or takes the configured one) and hands
 * it over as config("cgroup-root"): the plugin never looks for one. */
static int cgb_probe_root(const char *root, DevProbe *p) {
        if (!root) {
                *p = (DevProbe) {};
                snprintf(p->reason, sizeof(p->reason), "no cgroup2 hierarchy on this host (cgroup-root unset)");
                return -ENOENT;
        }
        return dev_probe_run(root, p);
}

static int cgb_probe(const BwHost *host, char *reason, size_t reason_size) {
        DevProbe p;
        int r = cgb_probe_root(host->config(host, "cgroup-root"), &p);
        if (r < 0)
                snprintf(reason, reason_size, "%s", p.reason);
        else
                snprintf(reason, reason_size,
                         "device programs on cgroup2 at %s (%s); REPLACE yes; denial log %s%s%s",
                         p.root, cgroup_mode_to_string(p.mode), p.denial_log ? "yes" : "no",
                         p.denial_log ? "" : ": ", p.log_reason);
        return r;
}

static int cgb_init(const BwHost *host, void **ret_state) {
        CgbState *s = calloc(1, sizeof(*s));
        const char *v;

        if (!s)
                return -ENOMEM;
        s->host = host;
        s->log_ring_size = DEV_LOG_RING_DEFAULT;
        v = cgb_config(s, "default-rules");
        s->rules_path = v && *v ? v : CGB_DEFAULT_RULES;
        /* The core parsed it strictly and answers "true" or "false". */
        v = cgb_config(s, "allow-unsupported");
        s->allow_unsupported = v && strcmp(v, "true") == 0;
        v = cgb_config(s, "log-ring-size");
        if (v && (cgb_parse_size(v, &s->log_ring_size) < 0 ||
                  (s->log_ring_size != 0 && !dev_log_ring_size_is_valid(s->log_ring_size)))) {
                cgb_log(s, BW_LOG_ERR,
                        "configuration: log-ring-size='%s': expected 0 (off) or a power of two of at least %ld bytes",
                        v, sysconf(_SC_PAGESIZE));
                free(s);
                return -EINVAL;
        }
        *ret_state = s;
        return 0;
}

static void cgb_fini(void *state) {
        CgbState *s = state;
        if (!s)
                return;
        free(s->base);
        rule_table_free(s->base_table);
        free(s);
}

static int cgb_load_base(CgbState *s) {
        DevError err = {};
        int r;

        if (s->base_loaded)
                return 0;
        r = device_rule_parse_file(s->rules_path, &s->base, &s->n_base, &err);
        if (r < 0)
                return cgb_fail(s, &err, r);
        if (s->n_base > plugin_change_max_rules()) {
                cgb_log(s, BW_LOG_ERR, "device rules '%s': %zu rules, at most %zu are supported", s->rules_path,
                        s->n_base, plugin_change_max_rules());
                return -E2BIG;
        }
        r = rule_table_new(&s->base_table);
        if (r >= 0)
                r = rule_table_apply_rules(s->base_table, s->base, s->n_base);
        if (r < 0)
                return r;
        s->base_loaded = true;
        return 0;
}

/* 1: go on; 0: unsupported but opted out (plan nothing); <0: refuse. */
static int cgb_check_supported(CgbState *s, const char *guest_name) {
        if (!s->probed) {
                s->probe_result = cgb_probe_root(cgb_config(s, "cgroup-root"), &s->probe);
                s->probed = true;
        }
        if (s->probe_result >= 0)
                return 1;
        if (s->allow_unsupported) {
                cgb_log(s, BW_LOG_WARNING,
                        "guest '%s': no device confinement: %s (allowed by allow-unsupported=true)", guest_name,
                        s->probe.reason);
                return 0;
        }
        cgb_log(s, BW_LOG_ERR,
                "guest '%s': cannot confine devices: %s (set allow-unsupported=true in [plugin:cgroup-bpf] to start guests without it)",
                guest_name, s->probe.reason);
        return s->probe_result;
}

static int cgb_emit(BwChangeSink *sink, const char *kind, const char *object, const char *detail,
                    const PluginChange *pc) {
        unsigned char buf[PLUGIN_CHANGE_DATA_MAX];
        char ref[PLUGIN_CHANGE_ID_MAX + 16];
        int len = plugin_change_encode(pc, buf, sizeof(buf));
        if (len < 0)
                return len;
        if (pc->resource_type)
                snprintf(ref, sizeof(ref), "%s:%s", bw_resource_type_name((BwResourceType) pc->resource_type),
                         pc->resource_id);
        BwChange change = {
                .size = sizeof(change),
                .resource = pc->resource_type ? ref : NULL,
                .kind = kind,
                .object = object,
                .detail = detail,
                .data = buf,
                .data_len = (size_t) len,
        };
        return sink->emit(sink, &change);
}

/* Fills a device-rule change for one node, with its object and detail
 * for people.  Returns 0, or 1 to skip the node (a detach of a node that
 * is gone: its numbers cannot be known any more). */
static int cgb_node_change(const CgbState *s, const BwGuestInfo *guest, const BwResource *res,
                           const GuestNode *node, PluginChangeOp op, PluginChange *pc, char *object,
                           size_t object_size, char *detail, size_t detail_size) {
        char acc[4], nums[24];
        unsigned type = 0;
        uint32_t ma = 0, mi = 0;

        *pc = (PluginChange) { .op = op, .access = node->access, .resource_type = res ? (unsigned) res->type : 0 };
        snprintf(pc->cgroup, sizeof(pc->cgroup), "%s", guest->cgroup);
        snprintf(pc->node, sizeof(pc->node), "%s", node->path);
        snprintf(pc->pci_address, sizeof(pc->pci_address), "%s", node->pci_address);
        snprintf(pc->resource_id, sizeof(pc->resource_id), "%s", res && res->id ? res->id : "");
        if (node->path[0])
                snprintf(object, object_size, "%s", node->path);
        else
                snprintf(object, object_size, "/dev/vfio/<group of PCI %s>", node->pci_address);
        bool known = node->path[0] && guest_nodes_stat(node->path, "", &type, &ma, &mi, NULL) == 0;
        device_numbers_format(ma, mi, nums);
        device_access_format(pc->access, acc);
        if (op == PLUGIN_CHANGE_DEVICE_REMOVE) {
                if (!known) {
                        cgb_log(s, BW_LOG_WARNING,
                                "guest '%s': %s '%s': device node '%s' is gone; its rule stays until the guest stops",
                                guest->name, guest_nodes_kind(pc->resource_type), pc->resource_id, object);
                        return 1;
                }
                pc->dev_type = type;
                pc->dev_major = ma;
                pc->dev_minor = mi;
                snprintf(detail, detail_size, "%c %s: keep only what the base rules and other resources give",
                         device_type_char(type), nums);
        } else if (known)
                snprintf(detail, detail_size, "allow %c %s %s", device_type_char(type), nums, acc);
        else
                snprintf(detail, detail_size, "allow %s (node not present now: starting fails unless it appears)", acc);
        return 0;
}

/* Emits one device-rule change per node of `res` (or of the guest itself). */
static int cgb_emit_nodes(CgbState *s, const BwGuestInfo *guest, const BwResource *res, PluginChangeOp op,
                          BwChangeSink *sink) {
        GuestNode *nodes = NULL;
        size_t n = 0;
        int r = guest_nodes_of(guest, res, &nodes, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                char object[PLUGIN_CHANGE_NODE_MAX + 64], detail[160];
                PluginChange pc;
                if (cgb_node_change(s, guest, res, &nodes[i], op, &pc, object, sizeof(object), detail,
                                    sizeof(detail)) == 0)
                        r = cgb_emit(sink, "device-rule", object, detail, &pc);
        }
        free(nodes);
        return r;
}

static int cgb_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        CgbState *s = state;
        char detail[PLUGIN_CHANGE_PATH_MAX + 128];
        int r;

        r = cgb_check_supported(s, guest->name);
        if (r <= 0)
                return r;
        if (!guest->cgroup || guest->cgroup[0] != '/') {
                cgb_log(s, BW_LOG_ERR, "guest '%s': no cgroup to confine", guest->name);
                return -EINVAL;
        }
        if (strlen(guest->cgroup) >= PLUGIN_CHANGE_PATH_MAX) {
                cgb_log(s, BW_LOG_ERR, "guest '%s': cgroup path '%s' too long", guest->name, guest->cgroup);
                return -ENAMETOOLONG;
        }
        r = cgb_load_base(s);
        if (r < 0)
                return r;
        if (!guest->cgroup_given) {
                PluginChange pc = { .op = PLUGIN_CHANGE_CGROUP };
                snprintf(pc.cgroup, sizeof(pc.cgroup), "%s", guest->cgroup);
                r = cgb_emit(sink, "cgroup", guest->cgroup, "create the guest's cgroup", &pc);
                if (r < 0)
                        return r;
        }
        PluginChange pc = {
                .op = PLUGIN_CHANGE_PROGRAM,
                .log_ring_size = s->log_ring_size,
                .n_rules = s->n_base,
                .rules = s->base,
        };
        snprintf(pc.cgroup, sizeof(pc.cgroup), "%s", guest->cgroup);
        snprintf(detail, sizeof(detail), "attach bw_devices: %zu base rules from %s, everything else denied%s",
                 s->n_base, s->rules_path, s->log_ring_size ? ", denials logged" : "");
        r = cgb_emit(sink, "device-program", guest->cgroup, detail, &pc);
        if (r < 0)
                return r;
        r = cgb_emit_nodes(s, guest, NULL, PLUGIN_CHANGE_DEVICE_ALLOW, sink);
        for (size_t i = 0; r >= 0 && i < guest->n_resources; i++)
                r = cgb_emit_nodes(s, guest, guest->resources[i], PLUGIN_CHANGE_DEVICE_ALLOW, sink);
        return r;
}

/* The device a DEVICE_* change is about. */
static int cgb_change_device(const PluginChange *pc, unsigned *type, uint32_t *major, uint32_t *minor,
                             DevError *err) {
        char node[PLUGIN_CHANGE_NODE_MAX], what[PLUGIN_CHANGE_ID_MAX + 32];
        int r;

        if (pc->dev_type) {
                *type = pc->dev_type;
                *major = pc->dev_major;
                *minor = pc->dev_minor;
                return 0;
        }
        if (pc->resource_type)
                snprintf(what, sizeof(what), "%s '%s'", guest_nodes_kind(pc->resource_type), pc->resource_id);
        else
                snprintf(what, sizeof(what), "hotplug-vfio");
        if (pc->node[0])
                snprintf(node, sizeof(node), "%s", pc->node);
        else {
                r = guest_nodes_vfio_group(pc->pci_address, node, sizeof(node), err);
                if (r < 0)
                        return dev_error_prefix(err, "%s", what);
        }
        return guest_nodes_stat(node, what, type, major, minor, err);
}

static int cgb_open(const PluginChange *pc, const CgbState *s, bool readonly, DeviceCgroup **ret, DevError *err) {
        DeviceCgroupOptions o = { .readonly = readonly, .log_ring_size = pc->log_ring_size };
        return device_cgroup_open(pc->cgroup, &o, ret, err);
}

static int cgb_apply_device(CgbState *s, const BwGuestInfo *guest, const PluginChange *pc, void *undo,
                            size_t undo_size, size_t *ret_undo_len, DevError *err) {
        DeviceCgroup *dc = NULL;
        PluginUndo u = { .op = pc->op };
        uint32_t value = 0;
        int r;

        r = cgb_change_device(pc, &u.type, &u.major, &u.minor, err);
        if (r < 0)
                return r;
        r = cgb_open(pc, s, false, &dc, err);
        if (r < 0)
                return r;
        if (!device_cgroup_has_program(dc)) {
                r = dev_error_set(err, ENOENT, "cgroup '%s': no bw_devices program to add device rules to",
                                  pc->cgroup);
                goto finish;
        }
        u.existed = rule_table_get(device_cgroup_table(dc), rule_key(u.major, u.minor), &value) &&
                    rule_value_has(value, u.type);
        u.mask = rule_value_mask(value, u.type);
        r = plugin_undo_encode(&u, undo, undo_size);
        if (r < 0)
                goto finish;
        *ret_undo_len = (size_t) r;
        if (pc->op == PLUGIN_CHANGE_DEVICE_ALLOW) {
                DeviceRule rule = { .allow = true, .types = (uint8_t) u.type, .access = (uint8_t) pc->access,
                                    .major = u.major, .minor = u.minor };
                r = device_cgroup_apply(dc, &rule, 1, err);
        } else {
                r = cgb_load_base(s);
                if (r >= 0) {
                        unsigned access = guest_nodes_access(guest, s->base_table, u.type, u.major, u.minor,
                                                             pc->resource_type, pc->resource_id);
                        r = device_cgroup_set_exact(dc, u.type, u.major, u.minor, access, err);
                }
        }
finish:
        device_cgroup_free(dc);
        return r;
}

static int cgb_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                     const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        CgbState *s = state;
        DeviceRule rules[PLUGIN_CHANGE_DATA_MAX / 12];
        PluginChange pc;
        DeviceCgroup *dc = NULL;
        DevError err = {};
        const char *root = cgb_config(s, "cgroup-root");
        int r;

        *ret_undo_len = 0;
        r = plugin_change_decode(change->data, change->data_len, &pc, rules);
        if (r < 0) {
                cgb_log(s, BW_LOG_ERR, "change '%s' on '%s': not a cgroup-bpf change", change->kind, change->object);
                return r;
        }
        switch (pc.op) {
        case PLUGIN_CHANGE_CGROUP: {
                PluginUndo u = { .op = pc.op };
                r = root ? cgroup_root_mkdir(root, pc.cgroup, &err)
                         : dev_error_set(&err, ENOENT, "cgroup '%s': no cgroup2 hierarchy to create it in",
                                         pc.cgroup);
                if (r < 0)
                        return cgb_fail(s, &err, r);
                u.created = r == 1;
                r = plugin_undo_encode(&u, undo, undo_size);
                if (r >= 0)
                        *ret_undo_len = (size_t) r;
                return r < 0 ? r : 0;
        }
        case PLUGIN_CHANGE_PROGRAM:
                r = cgb_open(&pc, s, false, &dc, &err);
                if (r >= 0)
                        r = device_cgroup_reset(dc, pc.rules, pc.n_rules, &err);
                if (r >= 0 && device_cgroup_warning(dc))
                        cgb_log(s, BW_LOG_WARNING, "%s", device_cgroup_warning(dc));
                device_cgroup_free(dc);
                return r < 0 ? cgb_fail(s, &err, r) : 0;
        default:
                r = cgb_apply_device(s, guest, &pc, undo, undo_size, ret_undo_len, &err);
                return r < 0 ? cgb_fail(s, &err, r) : 0;
        }
}

static int cgb_undo_device(CgbState *s, const BwGuestInfo *guest, const PluginChange *pc, const void *undo,
                           size_t undo_len, DevError *err) {
        DeviceCgroup *dc = NULL;
        PluginUndo u;
        unsigned mask;
        int r;

        if (access(pc->cgroup, F_OK) < 0 && errno == ENOENT)
                return 0;
        if (undo_len > 0) {
                r = plugin_undo_decode(undo, undo_len, &u);
                if (r < 0)
                        return dev_error_set(err, r, "cgroup '%s': undo record of '%s' does not decode", pc->cgroup,
                                             pc->node);
                mask = u.existed ? u.mask : RULE_MASK_ABSENT;
        } else {
                /* apply() may or may not have run: set the entry to what
                 * the policy gives without (ALLOW) or with (REMOVE) it. */
                r = cgb_change_device(pc, &u.type, &u.major, &u.minor, err);
                if (r < 0)
                        return r == -ENOENT ? 0 : r;
                r = cgb_load_base(s);
                if (r < 0)
                        return r;
                mask = guest_nodes_access(guest, s->base_table, u.type, u.major, u.minor, pc->resource_type,
                                          pc->op == PLUGIN_CHANGE_DEVICE_ALLOW ? pc->resource_id : NULL);
        }
        r = cgb_open(pc, s, false, &dc, err);
        if (r < 0)
                return r;
        if (device_cgroup_has_program(dc))
                r = device_cgroup_set_exact(dc, u.type, u.major, u.minor, mask, err);
        device_cgroup_free(dc);
        return r;
}

static int cgb_undo(void *state, const BwGuestInfo *guest, const BwChange *change,
                    const BwApplyContext *ctx, const void *undo, size_t undo_len) {
        CgbState *s = state;
        DeviceRule rules[PLUGIN_CHANGE_DATA_MAX / 12];
        PluginChange pc;
        DeviceCgroup *dc = NULL;
        DevError err = {};
        PluginUndo u;
        int r;

        r = plugin_change_decode(change->data, change->data_len, &pc, rules);
        if (r < 0) {
                cgb_log(s, BW_LOG_ERR, "change '%s' on '%s': not a cgroup-bpf change", change->kind, change->object);
                return r;
        }
        switch (pc.op) {
        case PLUGIN_CHANGE_CGROUP:
                if (undo_len > 0 && plugin_undo_decode(undo, undo_len, &u) == 0 && !u.created)
                        return 0;
                if (rmdir(pc.cgroup) < 0 && errno != ENOENT) {
                        r = dev_error_set(&err, errno, "cgroup '%s': cannot remove: %m%s", pc.cgroup,
                                          errno == EBUSY ? " (processes or child cgroups are still in it)" : "");
                        return cgb_fail(s, &err, r);
                }
                return 0;
        case PLUGIN_CHANGE_PROGRAM:
                if (access(pc.cgroup, F_OK) < 0 && errno == ENOENT)
                        return 0;
                r = cgb_open(&pc, s, false, &dc, &err);
                if (r >= 0)
                        r = device_cgroup_remove(dc, &err);
                device_cgroup_free(dc);
                return r < 0 ? cgb_fail(s, &err, r) : 0;
        default:
                r = cgb_undo_device(s, guest, &pc, undo, undo_len, &err);
                return r < 0 ? cgb_fail(s, &err, r) : 0;
        }
}

static int cgb_release(void *state, const BwGuestInfo *guest) {
        CgbState *s = state;
        DeviceCgroup *dc = NULL;
        DevError err = {};
        int r;

        /* Normally every change was undone and nothing is left; whatever
         * is (an interrupted stop), goes now. */
        if (!guest->cgroup || access(guest->cgroup, F_OK) < 0)
                return 0;
        r = device_cgroup_open(guest->cgroup, NULL, &dc, &err);
        if (r >= 0)
                r = device_cgroup_remove(dc, &err);
        device_cgroup_free(dc);
        if (r < 0)
                return cgb_fail(s, &err, r);
        if (!guest->cgroup_given && rmdir(guest->cgroup) < 0 && errno != ENOENT) {
                r = dev_error_set(&err, errno, "guest '%s': cgroup '%s': cannot remove: %m", guest->name,
                                  guest->cgroup);
                return cgb_fail(s, &err, r);
        }
        return 0;
}

static int cgb_attach(void *state, const BwGuestInfo *guest, const BwResource *resource, BwChangeSink *sink) {
        CgbState *s = state;
        int r = cgb_check_supported(s, guest->name);
        if (r <= 0)
                return r;
        return cgb_emit_nodes(s, guest, resource, PLUGIN_CHANGE_DEVICE_ALLOW, sink);
}

static int cgb_detach(void *state, const BwGuestInfo *guest, const BwResource *resource, BwChangeSink *sink) {
        CgbState *s = state;
        int r = cgb_check_supported(s, guest->name);
        if (r <= 0)
                return r;
        return cgb_emit_nodes(s, guest, resource, PLUGIN_CHANGE_DEVICE_REMOVE, sink);
}

static int cgb_query(void *state, const BwQuery *query, BwQuerySink *sink) {
        CgbState *s = state;
        return plugin_query_run(s->host, query, sink);
}

static int cgb_adopt(void *state, const BwGuestInfo *guest) {
        CgbState *s = state;
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        DevError err = {};
        int r;

        if (!guest->cgroup || access(guest->cgroup, F_OK) < 0)
                return -ENOENT;
        r = device_cgroup_open(guest->cgroup, &o, &dc, &err);
        if (r < 0)
                return cgb_fail(s, &err, r);
        if (device_cgroup_has_program(dc)) {
                cgb_log(s, BW_LOG_INFO, "guest '%s': adopted bw_devices program %u on '%s' (%zu entries, map of %u)%s",
                        guest->name, device_cgroup_prog_id(dc), guest->cgroup,
                        rule_table_size(device_cgroup_table(dc)), device_cgroup_map_size(dc),
                        device_cgroup_log(dc) ? ", denial log on" : "");
                r = 0;
        } else
                r = -ENOENT;
        device_cgroup_free(dc);
        return r;
}

/* The keys of [plugin:cgroup-bpf]; the core refuses any other. */
static const char *const cgb_config_keys[] = { "default-rules", "log-ring-size", NULL };

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_NEEDS_ROOT,
        .name = "cgroup-bpf",
        .record_max = PLUGIN_CHANGE_DATA_MAX,
        .config_keys = cgb_config_keys,
        .probe = cgb_probe,
        .init = cgb_init,
        .fini = cgb_fini,
        .plan = cgb_plan,
        .apply = cgb_apply,
        .undo = cgb_undo,
        .release = cgb_release,
        .attach = cgb_attach,
        .detach = cgb_detach,
        .adopt = cgb_adopt,
        .exec_attrs = cgb_exec_attrs,
        .query = cgb_query,
};
