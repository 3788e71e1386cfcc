/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "settings.h"
#include "util/cgroup2-root.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv-util.h"

#define SETTINGS_GROUP "bulwark"
#define SETTINGS_DEFAULT_PLUGINS "cgroup-bpf"
#define SETTINGS_DEFAULT_LOCK_TIMEOUT_S 60
#define SETTINGS_FILE_MAX (1u << 20)
#define SETTINGS_PLUGIN_PREFIX "plugin:"
#define SETTINGS_ALLOW_UNSUPPORTED "allow-unsupported"

static const char *const settings_known_keys[] = {
        "plugins", "plugin-dir", "state-dir", "run-dir", "cgroup-root",
        "lock-backend", "lock-timeout", NULL,
};

/* Option, then environment, then file, then default: the first set wins. */
static char *settings_pick(const char *option, const char *env, GKeyFile *kf, const char *key,
                         const char *fallback) {
        const char *e = getenv(env);
        if (option && *option)
                return g_strdup(option);
        if (e && *e)
                return g_strdup(e);
        g_autofree char *v = g_key_file_get_string(kf, SETTINGS_GROUP, key, NULL);
        if (v && *g_strstrip(v))
                return g_steal_pointer(&v);
        return g_strdup(fallback);
}

/* Reads the whole file without ever blocking on it: a FIFO (or any other
 * non-regular file but the null device) is refused by its fstat(), taken
 * on a descriptor opened with O_NONBLOCK. */
static int settings_read_text(const char *path, bool explicit, char **ret, gsize *ret_len, BwError *reterr) {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0) {
                if (!explicit && errno == ENOENT)
                        return 0; /* no configuration installed: defaults */
                return error_set(reterr, -EINVAL, "configuration '%s': cannot open: %m", path);
        }
        if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))) {
                int r = error_set(reterr, -EINVAL, "configuration '%s': not a regular file", path);
                close(fd);
                return r;
        }
        g_autoptr(GString) text = g_string_new(NULL);
        char buf[4096];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || text->len + (size_t) n > SETTINGS_FILE_MAX) {
                        int r = n < 0 ? error_set(reterr, -EINVAL, "configuration '%s': cannot read: %m", path)
                                      : error_set(reterr, -EINVAL, "configuration '%s': larger than %u bytes",
                                                  path, SETTINGS_FILE_MAX);
                        close(fd);
                        return r;
                }
                if (n == 0)
                        break;
                g_string_append_len(text, buf, n);
        }
        close(fd);
        *ret_len = text->len;
        *ret = g_string_free(g_steal_pointer(&text), FALSE);
        return 1;
}

/* "[plugin:NAME] allow-unsupported" is the core's: true or false, nothing else. */
static int settings_check_allow_unsupported(Settings *c, const char *path, BwError *reterr) {
        g_auto(GStrv) groups = g_key_file_get_groups(c->keyfile, NULL);
        for (char **g = groups; g && *g; g++) {
                if (!g_str_has_prefix(*g, SETTINGS_PLUGIN_PREFIX))
                        continue;
                g_autofree char *v = g_key_file_get_value(c->keyfile, *g, SETTINGS_ALLOW_UNSUPPORTED, NULL);
                if (v && strcmp(g_strstrip(v), "true") != 0 && strcmp(v, "false") != 0)
                        return error_set(reterr, -EINVAL,
                                         "configuration '%s': [%s] %s='%s' is neither 'true' nor 'false'",
                                         path, *g, SETTINGS_ALLOW_UNSUPPORTED, v);
        }
        return 0;
}

static int settings_read_file(Settings *c, const char *path, bool explicit, BwError *reterr) {
        g_autoptr(GError) gerr = NULL;
        g_autofree char *text = NULL;
        gsize len = 0;

        /* Read first, then parse: /dev/null is a valid empty configuration. */
        int r = settings_read_text(path, explicit, &text, &len, reterr);
        if (r <= 0)
                return r;
        if (!g_key_file_load_from_data(c->keyfile, text, len, G_KEY_FILE_NONE, &gerr))
                return error_set(reterr, -EINVAL, "configuration '%s': %s", path, gerr->message);
        c->path = g_strdup(path);

        g_auto(GStrv) keys = g_key_file_get_keys(c->keyfile, SETTINGS_GROUP, NULL, NULL);
        for (char **k = keys; k && *k; k++)
                if (!g_strv_contains(settings_known_keys, *k))
                        return error_set(reterr, -EINVAL,
                                         "configuration '%s': [bulwark] unknown key '%s'", path, *k);
        return settings_check_allow_unsupported(c, path, reterr);
}

