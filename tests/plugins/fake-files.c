/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test plugin with real, observable side effects: each guest resource
 * becomes one change that creates the file <dir>/<resource id>; undo
 * removes it.  Attaching a resource plans the same change for it;
 * detaching one plans a "remove" change of its file, whose undo creates
 * the file again.  Configuration ([plugin:fake-files]):
 *   dir=       where the files go (required)
 *   fail-at=N  the Nth apply of this process fails (-EIO) without a file
 *   crash-at=N the Nth apply creates its file, then the process is killed
 *              with SIGKILL (a crash mid-transaction)
 *   crash-before=N  the process is killed as the Nth apply begins, before
 *              it changes anything (a crash after the batch's INTENTs)
 *   fail-undo= the id whose undo fails (-EIO)
 *   kill-at=N, kill-pid=PID
 *              the Nth apply creates its file, then SIGKILLs PID (say,
 *              bulwark-lockd) and waits until it is dead
 *   lock=PATH  every change locks PATH instead of its own file
 *   lock-shared=true  ... with a shared lock (BW_CHANGE_LOCK_SHARED)
 *   big-undo=true  apply writes an undo record of FAKE_RECORD_MAX bytes
 *              (more than the default record size) and undo checks it
 *   ctx-log=PATH  apply and undo append what their BwApplyContext says:
 *              "apply|undo <object> locked=L existed=E dev=D ino=I holder=H" */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bulwark/plugin.h>

/* The record_max this plugin declares: twice the default. */
#define FAKE_RECORD_MAX (2 * BW_RECORD_DEFAULT)

typedef struct FakeState {
        const BwHost *host;
        char dir[512];
        long fail_at, crash_at, crash_before, kill_at, kill_pid;
        char fail_undo[128];
        char lock[512];
        bool lock_shared;
        bool big_undo;
        char ctx_log[512];
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
        s->crash_before = fake_config_long(host, "crash-before");
        s->kill_at = fake_config_long(host, "kill-at");
        s->kill_pid = fake_config_long(host, "kill-pid");
        const char *fu = host->config(host, "fail-undo");
        snprintf(s->fail_undo, sizeof(s->fail_undo), "%s", fu ? fu : "");
        const char *lock = host->config(host, "lock"), *log = host->config(host, "ctx-log");
        const char *shared = host->config(host, "lock-shared");
        snprintf(s->lock, sizeof(s->lock), "%s", lock ? lock : "");
        snprintf(s->ctx_log, sizeof(s->ctx_log), "%s", log ? log : "");
        s->lock_shared = shared && strcmp(shared, "true") == 0;
        const char *big = host->config(host, "big-undo");
        s->big_undo = big && strcmp(big, "true") == 0;
        *ret_state = s;
        return 0;
}

static void fake_fini(void *state) {
        free(state);
}

/* kind "touch" creates the resource's marker file, "remove" removes it. */
static int fake_emit(FakeState *s, const BwResource *res, const char *kind, BwChangeSink *sink) {
        char object[1024];
        char ref[256];
        const char *id = res->id;
        snprintf(object, sizeof(object), "%s/%s", s->dir, id);
        snprintf(ref, sizeof(ref), "%s:%s", bw_resource_type_name(res->type), id);
        BwChange c = { .size = sizeof(c), .kind = kind, .object = object,
                       .detail = strcmp(kind, "touch") == 0 ? "create a marker file" : "remove the marker file",
                       .lock_path = s->lock[0] ? s->lock : object,
                       .data = id, .data_len = strlen(id) + 1, .resource = ref,
                       .flags = s->lock_shared ? BW_CHANGE_LOCK_SHARED : 0 };
        return sink->emit(sink, &c);
}

static int fake_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        for (size_t i = 0; i < guest->n_resources; i++) {
                int r = fake_emit(state, guest->resources[i], "touch", sink);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fake_attach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        return fake_emit(state, res, "touch", sink);
}

static int fake_detach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        return fake_emit(state, res, "remove", sink);
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

static void fake_log_ctx(FakeState *s, const char *op, const BwChange *change, const BwApplyContext *ctx) {
        if (!s->ctx_log[0])
                return;
        FILE *f = fopen(s->ctx_log, "ae");
        if (!f)
                return;
        bool valid = BW_FIELD_VALID(ctx, ino);
        fprintf(f, "%s %s locked=%d existed=%d dev=%" PRIu64 " ino=%" PRIu64 " holder=%s\n", op, change->object,
                valid && ctx->locked, valid && ctx->existed, valid ? ctx->dev : 0, valid ? ctx->ino : 0,
                BW_FIELD_VALID(ctx, holder) && ctx->holder ? ctx->holder : "(none)");
        fclose(f);
}

static int fake_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                      const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        FakeState *s = state;
        s->applies++;
        if (s->applies == s->crash_before)
                raise(SIGKILL);
        if (s->applies == s->fail_at) {
                s->host->log(s->host, BW_LOG_ERR, "injected failure");
                return -EIO;
        }
        fake_log_ctx(s, "apply", change, ctx);
        if (strcmp(change->kind, "remove") == 0) {
                if (unlink(change->object) < 0)
                        return -errno; /* the file of a resource the guest has is there */
                if (s->applies == s->crash_at)
                        raise(SIGKILL);
                memcpy(undo, "gone", 4);
                *ret_undo_len = 4;
                return 0;
        }
        int fd = open(change->object, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        if (s->applies == s->crash_at)
                raise(SIGKILL);
        if (s->applies == s->kill_at && s->kill_pid > 0)
                kill_and_wait((pid_t) s->kill_pid);
        if (s->big_undo) {
                if (undo_size < FAKE_RECORD_MAX)
                        return -EMSGSIZE;
                memset(undo, 'u', FAKE_RECORD_MAX);
                *ret_undo_len = FAKE_RECORD_MAX;
                return 0;
        }
        memcpy(undo, "made", 4);
        *ret_undo_len = 4;
        return 0;
}

static int fake_undo(void *state, const BwGuestInfo *guest, const BwChange *change,
                     const BwApplyContext *ctx, const void *undo, size_t undo_len) {
        FakeState *s = state;
        fake_log_ctx(s, "undo", change, ctx);
        if (s->big_undo && undo_len > 0 && undo_len != FAKE_RECORD_MAX)
                return -EBADMSG;
        if (s->fail_undo[0] && change->data && strcmp(change->data, s->fail_undo) == 0)
                return -EIO;
        if (strcmp(change->kind, "remove") == 0) {
                /* The guest has the resource again: its file is back. */
                int fd = open(change->object, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                close(fd);
                return 0;
        }
        if (unlink(change->object) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static const char *const fake_config_keys[] = {
        "dir", "fail-at", "crash-at", "crash-before", "fail-undo", "kill-at", "kill-pid", "lock", "lock-shared", "ctx-log", "big-undo", NULL,
};

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "fake-files",
        .record_max = FAKE_RECORD_MAX,
        .config_keys = fake_config_keys,
        .init = fake_init,
        .fini = fake_fini,
        .plan = fake_plan,
        .apply = fake_apply,
        .undo = fake_undo,
        .attach = fake_attach,
        .detach = fake_detach,
};
