/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks plan: leaves a file next to the first guest path.  plan()
 * must not change anything on the host ('explain' runs it for people). */
#include "config.h"

#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>

#include "broken.h"

static int plan_side_effect_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        if (guest->n_resources > 0 && guest->resources[0]->n_paths > 0) {
                char dir[4096], file[4200];
                snprintf(dir, sizeof(dir), "%s", guest->resources[0]->paths[0]);
                snprintf(file, sizeof(file), "%s/plan-side-effect.tmp", dirname(dir));
                int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0)
                        close(fd);
        }
        return broken_plan(state, guest, sink);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "plan-side-effect",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = plan_side_effect_plan,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
