/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy commands of the query op: probe, list, explain, allow, deny
 * and remove, answered from (and made on) the kernel's map. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev-error.h"
#include "dev-log.h"
#include "dev-probe.h"
#include "plugin-query.h"

static const char *yesno(bool b) {
        return b ? "yes" : "no";
}

static const char *truefalse(bool b) {
        return b ? "true" : "false";
}

static int plugin_query_usage(PluginQuery *q, const char *usage) {
        DevError err = {};
        dev_error_set(&err, EINVAL, "usage: %s", usage);
        return plugin_query_fail(q, &err, -EINVAL);
}

int plugin_query_probe(PluginQuery *q, size_t argc, const char *const *argv) {
        DevProbe p;
        int r;

        (void) argv;
        if (argc != 0)
                return plugin_query_usage(q, "devices-probe");
        r = dev_probe_run(plugin_query_root(q), &p);
        if (q->json) {
                plugin_query_print(q, "{\"cgroup_root\":");
                plugin_query_print_json_string(q, p.root[0] ? p.root : NULL);
                plugin_query_print(q, ",\"mode\":");
                plugin_query_print_json_string(q, p.root[0] ? cgroup_mode_to_string(p.mode) : NULL);
                plugin_query_print(q,
                                   ",\"query\":%s,\"device_programs\":%s,\"replace\":%s,\"links\":%s,\"denial_log\":%s,"
                                   "\"denial_log_reason\":",
                                   truefalse(p.query), truefalse(p.device_programs), truefalse(p.replace),
                                   truefalse(p.links), truefalse(p.denial_log));
                plugin_query_print_json_string(q, p.log_reason[0] ? p.log_reason : NULL);
                plugin_query_print(q, ",\"usable\":%s,\"reason\":", truefalse(p.usable));
                plugin_query_print_json_string(q, p.reason[0] ? p.reason : NULL);
                plugin_query_print(q, "}\n");
        } else {
                plugin_query_print(q, "cgroup2 root:     %s%s%s%s\n", p.root[0] ? p.root : "none", p.root[0] ? " (" : "",
                                   p.root[0] ? cgroup_mode_to_string(p.mode) : "", p.root[0] ? ")" : "");
                plugin_query_print(q, "BPF_PROG_QUERY:   %s\n", yesno(p.query));
                plugin_query_print(q, "device programs:  %s\n", yesno(p.device_programs));
                plugin_query_print(q, "BPF_F_REPLACE:    %s\n", yesno(p.replace));
                plugin_query_print(q, "bpf_link:         %s\n", yesno(p.links));
                plugin_query_print(q, "denial log:       %s%s%s\n", yesno(p.denial_log), p.denial_log ? "" : ": ",
                                   p.log_reason);
                plugin_query_print(q, "usable:           %s%s%s\n", yesno(p.usable), p.usable ? "" : ": ", p.reason);
        }
        if (r < 0) {
                DevError err = {};
                dev_error_set(&err, r, "device programs not usable: %s", p.reason);
                return plugin_query_fail(q, &err, r);
        }
        return 0;
}

/* One row of `list`: an entry's field for one type. */
typedef struct ListRow {
        unsigned type;
        uint32_t major, minor;
        unsigned mask;
} ListRow;

static int list_row_cmp(const void *a, const void *b) {
        const ListRow *x = a, *y = b;
        unsigned lx = rule_key_level(rule_key(x->major, x->minor)), ly = rule_key_level(rule_key(y->major, y->minor));
        if (lx != ly)
                return lx < ly ? -1 : 1;
        if (x->major != y->major)
                return x->major < y->major ? -1 : 1;
        if (x->minor != y->minor)
                return x->minor < y->minor ? -1 : 1;
        return x->type < y->type ? 1 : x->type > y->type ? -1 : 0;
}

static int list_rows(const DeviceCgroup *dc, ListRow **ret, size_t *ret_n) {
        const RuleTable *t = device_cgroup_table(dc);
        ListRow *rows = calloc(rule_table_size(t) * 2 + 1, sizeof(*rows));
        size_t n = 0, cursor = 0;
        uint64_t key;
        uint32_t value;

        if (!rows)
                return -ENOMEM;
        while (rule_table_next(t, &cursor, &key, &value))
                for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR; type <<= 1)
                        if (rule_value_has(value, type))
                                rows[n++] = (ListRow) { type, rule_key_major(key), rule_key_minor(key),
                                                        rule_value_mask(value, type) };
        qsort(rows, n, sizeof(*rows), list_row_cmp);
        *ret = rows;
        *ret_n = n;
        return 0;
}

