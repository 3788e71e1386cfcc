/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test plugin with an adopt() that looks at the host, as a real plugin's
 * does: it makes no change, and adopts a guest only when the marker file
 * the fake-files plugin made for each of its resources (<dir>/<resource
 * id>) is still there; a marker removed behind bulwark's back makes it
 * return -ENOENT, the "host state gone" answer.  Configuration
 * ([plugin:adopt-check]):
 *   dir=        where fake-files puts its markers (required)
 *   fail-guest= the guest whose adopt fails with -EIO (not "gone")
 *   log=PATH    each adopt appends "adopt <name> <uuid> <cgroup> <n resources>" */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bulwark/plugin.h>

typedef struct CheckState {
        const BwHost *host;
        char dir[512];
        char fail_guest[128];
        char log[512];
} CheckState;

static void check_copy(char *dst, size_t size, const char *value) {
        snprintf(dst, size, "%s", value ? value : "");
}

static int check_init(const BwHost *host, void **ret_state) {
        const char *dir = host->config(host, "dir");
        if (!dir) {
                host->log(host, BW_LOG_ERR, "[plugin:adopt-check] dir= is not set");
                return -EINVAL;
        }
        CheckState *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        check_copy(s->dir, sizeof(s->dir), dir);
        check_copy(s->fail_guest, sizeof(s->fail_guest), host->config(host, "fail-guest"));
        check_copy(s->log, sizeof(s->log), host->config(host, "log"));
        *ret_state = s;
        return 0;
}

static void check_fini(void *state) {
        free(state);
}

static void check_log_call(CheckState *s, const BwGuestInfo *guest) {
        if (!s->log[0])
                return;
        FILE *f = fopen(s->log, "ae");
        if (!f)
                return;
        fprintf(f, "adopt %s %s %s %zu\n", guest->name, guest->uuid, guest->cgroup ? guest->cgroup : "-",
                guest->n_resources);
        fclose(f);
}

static int check_adopt(void *state, const BwGuestInfo *guest) {
        CheckState *s = state;
        char marker[1024];

        check_log_call(s, guest);
        if (s->fail_guest[0] && strcmp(guest->name, s->fail_guest) == 0) {
                s->host->log(s->host, BW_LOG_ERR, "injected adopt failure");
                return -EIO;
        }
        for (size_t i = 0; i < guest->n_resources; i++) {
                snprintf(marker, sizeof(marker), "%s/%s", s->dir, guest->resources[i]->id);
                if (access(marker, F_OK) < 0) {
                        char msg[1200];
                        snprintf(msg, sizeof(msg), "guest '%s': marker '%s' is gone", guest->name, marker);
                        s->host->log(s->host, BW_LOG_ERR, msg);
                        return -ENOENT;
                }
        }
        return 0;
}

static const char *const check_config_keys[] = { "dir", "fail-guest", "log", NULL };

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "adopt-check",
        .config_keys = check_config_keys,
        .init = check_init,
        .fini = check_fini,
        .adopt = check_adopt,
};
