/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `devices-denials`: print and consume a cgroup's denial log, follow it,
 * or read its counters.
 *
 * A ring has one read position: each event goes to whichever reader
 * consumes it first, so two readers split the events (bulwarkd, when it
 * runs, is the reader of its guests' rings).  Nothing enforces it, and
 * nothing must: a follower holds no lock on the cgroup (only the map
 * descriptors), so stopping the guest, detaching the program or removing
 * the cgroup never waits for it.  It notices instead, and ends. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dev-adopt.h"
#include "dev-error.h"
#include "dev-log.h"
#include "plugin-query.h"
#include "util/fd-util.h"

/* How long a follower waits for events before it checks that its cgroup
 * and program are still there and that the reader still listens. */
#define DENIALS_POLL_MS 250

typedef struct DenialPrinter {
        PluginQuery *q;
        int64_t offset;            /* boot clock -> wall clock */
        size_t count;
        bool lines;                /* following: one line (or JSON object) per event */
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
                 device_access_format(ev->entry_mask, acc), rule_level_to_string(ev->level));
}

static void denial_time(const DenialPrinter *p, const DevLogEvent *ev, char *buf, size_t size) {
        int64_t ns = (int64_t) ev->boot_ns + p->offset;
        time_t secs = (time_t) (ns / 1000000000);
        struct tm tm;

        localtime_r(&secs, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(buf + strlen(buf), size - strlen(buf), ".%03d", (int) (ns % 1000000000 / 1000000));
}

static int denial_print(const DevLogEvent *ev, void *userdata) {
        DenialPrinter *p = userdata;
        PluginQuery *q = p->q;
        char when[64], node[300], decided[64], nums[24], acc[4], comm[17];

        denial_time(p, ev, when, sizeof(when));
        memcpy(comm, ev->comm, 16);
        comm[16] = '\0';
        dev_log_node_name(ev->type, ev->major, ev->minor, node, sizeof(node));
        denial_decided(ev, decided, sizeof(decided));
        device_numbers_format(ev->major, ev->minor, nums);
        device_access_format(ev->access, acc);
        if (q->json) {
                plugin_query_print(q, "%s{\"time\":\"%s\",\"boot_ns\":%" PRIu64 ",\"pid\":%u,\"uid\":%u,\"comm\":",
                                   p->count && !p->lines ? "," : "", when, ev->boot_ns, ev->tgid, ev->uid);
                plugin_query_print_json_string(q, comm);
                plugin_query_print(q, ",\"cgroup_id\":%" PRIu64 ",\"type\":\"%c\",\"device\":\"%s\",\"node\":",
                                   ev->cgroup_id, device_type_char(ev->type), nums);
                plugin_query_print_json_string(q, strcmp(node, "-") ? node : NULL);
                plugin_query_print(q, ",\"access\":\"%s\",\"decided_by\":", acc);
                plugin_query_print_json_string(q, decided);
                plugin_query_print(q, "}%s", p->lines ? "\n" : "");
        } else {
                if (p->count == 0 && !p->lines)
                        plugin_query_print(q, "%-23s %-7s %-6s %-15s %-12s %-18s %-6s %s\n", "TIME", "PID", "UID",
                                           "COMM", "DEVICE", "NODE", "ACCESS", "DECIDED BY");
                plugin_query_print(q, "%-23s %-7u %-6u %-15s %c %-10s %-18s %-6s %s\n", when, ev->tgid, ev->uid, comm,
                                   device_type_char(ev->type), nums, node, acc, decided);
        }
        p->count++;
        /* A follower's reader sees each event as it happens. */
        return p->lines ? plugin_query_flush(q) : q->error;
}

static int denials_open_log(PluginQuery *q, const char *name, DeviceCgroup **ret, DevError *err) {
        DeviceCgroupOptions o = { .readonly = true };
        DeviceCgroup *dc = NULL;
        int r = plugin_query_open(q, name, &o, &dc, err);
        if (r < 0)
                return r;
        if (!device_cgroup_has_program(dc)) {
                size_t n;
                (void) device_cgroup_programs(dc, &n);
                r = dev_error_set(err, ENOENT, "cgroup '%s': no bw_devices program%s, so no denial log",
                                  device_cgroup_path(dc),
                                  n ? " (only other managers' device programs, which bulwark cannot read)" : "");
        } else if (!device_cgroup_log(dc))
                r = dev_error_set(err, ENODATA,
                                  "cgroup '%s': bw_devices program %u has no denial log (created with it off, or the kernel lacks it)",
                                  device_cgroup_path(dc), device_cgroup_prog_id(dc));
        if (r < 0) {
                device_cgroup_free(dc);
                return r;
        }
        *ret = dc;
        return 0;
}

static int denials_summary(PluginQuery *q, const char *name) {
        DeviceCgroup *dc = NULL;
        DevLogCount *counts = NULL;
        DevLogTotals totals = {};
        size_t n = 0;
        DevError err = {};
        int r;

        r = denials_open_log(q, name, &dc, &err);
        if (r >= 0)
                r = dev_log_read_totals(device_cgroup_log(dc), &totals, NULL, &err);
        if (r >= 0)
                r = dev_log_read_counts(device_cgroup_log(dc), &counts, &n, &err);
        if (r < 0) {
                device_cgroup_free(dc);
                return plugin_query_fail(q, &err, r);
        }
        if (q->json) {
                plugin_query_print(q, "{\"cgroup\":");
                plugin_query_print_json_string(q, device_cgroup_path(dc));
                plugin_query_print(q, ",\"counters\":[");
        } else
                plugin_query_print(q, "%-10s %-4s %-24s %-6s %s\n", "COUNT", "TYPE", "DEVICE", "ACCESS", "NODE");
        for (size_t i = 0; i < n; i++) {
                const DevLogCountKey *k = &counts[i].key;
                char nums[24], acc[4], node[300];
                device_numbers_format(k->major, k->minor, nums);
                device_access_format(k->access, acc);
                dev_log_node_name(k->type, k->major, k->minor, node, sizeof(node));
                if (q->json) {
                        plugin_query_print(q, "%s{\"type\":\"%c\",\"device\":\"%s\",\"access\":\"%s\",\"count\":%" PRIu64 ",\"node\":",
                                           i ? "," : "", device_type_char(k->type), nums, acc, counts[i].count);
                        plugin_query_print_json_string(q, strcmp(node, "-") ? node : NULL);
                        plugin_query_print(q, "}");
                } else
                        plugin_query_print(q, "%-10" PRIu64 " %-4c %-24s %-6s %s\n", counts[i].count,
                                           device_type_char(k->type), nums, acc, node);
        }
        if (q->json)
                plugin_query_print(q, "],\"total\":%" PRIu64 ",\"dropped\":%" PRIu64 "}\n", totals.denied,
                                   totals.dropped);
        else
                plugin_query_print(q, "total: %" PRIu64 " denied, %" PRIu64 " events dropped from the log (ring full)\n",
                                   totals.denied, totals.dropped);
        free(counts);
        device_cgroup_free(dc);
        return 0;
}

/* The footer, and the reader's mark: what was dropped has been reported. */
static int denials_finish(DenialPrinter *p, const DevLogMaps *log, DevError *err) {
        PluginQuery *q = p->q;
        DevLogTotals totals = {};
        uint64_t reported = 0;
        int r = dev_log_read_totals(log, &totals, &reported, err);
        if (r < 0)
                return r;
        uint64_t dropped = totals.dropped >= reported ? totals.dropped - reported : 0;
        if (q->json && !p->lines)
                plugin_query_print(q, "],\"read\":%zu,\"dropped\":%" PRIu64 ",\"total\":%" PRIu64 "}\n", p->count,
                                   dropped, totals.denied);
        else if (!q->json)
                plugin_query_print(q, "%zu event%s; %" PRIu64 " dropped since the last read (ring full); %" PRIu64 " denied in all\n",
                                   p->count, p->count == 1 ? "" : "s", dropped, totals.denied);
        return dev_log_mark_reported(log, totals.dropped, err);
}

/* Prints and consumes every event waiting now. */
static int denials_read(PluginQuery *q, const char *name) {
        DenialPrinter p = { .q = q, .offset = dev_log_boot_to_realtime_offset() };
        DeviceCgroup *dc = NULL;
        DevError err = {};
        int r;

        r = denials_open_log(q, name, &dc, &err);
        if (r < 0)
                return plugin_query_fail(q, &err, r);
        if (q->json) {
                plugin_query_print(q, "{\"cgroup\":");
                plugin_query_print_json_string(q, device_cgroup_path(dc));
                plugin_query_print(q, ",\"events\":[");
        }
        r = dev_log_consume(device_cgroup_log(dc), 0, denial_print, &p, &err);
        if (r >= 0)
                r = denials_finish(&p, device_cgroup_log(dc), &err);
        device_cgroup_free(dc);
        if (q->error < 0)
                return q->error;
        return r < 0 ? plugin_query_fail(q, &err, r) : 0;
}

/* What a follower keeps: the log's descriptors and how to tell that its
 * cgroup and program are still the ones it started with. */
typedef struct DenialFollow {
        char path[PATH_MAX];
        ino_t ino;
        uint32_t log_id;
        DevLogMaps log;
} DenialFollow;

static int follow_start(PluginQuery *q, const char *name, DenialFollow *f, DevError *err) {
        DeviceCgroup *dc = NULL;
        struct stat st;
        int r = denials_open_log(q, name, &dc, err);
        if (r < 0)
                return r;
        snprintf(f->path, sizeof(f->path), "%s", device_cgroup_path(dc));
        r = dev_log_maps_dup(device_cgroup_log(dc), &f->log, err);
        device_cgroup_free(dc); /* drops the cgroup's lock: a stop never waits for us */
        if (r < 0)
                return r;
        if (stat(f->path, &st) < 0)
                return dev_error_set(err, errno, "cgroup '%s': cannot stat: %m", f->path);
        f->ino = st.st_ino;
        f->log_id = dev_log_maps_id(&f->log);
        return 0;
}

/* NULL while the cgroup and a program of ours using the same log are
 * there; otherwise why the follower ends. */
static const char *follow_gone(const DenialFollow *f) {
        DevObjects ours = DEV_OBJECTS_NONE;
        DevProgramEntry *list = NULL;
        size_t n = 0;
        struct stat st;
        bool same;

        if (stat(f->path, &st) < 0 || st.st_ino != f->ino)
                return "the cgroup was removed";
        _cleanup_close_ int fd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return "the cgroup was removed";
        int r = dev_adopt_scan(fd, f->path, &ours, &list, &n, NULL);
        free(list);
        if (r < 0)
                return NULL; /* cannot tell now (two programs of ours); look again later */
        same = r == 1 && dev_log_maps_present(&ours.log) && dev_log_maps_id(&ours.log) == f->log_id;
        dev_objects_close(&ours);
        return same ? NULL : "the bw_devices program was detached";
}

static void follow_ended(PluginQuery *q, const DenialFollow *f, const char *why) {
        if (q->json) {
                plugin_query_print(q, "{\"cgroup\":");
                plugin_query_print_json_string(q, f->path);
                plugin_query_print(q, ",\"stopped\":");
                plugin_query_print_json_string(q, why);
                plugin_query_print(q, "}\n");
        } else
                plugin_query_print(q, "cgroup %s: %s; stopped following\n", f->path, why);
}

/* One round: events, then dropped ones, then whether to go on.  Returns
 * 1 to go on, 0 when the follower ends, or -errno. */
static int follow_round(DenialPrinter *p, const DenialFollow *f, uint64_t *reported, DevError *err) {
        PluginQuery *q = p->q;
        DevLogTotals totals = {};
        int r = dev_log_consume(&f->log, DENIALS_POLL_MS, denial_print, p, err);
        if (q->error < 0)
                return q->error;
        if (r >= 0)
                r = dev_log_read_totals(&f->log, &totals, reported, err);
        if (r >= 0 && totals.dropped > *reported) {
                if (!q->json)
                        plugin_query_print(q, "... %" PRIu64 " events dropped (ring full)\n", totals.dropped - *reported);
                r = dev_log_mark_reported(&f->log, totals.dropped, err);
                *reported = totals.dropped;
        }
        if (r < 0)
                return r;
        r = plugin_query_alive(q);
        if (r < 0)
                return r;
        const char *why = follow_gone(f);
        if (!why)
                return 1;
        follow_ended(q, f, why);
        return 0;
}

/* Streams events until the cgroup or our program goes, or the reader
 * does (the sink says -EPIPE), which is no error. */
static int denials_follow(PluginQuery *q, const char *name) {
        DenialPrinter p = { .q = q, .offset = dev_log_boot_to_realtime_offset(), .lines = true };
        DenialFollow f = { .log = DEV_LOG_MAPS_NONE };
        uint64_t reported = 0;
        DevError err = {};
        int r;

        r = follow_start(q, name, &f, &err);
        if (r < 0) {
                dev_log_maps_close(&f.log);
                return plugin_query_fail(q, &err, r);
        }
        if (!q->json)
                plugin_query_print(q, "Following denials of cgroup %s (Ctrl+C to stop)...\n", f.path);
        r = plugin_query_flush(q);
        while (r >= 0 && (r = follow_round(&p, &f, &reported, &err)) > 0)
                ;
        if (r == 0)
                r = denials_finish(&p, &f.log, &err);
        dev_log_maps_close(&f.log);
        if (q->error == -EPIPE) {
                q->error = 0; /* the reader went away: the follower is done */
                return 0;
        }
        if (q->error < 0)
                return q->error;
        return r < 0 ? plugin_query_fail(q, &err, r) : 0;
}

int plugin_query_denials(PluginQuery *q, size_t argc, const char *const *argv) {
        bool follow = false, summary = false, bad = false;
        const char *name = NULL;

        for (size_t i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
                        follow = true;
                else if (strcmp(argv[i], "--summary") == 0)
                        summary = true;
                else if (!name && argv[i][0] != '-')
                        name = argv[i];
                else
                        bad = true;
        }
        if (bad || !name || (follow && summary)) {
                DevError err = {};
                dev_error_set(&err, EINVAL, "usage: devices-denials [--follow | --summary] CGROUP");
                return plugin_query_fail(q, &err, -EINVAL);
        }
        if (summary)
                return denials_summary(q, name);
        return follow ? denials_follow(q, name) : denials_read(q, name);
}
