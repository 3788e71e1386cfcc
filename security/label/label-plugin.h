/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the dac and selinux plugin modules share around the engine: plan
 * (one change per path of every resource), apply and undo through the
 * engine on the locked inode, attach/detach, release, adopt, the label
 * query commands.  A module gives its LabelDriver and the label each
 * path of a resource gets (LabelPluginOps). */
#pragma once

#include <glib.h>

#include <bulwark/plugin.h>

#include "label-engine.h"
#include "util/plugin-error.h"

typedef struct LabelPlugin LabelPlugin;

typedef struct LabelPluginOps {
        const LabelDriver *driver;
        const char *kind;          /* change kind: "chown", "label" */
        /* The label this path of the resource gets (*ret NULL: none from
         * this driver).  Must not change the host. */
        int (*label_for)(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, BwPathRole role,
                         GBytes **ret);
        /* Before the first change of a guest is applied, and at release;
         * may be NULL. */
        int (*before_apply)(LabelPlugin *p, const BwGuestInfo *guest);
        void (*release)(LabelPlugin *p, const BwGuestInfo *guest);
} LabelPluginOps;

struct LabelPlugin {
        const BwHost *host;
        const LabelPluginOps *ops;
        LabelEngine *engine;
        const char *state_dir;
        const char *skip_paths;
        char remembered[LABEL_UUID_LEN + 1];   /* the holder last written to label/guests/ */
        void *driver_state;
};

int label_plugin_new(const BwHost *host, const LabelPluginOps *ops, LabelPlugin **ret);
void label_plugin_free(LabelPlugin *p);

#define label_plugin_log(p, ...) plugin_log((p)->host, __VA_ARGS__)
const char *label_plugin_config(LabelPlugin *p, const char *key);

/* Is this path of the resource only read by the guest (read-only disk,
 * backing file, kernel, initrd, loader)? */
bool label_plugin_role_readonly(const BwResource *res, BwPathRole role);

/* The plugin operations, with the signatures of BwPluginEntry: a module's
 * entry table names them directly; `state` is the LabelPlugin. */
void label_plugin_fini(void *state);
int label_plugin_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink);
int label_plugin_attach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink);
int label_plugin_detach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink);
/* The file's record is the undo record: apply writes none. */
int label_plugin_apply(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                       void *undo, size_t undo_size, size_t *ret_undo_len);
int label_plugin_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                      const void *undo, size_t undo_len);
int label_plugin_release(void *state, const BwGuestInfo *guest);
int label_plugin_adopt(void *state, const BwGuestInfo *guest);
int label_plugin_query(void *state, const BwQuery *query, BwQuerySink *sink);

/* The largest change data: a path, a label, the resource's name. */
#define LABEL_PLUGIN_RECORD_MAX 8192u
