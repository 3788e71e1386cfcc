/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev-error.h"
#include "dev-log.h"
#include "device-rule.h"
#include "util/fd-util.h"

void dev_log_maps_close(DevLogMaps *maps) {
        close_fdp(&maps->log_fd);
        close_fdp(&maps->denied_fd);
        close_fdp(&maps->totals_fd);
        *maps = DEV_LOG_MAPS_NONE;
}

int dev_log_maps_dup(const DevLogMaps *maps, DevLogMaps *ret, DevError *reterr) {
        DevLogMaps m = DEV_LOG_MAPS_NONE;

        m.ring_size = maps->ring_size;
        m.log_fd = fcntl(maps->log_fd, F_DUPFD_CLOEXEC, 3);
        if (m.log_fd >= 0)
                m.denied_fd = fcntl(maps->denied_fd, F_DUPFD_CLOEXEC, 3);
        if (m.denied_fd >= 0)
                m.totals_fd = fcntl(maps->totals_fd, F_DUPFD_CLOEXEC, 3);
        if (m.totals_fd < 0) {
                int r = dev_error_set(reterr, errno, "denial log: cannot duplicate map descriptors: %m");
                dev_log_maps_close(&m);
                return r;
        }
        *ret = m;
        return 0;
}

uint32_t dev_log_maps_id(const DevLogMaps *maps) {
        struct bpf_map_info info = {};
        uint32_t len = sizeof(info);
        return bpf_obj_get_info_by_fd(maps->log_fd, &info, &len) == 0 ? info.id : 0;
}

bool dev_log_ring_size_is_valid(uint32_t size) {
        long page = sysconf(_SC_PAGESIZE);
        return size >= (uint32_t) page && (size & (size - 1)) == 0;
}

