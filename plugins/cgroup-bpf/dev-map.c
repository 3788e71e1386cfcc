/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdbool.h>

#include <bpf/bpf.h>

#include "dev-error.h"
#include "dev-map.h"

int dev_map_create(uint32_t max_entries, DevError *reterr) {
        int fd = bpf_map_create(BPF_MAP_TYPE_HASH, DEV_MAP_NAME, sizeof(uint64_t), sizeof(uint32_t),
                                max_entries, NULL);
        if (fd < 0)
                return dev_error_set(reterr, errno, "device rule map (%u entries): cannot create: %m", max_entries);
        return fd;
}

int dev_map_read(int map_fd, RuleTable *table, DevError *reterr) {
        uint64_t key, next;
        bool first = true;

        for (;;) {
                uint32_t value;
                if (bpf_map_get_next_key(map_fd, first ? NULL : &key, &next) < 0) {
                        if (errno == ENOENT)
                                return 0;
                        return dev_error_set(reterr, errno, "device rule map: cannot walk keys: %m");
                }
                first = false;
                key = next;
                if (bpf_map_lookup_elem(map_fd, &key, &value) < 0)
                        return dev_error_set(reterr, errno, "device rule map: cannot read entry %#llx: %m",
                                             (unsigned long long) key);
                int r = rule_table_put(table, key, value);
                if (r < 0)
                        return dev_error_set(reterr, r, "device rule map: %m");
        }
}

int dev_map_write(int map_fd, const RuleDelta *delta, DevError *reterr) {
        for (size_t i = 0; i < delta->n; i++) {
                const RuleWrite *w = &delta->writes[i];
                if (w->new_value == 0) {
                        if (bpf_map_delete_elem(map_fd, &w->key) < 0 && errno != ENOENT)
                                return dev_error_set(reterr, errno, "device rule map: cannot delete entry %#llx: %m",
                                                     (unsigned long long) w->key);
                        continue;
                }
                if (bpf_map_update_elem(map_fd, &w->key, &w->new_value, w->existed ? BPF_EXIST : BPF_NOEXIST) < 0) {
                        int r = -errno;
                        if (r == -E2BIG)
                                return r;
                        return dev_error_set(reterr, r, "device rule map: cannot %s entry %#llx: %m",
                                             w->existed ? "update" : "insert", (unsigned long long) w->key);
                }
        }
        return 0;
}

int dev_map_fill(int map_fd, const RuleTable *table, DevError *reterr) {
        size_t cursor = 0;
        uint64_t key;
        uint32_t value;

        while (rule_table_next(table, &cursor, &key, &value))
                if (bpf_map_update_elem(map_fd, &key, &value, BPF_NOEXIST) < 0)
                        return dev_error_set(reterr, errno, "device rule map: cannot copy entry %#llx: %m",
                                             (unsigned long long) key);
        return 0;
}

uint32_t dev_map_size_for(uint32_t current, size_t needed) {
        uint32_t size = current < DEV_MAP_MIN_ENTRIES ? DEV_MAP_MIN_ENTRIES : current;
        while (size < needed && size < DEV_MAP_MAX_ENTRIES)
                size *= 2;
        return size;
}
