/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "plugin-loader.h"
#include "util/strv-util.h"

#define PLUGIN_NAME_MAX 32

static void plugin_host_log(const BwHost *host, int level, const char *message) {
        Plugin *p = host->userdata;
        if (!message)
                return;
        if (level <= BW_LOG_ERR) {
                /* Kept for the error the wrapper returns; the caller decides
                 * whether a person sees it. */
                g_free(p->last_error);
                p->last_error = g_strdup(message);
                log_debug("plugin '%s': %s", p->name, message);
        } else
                log_full(level, "plugin '%s': %s", p->name, message);
}

static const char *plugin_host_config(const BwHost *host, const char *key) {
        Plugin *p = host->userdata;
        return p->settings ? settings_plugin_value(p->settings, p->name, key) : NULL;
}

/* Copies the table, keeping only operations inside the plugin's struct_size. */
static void plugin_copy_ops(Plugin *p, const BwPluginEntry *entry) {
        size_t covered = MIN((size_t) entry->struct_size, sizeof(BwPluginEntry));
        memset(&p->ops, 0, sizeof(p->ops));
        memcpy(&p->ops, entry, covered);
        p->ops.struct_size = (uint32_t) covered;
}

static int plugin_check_entry(const char *path, const char *expected_name,
                              const BwPluginEntry *e, BwError *reterr) {
        if (e->abi_major != BW_PLUGIN_ABI_MAJOR)
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': ABI major version %u, this bulwark speaks %u%s",
                                 path, e->abi_major, BW_PLUGIN_ABI_MAJOR,
                                 e->abi_major < BW_PLUGIN_ABI_MAJOR
                                         ? " (rebuild the plugin against this bulwark's <bulwark/plugin.h>)"
                                         : "");
        if (e->struct_size < BW_PLUGIN_ENTRY_HEAD_SIZE)
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': entry table of %u bytes is smaller than its fixed head (%zu bytes)",
                                 path, e->struct_size, (size_t) BW_PLUGIN_ENTRY_HEAD_SIZE);
        if (e->flags & ~(uint32_t) BW_PLUGIN_FLAGS_KNOWN)
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': unknown flags 0x%x (known: 0x%x)",
                                 path, e->flags & ~(uint32_t) BW_PLUGIN_FLAGS_KNOWN,
                                 (unsigned) BW_PLUGIN_FLAGS_KNOWN);
        if (e->record_max > BW_RECORD_LIMIT)
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': record_max of %u bytes is larger than the limit of %u bytes",
                                 path, e->record_max, BW_RECORD_LIMIT);
        if (!string_is_name(e->name, PLUGIN_NAME_MAX, "-") ||
            strpbrk(e->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': name '%s' is not 1-32 characters of a-z, 0-9 and '-'",
                                 path, e->name ? e->name : "(null)");
        if (expected_name && strcmp(expected_name, e->name) != 0)
                return error_set(reterr, -EPROTO,
                                 "plugin '%s': declares the name '%s', but was loaded as '%s'",
                                 path, e->name, expected_name);
        return 0;
}

static void plugin_run_probe(Plugin *p) {
        if (!p->ops.probe) {
                p->probe_result = 0;
                g_strlcpy(p->probe_reason, "plugin has no probe", sizeof(p->probe_reason));
                return;
        }
        p->probe_reason[0] = 0;
        p->probe_result = p->ops.probe(&p->host, p->probe_reason, sizeof(p->probe_reason));
        p->probe_reason[sizeof(p->probe_reason) - 1] = 0;
        if (p->probe_result > 0)
                p->probe_result = 0;
}

/* A FIFO would block dlopen() forever: look at what the path names
 * through an O_PATH descriptor, which opens nothing. */
static int plugin_check_file(const char *path, BwError *reterr) {
        struct stat st;
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return error_set(reterr, -errno, "plugin '%s': cannot load: %m", path);
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return error_set(reterr, r, "plugin '%s': cannot load: %s", path, g_strerror(-r));
        if (!S_ISREG(st.st_mode))
                return error_set(reterr, -ELIBBAD, "plugin '%s': cannot load: not a regular file", path);
        return 0;
}