int dev_log_maps_create(uint32_t ring_size, DevLogMaps *ret, DevError *reterr) {
        DevLogMaps m = DEV_LOG_MAPS_NONE;

        if (!dev_log_ring_size_is_valid(ring_size))
                return dev_error_set(reterr, EINVAL,
                                     "denial log: ring size %u is not a power of two of at least one page", ring_size);
        m.log_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, DEV_LOG_MAP_NAME, 0, 0, ring_size, NULL);
        if (m.log_fd < 0)
                return dev_error_set(reterr, errno, "denial log: cannot create ring buffer map: %m");
        m.ring_size = ring_size;
        m.denied_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, DEV_LOG_DENIED_MAP_NAME, sizeof(DevLogCountKey),
                                     sizeof(uint64_t), DEV_LOG_DENIED_ENTRIES, NULL);
        if (m.denied_fd < 0) {
                int r = dev_error_set(reterr, errno, "denial log: cannot create counter map: %m");
                dev_log_maps_close(&m);
                return r;
        }
        m.totals_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, DEV_LOG_TOTALS_MAP_NAME, sizeof(uint32_t),
                                     sizeof(DevLogTotals), 2, NULL);
        if (m.totals_fd < 0) {
                int r = dev_error_set(reterr, errno, "denial log: cannot create totals map: %m");
                dev_log_maps_close(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int dev_log_read_totals(const DevLogMaps *maps, DevLogTotals *ret_totals, uint64_t *ret_reported_dropped,
                        DevError *reterr) {
        uint32_t slot = DEV_LOG_TOTALS_SLOT;
        DevLogTotals t = {}, mark = {};

        if (bpf_map_lookup_elem(maps->totals_fd, &slot, &t) < 0)
                return dev_error_set(reterr, errno, "denial log: cannot read totals: %m");
        slot = DEV_LOG_READER_SLOT;
        if (bpf_map_lookup_elem(maps->totals_fd, &slot, &mark) < 0)
                return dev_error_set(reterr, errno, "denial log: cannot read reader mark: %m");
        if (ret_totals)
                *ret_totals = t;
        if (ret_reported_dropped)
                *ret_reported_dropped = mark.dropped;
        return 0;
}

int dev_log_mark_reported(const DevLogMaps *maps, uint64_t dropped, DevError *reterr) {
        uint32_t slot = DEV_LOG_READER_SLOT;
        DevLogTotals mark = { .dropped = dropped };

        /* Only readers write slot 1; the program adds to slot 0 alone. */
        if (bpf_map_update_elem(maps->totals_fd, &slot, &mark, BPF_ANY) < 0)
                return dev_error_set(reterr, errno, "denial log: cannot store reader mark: %m");
        return 0;
}

static int dev_log_count_cmp(const void *a, const void *b) {
        const DevLogCount *x = a, *y = b;
        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        if (x->key.type != y->key.type)
                return x->key.type < y->key.type ? -1 : 1;
        if (x->key.major != y->key.major)
                return x->key.major < y->key.major ? -1 : 1;
        if (x->key.minor != y->key.minor)
                return x->key.minor < y->key.minor ? -1 : 1;
        return x->key.access < y->key.access ? -1 : x->key.access > y->key.access;
}

int dev_log_read_counts(const DevLogMaps *maps, DevLogCount **ret, size_t *ret_n, DevError *reterr) {
        DevLogCountKey key, next;
        DevLogCount *list = NULL;
        size_t n = 0, allocated = 0;
        bool first = true;

        for (;;) {
                uint64_t count;
                if (bpf_map_get_next_key(maps->denied_fd, first ? NULL : &key, &next) < 0) {
                        if (errno == ENOENT)
                                break;
                        free(list);
                        return dev_error_set(reterr, errno, "denial log: cannot walk counters: %m");
                }
                first = false;
                key = next;
                if (bpf_map_lookup_elem(maps->denied_fd, &key, &count) < 0) {
                        if (errno == ENOENT)
                                continue; /* evicted meanwhile */
                        free(list);
                        return dev_error_set(reterr, errno, "denial log: cannot read counter: %m");
                }
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 32;
                        DevLogCount *nl = realloc(list, na * sizeof(*list));
                        if (!nl) {
                                free(list);
                                return -ENOMEM;
                        }
                        list = nl;
                        allocated = na;
                }
                list[n++] = (DevLogCount) { key, count };
        }
        if (n > 0)
                qsort(list, n, sizeof(*list), dev_log_count_cmp);
        *ret = list;
        *ret_n = n;
        return 0;
}

typedef struct ConsumeContext {
        DevLogEventFn cb;
        void *userdata;
        int count;
} ConsumeContext;

static int dev_log_sample(void *ctx, void *data, size_t size) {
        ConsumeContext *c = ctx;
        DevLogEvent ev = {};

        /* A short record cannot come from our program; skip it. */
        if (size < sizeof(ev))
                return 0;
        memcpy(&ev, data, sizeof(ev));
        c->count++;
        return c->cb(&ev, c->userdata);
}

int dev_log_consume(const DevLogMaps *maps, int timeout_ms, DevLogEventFn cb, void *userdata,
                    DevError *reterr) {
        ConsumeContext c = { cb, userdata, 0 };
        struct ring_buffer *rb;
        int r;

        rb = ring_buffer__new(maps->log_fd, dev_log_sample, &c, NULL);
        if (!rb)
                return dev_error_set(reterr, errno, "denial log: cannot map the ring buffer: %m");
        if (timeout_ms > 0) {
                r = ring_buffer__poll(rb, timeout_ms);
                if (r >= 0)
                        r = ring_buffer__consume(rb);
        } else
                r = ring_buffer__consume(rb);
        ring_buffer__free(rb);
        if (r < 0 && r != -EINTR)
                return dev_error_set(reterr, r, "denial log: cannot read events: %m");
        return c.count;
}

void dev_log_node_name(unsigned type, uint32_t major, uint32_t minor, char *buf, size_t size) {
        char path[96], line[256];
        FILE *f;

        snprintf(buf, size, "-");
        snprintf(path, sizeof(path), "/sys/dev/%s/%u:%u/uevent", type == DEVICE_TYPE_BLOCK ? "block" : "char",
                 major, minor);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "DEVNAME=", 8) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(buf, size, "/dev/%s", line + 8);
                        break;
                }
        fclose(f);
}

int64_t dev_log_boot_to_realtime_offset(void) {
        struct timespec real, boot;
        clock_gettime(CLOCK_REALTIME, &real);
        clock_gettime(CLOCK_BOOTTIME, &boot);
        return ((int64_t) real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
}
