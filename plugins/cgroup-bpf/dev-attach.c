/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "dev-attach.h"
#include "dev-error.h"

int dev_attach_query(int cgroup_fd, const char *path, bool effective, uint32_t **ret_ids, uint32_t *ret_n,
                     uint32_t *ret_attach_flags, DevError *reterr) {
        uint32_t n = 16, flags = 0;
        uint32_t *ids = NULL;

        for (;;) {
                uint32_t *nids = realloc(ids, n * sizeof(*ids));
                uint32_t cnt = n;
                if (!nids) {
                        free(ids);
                        return -ENOMEM;
                }
                ids = nids;
                /* libbpf passes the full union bpf_attr, so the kernel's
                 * write-back of query.revision stays inside it. */
                if (bpf_prog_query(cgroup_fd, BPF_CGROUP_DEVICE, effective ? BPF_F_QUERY_EFFECTIVE : 0, &flags,
                                   ids, &cnt) == 0) {
                        n = cnt;
                        break;
                }
                if (errno != ENOSPC || cnt <= n) {
                        int r = -errno;
                        free(ids);
                        return dev_error_set(reterr, r, "cgroup '%s': cannot query device programs: %m", path);
                }
                n = cnt;
        }
        if (n == 0) {
                free(ids);
                ids = NULL;
        }
        *ret_ids = ids;
        *ret_n = n;
        if (ret_attach_flags)
                *ret_attach_flags = flags;
        return 0;
}

int dev_attach_add(int cgroup_fd, const char *path, int prog_fd, DevError *reterr) {
        LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI);
        if (bpf_prog_attach_opts(prog_fd, cgroup_fd, BPF_CGROUP_DEVICE, &opts) < 0) {
                int r = -errno;
                if (r == -EPERM)
                        return dev_error_set(reterr, r,
                                             "cgroup '%s': cannot attach device program: %m (a program attached there without BPF_F_ALLOW_MULTI forbids others)",
                                             path);
                return dev_error_set(reterr, r, "cgroup '%s': cannot attach device program: %m", path);
        }
        return 0;
}

int dev_attach_replace(int cgroup_fd, const char *path, int old_prog_fd, int new_prog_fd, DevError *reterr) {
        LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
                    .replace_prog_fd = old_prog_fd);
        if (bpf_prog_attach_opts(new_prog_fd, cgroup_fd, BPF_CGROUP_DEVICE, &opts) < 0)
                return dev_error_set(reterr, errno, "cgroup '%s': cannot replace device program: %m", path);
        return 0;
}

int dev_attach_remove(int cgroup_fd, const char *path, int prog_fd, DevError *reterr) {
        if (bpf_prog_detach2(prog_fd, cgroup_fd, BPF_CGROUP_DEVICE) < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return dev_error_set(reterr, errno, "cgroup '%s': cannot detach device program: %m", path);
        }
        return 0;
}
