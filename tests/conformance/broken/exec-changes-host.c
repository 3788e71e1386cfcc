/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks exec_attrs: besides answering, it leaves a file next to the
 * first guest path.  exec_attrs only tells what the process needs; the
 * host is changed by apply, under the journal, or not at all. */
#include "config.h"

#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>

#include "broken.h"

static int exec_changes_host_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        if (guest->n_resources > 0 && guest->resources[0]->n_paths > 0) {
                char dir[4096], file[4200];
                snprintf(dir, sizeof(dir), "%s", guest->resources[0]->paths[0]);
                snprintf(file, sizeof(file), "%s/exec-changes-host.tmp", dirname(dir));
                int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0)
                        close(fd);
        }
        return sink->set_identity(sink, guest->uid, guest->gid, 0, NULL);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "exec-changes-host",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .plan = broken_plan,
        .exec_attrs = exec_changes_host_exec_attrs,
};
