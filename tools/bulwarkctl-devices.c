/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl devices: the device policy of any cgroup, read from and
 * written to the kernel with the same code the cgroup-bpf plugin uses. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulwarkctl.h"
#include "cgroup-root.h"
#include "dev-error.h"
#include "dev-log.h"
#include "dev-probe.h"
#include "device-cgroup.h"
#include "json-out.h"

static void devices_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] devices COMMAND ...\n"
                "\n"
                "The cgroup v2 device policy bulwark's program (bw_devices) enforces.\n"
                "CGROUP is a path below the cgroup2 root (\"bulwark/demo\") or an absolute\n"
                "path inside it.  RULE is \"TYPE MAJOR:MINOR ACCESS\": TYPE b, c or a;\n"
                "MAJOR and MINOR numbers or *; ACCESS letters of r, w, m.  Later rules win.\n"
                "\n"
                "Commands:\n"
                "  probe                          what the kernel supports, the cgroup2 root\n"
                "  list CGROUP                    our rules read back from the kernel, and\n"
                "                                 other device programs that can still deny\n"
                "  explain CGROUP TYPE MAJ:MIN ACCESS\n"
                "                                 which entry decides, and the answer\n"
                "  allow CGROUP RULE              allow, creating our program when absent\n"
                "  deny CGROUP RULE               deny, creating our program when absent\n"
                "  remove CGROUP                  detach our program (others stay)\n"
                "  denials CGROUP [--follow]      print and consume the denial log\n"
                "  denials --summary CGROUP       denial counters, without consuming events\n"
                "\n"
                "Options of allow and deny:\n"
                "  --log-ring-size BYTES          ring of a program created now (default %u,\n"
                "                                 0: no denial log)\n"
                "\n"
                "The cgroup2 root is --cgroup-root, else $BULWARK_CGROUP_ROOT, else found\n"
                "at /sys/fs/cgroup or /sys/fs/cgroup/unified.\n",
                DEV_LOG_RING_DEFAULT);
}

static int devices_fail(const BwError *err, int r) {
        fprintf(stderr, "bulwarkctl: %s\n", err->message[0] ? err->message : strerror(-r));
        return CTL_EXIT_FAILURE;
}

static int devices_root(const CtlContext *ctx, char **ret_root, CgroupMode *ret_mode, BwError *err) {
        const char *configured = ctx->options.cgroup_root;
        if (!configured || !*configured)
                configured = getenv("BULWARK_CGROUP_ROOT");
        return cgroup_root_discover(configured, ret_root, ret_mode, err);
}

static int devices_open(const CtlContext *ctx, const char *name, const DeviceCgroupOptions *options,
                        DeviceCgroup **ret, BwError *err) {
        char *root = NULL, *path = NULL;
        int r = devices_root(ctx, &root, NULL, err);
        if (r >= 0)
                r = cgroup_root_resolve(root, name, &path, err);
        if (r >= 0)
                r = device_cgroup_open(path, options, ret, err);
        free(root);
        free(path);
        return r;
}

static const char *yesno(bool b) {
        return b ? "yes" : "no";
}