int plugin_load(const char *path, const char *expected_name, Settings *settings, Plugin **ret,
                BwError *reterr) {
        g_autoptr(Plugin) p = g_new0(Plugin, 1);
        int r;

        p->path = g_strdup(path);
        r = plugin_check_file(path, reterr);
        if (r < 0)
                return r;
        p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!p->dl)
                return error_set(reterr, -ELIBBAD, "plugin '%s': cannot load: %s", path, dlerror());

        const BwPluginEntry *entry = dlsym(p->dl, BW_PLUGIN_ENTRY_SYMBOL);
        if (!entry)
                return error_set(reterr, -ELIBBAD, "plugin '%s': does not export '%s'",
                                 path, BW_PLUGIN_ENTRY_SYMBOL);
        r = plugin_check_entry(path, expected_name, entry, reterr);
        if (r < 0)
                return r;

        plugin_copy_ops(p, entry);
        p->name = g_strdup(entry->name);
        p->abi_minor = entry->abi_minor;
        p->record_max = entry->record_max ? entry->record_max : BW_RECORD_DEFAULT;
        p->settings = settings;
        p->host = (BwHost) { .size = sizeof(BwHost), .log = plugin_host_log, .config = plugin_host_config,
                             .userdata = p };
        plugin_run_probe(p);
        log_debug("plugin '%s': loaded from '%s' (ABI %u.%u, probe %d: %s)", p->name, path,
                  entry->abi_major, entry->abi_minor, p->probe_result, p->probe_reason);
        *ret = g_steal_pointer(&p);
        return 0;
}

int plugin_load_by_name(char *const *dirs, const char *name, Settings *settings, Plugin **ret,
                        BwError *reterr) {
        if (!string_is_name(name, PLUGIN_NAME_MAX, "-"))
                return error_set(reterr, -EINVAL, "plugin '%s': not a valid plugin name", name);
        for (char *const *d = dirs; d && *d; d++) {
                g_autofree char *file = g_strdup_printf("%s.so", name);
                g_autofree char *path = g_build_filename(*d, file, NULL);
                if (access(path, F_OK) == 0)
                        return plugin_load(path, name, settings, ret, reterr);
        }
        g_autofree char *list = dirs ? g_strjoinv(":", (char **) dirs) : g_strdup("");
        return error_set(reterr, -ENOENT, "plugin '%s': no %s.so in the plugin directories '%s'",
                         name, name, list);
}

void plugin_free(Plugin *p) {
        if (!p)
                return;
        if (p->initialized && p->ops.fini)
                p->ops.fini(p->state);
        if (p->dl)
                dlclose(p->dl);
        g_free(p->last_error);
        g_free(p->sink_error);
        g_free(p->name);
        g_free(p->path);
        g_free(p);
}

int plugins_load_all(Settings *settings, GPtrArray **ret, BwError *reterr) {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) plugin_free);

        for (char **n = settings->plugins; *n; n++) {
                for (guint i = 0; i < list->len; i++)
                        if (strcmp(((Plugin *) list->pdata[i])->name, *n) == 0)
                                return error_set(reterr, -EEXIST,
                                                 "plugin '%s': listed twice in the plugin list", *n);
                Plugin *p;
                int r = plugin_load_by_name(settings->plugin_dirs, *n, settings, &p, reterr);
                if (r < 0)
                        return r;
                g_ptr_array_add(list, p);
                r = settings_check_plugin_keys(settings, p->name, p->ops.config_keys, reterr);
                if (r < 0)
                        return r;
        }
        *ret = g_steal_pointer(&list);
        return 0;
}

int plugin_init(Plugin *p, Settings *settings, BwError *reterr) {
        p->settings = settings;
        if (p->initialized)
                return 0;
        if (p->ops.init) {
                int r = p->ops.init(&p->host, &p->state);
                if (r < 0)
                        return error_set(reterr, r, "plugin '%s': cannot initialize: %s", p->name,
                                         p->last_error ? p->last_error : g_strerror(-r));
        }
        p->initialized = true;
        return 0;
}

/* Turns a plugin's failure into the wrapper's error.  A change the core
 * refused is the error even when the plugin ignored emit()'s answer. */
static int plugin_fail(Plugin *p, int r, const char *what, BwError *reterr) {
        g_autofree char *refused = g_steal_pointer(&p->sink_error);
        if (r >= 0 && !refused)
                return 0;
        int code = r < 0 ? r : -EINVAL;
        g_autofree char *msg = g_steal_pointer(&p->last_error);
        if (refused)
                return error_set(reterr, code, "plugin '%s': %s: %s", p->name, what, refused);
        return error_set(reterr, code, "plugin '%s': %s: %s", p->name, what,
                         msg ? msg : g_strerror(-code));
}

