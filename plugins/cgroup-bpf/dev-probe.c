/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dev-error.h"
#include "dev-log.h"
#include "dev-map.h"
#include "dev-probe.h"
#include "dev-program.h"
#include "util/fd-util.h"

static void dev_probe_log(DevProbe *p) {
        DevLogMaps log = DEV_LOG_MAPS_NONE;
        DevError err = {};
        _cleanup_close_ int rules = -1, prog = -1;

        if (dev_log_maps_create(4096, &log, &err) < 0) {
                dev_format(p->log_reason, sizeof(p->log_reason), "%s", err.message);
                return;
        }
        rules = dev_map_create(DEV_MAP_MIN_ENTRIES, &err);
        if (rules >= 0) {
                DevProgramMaps maps = { rules, log.log_fd, log.denied_fd, log.totals_fd };
                prog = dev_program_load(&maps, &err);
        }
        if (prog < 0)
                dev_format(p->log_reason, sizeof(p->log_reason),
                         "the kernel refuses the logging program (ring buffer or helpers missing): %s", err.message);
        else
                p->denial_log = true;
        dev_log_maps_close(&log);
}

int dev_probe_run(const char *configured_root, DevProbe *p) {
        static const struct bpf_insn allow_all[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        _cleanup_close_ int root_fd = -1, prog = -1, devnull = -1;
        uint32_t flags = 0, cnt = 0;
        char *root = NULL;
        DevError err = {};
        int r;

        *p = (DevProbe) {};
        r = cgroup_root_discover(configured_root, &root, &p->mode, &err);
        if (r < 0) {
                dev_format(p->reason, sizeof(p->reason), "%s", err.message);
                return r;
        }
        snprintf(p->root, sizeof(p->root), "%s", root);
        free(root);

        root_fd = open(p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd >= 0 && bpf_prog_query(root_fd, BPF_CGROUP_DEVICE, 0, &flags, NULL, &cnt) == 0)
                p->query = true;
        else if (root_fd < 0)
                dev_format(p->reason, sizeof(p->reason), "cgroup root '%s': cannot open: %s", p->root, strerror(errno));
        else
                dev_format(p->reason, sizeof(p->reason), "kernel lacks BPF_PROG_QUERY for device programs on '%s': %s",
                         p->root, strerror(errno));

        prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "bw_probe", "GPL", allow_all, 2, NULL);
        if (prog >= 0)
                p->device_programs = true;
        else if (!p->reason[0])
                dev_format(p->reason, sizeof(p->reason), "kernel refuses BPF_PROG_TYPE_CGROUP_DEVICE programs: %s",
                         strerror(errno));

        if (p->device_programs) {
                /* A non-cgroup target: a kernel that knows the flags fails
                 * on the target (EBADF), an older one on the flags (EINVAL). */
                devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE,
                            .replace_prog_fd = prog);
                if (devnull >= 0 && bpf_prog_attach_opts(prog, devnull, BPF_CGROUP_DEVICE, &opts) < 0 &&
                    errno == EBADF)
                        p->replace = true;
                else if (!p->reason[0])
                        dev_format(p->reason, sizeof(p->reason),
                                 "kernel lacks BPF_F_REPLACE for cgroup programs (Linux 5.6 or later needed)");
                int link = devnull >= 0 ? bpf_link_create(prog, devnull, BPF_CGROUP_DEVICE, NULL) : -1;
                if (link >= 0)
                        close(link);
                else if (errno == EBADF)
                        p->links = true;
                dev_probe_log(p);
        } else
                dev_format(p->log_reason, sizeof(p->log_reason), "no device programs");

        p->usable = p->query && p->device_programs && p->replace;
        return p->usable ? 0 : -EOPNOTSUPP;
}
