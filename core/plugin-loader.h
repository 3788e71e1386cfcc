/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading plugins and calling them.
 *
 * The loader refuses a file that is not a regular file (fstat() of an
 * O_PATH descriptor: a FIFO never blocks it), dlopen()s the plugin with
 * RTLD_NOW|RTLD_LOCAL and checks its entry table before anything else
 * runs: the symbol exists, abi_major is ours, no unknown flag is set,
 * struct_size covers the fixed head, record_max is at most
 * BW_RECORD_LIMIT, the name is well formed.  The table is copied with
 * every operation the plugin's struct_size does not cover cleared, so the
 * wrappers below are the only place where "operation absent" is decided.
 * No wrapper but the probe calls into a plugin whose init never ran (a
 * plugin left out by allow-unsupported): those that plan or release do
 * nothing, apply and undo fail with -ENODEV.  Otherwise:
 *   probe   absent: usable            init/fini absent: no state
 *   plan    absent: no changes        apply/undo absent: -EOPNOTSUPP
 *   release absent: nothing to drop   attach/detach absent: no changes
 *   adopt   absent: nothing to adopt (0)
 *   query   absent: -EOPNOTSUPP         exec_attrs absent: nothing to add (0)
 * Callers never test operation pointers. */
#pragma once

#include <glib.h>

#include <bulwark/bulwark.h>

#include "settings.h"

#define PLUGIN_REASON_MAX 256

typedef struct Plugin {
        char *name;
        char *path;
        void *dl;
        BwPluginEntry ops;          /* copy; uncovered operations NULL */
        uint32_t abi_minor;
        size_t record_max;          /* effective: BW_RECORD_DEFAULT when the table says 0 */
        int probe_result;
        char probe_reason[PLUGIN_REASON_MAX];
        void *state;
        bool initialized;
        BwHost host;
        Settings *settings;         /* borrowed, for host->config() */
        char *last_error;           /* the plugin's last error-level message */
        char *sink_error;           /* why the core refused a change it emitted */
} Plugin;

/* Loads one plugin file.  expected_name, when non-NULL, must match the
 * table's name (the file name without ".so").  Runs the probe, whose
 * host->config() reads `settings` (borrowed; NULL: nothing is set). */
int plugin_load(const char *path, const char *expected_name, Settings *settings, Plugin **ret,
                BwError *reterr);
/* Finds NAME.so in the directories, first match wins. */
int plugin_load_by_name(char *const *dirs, const char *name, Settings *settings, Plugin **ret,
                        BwError *reterr);
/* Calls fini (when initialized) and dlclose(). */
void plugin_free(Plugin *plugin);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Plugin, plugin_free)

/* Loads the settings' plugin list in order; rejects duplicates and keys
 * of a [plugin:NAME] group the plugin does not declare. */
int plugins_load_all(Settings *settings, GPtrArray **ret, BwError *reterr);

/* Creates the plugin state; settings are borrowed until plugin_free(). */
int plugin_init(Plugin *plugin, Settings *settings, BwError *reterr);

/* Operation wrappers: each returns 0/-errno and, on failure, fills reterr
 * with "plugin 'NAME': <what>: <the plugin's message or strerror>". */
int plugin_plan(Plugin *p, const BwGuestInfo *guest, BwChangeSink *sink, BwError *reterr);
int plugin_apply(Plugin *p, const BwGuestInfo *guest, const BwChange *change,
                 const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len,
                 BwError *reterr);
int plugin_undo(Plugin *p, const BwGuestInfo *guest, const BwChange *change,
                const BwApplyContext *ctx, const void *undo, size_t undo_len, BwError *reterr);
int plugin_release(Plugin *p, const BwGuestInfo *guest, BwError *reterr);
int plugin_attach(Plugin *p, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink,
                  BwError *reterr);
int plugin_detach(Plugin *p, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink,
                  BwError *reterr);
int plugin_adopt(Plugin *p, const BwGuestInfo *guest, BwError *reterr);
int plugin_query(Plugin *p, const BwQuery *query, BwQuerySink *sink, BwError *reterr);
int plugin_exec_attrs(Plugin *p, const BwGuestInfo *guest, BwExecSink *sink, BwError *reterr);