static void print_others(PluginQuery *q, const DeviceCgroup *dc) {
        size_t n, shown = 0;
        const DevProgramEntry *p = device_cgroup_programs(dc, &n);

        if (q->json)
                plugin_query_print(q, "\"other_programs\":[");
        for (size_t i = 0; i < n; i++) {
                if (p[i].ours && !p[i].inherited)
                        continue;
                if (q->json) {
                        plugin_query_print(q, "%s{\"id\":%u,\"name\":", shown++ ? "," : "", p[i].id);
                        plugin_query_print_json_string(q, p[i].name);
                        plugin_query_print(q, ",\"inherited\":%s,\"bulwark\":%s}", truefalse(p[i].inherited),
                                           truefalse(p[i].ours));
                        continue;
                }
                if (shown++ == 0)
                        plugin_query_print(q, "Other device programs that can still deny:\n");
                plugin_query_print(q, "  id %-6u %-16s %s%s\n", p[i].id, p[i].name,
                                   p[i].inherited ? "inherited from an ancestor" : "attached here",
                                   p[i].ours ? " (bulwark's, of that cgroup)" : "");
        }
        if (q->json)
                plugin_query_print(q, "]");
}

static void print_program(PluginQuery *q, const DeviceCgroup *dc) {
        const DevLogMaps *log = device_cgroup_log(dc);
        bool has = device_cgroup_has_program(dc);

        if (q->json) {
                plugin_query_print(q, "\"cgroup\":");
                plugin_query_print_json_string(q, device_cgroup_path(dc));
                if (!has)
                        plugin_query_print(q, ",\"program\":null");
                else
                        plugin_query_print(q, ",\"program\":{\"id\":%u,\"entries\":%zu,\"map_size\":%u,\"denial_log\":%s,\"ring_size\":%u}",
                                           device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)),
                                           device_cgroup_map_size(dc), truefalse(log), log ? log->ring_size : 0);
                return;
        }
        if (!has) {
                plugin_query_print(q, "cgroup %s: no bw_devices program (bulwark does not restrict it)\n",
                                   device_cgroup_path(dc));
                return;
        }
        plugin_query_print(q, "cgroup %s: bw_devices program %u, %zu entries in a map of %u, denial log %s",
                           device_cgroup_path(dc), device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)),
                           device_cgroup_map_size(dc), log ? "on" : "off");
        if (log)
                plugin_query_print(q, " (ring %u KiB)", log->ring_size / 1024);
        plugin_query_print(q, "\n");
}

static void print_row(PluginQuery *q, const ListRow *row, bool first) {
        char nums[24], acc[4], node[300] = "-";
        bool exact = row->major != DEVICE_WILDCARD && row->minor != DEVICE_WILDCARD;

        if (exact)
                dev_log_node_name(row->type, row->major, row->minor, node, sizeof(node));
        device_numbers_format(row->major, row->minor, nums);
        device_access_format(row->mask, acc);
        if (!q->json) {
                plugin_query_print(q, "%-4c %-24s %-6s %s\n", device_type_char(row->type), nums, acc, node);
                return;
        }
        plugin_query_print(q, "%s{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"node\":", first ? "" : ",",
                           device_type_char(row->type), nums, row->mask ? acc : "");
        plugin_query_print_json_string(q, exact && strcmp(node, "-") != 0 ? node : NULL);
        plugin_query_print(q, "}");
}

int plugin_query_list(PluginQuery *q, size_t argc, const char *const *argv) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        ListRow *rows = NULL;
        size_t n = 0;
        DevError err = {};
        int r;

        if (argc != 1)
                return plugin_query_usage(q, "devices-list CGROUP");
        r = plugin_query_open(q, argv[0], &o, &dc, &err);
        if (r < 0)
                return plugin_query_fail(q, &err, r);
        r = list_rows(dc, &rows, &n);
        if (r < 0) {
                device_cgroup_free(dc);
                return r;
        }
        if (q->json)
                plugin_query_print(q, "{");
        print_program(q, dc);
        if (q->json)
                plugin_query_print(q, ",\"rules\":[");
        else if (n > 0)
                plugin_query_print(q, "%-4s %-24s %-6s %s\n", "TYPE", "DEVICE", "ACCESS", "NODE");
        for (size_t i = 0; i < n; i++)
                print_row(q, &rows[i], i == 0);
        if (q->json)
                plugin_query_print(q, "],");
        print_others(q, dc);
        if (q->json)
                plugin_query_print(q, "}\n");
        free(rows);
        device_cgroup_free(dc);
        return 0;
}