static int devices_probe(const CtlContext *ctx, int argc, char **argv) {
        const char *configured = ctx->options.cgroup_root;
        DevProbe p;
        int r;

        if (argc != 1) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (!configured || !*configured)
                configured = getenv("BULWARK_CGROUP_ROOT");
        r = dev_probe_run(configured, &p);
        if (ctx->json) {
                printf("{\"cgroup_root\":");
                json_print_string(stdout, p.root[0] ? p.root : NULL);
                printf(",\"mode\":");
                json_print_string(stdout, p.root[0] ? cgroup_mode_to_string(p.mode) : NULL);
                printf(",\"query\":%s,\"device_programs\":%s,\"replace\":%s,\"links\":%s,\"denial_log\":%s,"
                       "\"denial_log_reason\":",
                       p.query ? "true" : "false", p.device_programs ? "true" : "false",
                       p.replace ? "true" : "false", p.links ? "true" : "false", p.denial_log ? "true" : "false");
                json_print_string(stdout, p.log_reason[0] ? p.log_reason : NULL);
                printf(",\"usable\":%s,\"reason\":", p.usable ? "true" : "false");
                json_print_string(stdout, p.reason[0] ? p.reason : NULL);
                printf("}\n");
        } else {
                printf("cgroup2 root:     %s%s%s%s\n", p.root[0] ? p.root : "none", p.root[0] ? " (" : "",
                       p.root[0] ? cgroup_mode_to_string(p.mode) : "", p.root[0] ? ")" : "");
                printf("BPF_PROG_QUERY:   %s\n", yesno(p.query));
                printf("device programs:  %s\n", yesno(p.device_programs));
                printf("BPF_F_REPLACE:    %s\n", yesno(p.replace));
                printf("bpf_link:         %s\n", yesno(p.links));
                printf("denial log:       %s%s%s\n", yesno(p.denial_log), p.denial_log ? "" : ": ", p.log_reason);
                printf("usable:           %s%s%s\n", yesno(p.usable), p.usable ? "" : ": ", p.reason);
        }
        return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
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

static int devices_rows(const DeviceCgroup *dc, ListRow **ret, size_t *ret_n) {
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

static void devices_print_others(const DeviceCgroup *dc) {
        size_t n, shown = 0;
        const DevProgramEntry *p = device_cgroup_programs(dc, &n);

        for (size_t i = 0; i < n; i++) {
                if (p[i].ours && !p[i].inherited)
                        continue;
                if (shown++ == 0)
                        printf("Other device programs that can still deny:\n");
                printf("  id %-6u %-16s %s%s\n", p[i].id, p[i].name, p[i].inherited ? "inherited from an ancestor" : "attached here",
                       p[i].ours ? " (bulwark's, of that cgroup)" : "");
        }
}

static void devices_json_others(const DeviceCgroup *dc) {
        size_t n, shown = 0;
        const DevProgramEntry *p = device_cgroup_programs(dc, &n);

        printf("\"other_programs\":[");
        for (size_t i = 0; i < n; i++) {
                if (p[i].ours && !p[i].inherited)
                        continue;
                printf("%s{\"id\":%u,\"name\":", shown++ ? "," : "", p[i].id);
                json_print_string(stdout, p[i].name);
                printf(",\"inherited\":%s,\"bulwark\":%s}", p[i].inherited ? "true" : "false",
                       p[i].ours ? "true" : "false");
        }
        printf("]");
}

static void devices_print_program(const DeviceCgroup *dc) {
        const DevLogMaps *log = device_cgroup_log(dc);
        if (!device_cgroup_has_program(dc)) {
                printf("cgroup %s: no bw_devices program (bulwark does not restrict it)\n", device_cgroup_path(dc));
                return;
        }
        printf("cgroup %s: bw_devices program %u, %zu entries in a map of %u, denial log %s", device_cgroup_path(dc),
               device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)), device_cgroup_map_size(dc),
               log ? "on" : "off");
        if (log)
                printf(" (ring %u KiB)", log->ring_size / 1024);
        printf("\n");
}

static void devices_json_program(const DeviceCgroup *dc) {
        const DevLogMaps *log = device_cgroup_log(dc);
        printf("\"cgroup\":");
        json_print_string(stdout, device_cgroup_path(dc));
        if (!device_cgroup_has_program(dc)) {
                printf(",\"program\":null");
                return;
        }
        printf(",\"program\":{\"id\":%u,\"entries\":%zu,\"map_size\":%u,\"denial_log\":%s,\"ring_size\":%u}",
               device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)), device_cgroup_map_size(dc),
               log ? "true" : "false", log ? log->ring_size : 0);
}

static int devices_list(const CtlContext *ctx, int argc, char **argv) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        ListRow *rows = NULL;
        size_t n = 0;
        BwError err = {};
        int r;

        if (argc != 2) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        r = devices_open(ctx, argv[1], &o, &dc, &err);
        if (r < 0)
                return devices_fail(&err, r);
        r = devices_rows(dc, &rows, &n);
        if (r < 0) {
                device_cgroup_free(dc);
                return CTL_EXIT_FAILURE;
        }
        if (ctx->json) {
                printf("{");
                devices_json_program(dc);
                printf(",\"rules\":[");
        } else {
                devices_print_program(dc);
                if (n > 0)
                        printf("%-4s %-24s %-6s %s\n", "TYPE", "DEVICE", "ACCESS", "NODE");
        }
        for (size_t i = 0; i < n; i++) {
                char nums[24], acc[4], node[300] = "-";
                bool exact = rows[i].major != DEVICE_WILDCARD && rows[i].minor != DEVICE_WILDCARD;
                if (exact)
                        dev_log_node_name(rows[i].type, rows[i].major, rows[i].minor, node, sizeof(node));
                device_numbers_format(rows[i].major, rows[i].minor, nums);
                device_access_format(rows[i].mask, acc);
                if (ctx->json) {
                        printf("%s{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"node\":", i ? "," : "",
                               device_type_char(rows[i].type), nums, rows[i].mask ? acc : "");
                        json_print_string(stdout, exact && strcmp(node, "-") != 0 ? node : NULL);
                        printf("}");
                } else
                        printf("%-4c %-24s %-6s %s\n", device_type_char(rows[i].type), nums, acc, node);
        }
        if (ctx->json) {
                printf("],");
                devices_json_others(dc);
                printf("}\n");
        } else
                devices_print_others(dc);
        free(rows);
        device_cgroup_free(dc);
        return CTL_EXIT_OK;
}

