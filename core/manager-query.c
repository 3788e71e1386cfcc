/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_query(): plugin-specific commands reach a plugin through the
 * manager, so front ends never link a plugin.  The answer streams to the
 * caller's write() through a BwQuerySink. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "manager.h"
#include "plugin-loader.h"

typedef struct QuerySink {
        BwQuerySink base;          /* what the plugin sees */
        BwQueryWriteFn write;
        void *userdata;
} QuerySink;

static int manager_query_write(BwQuerySink *sink, const char *data, size_t len) {
        QuerySink *s = sink->userdata;
        return s->write(s->userdata, data, len);
}

static Plugin *manager_query_find(BwManager *m, const char *name) {
        for (guint i = 0; i < m->plugins->len; i++) {
                Plugin *p = m->plugins->pdata[i];
                if (strcmp(p->name, name) == 0)
                        return p;
        }
        return NULL;
}

static int manager_query_not_loaded(BwManager *m, const char *name, BwError *reterr) {
        g_autoptr(GString) names = g_string_new(NULL);
        for (guint i = 0; i < m->plugins->len; i++)
                g_string_append_printf(names, "%s'%s'", i ? ", " : "", ((Plugin *) m->plugins->pdata[i])->name);
        return error_set(reterr, -ENOENT, "plugin '%s': not loaded (loaded: %s)", name,
                         names->len ? names->str : "none");
}

/* Loads a plugin that is not configured, for one query: from the plugin
 * directories, initialized only when its probe says it is usable. */
static int manager_query_load(BwManager *m, const char *name, Plugin **ret, BwError *reterr) {
        g_autoptr(Plugin) p = NULL;
        int r = plugin_load_by_name(m->settings->plugin_dirs, name, m->settings, &p, reterr);
        if (r < 0)
                return r;
        /* Its [plugin:NAME] group is held to the keys it declares, as for a
         * configured plugin. */
        r = settings_check_plugin_keys(m->settings, p->name, p->ops.config_keys, reterr);
        if (r < 0)
                return r;
        if (p->probe_result >= 0) {
                r = plugin_init(p, m->settings, reterr);
                if (r < 0)
                        return r;
        } else
                p->settings = m->settings;
        *ret = g_steal_pointer(&p);
        return 0;
}

BW_PUBLIC int bw_manager_query(BwManager *m, const char *plugin, const char *command, size_t argc,
                               const char *const *argv, unsigned flags, BwQueryWriteFn write, void *userdata,
                               BwError *reterr) {
        return bw_manager_query_guest(m, plugin, command, NULL, argc, argv, flags, write, userdata, reterr);
}

BW_PUBLIC int bw_manager_query_guest(BwManager *m, const char *plugin, const char *command, const BwGuest *guest,
                                     size_t argc, const char *const *argv, unsigned flags, BwQueryWriteFn write,
                                     void *userdata, BwError *reterr) {
        g_autoptr(Plugin) loaded = NULL;
        Plugin *p;
        int r;

        if (!m || !plugin || !command || !write || (argc > 0 && !argv))
                return error_set(reterr, -EINVAL, "bw_manager_query: missing argument");
        for (size_t i = 0; i < argc; i++)
                if (!argv[i])
                        return error_set(reterr, -EINVAL, "plugin '%s': command '%s': argument %zu is NULL",
                                         plugin, command, i);
        /* A query runs on an instance of the plugin of its own (a second
         * init of the same module): a long one, such as following the
         * denial log, never holds the manager's plugin lock, and nothing it
         * does shares state with the instances that start and stop guests. */
        if (!manager_query_find(m, plugin) && !(flags & BW_MANAGER_QUERY_LOAD))
                return manager_query_not_loaded(m, plugin, reterr);
        r = manager_query_load(m, plugin, &loaded, reterr);
        if (r < 0)
                return r;
        p = loaded;
        BwQuery query = {
                .size = sizeof(BwQuery),
                .command = command,
                .argc = argc,
                .argv = argv,
                .flags = flags & ~BW_MANAGER_QUERY_LOAD,
                .guest = guest ? bw_guest_info(guest) : NULL,
        };
        QuerySink sink = {
                .base = { .size = sizeof(BwQuerySink), .write = manager_query_write },
                .write = write,
                .userdata = userdata,
        };
        sink.base.userdata = &sink;
        return plugin_query(p, &query, &sink.base, reterr);
}