/* One type's answer: a line for people, or a JSON object. */
static void explain_one(PluginQuery *q, const DeviceCgroup *dc, unsigned type, uint32_t major, uint32_t minor,
                        unsigned access, size_t others, bool first) {
        char nums[24], acc[4], eacc[4], enums[24] = "", node[300];
        bool has = device_cgroup_has_program(dc), allowed;
        char t = device_type_char(type);
        RuleDecision d;

        device_cgroup_decide(dc, type, major, minor, &d);
        allowed = !has || rule_decision_allows(&d, access);
        device_numbers_format(major, minor, nums);
        device_access_format(access, acc);
        dev_log_node_name(type, major, minor, node, sizeof(node));
        if (d.level)
                device_numbers_format(rule_key_major(d.key), rule_key_minor(d.key), enums);
        if (q->json) {
                plugin_query_print(q, "%s{\"cgroup\":", first ? "" : ",");
                plugin_query_print_json_string(q, device_cgroup_path(dc));
                plugin_query_print(q, ",\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"node\":", t, nums, acc);
                plugin_query_print_json_string(q, strcmp(node, "-") ? node : NULL);
                plugin_query_print(q, ",\"program\":%s,\"allowed\":%s,\"level\":\"%s\",\"entry\":", truefalse(has),
                                   truefalse(allowed), rule_level_to_string(d.level));
                if (d.level)
                        plugin_query_print(q, "{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\"}", t, enums,
                                           d.mask ? device_access_format(d.mask, eacc) : "");
                else
                        plugin_query_print(q, "null");
                plugin_query_print(q, ",\"other_programs\":%zu}", others);
        } else if (!has)
                plugin_query_print(q, "%c %s %s (%s): allowed: no bw_devices program on this cgroup\n", t, nums, acc,
                                   node);
        else if (d.level)
                plugin_query_print(q, "%c %s %s (%s): %s by entry %c %s %s (%s)\n", t, nums, acc, node,
                                   allowed ? "allowed" : "denied", t, enums, device_access_format(d.mask, eacc),
                                   rule_level_to_string(d.level));
        else
                plugin_query_print(q, "%c %s %s (%s): denied: no entry for this device\n", t, nums, acc, node);
}

static int explain_parse(PluginQuery *q, const char *const *argv, unsigned *types, uint32_t *major, uint32_t *minor,
                         unsigned *access) {
        DevError err = {};

        if (device_type_parse(argv[1], types) < 0)
                dev_error_set(&err, EINVAL, "device type '%s': expected b, c or a", argv[1]);
        else if (device_numbers_parse(argv[2], major, minor) < 0 || *major == DEVICE_WILDCARD ||
                 *minor == DEVICE_WILDCARD)
                dev_error_set(&err, EINVAL, "device '%s': expected MAJOR:MINOR, two numbers", argv[2]);
        else if (device_access_parse(argv[3], access) < 0)
                dev_error_set(&err, EINVAL, "access '%s': expected letters of r, w, m", argv[3]);
        else
                return 0;
        return plugin_query_fail(q, &err, -EINVAL);
}

int plugin_query_explain(PluginQuery *q, size_t argc, const char *const *argv) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        unsigned types, access;
        uint32_t major, minor;
        size_t n_prog, others = 0;
        bool first = true;
        DevError err = {};
        int r;

        if (argc != 4)
                return plugin_query_usage(q, "devices-explain CGROUP TYPE MAJOR:MINOR ACCESS");
        r = explain_parse(q, argv, &types, &major, &minor, &access);
        if (r < 0)
                return r;
        r = plugin_query_open(q, argv[0], &o, &dc, &err);
        if (r < 0)
                return plugin_query_fail(q, &err, r);
        const DevProgramEntry *progs = device_cgroup_programs(dc, &n_prog);
        for (size_t i = 0; i < n_prog; i++)
                others += !(progs[i].ours && !progs[i].inherited);
        if (q->json)
                plugin_query_print(q, "[");
        for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR; type <<= 1)
                if (types & type) {
                        explain_one(q, dc, type, major, minor, access, others, first);
                        first = false;
                }
        if (q->json)
                plugin_query_print(q, "]\n");
        else if (others)
                plugin_query_print(q, "note: %zu other device program%s run%s for this cgroup and can still deny\n",
                                   others, others == 1 ? "" : "s", others == 1 ? "s" : "");
        device_cgroup_free(dc);
        return 0;
}

