/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dev-adopt.h"
#include "dev-attach.h"
#include "dev-error.h"
#include "dev-map.h"
#include "dev-program.h"
#include "util/fd-util.h"

void dev_objects_close(DevObjects *o) {
        close_fdp(&o->prog_fd);
        close_fdp(&o->rules_fd);
        dev_log_maps_close(&o->log);
        *o = DEV_OBJECTS_NONE;
}

/* Opens map `id` and records it in *o when its name and layout are one of
 * ours.  Returns 1 when it was recognised, 0 when not (unknown name: the
 * program is not ours), -EPROTO on a name with the wrong layout. */
static int dev_adopt_map(uint32_t id, DevObjects *o) {
        struct bpf_map_info info = {};
        uint32_t len = sizeof(info);
        _cleanup_close_ int fd = bpf_map_get_fd_by_id(id);
        int *slot = NULL;
        bool ok;

        if (fd < 0)
                return -errno;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return -errno;
        if (strcmp(info.name, DEV_MAP_NAME) == 0) {
                ok = info.type == BPF_MAP_TYPE_HASH && info.key_size == 8 && info.value_size == 4;
                slot = &o->rules_fd;
                if (ok) {
                        o->rules_id = info.id;
                        o->max_entries = info.max_entries;
                }
        } else if (strcmp(info.name, DEV_LOG_MAP_NAME) == 0) {
                ok = info.type == BPF_MAP_TYPE_RINGBUF;
                slot = &o->log.log_fd;
                if (ok)
                        o->log.ring_size = info.max_entries;
        } else if (strcmp(info.name, DEV_LOG_DENIED_MAP_NAME) == 0) {
                ok = info.type == BPF_MAP_TYPE_LRU_HASH && info.key_size == sizeof(DevLogCountKey) &&
                     info.value_size == sizeof(uint64_t);
                slot = &o->log.denied_fd;
        } else if (strcmp(info.name, DEV_LOG_TOTALS_MAP_NAME) == 0) {
                ok = info.type == BPF_MAP_TYPE_ARRAY && info.key_size == 4 &&
                     info.value_size == sizeof(DevLogTotals) && info.max_entries == 2;
                slot = &o->log.totals_fd;
        } else
                return 0;
        if (!ok || *slot >= 0)
                return -EPROTO;
        *slot = steal_fd(&fd);
        return 1;
}

int dev_adopt_program(uint32_t prog_id, DevObjects *ret, char name[static BPF_OBJ_NAME_LEN]) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info), map_ids[8] = {};
        DevObjects o = DEV_OBJECTS_NONE;
        int r;

        /* A program we cannot open or read (gone meanwhile, or kept from us
         * by an LSM) is not one we could manage: foreign. */
        strcpy(name, "?");
        o.prog_fd = bpf_prog_get_fd_by_id(prog_id);
        if (o.prog_fd < 0)
                return 0;
        info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
        info.map_ids = (uint64_t) (uintptr_t) map_ids;
        if (bpf_obj_get_info_by_fd(o.prog_fd, &info, &len) < 0) {
                dev_objects_close(&o);
                return 0;
        }
        memcpy(name, info.name, BPF_OBJ_NAME_LEN);
        name[BPF_OBJ_NAME_LEN - 1] = '\0';
        r = 0;
        if (info.type == BPF_PROG_TYPE_CGROUP_DEVICE && strcmp(info.name, DEV_PROGRAM_NAME) == 0 &&
            info.nr_map_ids >= 1 && info.nr_map_ids <= sizeof(map_ids) / sizeof(map_ids[0])) {
                r = 1;
                for (uint32_t i = 0; i < info.nr_map_ids && r == 1; i++) {
                        int k = dev_adopt_map(map_ids[i], &o);
                        if (k <= 0)
                                r = 0;
                }
                bool log_some = o.log.log_fd >= 0 || o.log.denied_fd >= 0 || o.log.totals_fd >= 0;
                if (o.rules_fd < 0 || (log_some && !dev_log_maps_present(&o.log)))
                        r = 0;
        }
        if (r == 1 && ret) {
                o.prog_id = prog_id;
                *ret = o;
        } else
                dev_objects_close(&o);
        return r;
}

int dev_adopt_scan(int cgroup_fd, const char *path, DevObjects *ours, DevProgramEntry **ret_list,
                   size_t *ret_n, DevError *reterr) {
        uint32_t *own = NULL, *eff = NULL, n_own = 0, n_eff = 0;
        DevProgramEntry *list = NULL;
        DevObjects found = DEV_OBJECTS_NONE;
        size_t n = 0;
        int r, n_ours = 0;

        r = dev_attach_query(cgroup_fd, path, false, &own, &n_own, NULL, reterr);
        if (r < 0)
                return r;
        r = dev_attach_query(cgroup_fd, path, true, &eff, &n_eff, NULL, reterr);
        if (r < 0)
                goto finish;
        list = calloc(n_own + n_eff + 1, sizeof(*list));
        if (!list) {
                r = -ENOMEM;
                goto finish;
        }
        for (uint32_t i = 0; i < n_own; i++) {
                DevObjects o = DEV_OBJECTS_NONE;
                DevProgramEntry *e = &list[n++];
                e->id = own[i];
                r = dev_adopt_program(own[i], &o, e->name);
                if (r < 0)
                        goto finish;
                e->ours = r == 1;
                if (e->ours && ++n_ours == 1)
                        found = o;
                else
                        dev_objects_close(&o);
        }
        for (uint32_t i = 0; i < n_eff; i++) {
                bool mine = false;
                for (uint32_t j = 0; j < n_own; j++)
                        mine = mine || own[j] == eff[i];
                if (mine)
                        continue;
                DevProgramEntry *e = &list[n++];
                e->id = eff[i];
                e->inherited = true;
                r = dev_adopt_program(eff[i], NULL, e->name);
                if (r < 0)
                        goto finish;
                e->ours = r == 1;
        }
        if (n_ours > 1) {
                r = dev_error_set(reterr, ENOTUNIQ,
                                  "cgroup '%s': %d programs look like bulwark's bw_devices; refusing to choose one",
                                  path, n_ours);
                goto finish;
        }
        r = n_ours;
        if (ours) {
                *ours = found;
                found = DEV_OBJECTS_NONE;
        }
        if (ret_list) {
                *ret_list = list;
                *ret_n = n;
                list = NULL;
        }
finish:
        dev_objects_close(&found);
        free(list);
        free(own);
        free(eff);
        return r;
}

int dev_adopt_detach_ours(int cgroup_fd, const char *path, DevError *reterr) {
        uint32_t *ids = NULL, n = 0;
        int r, detached = 0;

        r = dev_attach_query(cgroup_fd, path, false, &ids, &n, NULL, reterr);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n; i++) {
                DevObjects o = DEV_OBJECTS_NONE;
                char name[BPF_OBJ_NAME_LEN];
                r = dev_adopt_program(ids[i], &o, name);
                if (r < 0)
                        break;
                if (r == 1) {
                        r = dev_attach_remove(cgroup_fd, path, o.prog_fd, reterr);
                        if (r == -ENOENT)
                                r = 0;
                        else if (r == 0)
                                detached++;
                }
                dev_objects_close(&o);
                if (r < 0)
                        break;
        }
        free(ids);
        return r < 0 ? r : detached;
}
