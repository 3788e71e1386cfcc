/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cgroup-root.h"
#include "dev-attach.h"
#include "dev-error.h"
#include "dev-map.h"
#include "dev-program.h"
#include "device-cgroup.h"
#include "util/fd-util.h"

struct DeviceCgroup {
        char *path;
        int cgroup_fd;
        DeviceCgroupOptions options;
        DevObjects obj;            /* ours; prog_fd < 0 when there is none yet */
        RuleTable *table;          /* image of obj.rules_fd */
        DevProgramEntry *programs;
        size_t n_programs;
        char warning[256];
};

void device_cgroup_free(DeviceCgroup *dc) {
        if (!dc)
                return;
        dev_objects_close(&dc->obj);
        close_fdp(&dc->cgroup_fd); /* drops the flock */
        rule_table_free(dc->table);
        free(dc->programs);
        free(dc->path);
        free(dc);
}

int device_cgroup_open(const char *path, const DeviceCgroupOptions *options, DeviceCgroup **ret,
                       DevError *reterr) {
        DeviceCgroup *dc;
        int r;

        dc = calloc(1, sizeof(*dc));
        if (!dc)
                return -ENOMEM;
        dc->obj = DEV_OBJECTS_NONE;
        dc->options = options ? *options : (DeviceCgroupOptions) {};
        dc->path = strdup(path);
        dc->cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!dc->path || dc->cgroup_fd < 0) {
                r = dc->path ? dev_error_set(reterr, errno, "cgroup '%s': cannot open: %m", path) : -ENOMEM;
                goto fail;
        }
        if (!cgroup_root_is_cgroup2(path)) {
                r = dev_error_set(reterr, ENOTDIR, "cgroup '%s': not a cgroup2 directory", path);
                goto fail;
        }
        if (flock(dc->cgroup_fd, (dc->options.readonly ? LOCK_SH : LOCK_EX) |
                                         (dc->options.nonblocking ? LOCK_NB : 0)) < 0) {
                r = dev_error_set(reterr, errno, "cgroup '%s': cannot lock: %m", path);
                goto fail;
        }
        r = rule_table_new(&dc->table);
        if (r < 0)
                goto fail;
        r = dev_adopt_scan(dc->cgroup_fd, path, &dc->obj, &dc->programs, &dc->n_programs, reterr);
        if (r < 0)
                goto fail;
        if (r == 1) {
                r = dev_map_read(dc->obj.rules_fd, dc->table, reterr);
                if (r < 0) {
                        dev_error_prefix(reterr, "cgroup '%s'", path);
                        goto fail;
                }
        }
        *ret = dc;
        return 0;
fail:
        device_cgroup_free(dc);
        return r;
}

const char *device_cgroup_path(const DeviceCgroup *dc) {
        return dc->path;
}
bool device_cgroup_has_program(const DeviceCgroup *dc) {
        return dc->obj.prog_fd >= 0;
}
uint32_t device_cgroup_prog_id(const DeviceCgroup *dc) {
        return dc->obj.prog_id;
}
uint32_t device_cgroup_map_size(const DeviceCgroup *dc) {
        return dc->obj.max_entries;
}
const RuleTable *device_cgroup_table(const DeviceCgroup *dc) {
        return dc->table;
}
const DevLogMaps *device_cgroup_log(const DeviceCgroup *dc) {
        return dev_log_maps_present(&dc->obj.log) ? &dc->obj.log : NULL;
}
const DevProgramEntry *device_cgroup_programs(const DeviceCgroup *dc, size_t *ret_n) {
        *ret_n = dc->n_programs;
        return dc->programs;
}
const char *device_cgroup_warning(const DeviceCgroup *dc) {
        return dc->warning[0] ? dc->warning : NULL;
}

/* Loads a program for `rules_fd` with our log maps; when the logging
 * program is refused, drops the log (with a warning) rather than fail. */