static const char *level_name(unsigned level) {
        switch (level) {
        case RULE_LEVEL_EXACT: return "exact";
        case RULE_LEVEL_MAJOR: return "major:*";
        case RULE_LEVEL_MINOR: return "*:minor";
        case RULE_LEVEL_ANY: return "*:*";
        default: return "none";
        }
}

/* One type's answer: a line for people, or a JSON object. */
static void explain_one(const CtlContext *ctx, const DeviceCgroup *dc, unsigned type, uint32_t major,
                        uint32_t minor, unsigned access, size_t others, bool first) {
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
        if (ctx->json) {
                printf("%s{\"cgroup\":", first ? "" : ",");
                json_print_string(stdout, device_cgroup_path(dc));
                printf(",\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"node\":", t, nums, acc);
                json_print_string(stdout, strcmp(node, "-") ? node : NULL);
                printf(",\"program\":%s,\"allowed\":%s,\"level\":\"%s\",\"entry\":", has ? "true" : "false",
                       allowed ? "true" : "false", level_name(d.level));
                if (d.level)
                        printf("{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\"}", t, enums,
                               d.mask ? device_access_format(d.mask, eacc) : "");
                else
                        printf("null");
                printf(",\"other_programs\":%zu}", others);
        } else if (!has)
                printf("%c %s %s (%s): allowed: no bw_devices program on this cgroup\n", t, nums, acc, node);
        else if (d.level)
                printf("%c %s %s (%s): %s by entry %c %s %s (%s)\n", t, nums, acc, node, allowed ? "allowed" : "denied", t,
                       enums, device_access_format(d.mask, eacc), level_name(d.level));
        else
                printf("%c %s %s (%s): denied: no entry for this device\n", t, nums, acc, node);
}

static int devices_explain(const CtlContext *ctx, int argc, char **argv) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        unsigned types, access;
        uint32_t major, minor;
        BwError err = {};
        size_t n_prog, others = 0;
        bool first = true;
        int r;

        if (argc != 5) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (device_type_parse(argv[2], &types) < 0) {
                fprintf(stderr, "bulwarkctl: device type '%s': expected b, c or a\n", argv[2]);
                return CTL_EXIT_USAGE;
        }
        if (device_numbers_parse(argv[3], &major, &minor) < 0 || major == DEVICE_WILDCARD ||
            minor == DEVICE_WILDCARD) {
                fprintf(stderr, "bulwarkctl: device '%s': expected MAJOR:MINOR, two numbers\n", argv[3]);
                return CTL_EXIT_USAGE;
        }
        if (device_access_parse(argv[4], &access) < 0) {
                fprintf(stderr, "bulwarkctl: access '%s': expected letters of r, w, m\n", argv[4]);
                return CTL_EXIT_USAGE;
        }
        r = devices_open(ctx, argv[1], &o, &dc, &err);
        if (r < 0)
                return devices_fail(&err, r);
        const DevProgramEntry *progs = device_cgroup_programs(dc, &n_prog);
        for (size_t i = 0; i < n_prog; i++)
                others += !(progs[i].ours && !progs[i].inherited);
        if (ctx->json)
                printf("[");
        for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR; type <<= 1)
                if (types & type) {
                        explain_one(ctx, dc, type, major, minor, access, others, first);
                        first = false;
                }
        if (ctx->json)
                printf("]\n");
        else if (others)
                printf("note: %zu other device program%s run%s for this cgroup and can still deny\n", others,
                       others == 1 ? "" : "s", others == 1 ? "s" : "");
        device_cgroup_free(dc);
        return CTL_EXIT_OK;
}

