/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks idempotence: apply leaves a '<path>.undo-once' marker and undo
 * removes it, failing when it is already gone.  An undo must be harmless
 * the second time, and for a change that was never applied (a crash
 * between journal and apply). */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "broken.h"

static int undo_once_marker(const BwChange *change, char *buf, size_t size) {
        char path[4096];
        int r = broken_change_path(change, path, sizeof(path));
        if (r < 0)
                return r;
        snprintf(buf, size, "%s.undo-once", path);
        return 0;
}

static int undo_once_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                           const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        char marker[4200];
        int r = undo_once_marker(change, marker, sizeof(marker));

        *ret_undo_len = 0;
        if (r < 0)
                return r;
        int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int undo_once_undo(void *state, const BwGuestInfo *guest, const BwChange *change,
                          const BwApplyContext *ctx, const void *undo, size_t undo_len) {
        char marker[4200];
        int r = undo_once_marker(change, marker, sizeof(marker));

        if (r < 0)
                return r;
        if (unlink(marker) < 0) {
                r = -errno;
                broken_log(state, BW_LOG_ERR, "'%s': cannot remove the marker: %s", marker, strerror(-r));
                return r;
        }
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "undo-once",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .plan = broken_plan,
        .apply = undo_once_apply,
        .undo = undo_once_undo,
        .adopt = broken_adopt,
};
