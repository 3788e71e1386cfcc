/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin operations both labelling modules share (see label-plugin.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "label-change.h"
#include "label-guests.h"
#include "label-path.h"
#include "label-plugin.h"

static void label_plugin_engine_log(void *userdata, int level, const char *message) {
        label_plugin_log((LabelPlugin *) userdata, level, "%s", message);
}

const char *label_plugin_config(LabelPlugin *p, const char *key) {
        return p->host && p->host->config ? p->host->config(p->host, key) : NULL;
}

int label_plugin_new(const BwHost *host, const LabelPluginOps *ops, LabelPlugin **ret) {
        LabelPlugin *p = g_new0(LabelPlugin, 1);
        p->host = host;
        p->ops = ops;
        p->state_dir = label_plugin_config(p, "state-dir");
        p->skip_paths = label_plugin_config(p, "skip-paths");
        int r = label_engine_new(ops->driver, p->state_dir, label_plugin_engine_log, p, &p->engine);
        if (r < 0) {
                label_plugin_log(p, BW_LOG_ERR, "cannot read the boot id /proc/sys/kernel/random/boot_id: %s",
                                 g_strerror(-r));
                g_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

void label_plugin_fini(void *state) {
        label_plugin_free(state);
}

void label_plugin_free(LabelPlugin *p) {
        if (!p)
                return;
        label_engine_free(p->engine);
        g_free(p);
}

static char *label_plugin_what(const BwResource *res) {
        return g_strdup_printf("%s '%s'", bw_resource_type_name(res->type), res->id ? res->id : "");
}

bool label_plugin_role_readonly(const BwResource *res, BwPathRole role) {
        return role == BW_PATH_IMAGE_READONLY || role == BW_PATH_BACKING || role == BW_PATH_KERNEL ||
               (role == BW_PATH_IMAGE && res->readonly);
}

/* What plan learns of one path: where it leads and what it carries now. */
typedef struct LabelResolved {
        char *real;                /* NULL: nothing to label (a chardev the guest's process creates) */
        mode_t mode;
        char *current;             /* its label now, for the plan's detail */
} LabelResolved;

static void label_resolved_clear(LabelResolved *r) {
        g_clear_pointer(&r->real, g_free);
        g_clear_pointer(&r->current, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LabelResolved, label_resolved_clear)

/* Resolves the path once, here: the file it leads to is opened (following
 * symlinks, O_PATH) and named by its /proc/self/fd link, so the name the
 * system directories are checked against is the one the kernel found. */
static int label_plugin_resolve(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, const char *path,
                                BwPathRole role, LabelResolved *ret) {
        g_autofree char *what = label_plugin_what(res);
        *ret = (LabelResolved) {};
        LabelInode inode = LABEL_INODE_INIT;
        int r = label_inode_open_resolved(path, &inode);
        if (r < 0) {
                /* Only now look at the name itself: missing, or a symlink
                 * to nothing? */
                struct stat lst = {};
                bool missing = lstat(path, &lst) < 0 && errno == ENOENT;
                if (missing && res->type == BW_RESOURCE_CHARDEV)
                        return 0;
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': %s: '%s': %s", guest->name, what, path,
                                 missing ? "does not exist"
                                 : S_ISLNK(lst.st_mode) && r == -ENOENT ? "a dangling symlink: refusing it"
                                                                        : g_strerror(-r));
                return r;
        }
        char real[PATH_MAX];
        ssize_t n = readlink(inode.proc, real, sizeof(real) - 1);
        if (n <= 0 || real[0] != '/') {
                r = n < 0 ? -errno : -ENOENT;
                label_inode_close(&inode);
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': %s: '%s': cannot tell where it leads", guest->name, what,
                                 path);
                return r;
        }
        real[n] = '\0';
        const char *why = label_file_refusal(real, &inode.st);
        if (why && label_plugin_role_readonly(res, role) && label_path_is_shipped(real, inode.st.st_mode))
                why = NULL;     /* planned as a skip */
        if (why) {
                label_inode_close(&inode);
                if (strcmp(real, path) != 0)
                        label_plugin_log(p, BW_LOG_ERR, "guest '%s': %s: '%s' (resolved to '%s'): refused: %s",
                                         guest->name, what, path, real, why);
                else
                        label_plugin_log(p, BW_LOG_ERR, "guest '%s': %s: '%s': refused: %s", guest->name, what, path,
                                         why);
                return -EPERM;
        }
        g_autoptr(GBytes) cur = NULL;
        ret->current = p->ops->driver->read(&inode, NULL, &cur) < 0 ? g_strdup("?") : label_display(cur);
        label_inode_close(&inode);
        ret->real = g_strdup(real);
        ret->mode = inode.st.st_mode;
        return 0;
}

static int label_plugin_emit(BwChangeSink *sink, const char *kind, const char *path,
                             const char *detail, const char *resource, const LabelChange *c, uint32_t flags) {
        size_t len;
        g_autofree char *data = label_change_format(c, &len);
        BwChange change = {
                .size = sizeof(BwChange), .kind = kind, .object = path, .detail = detail, .lock_path = path,
                .data = data, .data_len = len, .resource = resource, .flags = flags,
        };
        return sink->emit(sink, &change);
}

static int label_plugin_plan_resource(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, bool detach,
                                      GHashTable *seen, BwChangeSink *sink) {
        if (res->type == BW_RESOURCE_CHARDEV && res->chardev_type == BW_CHARDEV_PTY)
                return 0;
        /* A [device:] node (/dev/null, /dev/net/tun, /dev/kvm) is the
         * host's, shared by every guest and host process: relabelling it
         * for one guest would lock the others out (a second guest is
         * refused, naming the first).  The device program and Landlock
         * decide who opens it.  Host devices given to one guest (VFIO
         * groups, USB, SCSI generic) are [hostdev:] and are labelled. */
        if (res->type == BW_RESOURCE_DEVICE)
                return 0;
        g_autofree char *what = label_plugin_what(res);
        g_autofree char *resource = g_strdup_printf("%s:%s", bw_resource_type_name(res->type), res->id ? res->id : "");
        for (size_t i = 0; i < res->n_paths; i++) {
                g_autoptr(GBytes) label = NULL;
                int r = p->ops->label_for(p, guest, res, res->roles[i], &label);
                if (r < 0)
                        return r;
                if (!label)
                        continue;
                g_auto(LabelResolved) resolved = {};
                r = label_plugin_resolve(p, guest, res, res->paths[i], res->roles[i], &resolved);
                if (r < 0)
                        return r;
                const char *real = resolved.real;
                mode_t mode = resolved.mode;
                if (!real || g_hash_table_contains(seen, real))
                        continue;
                g_hash_table_add(seen, g_strdup(real));
                g_autofree char *prefix = NULL;
                LabelChange c = { .op = LABEL_CHANGE_LABEL, .role = res->roles[i], .label = label, .what = what };
                bool shipped = label_path_is_shipped(real, mode) && label_path_refusal(real, mode);
                if (shipped || label_path_skipped(p->skip_paths, real, &prefix)) {
                        c.op = LABEL_CHANGE_SKIP;
                        g_autofree char *detail = shipped ? g_strdup("skipped: a read-only file of the system, left as it is")
                                                          : g_strdup_printf("skipped: under skip-paths '%s'", prefix);
                        r = label_plugin_emit(sink, "skip", real, detail, resource, &c, BW_CHANGE_LOCK_SHARED);
                } else {
                        const char *cur = resolved.current;
                        g_autofree char *want = label_display(label);
                        g_autofree char *detail = detach ? g_strdup_printf("%s -> original", cur)
                                                         : g_strdup_printf("%s -> %s%s", cur, want,
                                                                           S_ISDIR(mode) && c.role == BW_PATH_STATE_DIR
                                                                                   ? " (whole tree)" : "");
                        if (detach)
                                c.op = LABEL_CHANGE_UNLABEL;
                        r = label_plugin_emit(sink, detach ? "restore" : p->ops->kind, real, detail, resource, &c, 0);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int label_plugin_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        LabelPlugin *p = state;
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (size_t i = 0; i < guest->n_resources; i++) {
                int r = label_plugin_plan_resource(p, guest, guest->resources[i], false, seen, sink);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A path the guest's other resources use keeps its label: attach and
 * detach plan only what the resource alone brings. */
static GHashTable *label_plugin_other_paths(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res) {
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (size_t i = 0; i < guest->n_resources; i++) {
                const BwResource *other = guest->resources[i];
                if (other == res || (other->type == res->type && g_strcmp0(other->id, res->id) == 0))
                        continue;
                for (size_t k = 0; k < other->n_paths; k++) {
                        char real[PATH_MAX];
                        if (realpath(other->paths[k], real))
                                g_hash_table_add(seen, g_strdup(real));
                }
        }
        (void) p;
        return seen;
}

int label_plugin_attach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        LabelPlugin *p = state;
        g_autoptr(GHashTable) seen = label_plugin_other_paths(p, guest, res);
        return label_plugin_plan_resource(p, guest, res, false, seen, sink);
}

int label_plugin_detach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        LabelPlugin *p = state;
        g_autoptr(GHashTable) seen = label_plugin_other_paths(p, guest, res);
        return label_plugin_plan_resource(p, guest, res, true, seen, sink);
}

static const char *label_plugin_holder(const BwGuestInfo *guest, const BwApplyContext *ctx) {
        if (BW_FIELD_VALID(ctx, holder) && ctx->holder && ctx->holder[0])
                return ctx->holder;
        return guest->uuid;
}

static int label_plugin_run(LabelPlugin *p, const BwGuestInfo *guest, const BwChange *change,
                            const BwApplyContext *ctx, bool undo) {
        LabelChange c = {};
        if (!change->lock_path || label_change_parse(change->data, change->data_len, &c) < 0) {
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': change '%s %s': data is not a change of this plugin",
                                 guest->name, change->kind ? change->kind : "", change->object ? change->object : "");
                return -EBADMSG;
        }
        int r = 0;
        const char *holder = label_plugin_holder(guest, ctx);
        LabelTarget t = {
                .path = change->lock_path, .what = c.what, .recursive = c.role == BW_PATH_STATE_DIR,
                .check_id = BW_FIELD_VALID(ctx, ino) && ctx->locked && ctx->existed,
                .dev = BW_FIELD_VALID(ctx, ino) ? ctx->dev : 0, .ino = BW_FIELD_VALID(ctx, ino) ? ctx->ino : 0,
        };
        bool label = (c.op == LABEL_CHANGE_LABEL) != undo;
        g_autofree char *message = NULL;
        if (c.op == LABEL_CHANGE_SKIP)
                ;
        else if (label) {
                if (p->ops->before_apply)
                        r = p->ops->before_apply(p, guest);
                if (r >= 0 && p->state_dir && strcmp(p->remembered, holder) != 0) {
                        r = label_guests_remember(p->state_dir, holder, guest->name);
                        if (r >= 0)
                                g_strlcpy(p->remembered, holder, sizeof(p->remembered));
                }
                if (r < 0)
                        message = g_strdup_printf("%s: cannot record the guest in the state directory '%s': %s", c.what,
                                                  p->state_dir, g_strerror(-r));
                else
                        r = label_engine_apply(p->engine, &t, holder, c.label, &message);
        } else
                r = label_engine_undo(p->engine, &t, holder, &message);
        if (r < 0 && message)
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': %s", guest->name, message);
        label_change_clear(&c);
        return r;
}

int label_plugin_apply(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                       void *undo, size_t undo_size, size_t *ret_undo_len) {
        (void) undo;
        (void) undo_size;
        *ret_undo_len = 0;
        return label_plugin_run(state, guest, change, ctx, false);
}

int label_plugin_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                      const void *undo, size_t undo_len) {
        (void) undo;
        (void) undo_len;
        return label_plugin_run(state, guest, change, ctx, true);
}

int label_plugin_release(void *state, const BwGuestInfo *guest) {
        LabelPlugin *p = state;
        if (p->ops->release)
                p->ops->release(p, guest);
        if (p->state_dir)
                label_guests_forget(p->state_dir, guest->uuid);
        p->remembered[0] = '\0';
        return 0;
}

int label_plugin_adopt(void *state, const BwGuestInfo *guest) {
        LabelPlugin *p = state;
        for (size_t i = 0; i < guest->n_resources; i++) {
                const BwResource *res = guest->resources[i];
                for (size_t k = 0; k < res->n_paths; k++) {
                        char real[PATH_MAX];
                        if (realpath(res->paths[k], real) && label_engine_held_by(p->engine, real, guest->uuid))
                                return 0;
                }
        }
        return -ENOENT;
}