/* [--log-ring-size BYTES] CGROUP RULE...: the rule may come as one word
 * or as three. */
static int change_parse(PluginQuery *q, bool allow, size_t argc, const char *const *argv, DeviceCgroupOptions *o,
                        const char **ret_cgroup, DeviceRule *ret_rule) {
        char text[128] = "";
        DevError err = {};
        size_t i = 0;

        if (argc > 1 && strcmp(argv[0], "--log-ring-size") == 0) {
                char *end;
                unsigned long v = strtoul(argv[1], &end, 10);
                if (!*argv[1] || *end || v > UINT32_MAX || (v && !dev_log_ring_size_is_valid((uint32_t) v))) {
                        dev_error_set(&err, EINVAL,
                                      "--log-ring-size '%s': expected 0 or a power of two of at least a page", argv[1]);
                        return plugin_query_fail(q, &err, -EINVAL);
                }
                o->log_ring_size = (uint32_t) v;
                i = 2;
        }
        if (argc < i + 2)
                return plugin_query_usage(q, allow ? "devices-allow [--log-ring-size BYTES] CGROUP RULE"
                                                   : "devices-deny [--log-ring-size BYTES] CGROUP RULE");
        *ret_cgroup = argv[i];
        for (size_t j = i + 1; j < argc; j++) {
                if (strlen(text) + strlen(argv[j]) + 2 > sizeof(text)) {
                        dev_error_set(&err, E2BIG, "device rule too long");
                        return plugin_query_fail(q, &err, -E2BIG);
                }
                if (text[0])
                        strcat(text, " ");
                strcat(text, argv[j]);
        }
        int r = device_rule_parse(text, allow, ret_rule, &err);
        return r < 0 ? plugin_query_fail(q, &err, r) : 0;
}

static int plugin_query_change(PluginQuery *q, bool allow, size_t argc, const char *const *argv) {
        DeviceCgroupOptions o = { .log_ring_size = DEV_LOG_RING_DEFAULT };
        DeviceCgroup *dc = NULL;
        const char *cgroup = NULL;
        char shown[DEVICE_RULE_TEXT_MAX];
        DeviceRule rule;
        DevError err = {};
        int r;

        r = change_parse(q, allow, argc, argv, &o, &cgroup, &rule);
        if (r < 0)
                return r;
        r = plugin_query_open(q, cgroup, &o, &dc, &err);
        if (r >= 0)
                r = device_cgroup_apply(dc, &rule, 1, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return plugin_query_fail(q, &err, r);
        }
        if (device_cgroup_warning(dc))
                plugin_query_warn(q, device_cgroup_warning(dc));
        device_rule_format(&rule, true, shown);
        if (q->json) {
                plugin_query_print(q, "{");
                print_program(q, dc);
                plugin_query_print(q, ",\"rule\":");
                plugin_query_print_json_string(q, shown);
                plugin_query_print(q, "}\n");
        } else
                plugin_query_print(q, "cgroup %s: %s (program %u, %zu entries in a map of %u)\n", device_cgroup_path(dc),
                                   shown, device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)),
                                   device_cgroup_map_size(dc));
        device_cgroup_free(dc);
        return 0;
}

int plugin_query_allow(PluginQuery *q, size_t argc, const char *const *argv) {
        return plugin_query_change(q, true, argc, argv);
}

int plugin_query_deny(PluginQuery *q, size_t argc, const char *const *argv) {
        return plugin_query_change(q, false, argc, argv);
}

int plugin_query_remove(PluginQuery *q, size_t argc, const char *const *argv) {
        DeviceCgroup *dc = NULL;
        DevError err = {};
        int r;

        if (argc != 1)
                return plugin_query_usage(q, "devices-remove CGROUP");
        r = plugin_query_open(q, argv[0], NULL, &dc, &err);
        if (r >= 0)
                r = device_cgroup_remove(dc, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return plugin_query_fail(q, &err, r);
        }
        if (q->json) {
                plugin_query_print(q, "{\"cgroup\":");
                plugin_query_print_json_string(q, device_cgroup_path(dc));
                plugin_query_print(q, ",\"detached\":%d}\n", r);
        } else
                plugin_query_print(q, "cgroup %s: %d bw_devices program%s detached\n", device_cgroup_path(dc), r,
                                   r == 1 ? "" : "s");
        device_cgroup_free(dc);
        return 0;
}
