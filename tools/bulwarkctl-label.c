/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl label: what the labelling plugins (dac, selinux) remember
 * about files, answered by each plugin's query through the manager
 * (bw_manager_query(), in label_query() only, so the call can be routed
 * over D-Bus later); this file adds the file's own owner, mode and
 * context, and merges the plugins' answers. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "bulwarkctl.h"
#include "json-out.h"

static const char *const label_plugins[] = { "dac", "selinux", NULL };

static void label_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] label COMMAND PATH...\n"
                "\n"
                "The labels bulwark's dac and selinux plugins give guest files, and the\n"
                "original each one remembers in the file's trusted.bulwark.<driver> xattr\n"
                "(or, on a filesystem without xattrs, under <state-dir>/label/<driver>/).\n"
                "\n"
                "Commands:\n"
                "  show PATH...      owner, mode and SELinux context of each file, and each\n"
                "                    plugin's record: original label, the label the holders\n"
                "                    share, boot id, the holders (guest uuid and name) and\n"
                "                    whether each one runs\n"
                "  scan DIR...       records below the directories that are stale: no holder\n"
                "                    runs, written in another boot, or damaged\n"
                "  restore PATH...   put the original label back and remove the record,\n"
                "                    whatever the holders say, under exclusive locks on the\n"
                "                    paths, as a guest's start or stop takes them (lockd or\n"
                "                    local, as lock-backend= says): it waits for a start or\n"
                "                    stop on a file, up to lock-timeout, and is refused a\n"
                "                    file a running guest leases in lockd\n"
                "\n"
                "Each plugin answers whether or not the configured plugin list names it;\n"
                "a plugin this build lacks is left out with a note.\n");
}

/* One plugin's answer to one command, collected. */
static int label_collect(void *userdata, const char *data, size_t len) {
        g_string_append_len(userdata, data, (gssize) len);
        return 0;
}

static int label_query(BwManager *m, const char *plugin, const char *command, int argc, char **argv, bool json,
                       GString *out, BwError *err) {
        unsigned flags = BW_MANAGER_QUERY_LOAD | (json ? BW_QUERY_JSON : 0);
        return bw_manager_query(m, plugin, command, (size_t) argc, (const char *const *) argv, flags, label_collect,
                                out, err);
}

/* The file's security.selinux, without its NUL; false when it has none. */
static bool label_file_context(const char *path, char *buf, size_t size) {
        ssize_t n = lgetxattr(path, "security.selinux", buf, size - 1);
        if (n > 0 && buf[n - 1] == '\0')
                n--;
        buf[n > 0 ? n : 0] = '\0';
        return n > 0;
}

static void label_file_text(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0) {
                printf("%s: %s\n", path, strerror(errno));
                return;
        }
        char ctx[512];
        bool has = label_file_context(path, ctx, sizeof(ctx));
        printf("%s: owner %u:%u, mode %04o, context %s\n", path, (unsigned) st.st_uid, (unsigned) st.st_gid,
               (unsigned) (st.st_mode & 07777), has ? ctx : "(none)");
}

static void label_file_json(const char *path, bool first) {
        struct stat st;
        printf("%s{\"path\":", first ? "" : ",");
        json_print_string(stdout, path);
        if (lstat(path, &st) < 0) {
                printf(",\"error\":");
                json_print_string(stdout, strerror(errno));
                printf("}");
                return;
        }
        char ctx[512];
        bool has = label_file_context(path, ctx, sizeof(ctx));
        printf(",\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\",\"context\":", (unsigned) st.st_uid, (unsigned) st.st_gid,
               (unsigned) (st.st_mode & 07777));
        json_print_string(stdout, has ? ctx : NULL);
        printf("}");
}

/* The elements of a JSON array answer, without its brackets. */
static bool label_array_inner(GString *answer, GString *merged) {
        g_strstrip(answer->str);
        size_t len = strlen(answer->str);
        if (len < 2 || answer->str[0] != '[' || answer->str[len - 1] != ']')
                return false;
        if (len > 2) {
                if (merged->len > 0)
                        g_string_append_c(merged, ',');
                g_string_append_len(merged, answer->str + 1, (gssize) len - 2);
        }
        return true;
}

/* A restore changes what a guest's start and stop change: it holds the
 * same path locks (the configured backend's, lockd or local), so it waits
 * for a transaction on the file and is refused a file a running guest
 * leases. */
static int label_lock(BwManager *m, int argc, char **argv, BwPathLocks **ret) {
        BwError err = {};
        int r = bw_manager_lock_paths(m, (const char *const *) argv, (size_t) argc, ret, &err);
        if (r < 0)
                fprintf(stderr, "bulwarkctl: label restore: cannot lock the files: %s\n", err.message);
        return r;
}

static int label_run(CtlContext *ctx, const char *cmd, int argc, char **argv) {
        g_autofree char *command = g_strdup_printf("label-%s", cmd);
        bool show = strcmp(cmd, "show") == 0;
        BwManager *m = NULL;
        BwPathLocks *locks = NULL;
        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        if (strcmp(cmd, "restore") == 0 && label_lock(m, argc, argv, &locks) < 0) {
                bw_manager_free(m);
                return CTL_EXIT_FAILURE;
        }
        g_autoptr(GString) merged = g_string_new(NULL);
        int status = CTL_EXIT_OK;
        if (ctx->json)
                printf("{\"files\":[");
        for (int i = 0; show && i < argc; i++) {
                if (ctx->json)
                        label_file_json(argv[i], i == 0);
                else
                        label_file_text(argv[i]);
        }
        for (size_t p = 0; label_plugins[p]; p++) {
                g_autoptr(GString) answer = g_string_new(NULL);
                BwError err = {};
                int r = label_query(m, label_plugins[p], command, argc, argv, ctx->json, answer, &err);
                if (r == -ENOENT && strstr(err.message, ".so in the plugin director")) {
                        fprintf(stderr, "bulwarkctl: label: plugin '%s' is not built here: left out\n", label_plugins[p]);
                        continue;
                }
                if (r < 0) {
                        fprintf(stderr, "bulwarkctl: label %s: plugin '%s': %s\n", cmd, label_plugins[p],
                                err.message[0] ? err.message : strerror(-r));
                        status = CTL_EXIT_FAILURE;
                }
                if (!ctx->json)
                        fputs(answer->str, stdout);
                else if (answer->len > 0 && !label_array_inner(answer, merged)) {
                        fprintf(stderr, "bulwarkctl: label %s: plugin '%s' answered no JSON array\n", cmd,
                                label_plugins[p]);
                        status = CTL_EXIT_FAILURE;
                }
        }
        if (ctx->json)
                printf("],\"records\":[%s]}\n", merged->str);
        bw_path_locks_release(locks);
        bw_manager_free(m);
        return status;
}

int ctl_label_main(CtlContext *ctx, int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                label_help(argc < 2 ? stderr : stdout);
                return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
        }
        const char *cmd = argv[1];
        if (strcmp(cmd, "show") != 0 && strcmp(cmd, "scan") != 0 && strcmp(cmd, "restore") != 0) {
                fprintf(stderr, "bulwarkctl: unknown label command '%s'; see 'bulwarkctl label --help'\n", cmd);
                return CTL_EXIT_USAGE;
        }
        if (argc < 3) {
                fprintf(stderr, "bulwarkctl: label %s: give at least one %s\n", cmd,
                        strcmp(cmd, "scan") == 0 ? "DIR" : "PATH");
                return CTL_EXIT_USAGE;
        }
        return label_run(ctx, cmd, argc - 2, argv + 2);
}