static int devices_change(const CtlContext *ctx, bool allow, int argc, char **argv) {
        DeviceCgroupOptions o = { .log_ring_size = DEV_LOG_RING_DEFAULT };
        DeviceCgroup *dc = NULL;
        DeviceRule rule;
        BwError err = {};
        char text[128] = "", shown[DEVICE_RULE_TEXT_MAX];
        int i = 1, r;

        if (argc > 2 && strcmp(argv[1], "--log-ring-size") == 0) {
                char *end;
                unsigned long v = strtoul(argv[2], &end, 10);
                if (*end || v > UINT32_MAX || (v && !dev_log_ring_size_is_valid((uint32_t) v))) {
                        fprintf(stderr, "bulwarkctl: --log-ring-size '%s': expected 0 or a power of two of at least a page\n",
                                argv[2]);
                        return CTL_EXIT_USAGE;
                }
                o.log_ring_size = (uint32_t) v;
                i = 3;
        }
        if (argc - i < 2) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        /* The rule may come as one word or as three. */
        for (int j = i + 1; j < argc; j++) {
                if (strlen(text) + strlen(argv[j]) + 2 > sizeof(text)) {
                        fprintf(stderr, "bulwarkctl: device rule too long\n");
                        return CTL_EXIT_USAGE;
                }
                if (text[0])
                        strcat(text, " ");
                strcat(text, argv[j]);
        }
        r = device_rule_parse(text, allow, &rule, &err);
        if (r < 0)
                return devices_fail(&err, r);
        r = devices_open(ctx, argv[i], &o, &dc, &err);
        if (r >= 0)
                r = device_cgroup_apply(dc, &rule, 1, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return devices_fail(&err, r);
        }
        if (device_cgroup_warning(dc))
                fprintf(stderr, "bulwarkctl: warning: %s\n", device_cgroup_warning(dc));
        device_rule_format(&rule, true, shown);
        if (ctx->json) {
                printf("{");
                devices_json_program(dc);
                printf(",\"rule\":");
                json_print_string(stdout, shown);
                printf("}\n");
        } else
                printf("cgroup %s: %s (program %u, %zu entries in a map of %u)\n", device_cgroup_path(dc), shown,
                       device_cgroup_prog_id(dc), rule_table_size(device_cgroup_table(dc)),
                       device_cgroup_map_size(dc));
        device_cgroup_free(dc);
        return CTL_EXIT_OK;
}

static int devices_remove(const CtlContext *ctx, int argc, char **argv) {
        DeviceCgroup *dc = NULL;
        BwError err = {};
        int r;

        if (argc != 2) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        r = devices_open(ctx, argv[1], NULL, &dc, &err);
        if (r >= 0)
                r = device_cgroup_remove(dc, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return devices_fail(&err, r);
        }
        if (ctx->json)
{
                printf("{\"cgroup\":");
                json_print_string(stdout, device_cgroup_path(dc));
                printf(",\"detached\":%d}\n", r);
        }
        else
                printf("cgroup %s: %d bw_devices program%s detached\n", device_cgroup_path(dc), r, r == 1 ? "" : "s");
        device_cgroup_free(dc);
        return CTL_EXIT_OK;
}


/* ---- denials ------------------------------------------------------------ */

typedef struct DenialPrinter {
        const CtlContext *ctx;
        int64_t offset;            /* boot clock -> wall clock */
        size_t count;
        bool lines;                /* --json --follow: one object per line */
} DenialPrinter;

static void denial_decided(const DevLogEvent *ev, char *buf, size_t size) {
        char nums[24], acc[4];
        uint32_t ma = ev->major, mi = ev->minor;
        if (ev->level == RULE_LEVEL_NONE) {
                snprintf(buf, size, "no entry");
                return;
        }
        if (ev->level == RULE_LEVEL_MAJOR || ev->level == RULE_LEVEL_ANY)
                mi = DEVICE_WILDCARD;
        if (ev->level == RULE_LEVEL_MINOR || ev->level == RULE_LEVEL_ANY)
                ma = DEVICE_WILDCARD;
        snprintf(buf, size, "%c %s %s (%s)", device_type_char(ev->type), device_numbers_format(ma, mi, nums),
                 device_access_format(ev->entry_mask, acc), level_name(ev->level));
}

