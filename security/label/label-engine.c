/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Label one file for one holder and give it back (see label-engine.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bulwark/plugin.h>

#include "util/fd-util.h"

#include "label-engine.h"
#include "label-guests.h"
#include "label-path.h"

/* A TPM state tree deeper than this is not a TPM state tree. */
#define LABEL_TREE_DEPTH_MAX 8

int label_engine_new(const LabelDriver *driver, const char *state_dir, LabelLogFn log, void *log_userdata,
                     LabelEngine **ret) {
        g_autoptr(LabelEngine) e = g_new0(LabelEngine, 1);
        e->driver = driver;
        e->state_dir = g_strdup(state_dir);
        e->xattr = g_strdup_printf("trusted.bulwark.%s", driver->name);
        e->log = log;
        e->log_userdata = log_userdata;
        int r = label_boot_id(e->boot);
        if (r < 0)
                return r;
        e->store = (LabelStore) { .driver = driver->name, .xattr = e->xattr, .state_dir = e->state_dir,
                                  .valid = driver->valid };
        *ret = g_steal_pointer(&e);
        return 0;
}

void label_engine_free(LabelEngine *e) {
        if (!e)
                return;
        g_free(e->state_dir);
        g_free(e->xattr);
        g_free(e);
}

void label_engine_logf(LabelEngine *e, int level, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_autofree char *m = g_strdup_vprintf(format, ap);
        va_end(ap);
        if (e->log)
                e->log(e->log_userdata, level, m);
}

static int label_fail(char **ret_message, int r, const LabelTarget *t, const char *path, const char *format, ...)
        G_GNUC_PRINTF(5, 6);
static int label_fail(char **ret_message, int r, const LabelTarget *t, const char *path, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        g_autofree char *m = g_strdup_vprintf(format, ap);
        va_end(ap);
        *ret_message = g_strdup_printf("%s: '%s': %s", t->what, path, m);
        return r;
}

static const char *label_open_error(int r) {
        switch (r) {
        case -ENOENT: return "does not exist (a dangling symlink or a removed file)";
        case -ELOOP: return "is a symlink now: changed since it was resolved, refusing to follow it";
        case -ESTALE: return "names another file than the one locked: changed since it was locked";
        default: return NULL;
        }
}

/* A record from another boot: its holders cannot be running unless the
 * core still keeps their journal.  Discarded, the original put back. */
static int label_engine_foreign_boot(LabelEngine *e, LabelInode *inode, const char *path, LabelRecord **rec) {
        LabelRecord *r = *rec;
        for (guint i = 0; i < r->holders->len; i++)
                if (label_guests_running(e->state_dir, r->holders->pdata[i], NULL)) {
                        g_strlcpy(r->boot, e->boot, sizeof(r->boot));
                        return 0;
                }
        g_autoptr(GBytes) cur = NULL;
        int k = e->driver->read(inode, r->applied, &cur);
        if (k < 0)
                return k;
        g_autofree char *orig = label_display(r->original);
        if (g_bytes_equal(cur, r->applied) && !g_bytes_equal(cur, r->original)) {
                k = e->driver->write(inode, r->original);
                if (k < 0)
                        return k;
        }
        label_engine_logf(e, BW_LOG_WARNING,
                          "'%s': record of boot %s (this is %s) and no running holder: discarded, original %s restored",
                          path, r->boot, e->boot, orig);
        k = label_store_remove(&e->store, inode);
        if (k < 0)
                return k;
        g_clear_pointer(rec, label_record_free);
        return 0;
}

/* Another running guest holding the file with another label refuses;
 * holders that stopped without giving it back are dropped. */
static int label_engine_check_others(LabelEngine *e, LabelRecord *rec, const char *holder, GBytes *label,
                                     const LabelTarget *t, const char *path, char **ret_message) {
        if (g_bytes_equal(rec->applied, label))
                return 0;
        for (guint i = 0; i < rec->holders->len; i++) {
                const char *other = rec->holders->pdata[i];
                g_autofree char *name = NULL;
                if (g_ascii_strcasecmp(other, holder) == 0 || !label_guests_running(e->state_dir, other, &name))
                        continue;
                g_autofree char *theirs = label_display(rec->applied), *ours = label_display(label);
                return label_fail(ret_message, -EBUSY, t, path,
                                  "in use by running guest '%s' (%s) with label %s: refusing to %s it to %s",
                                  name, other, theirs, e->driver->verb, ours);
        }
        g_autofree char *theirs = label_display(rec->applied);
        label_engine_logf(e, BW_LOG_WARNING, "'%s': dropping %u holder(s) of label %s that no longer run",
                          path, rec->holders->len, theirs);
        g_ptr_array_set_size(rec->holders, 0);
        g_bytes_unref(rec->applied);
        rec->applied = g_bytes_ref(label);
        return 0;
}

static int label_engine_read_record(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                                    LabelRecord **ret, char **ret_message) {
        g_autofree char *why = NULL;
        int r = label_store_read(&e->store, inode, ret, &why);
        if (r == -EBADMSG)
                return label_fail(ret_message, r, t, path,
                                  "its record %s is damaged (%s): not trusted; look at it with 'bulwarkctl label show' and remove it by hand once the original label is known",
                                  e->xattr, why);
        if (r < 0)
                return label_fail(ret_message, r, t, path, "cannot read its record %s: %s", e->xattr, g_strerror(-r));
        if (*ret && strcmp((*ret)->boot, e->boot) != 0) {
                r = label_engine_foreign_boot(e, inode, path, ret);
                if (r < 0)
                        return label_fail(ret_message, r, t, path, "cannot discard a record of another boot: %s",
                                          g_strerror(-r));
        }
        return 0;
}

static int label_engine_apply_inode(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                                    const char *holder, GBytes *label, char **ret_message) {
        const char *why = label_file_refusal(path, &inode->st);
        if (why)
                return label_fail(ret_message, -EPERM, t, path, "refused: %s", why);
        if (S_ISLNK(inode->st.st_mode))
                return label_fail(ret_message, -ELOOP, t, path, "is a symlink: refusing to label it");

        g_autoptr(LabelRecord) rec = NULL;
        int r = label_engine_read_record(e, inode, t, path, &rec, ret_message);
        if (r < 0)
                return r;
        g_autoptr(GBytes) cur = NULL;
        r = e->driver->read(inode, label, &cur);
        if (r < 0)
                return label_fail(ret_message, r, t, path, "cannot read its label: %s", g_strerror(-r));

        g_autofree char *before = NULL;
        size_t before_len = 0;
        if (rec) {
                if (label_record_has_holder(rec, holder) && g_bytes_equal(rec->applied, label) &&
                    g_bytes_equal(cur, label))
                        return 0;           /* applied already */
                before = label_record_format(rec, &before_len);
                r = label_engine_check_others(e, rec, holder, label, t, path, ret_message);
                if (r < 0)
                        return r;
        } else
                rec = label_record_new(e->driver->name, e->boot, cur, label);
        label_record_add_holder(rec, holder);

        r = label_store_write(&e->store, inode, rec);
        if (r < 0)
                return label_fail(ret_message, r, t, path, "cannot write its record %s: %s", e->xattr, g_strerror(-r));
        if (g_bytes_equal(cur, label))
                return 0;
        r = e->driver->write(inode, label);
        if (r < 0) {
                /* Give the record back as it was: nothing of this call stays. */
                g_autoptr(LabelRecord) old = NULL;
                g_autofree char *ignored = NULL;
                int k = before ? label_record_parse(e->driver->name, e->driver->valid, before, before_len, &old, &ignored)
                               : 0;
                k = old ? label_store_write(&e->store, inode, old) : label_store_remove(&e->store, inode);
                g_autofree char *want = label_display(label);
                return label_fail(ret_message, r, t, path, "cannot %s it to %s: %s%s", e->driver->verb, want,
                                  g_strerror(-r), k < 0 ? " (and its record could not be put back)" : "");
        }
        return 0;
}

static int label_engine_undo_inode(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                                   const char *holder, char **ret_message) {
        g_autoptr(LabelRecord) rec = NULL;
        int r = label_engine_read_record(e, inode, t, path, &rec, ret_message);
        if (r == -EBADMSG) {
                /* Never written by this holder (apply refuses such a record
                 * and writes only valid ones): not ours to touch. */
                label_engine_logf(e, BW_LOG_WARNING, "%s", *ret_message);
                g_clear_pointer(ret_message, g_free);
                return 0;
        }
        if (r < 0 || !rec || !label_record_remove_holder(rec, holder))
                return r;
        if (rec->holders->len > 0) {
                r = label_store_write(&e->store, inode, rec);
                return r < 0 ? label_fail(ret_message, r, t, path, "cannot write its record %s: %s", e->xattr,
                                          g_strerror(-r))
                             : 0;
        }
        g_autoptr(GBytes) cur = NULL;
        r = e->driver->read(inode, rec->applied, &cur);
        if (r < 0)
                return label_fail(ret_message, r, t, path, "cannot read its label: %s", g_strerror(-r));
        if (g_bytes_equal(cur, rec->applied) && !g_bytes_equal(cur, rec->original)) {
                r = e->driver->write(inode, rec->original);
                if (r < 0) {
                        g_autofree char *orig = label_display(rec->original);
                        return label_fail(ret_message, r, t, path, "cannot %s it back to %s: %s", e->driver->verb,
                                          orig, g_strerror(-r));
                }
        } else if (!g_bytes_equal(cur, rec->original)) {
                g_autofree char *now = label_display(cur), *orig = label_display(rec->original);
                label_engine_logf(e, BW_LOG_WARNING, "'%s': label changed behind bulwark's back (now %s): left as is, not restored to %s",
                                  path, now, orig);
        }
        r = label_store_remove(&e->store, inode);
        return r < 0 ? label_fail(ret_message, r, t, path, "cannot remove its record %s: %s", e->xattr, g_strerror(-r))
                     : 0;
}

typedef int (*LabelInodeFn)(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                            const char *holder, GBytes *label, char **ret_message);

static int label_apply_fn(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                          const char *holder, GBytes *label, char **ret_message) {
        return label_engine_apply_inode(e, inode, t, path, holder, label, ret_message);
}

static int label_undo_fn(LabelEngine *e, LabelInode *inode, const LabelTarget *t, const char *path,
                         const char *holder, GBytes *label, char **ret_message) {
        (void) label;
        return label_engine_undo_inode(e, inode, t, path, holder, ret_message);
}

/* Every entry below a directory, depth first, never following a symlink:
 * entries are opened relative to their directory's descriptor. */
static int label_engine_tree(LabelEngine *e, LabelInode *dir, const LabelTarget *t, const char *path, int depth,
                             LabelInodeFn fn, const char *holder, GBytes *label, char **ret_message) {
        if (depth > LABEL_TREE_DEPTH_MAX)
                return label_fail(ret_message, -ELOOP, t, path, "directory tree deeper than %d levels",
                                  LABEL_TREE_DEPTH_MAX);
        int dfd = open(dir->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return label_fail(ret_message, -errno, t, path, "cannot list the directory: %m");
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return label_fail(ret_message, -ENOMEM, t, path, "cannot list the directory");
        }
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        g_ptr_array_add(names, g_strdup(de->d_name));
        g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
        int r = 0;
        for (guint i = 0; i < names->len && r >= 0; i++) {
                const char *name = names->pdata[i];
                g_autofree char *child_path = g_build_filename(path, name, NULL);
                _cleanup_close_ int fd = openat(dirfd(d), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                LabelInode child = LABEL_INODE_INIT;
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = label_fail(ret_message, -errno, t, child_path, "cannot open: %m");
                        break;
                }
                if (S_ISLNK(st.st_mode))
                        continue;   /* never followed, never labelled */
                label_inode_take(&child, steal_fd(&fd), &st);
                if (S_ISDIR(child.st.st_mode) && fn == label_undo_fn)
                        r = label_engine_tree(e, &child, t, child_path, depth + 1, fn, holder, label, ret_message);
                if (r >= 0)
                        r = fn(e, &child, t, child_path, holder, label, ret_message);
                if (r >= 0 && S_ISDIR(child.st.st_mode) && fn == label_apply_fn)
                        r = label_engine_tree(e, &child, t, child_path, depth + 1, fn, holder, label, ret_message);
                label_inode_close(&child);
        }
        closedir(d);
        return r;
}

static int label_engine_run(LabelEngine *e, const LabelTarget *t, LabelInodeFn fn, const char *holder, GBytes *label,
                            char **ret_message) {
        LabelInode inode = LABEL_INODE_INIT;
        int r = label_inode_open(t->path, t->check_id, t->dev, t->ino, &inode);
        if (r == -ENOENT && fn == label_undo_fn)
                return 0;       /* gone: nothing left to give back */
        if (r < 0) {
                const char *why = label_open_error(r);
                return why ? label_fail(ret_message, r, t, t->path, "%s", why)
                           : label_fail(ret_message, r, t, t->path, "cannot open: %s", g_strerror(-r));
        }
        bool tree = t->recursive && S_ISDIR(inode.st.st_mode);
        if (tree && fn == label_undo_fn)
                r = label_engine_tree(e, &inode, t, t->path, 1, fn, holder, label, ret_message);
        if (r >= 0)
                r = fn(e, &inode, t, t->path, holder, label, ret_message);
        if (r >= 0 && tree && fn == label_apply_fn)
                r = label_engine_tree(e, &inode, t, t->path, 1, fn, holder, label, ret_message);
        label_inode_close(&inode);
        return r;
}

int label_engine_apply(LabelEngine *e, const LabelTarget *t, const char *holder, GBytes *label, char **ret_message) {
        int r = label_engine_run(e, t, label_apply_fn, holder, label, ret_message);
        if (r < 0 && t->recursive) {
                /* A tree labelled halfway: give back what this call labelled. */
                g_autofree char *ignored = NULL;
                (void) label_engine_run(e, t, label_undo_fn, holder, NULL, &ignored);
        }
        return r;
}

int label_engine_undo(LabelEngine *e, const LabelTarget *t, const char *holder, char **ret_message) {
        return label_engine_run(e, t, label_undo_fn, holder, NULL, ret_message);
}

bool label_engine_held_by(LabelEngine *e, const char *path, const char *holder) {
        LabelInode inode = LABEL_INODE_INIT;
        if (label_inode_open(path, false, 0, 0, &inode) < 0)
                return false;
        g_autoptr(LabelRecord) rec = NULL;
        g_autofree char *why = NULL;
        bool held = label_store_read(&e->store, &inode, &rec, &why) >= 0 && rec && label_record_has_holder(rec, holder);
        label_inode_close(&inode);
        return held;
}

int label_engine_restore(LabelEngine *e, const char *path, char **ret_message) {
        LabelTarget t = { .path = path, .what = "file" };
        LabelInode inode = LABEL_INODE_INIT;
        int r = label_inode_open(path, false, 0, 0, &inode);
        if (r < 0) {
                const char *why = label_open_error(r);
                return why ? label_fail(ret_message, r, &t, path, "%s", why)
                           : label_fail(ret_message, r, &t, path, "cannot open: %s", g_strerror(-r));
        }
        g_autoptr(LabelRecord) rec = NULL;
        g_autofree char *why = NULL;
        r = label_store_read(&e->store, &inode, &rec, &why);
        if (r == -EBADMSG)
                r = label_fail(ret_message, r, &t, path, "its record %s is damaged (%s): not trusted", e->xattr, why);
        else if (r < 0)
                r = label_fail(ret_message, r, &t, path, "cannot read its record: %s", g_strerror(-r));
        else if (rec) {
                /* The person asked: the original comes back whatever the holders say. */
                g_autoptr(GBytes) cur = NULL;
                r = e->driver->read(&inode, rec->original, &cur);
                if (r >= 0 && !g_bytes_equal(cur, rec->original))
                        r = e->driver->write(&inode, rec->original);
                if (r >= 0)
                        r = label_store_remove(&e->store, &inode);
                if (r < 0)
                        r = label_fail(ret_message, r, &t, path, "cannot restore the original: %s", g_strerror(-r));
                else
                        r = 1;
        }
        label_inode_close(&inode);
        return r;
}