static int settings_parse_lock(Settings *c, BwError *reterr) {
        const char *where = c->path ? c->path : "(defaults)";
        g_autofree char *backend = settings_pick(NULL, "BULWARK_LOCK_BACKEND", c->keyfile,
                                               "lock-backend", "local");
        g_autofree char *timeout = settings_pick(NULL, "BULWARK_LOCK_TIMEOUT", c->keyfile,
                                               "lock-timeout", NULL);
        if (strcmp(backend, "local") == 0)
                c->lock_backend = LOCK_BACKEND_LOCAL;
        else if (strcmp(backend, "lockd") == 0)
                c->lock_backend = LOCK_BACKEND_LOCKD;
        else
                return error_set(reterr, -EINVAL,
                                 "configuration '%s': lock-backend '%s' is neither 'local' nor 'lockd'",
                                 where, backend);

        c->lock_timeout_ms = SETTINGS_DEFAULT_LOCK_TIMEOUT_S * 1000;
        if (timeout) {
                char *end;
                double s = g_ascii_strtod(timeout, &end);
                if (*end || !(s >= 0 && s <= 3600))
                        return error_set(reterr, -EINVAL,
                                         "configuration '%s': lock-timeout '%s' is not a number of seconds from 0 to 3600",
                                         where, timeout);
                c->lock_timeout_ms = (unsigned) (s * 1000);
        }

        g_autofree char *sock = g_key_file_get_string(c->keyfile, "lockd", "socket", NULL);
        const char *env = getenv("BULWARK_LOCKD_SOCKET");
        if (env && *env)
                c->lockd_socket = g_strdup(env);
        else if (sock && *g_strstrip(sock))
                c->lockd_socket = g_steal_pointer(&sock);
        else
                c->lockd_socket = g_build_filename(c->run_dir, "lockd.sock", NULL);
        return 0;
}

/* The discovered root, as a GLib string like every other setting. */
static int settings_discover_cgroup_root(char **ret) {
        char *found = NULL;
        int r = cgroup2_root_discover(&found);
        if (r < 0)
                return r;
        *ret = g_strdup(found);
        free(found);
        return 0;
}

int settings_load(const BwOptions *options, Settings **ret, BwError *reterr) {
        static const BwOptions none = {};
        const BwOptions *o = options ? options : &none;
        g_autoptr(Settings) c = g_new0(Settings, 1);
        int r;

        c->keyfile = g_key_file_new();
        c->lookups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_mutex_init(&c->lookups_lock);

        const char *env_path = getenv("BULWARK_CONFIG");
        if (o->config_path)
                r = settings_read_file(c, o->config_path, true, reterr);
        else if (env_path && *env_path)
                r = settings_read_file(c, env_path, true, reterr);
        else
                r = settings_read_file(c, BW_SYSCONFDIR "/bulwark.conf", false, reterr);
        if (r < 0)
                return r;

        g_autofree char *plugins = settings_pick(o->plugins, "BULWARK_PLUGINS", c->keyfile, "plugins",
                                               SETTINGS_DEFAULT_PLUGINS);
        g_autofree char *dirs = settings_pick(o->plugin_dir, "BULWARK_PLUGIN_DIR", c->keyfile,
                                            "plugin-dir", BW_PLUGINDIR);
        c->plugins = strv_split_list(plugins, ", ");
        c->plugin_dirs = strv_split_list(dirs, ":");
        c->state_dir = settings_pick(o->state_dir, "BULWARK_STATE_DIR", c->keyfile, "state-dir",
                                   BW_STATEDIR);
        c->run_dir = settings_pick(o->run_dir, "BULWARK_RUN_DIR", c->keyfile, "run-dir", BW_RUNDIR);
        c->cgroup_root = settings_pick(o->cgroup_root, "BULWARK_CGROUP_ROOT", c->keyfile,
                                     "cgroup-root", NULL);
        /* Found once, here: plugins get it through config("cgroup-root"). */
        if (!c->cgroup_root && settings_discover_cgroup_root(&c->cgroup_root) < 0)
                log_debug("no cgroup2 mount found; guests without a cgroup= have none");

        const char *where = c->path ? c->path : "(defaults)";
        const char *paths[] = { c->state_dir, c->run_dir, c->cgroup_root };
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
                if (paths[i] && !g_path_is_absolute(paths[i]))
                        return error_set(reterr, -EINVAL,
                                         "configuration '%s': path '%s' is relative (an absolute path is required)",
                                         where, paths[i]);
        for (char **d = c->plugin_dirs; *d; d++)
                if (!g_path_is_absolute(*d))
                        return error_set(reterr, -EINVAL,
                                         "configuration '%s': plugin directory '%s' is relative (an absolute path is required)",
                                         where, *d);

        r = settings_parse_lock(c, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&c);
        return 0;
}