static int device_cgroup_load(DeviceCgroup *dc, int rules_fd, DevError *reterr) {
        DevProgramMaps maps = { rules_fd, dc->obj.log.log_fd, dc->obj.log.denied_fd, dc->obj.log.totals_fd };
        DevError err = {};
        int fd;

        if (!dev_log_maps_present(&dc->obj.log))
                maps.log_fd = -1;
        fd = dev_program_load(&maps, maps.log_fd >= 0 ? &err : reterr);
        if (fd >= 0 || maps.log_fd < 0)
                return fd >= 0 ? fd : dev_error_prefix(reterr, "cgroup '%s'", dc->path);
        dev_format(dc->warning, sizeof(dc->warning), "cgroup '%s': denial log off: %s", dc->path, err.message);
        dev_log_maps_close(&dc->obj.log);
        maps.log_fd = -1;
        fd = dev_program_load(&maps, reterr);
        return fd >= 0 ? fd : dev_error_prefix(reterr, "cgroup '%s'", dc->path);
}

/* Builds a map holding `table` plus `delta`, a program for it, and puts
 * it in place: attached fresh, or swapped for the current one. */
static int device_cgroup_install(DeviceCgroup *dc, const RuleTable *table, const RuleDelta *delta,
                                 uint32_t min_size, DevError *reterr) {
        _cleanup_close_ int map = -1, prog = -1;
        size_t needed = rule_table_size(table) + (delta ? delta->n_new : 0);
        uint32_t size = dev_map_size_for(min_size, needed);
        int r;

        if (needed > size)
                return dev_error_set(reterr, E2BIG, "cgroup '%s': %zu device rule entries exceed the limit of %u",
                                     dc->path, needed, DEV_MAP_MAX_ENTRIES);
        if (dc->obj.prog_fd < 0 && dc->options.log_ring_size > 0 && !dev_log_maps_present(&dc->obj.log)) {
                DevError err = {};
                if (dev_log_maps_create(dc->options.log_ring_size, &dc->obj.log, &err) < 0)
                        dev_format(dc->warning, sizeof(dc->warning), "cgroup '%s': denial log off: %s", dc->path,
                                 err.message);
        }
        map = dev_map_create(size, reterr);
        if (map < 0)
                return dev_error_prefix(reterr, "cgroup '%s'", dc->path);
        r = dev_map_fill(map, table, reterr);
        if (r >= 0 && delta)
                r = dev_map_write(map, delta, reterr);
        if (r < 0)
                return r == -E2BIG ? dev_error_set(reterr, r, "cgroup '%s': rule map full", dc->path)
                                   : dev_error_prefix(reterr, "cgroup '%s'", dc->path);
        prog = device_cgroup_load(dc, map, reterr);
        if (prog < 0)
                return prog;
        if (dc->obj.prog_fd >= 0)
                r = dev_attach_replace(dc->cgroup_fd, dc->path, dc->obj.prog_fd, prog, reterr);
        else
                r = dev_attach_add(dc->cgroup_fd, dc->path, prog, reterr);
        if (r < 0)
                return r;
        close_fdp(&dc->obj.prog_fd);
        close_fdp(&dc->obj.rules_fd);
        dc->obj.prog_fd = steal_fd(&prog);
        dc->obj.rules_fd = steal_fd(&map);
        dc->obj.max_entries = size;
        dc->obj.prog_id = 0;
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(dc->obj.prog_fd, &info, &len) == 0)
                dc->obj.prog_id = info.id;
        return 0;
}

/* Makes one compiled change live and records it in the table. */
static int device_cgroup_write(DeviceCgroup *dc, const RuleDelta *delta, DevError *reterr) {
        int r;

        if (dc->options.readonly)
                return dev_error_set(reterr, EROFS, "cgroup '%s': opened read-only", dc->path);
        if (delta->n == 0 && dc->obj.prog_fd >= 0)
                return 0;
        if (dc->obj.prog_fd < 0 || rule_table_size(dc->table) + delta->n_new > dc->obj.max_entries)
                r = device_cgroup_install(dc, dc->table, delta,
                                          dc->obj.prog_fd < 0 ? DEV_MAP_MIN_ENTRIES : dc->obj.max_entries * 2,
                                          reterr);
        else {
                r = dev_map_write(dc->obj.rules_fd, delta, reterr);
                if (r == -E2BIG) /* someone else filled it: grow past them */
                        r = device_cgroup_install(dc, dc->table, delta, dc->obj.max_entries * 2, reterr);
                else if (r < 0)
                        dev_error_prefix(reterr, "cgroup '%s'", dc->path);
        }
        if (r < 0)
                return r;
        return rule_table_commit(dc->table, delta);
}

