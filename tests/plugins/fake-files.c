/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test plugin with real, observable side effects: each guest resource
 * becomes one change that creates the file <dir>/<resource id>; undo
 * removes it.  Configuration ([plugin:fake-files]):
 *   dir=       where the files go (required)
 *   fail-at=N  the Nth apply of this process fails (-EIO) without a file
 *   crash-at=N the Nth apply creates its file, then the process is killed
 *              with SIGKILL (a crash mid-transaction)
 *   fail-undo= the id whose undo fails (-EIO)
 *   kill-at=N, kill-pid=PID
 *              the Nth apply creates its file, then SIGKILLs PID (say,
 *              bulwark-lockd) and waits until it is dead */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bulwark/plugin.h>

typedef struct FakeState {
        const BwHost *host;
        char dir[512];
        long fail_at, crash_at, kill_at, kill_pid;
        char fail_undo[128];
        long applies;
} FakeState;

static long fake_config_long(const BwHost *host, const char *key) {
        const char *v = host->config(host, key);
        return v ? strtol(v, NULL, 10) : 0;
}

static int fake_init(const BwHost *host, void **ret_state) {
        const char *dir = host->config(host, "dir");
        if (!dir) {
                host->log(host, BW_LOG_ERR, "[plugin:fake-files] dir= is not set");
                return -EINVAL;
        }
        FakeState *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        snprintf(s->dir, sizeof(s->dir), "%s", dir);
        s->fail_at = fake_config_long(host, "fail-at");
        s->crash_at = fake_config_long(host, "crash-at");
        s->kill_at = fake_config_long(host, "kill-at");
        s->kill_pid = fake_config_long(host, "kill-pid");
        const char *fu = host->config(host, "fail-undo");
        snprintf(s->fail_undo, sizeof(s->fail_undo), "%s", fu ? fu : "");
        *ret_state = s;
        return 0;
}

static void fake_fini(void *state) {
        free(state);
}

static int fake_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        FakeState *s = state;
        for (size_t i = 0; i < guest->n_resources; i++) {
                char object[1024];
                const char *id = guest->resources[i].id;
                snprintf(object, sizeof(object), "%s/%s", s->dir, id);
                BwChange c = { .kind = "touch", .object = object, .detail = "create a marker file",
                               .lock_path = object, .data = id, .data_len = strlen(id) + 1 };
                int r = sink->emit(sink, &c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Dead means a zombie or gone: its descriptors are closed by then. */
static void kill_and_wait(pid_t pid) {
        char path[64], buf[256];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        kill(pid, SIGKILL);
        for (int i = 0; i < 2000; i++) {
                FILE *f = fopen(path, "re");
                if (!f)
                        return;
                size_t n = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                buf[n] = '\0';
                const char *p = strrchr(buf, ')');
                if (p && p[1] == ' ' && p[2] == 'Z')
                        return;
                usleep(1000);
        }
}

static int fake_apply(void *state, const BwGuestInfo *guest, const BwChange *change, void *undo,
                      size_t undo_size, size_t *ret_undo_len) {
        FakeState *s = state;
        s->applies++;
        if (s->applies == s->fail_at) {
                s->host->log(s->host, BW_LOG_ERR, "injected failure");
                return -EIO;
        }
        int fd = open(change->object, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        if (s->applies == s->crash_at)
                raise(SIGKILL);
        if (s->applies == s->kill_at && s->kill_pid > 0)
                kill_and_wait((pid_t) s->kill_pid);
        memcpy(undo, "made", 4);
        *ret_undo_len = 4;
        return 0;
}

static int fake_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const void *undo,
                     size_t undo_len) {
        FakeState *s = state;
        if (s->fail_undo[0] && change->data && strcmp(change->data, s->fail_undo) == 0)
                return -EIO;
        if (unlink(change->object) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "fake-files",
        .init = fake_init,
        .fini = fake_fini,
        .plan = fake_plan,
        .apply = fake_apply,
        .undo = fake_undo,
};
