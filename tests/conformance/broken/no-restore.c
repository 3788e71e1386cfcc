/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks undo: apply makes every guest path mode 0600 and leaves a
 * '<path>.applied' file beside it; undo restores neither. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broken.h"

static int no_restore_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                            const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        char path[4096], marker[4200];
        int r = broken_change_path(change, path, sizeof(path));

        *ret_undo_len = 0;
        if (r < 0)
                return r;
        if (chmod(path, 0600) < 0)
                return -errno;
        snprintf(marker, sizeof(marker), "%s.applied", path);
        int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "no-restore",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = no_restore_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
};