static int denial_print(const DevLogEvent *ev, void *userdata) {
        DenialPrinter *p = userdata;
        char when[64], node[300], decided[64], nums[24], acc[4], comm[17];
        int64_t ns = (int64_t) ev->boot_ns + p->offset;
        time_t secs = (time_t) (ns / 1000000000);
        struct tm tm;

        localtime_r(&secs, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03d", (int) (ns % 1000000000 / 1000000));
        memcpy(comm, ev->comm, 16);
        comm[16] = '\0';
        dev_log_node_name(ev->type, ev->major, ev->minor, node, sizeof(node));
        denial_decided(ev, decided, sizeof(decided));
        device_numbers_format(ev->major, ev->minor, nums);
        device_access_format(ev->access, acc);
        if (p->ctx->json) {
                printf("%s{\"time\":\"%s\",\"boot_ns\":%" PRIu64 ",\"pid\":%u,\"uid\":%u,\"comm\":", p->count && !p->lines ? "," : "",
                       when, ev->boot_ns, ev->tgid, ev->uid);
                json_print_string(stdout, comm);
                printf(",\"cgroup_id\":%" PRIu64 ",\"type\":\"%c\",\"device\":\"%s\",\"node\":", ev->cgroup_id,
                       device_type_char(ev->type), nums);
                json_print_string(stdout, strcmp(node, "-") ? node : NULL);
                printf(",\"access\":\"%s\",\"decided_by\":", acc);
                json_print_string(stdout, decided);
                printf("}%s", p->lines ? "\n" : "");
        } else {
                if (p->count == 0 && !p->lines)
                        printf("%-23s %-7s %-6s %-15s %-12s %-18s %-6s %s\n", "TIME", "PID", "UID", "COMM", "DEVICE",
                               "NODE", "ACCESS", "DECIDED BY");
                printf("%-23s %-7u %-6u %-15s %c %-10s %-18s %-6s %s\n", when, ev->tgid, ev->uid, comm,
                       device_type_char(ev->type), nums, node, acc, decided);
        }
        p->count++;
        fflush(stdout);
        return 0;
}

static int denials_open_log(const CtlContext *ctx, const char *name, DeviceCgroup **ret, BwError *err) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        int r = devices_open(ctx, name, &o, &dc, err);
        if (r < 0)
                return r;
        if (!device_cgroup_has_program(dc)) {
                size_t n;
                (void) device_cgroup_programs(dc, &n);
                r = dev_error_set(err, ENOENT, "cgroup '%s': no bw_devices program%s, so no denial log",
                                  device_cgroup_path(dc),
                                  n ? " (only other managers' device programs, which bulwark cannot read)" : "");
        } else if (!device_cgroup_log(dc))
                r = dev_error_set(err, ENODATA, "cgroup '%s': bw_devices program %u has no denial log (created with it off, or the kernel lacks it)",
                                  device_cgroup_path(dc), device_cgroup_prog_id(dc));
        if (r < 0) {
                device_cgroup_free(dc);
                return r;
        }
        *ret = dc;
        return 0;
}

static int denials_summary(const CtlContext *ctx, const char *name) {
        DeviceCgroup *dc = NULL;
        DevLogCount *counts = NULL;
        DevLogTotals totals = {};
        size_t n = 0;
        BwError err = {};
        int r;

        r = denials_open_log(ctx, name, &dc, &err);
        if (r >= 0)
                r = dev_log_read_totals(device_cgroup_log(dc), &totals, NULL, &err);
        if (r >= 0)
                r = dev_log_read_counts(device_cgroup_log(dc), &counts, &n, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return devices_fail(&err, r);
        }
        if (ctx->json) {
                printf("{\"cgroup\":");
                json_print_string(stdout, device_cgroup_path(dc));
                printf(",\"counters\":[");
        } else
                printf("%-10s %-4s %-24s %-6s %s\n", "COUNT", "TYPE", "DEVICE", "ACCESS", "NODE");
        for (size_t i = 0; i < n; i++) {
                char nums[24], acc[4], node[300];
                device_numbers_format(counts[i].key.major, counts[i].key.minor, nums);
                device_access_format(counts[i].key.access, acc);
                dev_log_node_name(counts[i].key.type, counts[i].key.major, counts[i].key.minor, node, sizeof(node));
                if (ctx->json) {
                        printf("%s{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"count\":%" PRIu64 ",\"node\":",
                               i ? "," : "", device_type_char(counts[i].key.type), nums, acc, counts[i].count);
                        json_print_string(stdout, strcmp(node, "-") ? node : NULL);
                        printf("}");
                } else
                        printf("%-10" PRIu64 " %-4c %-24s %-6s %s\n", counts[i].count, device_type_char(counts[i].key.type),
                               nums, acc, node);
        }
        if (ctx->json)
                printf("],\"total\":%" PRIu64 ",\"dropped\":%" PRIu64 "}\n", totals.denied, totals.dropped);
        else
                printf("total: %" PRIu64 " denied, %" PRIu64 " events dropped from the log (ring full)\n", totals.denied,
                       totals.dropped);
        free(counts);
        device_cgroup_free(dc);
        return CTL_EXIT_OK;
}