static int plugin_unsupported(Plugin *p, const char *what, BwError *reterr) {
        return error_set(reterr, -EOPNOTSUPP, "plugin '%s': %s: operation not provided by the plugin",
                         p->name, what);
}

/* Apply and undo of a plugin whose init never ran: never called. */
static int plugin_uninitialized(Plugin *p, const char *what, BwError *reterr) {
        return error_set(reterr, -ENODEV, "plugin '%s': %s: the plugin is not initialized (%s)", p->name,
                         what, p->probe_reason[0] ? p->probe_reason : "its init never ran");
}

int plugin_plan(Plugin *p, const BwGuestInfo *guest, BwChangeSink *sink, BwError *reterr) {
        if (!p->initialized || !p->ops.plan)
                return 0;
        g_clear_pointer(&p->sink_error, g_free);
        return plugin_fail(p, p->ops.plan(p->state, guest, sink), "cannot plan", reterr);
}

int plugin_apply(Plugin *p, const BwGuestInfo *guest, const BwChange *change,
                 const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len,
                 BwError *reterr) {
        *ret_undo_len = 0;
        g_autofree char *what = g_strdup_printf("%s '%s'", change->kind, change->object);
        if (!p->initialized)
                return plugin_uninitialized(p, what, reterr);
        if (!p->ops.apply)
                return plugin_unsupported(p, "apply", reterr);
        int r = p->ops.apply(p->state, guest, change, ctx, undo, undo_size, ret_undo_len);
        if (*ret_undo_len > undo_size)
                *ret_undo_len = undo_size;
        return plugin_fail(p, r, what, reterr);
}

int plugin_undo(Plugin *p, const BwGuestInfo *guest, const BwChange *change,
                const BwApplyContext *ctx, const void *undo, size_t undo_len, BwError *reterr) {
        g_autofree char *what = g_strdup_printf("undo %s '%s'", change->kind, change->object);
        if (!p->initialized)
                return plugin_uninitialized(p, what, reterr);
        if (!p->ops.undo)
                return plugin_unsupported(p, "undo", reterr);
        return plugin_fail(p, p->ops.undo(p->state, guest, change, ctx, undo, undo_len), what, reterr);
}

int plugin_release(Plugin *p, const BwGuestInfo *guest, BwError *reterr) {
        if (!p->initialized || !p->ops.release)
                return 0;
        return plugin_fail(p, p->ops.release(p->state, guest), "cannot release the guest", reterr);
}

int plugin_attach(Plugin *p, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink,
                  BwError *reterr) {
        if (!p->initialized || !p->ops.attach)
                return 0;
        g_clear_pointer(&p->sink_error, g_free);
        return plugin_fail(p, p->ops.attach(p->state, guest, res, sink), "cannot plan attach", reterr);
}

int plugin_detach(Plugin *p, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink,
                  BwError *reterr) {
        if (!p->initialized || !p->ops.detach)
                return 0;
        g_clear_pointer(&p->sink_error, g_free);
        return plugin_fail(p, p->ops.detach(p->state, guest, res, sink), "cannot plan detach", reterr);
}

int plugin_adopt(Plugin *p, const BwGuestInfo *guest, BwError *reterr) {
        if (!p->initialized || !p->ops.adopt)
                return 0;
        return plugin_fail(p, p->ops.adopt(p->state, guest), "cannot adopt the guest", reterr);
}

int plugin_query(Plugin *p, const BwQuery *query, BwQuerySink *sink, BwError *reterr) {
        if (!p->initialized)
                return error_set(reterr, p->probe_result < 0 ? p->probe_result : -ENODEV,
                                 "plugin '%s': not usable on this host: %s", p->name,
                                 p->probe_reason[0] ? p->probe_reason : "not initialized");
        if (!p->ops.query)
                return error_set(reterr, -EOPNOTSUPP, "plugin '%s': answers no commands ('%s' asked)",
                                 p->name, query->command);
        g_autofree char *what = g_strdup_printf("command '%s'", query->command);
        return plugin_fail(p, p->ops.query(p->state, query, sink), what, reterr);
}

int plugin_exec_attrs(Plugin *p, const BwGuestInfo *guest, BwExecSink *sink, BwError *reterr) {
        if (!p->initialized || !p->ops.exec_attrs)
                return 0; /* a plugin left out by allow-unsupported adds nothing */
        return plugin_fail(p, p->ops.exec_attrs(p->state, guest, sink), "cannot give exec attributes",
                           reterr);
}