int device_cgroup_apply(DeviceCgroup *dc, const DeviceRule *rules, size_t n, DevError *reterr) {
        int r;

        if (dc->obj.prog_fd < 0 && n > 0) {
                /* Nothing is live yet: build the whole table, then install it once. */
                r = rule_table_apply_rules(dc->table, rules, n);
                if (r < 0)
                        return dev_error_set(reterr, r, "cgroup '%s': cannot compile device rules: %m", dc->path);
                if (dc->options.readonly)
                        r = dev_error_set(reterr, EROFS, "cgroup '%s': opened read-only", dc->path);
                else
                        r = device_cgroup_install(dc, dc->table, NULL, DEV_MAP_MIN_ENTRIES, reterr);
                if (r < 0) {
                        /* Nothing went live: the image goes back to empty. */
                        rule_table_free(dc->table);
                        dc->table = NULL;
                        if (rule_table_new(&dc->table) < 0)
                                return -ENOMEM;
                }
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                RuleDelta delta = {};
                r = rule_table_compile(dc->table, &rules[i], &delta);
                if (r < 0)
                        r = dev_error_set(reterr, r, "cgroup '%s': cannot compile device rule: %m", dc->path);
                else
                        r = device_cgroup_write(dc, &delta, reterr);
                rule_delta_clear(&delta);
                if (r < 0)
                        return r;
        }
        return 0;
}

int device_cgroup_reset(DeviceCgroup *dc, const DeviceRule *rules, size_t n, DevError *reterr) {
        RuleTable *fresh = NULL;
        int r;

        if (dc->options.readonly)
                return dev_error_set(reterr, EROFS, "cgroup '%s': opened read-only", dc->path);
        r = rule_table_new(&fresh);
        if (r >= 0)
                r = rule_table_apply_rules(fresh, rules, n);
        if (r < 0) {
                rule_table_free(fresh);
                return dev_error_set(reterr, r, "cgroup '%s': cannot compile device rules: %m", dc->path);
        }
        r = device_cgroup_install(dc, fresh, NULL, DEV_MAP_MIN_ENTRIES, reterr);
        if (r < 0) {
                rule_table_free(fresh);
                return r;
        }
        rule_table_free(dc->table);
        dc->table = fresh;
        return 0;
}

int device_cgroup_set_exact(DeviceCgroup *dc, unsigned type, uint32_t major, uint32_t minor, unsigned mask,
                            DevError *reterr) {
        RuleDelta delta = {};
        int r = rule_table_compile_exact(dc->table, type, major, minor, mask, &delta);
        if (r < 0)
                return dev_error_set(reterr, r, "cgroup '%s': bad exact entry %u:%u: %m", dc->path, major, minor);
        r = device_cgroup_write(dc, &delta, reterr);
        rule_delta_clear(&delta);
        return r;
}

void device_cgroup_decide(const DeviceCgroup *dc, unsigned type, uint32_t major, uint32_t minor,
                          RuleDecision *ret) {
        rule_table_decide(dc->table, type, major, minor, ret);
}

int device_cgroup_remove(DeviceCgroup *dc, DevError *reterr) {
        int r;

        if (dc->options.readonly)
                return dev_error_set(reterr, EROFS, "cgroup '%s': opened read-only", dc->path);
        r = dev_adopt_detach_ours(dc->cgroup_fd, dc->path, reterr);
        if (r < 0)
                return r;
        dev_objects_close(&dc->obj);
        rule_table_free(dc->table);
        dc->table = NULL;
        return rule_table_new(&dc->table) < 0 ? -ENOMEM : r;
}