/* Consumes and prints events; with `follow` until SIGINT or SIGTERM. */
static int denials_read(const CtlContext *ctx, const char *name, bool follow) {
        DeviceCgroup *dc = NULL;
        DenialPrinter p = { .ctx = ctx, .offset = dev_log_boot_to_realtime_offset(), .lines = follow };
        DevLogTotals totals = {};
        uint64_t reported = 0;
        sigset_t stop, old;
        BwError err = {};
        int r;

        r = denials_open_log(ctx, name, &dc, &err);
        if (r < 0)
                return devices_fail(&err, r);
        const DevLogMaps *log = device_cgroup_log(dc);
        /* Signals are only looked at between reads: no handler, no global. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        if (follow)
                sigprocmask(SIG_BLOCK, &stop, &old);
        if (ctx->json && !follow)
{
                printf("{\"cgroup\":");
                json_print_string(stdout, device_cgroup_path(dc));
                printf(",\"events\":[");
        }
        else if (follow && !ctx->json)
                printf("Following denials of cgroup %s (Ctrl+C to stop)...\n", device_cgroup_path(dc));
        for (;;) {
                r = dev_log_consume(log, follow ? 500 : 0, denial_print, &p, &err);
                if (r < 0)
                        break;
                r = dev_log_read_totals(log, &totals, &reported, &err);
                if (r < 0)
                        break;
                if (follow && totals.dropped > reported) {
                        if (!ctx->json)
                                printf("... %" PRIu64 " events dropped (ring full)\n", totals.dropped - reported);
                        r = dev_log_mark_reported(log, totals.dropped, &err);
                        reported = totals.dropped;
                        if (r < 0)
                                break;
                }
                sigset_t pending;
                sigpending(&pending);
                if (!follow || sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
                        break;
        }
        if (r >= 0 && totals.dropped >= reported) {
                uint64_t dropped = totals.dropped - reported;
                if (ctx->json && !follow)
                        printf("],\"read\":%zu,\"dropped\":%" PRIu64 ",\"total\":%" PRIu64 "}\n", p.count, dropped,
                               totals.denied);
                else if (!ctx->json)
                        printf("%zu event%s; %" PRIu64 " dropped since the last read (ring full); %" PRIu64 " denied in all\n",
                               p.count, p.count == 1 ? "" : "s", dropped, totals.denied);
                r = dev_log_mark_reported(log, totals.dropped, &err);
        }
        if (follow)
                sigprocmask(SIG_SETMASK, &old, NULL);
        device_cgroup_free(dc);
        return r < 0 ? devices_fail(&err, r) : CTL_EXIT_OK;
}

static int devices_denials(const CtlContext *ctx, int argc, char **argv) {
        bool follow = false, summary = false;
        const char *name = NULL;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
                        follow = true;
                else if (strcmp(argv[i], "--summary") == 0)
                        summary = true;
                else if (!name && argv[i][0] != '-')
                        name = argv[i];
                else {
                        devices_help(stderr);
                        return CTL_EXIT_USAGE;
                }
        }
        if (!name || (follow && summary)) {
                devices_help(stderr);
                return CTL_EXIT_USAGE;
        }
        return summary ? denials_summary(ctx, name) : denials_read(ctx, name, follow);
}

int ctl_devices_main(CtlContext *ctx, int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                devices_help(argc < 2 ? stderr : stdout);
                return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
        }
        const char *cmd = argv[1];
        argc--, argv++;
        if (strcmp(cmd, "probe") == 0)
                return devices_probe(ctx, argc, argv);
        if (strcmp(cmd, "list") == 0)
                return devices_list(ctx, argc, argv);
        if (strcmp(cmd, "explain") == 0)
                return devices_explain(ctx, argc, argv);
        if (strcmp(cmd, "allow") == 0 || strcmp(cmd, "deny") == 0)
                return devices_change(ctx, strcmp(cmd, "allow") == 0, argc, argv);
        if (strcmp(cmd, "remove") == 0)
                return devices_remove(ctx, argc, argv);
        if (strcmp(cmd, "denials") == 0)
                return devices_denials(ctx, argc, argv);
        fprintf(stderr, "bulwarkctl: unknown devices command '%s'; see 'bulwarkctl devices --help'\n", cmd);
        return CTL_EXIT_USAGE;
}
