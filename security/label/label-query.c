/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The query commands of a labelling plugin, reached through the manager
 * (`bulwarkctl label show|scan|restore`):
 *   label-show PATH...     this driver's record of each file
 *   label-scan DIR...      records below the directories that are stale:
 *                          no holder runs, or written in another boot
 *   label-restore PATH...  puts the original back and removes the record */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>
#include <string.h>

#include "util/json-writer.h"

#include "label-guests.h"
#include "label-plugin.h"

typedef struct LabelAnswer {
        LabelPlugin *p;
        BwQuerySink *sink;
        bool json;
        JsonWriter *w;
        int error;                 /* the sink's first error */
        unsigned found;
} LabelAnswer;

static int label_answer_text(LabelAnswer *a, const char *format, ...) G_GNUC_PRINTF(2, 3);
static int label_answer_text(LabelAnswer *a, const char *format, ...) {
        if (a->error < 0)
                return a->error;
        va_list ap;
        va_start(ap, format);
        g_autofree char *s = g_strdup_vprintf(format, ap);
        va_end(ap);
        int r = a->sink->write(a->sink, s, strlen(s));
        if (r < 0)
                a->error = r;
        return r;
}

/* One file's record, as text or a JSON object.  Stale: damaged, of
 * another boot, or no holder runs; only_stale shows nothing else. */
static void label_answer_record(LabelAnswer *a, const char *path, bool only_stale) {
        LabelEngine *e = a->p->engine;
        LabelInode inode = LABEL_INODE_INIT;
        g_autoptr(LabelRecord) rec = NULL;
        g_autofree char *why = NULL;
        int r = label_inode_open(path, false, 0, 0, &inode);
        if (r >= 0)
                r = label_store_read(&e->store, &inode, &rec, &why);
        label_inode_close(&inode);
        if (r >= 0 && !rec && only_stale)
                return;
        bool this_boot = rec && strcmp(rec->boot, e->boot) == 0;
        unsigned running = 0;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; rec && i < rec->holders->len; i++) {
                char *name = label_guests_name(e->state_dir, rec->holders->pdata[i]);
                bool up = label_guests_running(e->state_dir, rec->holders->pdata[i], NULL);
                running += up;
                g_ptr_array_add(names, g_strdup_printf("%s%s%s%s", name ? "guest '" : "", name ? name : "",
                                                       name ? "'" : "unknown guest", up ? ", running" : ", not running"));
                g_free(name);
        }
        bool stale = r == -EBADMSG || (rec && (!this_boot || running == 0));
        if (only_stale && !stale)
                return;
        a->found++;
        const char *drv = e->driver->name;
        if (a->json) {
                json_writer_object_begin(a->w);
                json_writer_member_string(a->w, "path", path);
                json_writer_member_string(a->w, "driver", drv);
                if (r < 0 && r != -EBADMSG)
                        json_writer_member_string(a->w, "error", g_strerror(-r));
                if (r == -EBADMSG)
                        json_writer_member_string(a->w, "damaged", why);
                json_writer_key(a->w, "record");
                if (!rec)
                        json_writer_null(a->w);
                else {
                        g_autofree char *orig = label_display(rec->original), *app = label_display(rec->applied);
                        json_writer_object_begin(a->w);
                        json_writer_member_string(a->w, "original", orig);
                        json_writer_member_string(a->w, "applied", app);
                        json_writer_member_string(a->w, "boot", rec->boot);
                        json_writer_member_bool(a->w, "this_boot", this_boot);
                        json_writer_key(a->w, "holders");
                        json_writer_array_begin(a->w);
                        for (guint i = 0; i < rec->holders->len; i++) {
                                const char *uuid = rec->holders->pdata[i];
                                g_autofree char *name = label_guests_name(e->state_dir, uuid);
                                json_writer_object_begin(a->w);
                                json_writer_member_string(a->w, "uuid", uuid);
                                json_writer_member_string(a->w, "guest", name);
                                json_writer_member_bool(a->w, "running", label_guests_running(e->state_dir, uuid, NULL));
                                json_writer_object_end(a->w);
                        }
                        json_writer_array_end(a->w);
                        json_writer_object_end(a->w);
                }
                json_writer_member_bool(a->w, "stale", stale);
                json_writer_object_end(a->w);
                return;
        }
        if (r == -EBADMSG)
                label_answer_text(a, "%s: %s: damaged record, not trusted: %s\n", path, drv, why);
        else if (r < 0)
                label_answer_text(a, "%s: %s: %s\n", path, drv, g_strerror(-r));
        else if (!rec)
                label_answer_text(a, "%s: %s: no record\n", path, drv);
        else {
                g_autofree char *orig = label_display(rec->original), *app = label_display(rec->applied);
                g_ptr_array_add(names, NULL);
                g_autofree char *holders = g_strjoinv("; ", (char **) names->pdata);
                GString *h = g_string_new(NULL);
                for (guint i = 0; i < rec->holders->len; i++)
                        g_string_append_printf(h, "%s%s (%s)", i ? ", " : "", (const char *) rec->holders->pdata[i],
                                               (const char *) names->pdata[i]);
                label_answer_text(a, "%s: %s: original %s, applied %s, boot %s (%s), holders: %s%s\n", path, drv, orig,
                                  app, rec->boot, this_boot ? "this boot" : "another boot", h->str,
                                  stale ? " [stale]" : "");
                g_string_free(h, TRUE);
        }
}