BW_PUBLIC int bw_config_lockd_socket(const BwOptions *options, char **ret_path, BwError *reterr) {
        g_autoptr(Settings) c = NULL;

        if (!ret_path)
                return error_set(reterr, -EINVAL, "bw_config_lockd_socket: ret_path is NULL");
        int r = settings_load(options, &c, reterr);
        if (r < 0)
                return r;
        *ret_path = g_steal_pointer(&c->lockd_socket);
        return 0;
}

void settings_free(Settings *c) {
        if (!c)
                return;
        g_free(c->path);
        g_strfreev(c->plugins);
        g_strfreev(c->plugin_dirs);
        g_free(c->state_dir);
        g_free(c->run_dir);
        g_free(c->cgroup_root);
        g_free(c->lockd_socket);
        if (c->keyfile)
                g_key_file_unref(c->keyfile);
        if (c->lookups) {
                g_hash_table_unref(c->lookups);
                g_mutex_clear(&c->lookups_lock);
        }
        g_free(c);
}

bool settings_plugin_allow_unsupported(Settings *c, const char *plugin) {
        g_autofree char *group = g_strconcat(SETTINGS_PLUGIN_PREFIX, plugin, NULL);
        g_autofree char *v = g_key_file_get_value(c->keyfile, group, SETTINGS_ALLOW_UNSUPPORTED, NULL);
        return v && strcmp(g_strstrip(v), "true") == 0; /* anything else was refused at load */
}

int settings_check_plugin_keys(Settings *c, const char *plugin, const char *const *keys, BwError *reterr) {
        g_autofree char *group = g_strconcat(SETTINGS_PLUGIN_PREFIX, plugin, NULL);
        g_auto(GStrv) found = g_key_file_get_keys(c->keyfile, group, NULL, NULL);

        for (char **k = found; k && *k; k++) {
                if (strcmp(*k, SETTINGS_ALLOW_UNSUPPORTED) == 0 || (keys && g_strv_contains(keys, *k)))
                        continue;
                g_autofree char *known = keys && keys[0] ? g_strjoinv("', '", (char **) keys) : NULL;
                return error_set(reterr, -EINVAL,
                                 "configuration '%s': [%s] unknown key '%s' (plugin '%s' knows %s%s%s'%s')",
                                 c->path ? c->path : "(defaults)", group, *k, plugin,
                                 known ? "'" : "", known ? known : "", known ? "', " : "",
                                 SETTINGS_ALLOW_UNSUPPORTED);
        }
        return 0;
}

const char *settings_plugin_value(Settings *c, const char *plugin, const char *key) {
        if (!key)
                return NULL;
        if (strcmp(key, "cgroup-root") == 0)
                return c->cgroup_root;
        if (strcmp(key, "state-dir") == 0)
                return c->state_dir;
        if (strcmp(key, "run-dir") == 0)
                return c->run_dir;
        if (strcmp(key, SETTINGS_ALLOW_UNSUPPORTED) == 0)
                return settings_plugin_allow_unsupported(c, plugin) ? "true" : "false";

        g_autofree char *group = g_strconcat(SETTINGS_PLUGIN_PREFIX, plugin, NULL);
        g_autofree char *id = g_strdup_printf("%s\n%s", group, key);
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&c->lookups_lock);
        const char *cached = g_hash_table_lookup(c->lookups, id);
        if (cached)
                return cached;
        char *v = g_key_file_get_string(c->keyfile, group, key, NULL);
        if (!v)
                return NULL;
        g_hash_table_insert(c->lookups, g_steal_pointer(&id), v);
        return v;
}