/* Every file and directory below `path`, never following a symlink or
 * crossing into another filesystem. */
static int label_scan_walk(LabelAnswer *a, const char *path, dev_t dev, int depth) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode) || (depth > 0 && st.st_dev != dev))
                return 0;
        label_answer_record(a, path, true);
        if (!S_ISDIR(st.st_mode) || depth > 64 || a->error < 0)
                return a->error;
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d)) && a->error == 0) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                (void) label_scan_walk(a, child, st.st_dev, depth + 1);
        }
        return a->error;
}

static void label_answer_restore(LabelAnswer *a, const char *path) {
        g_autofree char *message = NULL;
        int r = label_engine_restore(a->p->engine, path, &message);
        const char *drv = a->p->engine->driver->name;
        if (r > 0)
                a->found++;
        if (a->json) {
                json_writer_object_begin(a->w);
                json_writer_member_string(a->w, "path", path);
                json_writer_member_string(a->w, "driver", drv);
                json_writer_member_bool(a->w, "restored", r > 0);
                json_writer_member_string(a->w, "error", r < 0 ? message : NULL);
                json_writer_object_end(a->w);
        } else if (r < 0)
                label_answer_text(a, "%s: %s: %s\n", path, drv, message);
        else
                label_answer_text(a, "%s: %s: %s\n", path, drv, r > 0 ? "original restored, record removed" : "no record");
}

int label_plugin_query(void *state, const BwQuery *query, BwQuerySink *sink) {
        LabelPlugin *p = state;
        const char *cmd = query->command;
        bool show = strcmp(cmd, "label-show") == 0, scan = strcmp(cmd, "label-scan") == 0,
             restore = strcmp(cmd, "label-restore") == 0;
        if (!show && !scan && !restore) {
                label_plugin_log(p, BW_LOG_ERR, "query '%s': unknown command; commands: label-show PATH..., label-scan DIR..., label-restore PATH...",
                                 cmd);
                return -EOPNOTSUPP;
        }
        if (query->argc == 0) {
                label_plugin_log(p, BW_LOG_ERR, "query '%s': needs at least one %s", cmd, scan ? "directory" : "path");
                return -EINVAL;
        }
        g_autoptr(JsonWriter) w = json_writer_new();
        LabelAnswer a = { .p = p, .sink = sink, .json = query->flags & BW_QUERY_JSON, .w = w };
        if (a.json)
                json_writer_array_begin(w);
        int r = 0;
        for (size_t i = 0; i < query->argc && a.error == 0; i++) {
                if (show)
                        label_answer_record(&a, query->argv[i], false);
                else if (restore)
                        label_answer_restore(&a, query->argv[i]);
                else {
                        int k = label_scan_walk(&a, query->argv[i], 0, 0);
                        if (k < 0 && a.error == 0) {
                                r = k;
                                label_plugin_log(p, BW_LOG_ERR, "query '%s': '%s': cannot walk it: %s", cmd,
                                                 query->argv[i], g_strerror(-k));
                        }
                }
        }
        if (a.error < 0)
                return a.error;
        if (a.json) {
                json_writer_array_end(w);
                g_autofree char *text = NULL;
                int k = json_writer_finish(w, &text);
                if (k < 0)
                        return k;
                k = sink->write(sink, text, strlen(text));
                if (k < 0)
                        return k;
                k = sink->write(sink, "\n", 1);
                if (k < 0)
                        return k;
        } else if (scan && a.found == 0)
                label_answer_text(&a, "%s: no stale record\n", p->engine->driver->name);
        return a.error < 0 ? a.error : r;
}
