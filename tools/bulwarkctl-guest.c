/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl guest check|explain|start|stop|list|attach|detach, and bulwarkctl recover. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "bulwarkctl.h"
#include "ctl-transport.h"
#include "json-in.h"

static void guest_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [OPTIONS] guest COMMAND ...\n"
                "\n"
                "Commands:\n"
                "  check FILE     parse a guest definition and list its resources and every\n"
                "                 host path they use (backing chains included); changes nothing\n"
                "  explain FILE   print every change starting the guest would make: each\n"
                "                 plugin's chown, label, profile rule and device rule; changes nothing\n"
                "  start FILE     plan, lock, apply (journaled) and commit; on failure every\n"
                "                 applied change is undone\n"
                "  stop [--kill] NAME\n"
                "                 undo every change of a started guest, newest first; refused\n"
                "                 while the guest's cgroup still holds a process (it would run\n"
                "                 unconfined): --kill kills them (cgroup.kill) and waits first\n"
                "  attach NAME FILE\n"
                "                 give a running guest the one resource group FILE holds ('-':\n"
                "                 standard input), in a journaled transaction of its own\n"
                "  detach NAME TYPE:ID\n"
                "                 take a resource (disk:data; kernel, firmware, tpm, memory) away\n"
                "                 from a running guest\n"
                "  list           the guests the state directory knows: running, interrupted\n"
                "                 (a transaction running or cut short by a crash) or corrupt,\n"
                "                 with start time (UTC), changes in place and cgroup\n"
                "  show NAME      one guest as its journal has it: status, start time,\n"
                "                 cgroup, its resources and host paths, and per plugin every\n"
                "                 change made and not undone (what a stop would undo)\n"
                "\n"
                "A start, stop, attach, detach or recover of a guest waits for any other transaction on the\n"
                "same guest (its lock, <state-dir>/guests/.NAME.lock) up to the lock timeout.\n"
                "Exit status 75 (busy) when that wait times out, when stop is refused\n"
                "because the cgroup still holds a process, and when a start names a cgroup\n"
                "a running guest owns; 1 for any other failure.\n"
                "--json prints JSON for check, explain, list and show (the library's own:\n"
                "bw_guest_to_json, bw_plan_to_json, bw_manager_guests_to_json,\n"
                "bw_guest_state_to_json).\n");
}

static int guest_load(const char *path, BwGuest **ret) {
        BwError err = {};
        int r = bw_guest_load_file(path, ret, &err);
        if (r < 0)
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
        return r;
}

/* Prints a document the library made (--json), or the table made from it
 * by `table`; says why when there is none. */
static int print_json_or(const CtlContext *ctx, int r, char *json, int (*table)(JsonNode *doc)) {
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        if (ctx->json) {
                printf("%s\n", json);
                bw_free(json);
                return CTL_EXIT_OK;
        }
        JsonNode *doc = json_in_parse(json);
        bw_free(json);
        if (!doc)
                return CTL_EXIT_FAILURE;
        int rc = table(doc);
        json_node_unref(doc);
        return rc;
}

static void check_print_table(JsonObject *g) {
        printf("guest %s  uuid %s  uid %u gid %u", json_in_string(g, "name"), json_in_string(g, "uuid"),
               (unsigned) json_in_int(g, "uid"), (unsigned) json_in_int(g, "gid"));
        JsonArray *groups = json_in_array(g, "groups");
        for (guint i = 0; groups && i < json_array_get_length(groups); i++)
                printf("%s%u", i ? "," : " groups ", (unsigned) json_array_get_int_element(groups, i));
        printf("%s\n", json_in_bool(g, "hotplug_vfio") ? "  hotplug-vfio" : "");
        if (json_in_bool(g, "cgroup_given"))
                printf("cgroup %s\n", json_in_string(g, "cgroup"));
        JsonArray *dirs = json_in_array(g, "hotplug_dirs");
        for (guint i = 0; dirs && i < json_array_get_length(dirs); i++)
                printf("hotplug-dir %s\n", json_array_get_string_element(dirs, i));
        printf("%-10s %-12s %-16s %s\n", "TYPE", "ID", "ROLE", "PATH");
        JsonArray *resources = json_in_array(g, "resources");
        for (guint i = 0; resources && i < json_array_get_length(resources); i++) {
                JsonObject *res = json_in_element(resources, i);
                JsonArray *paths = json_in_array(res, "paths");
                guint n = paths ? json_array_get_length(paths) : 0;
                const char *type = json_in_string(res, "type"), *id = json_in_string(res, "id");
                if (n == 0)
                        printf("%-10s %-12s %-16s %s\n", type, id, "-", "(no host path)");
                for (guint k = 0; k < n; k++) {
                        JsonObject *p = json_in_element(paths, k);
                        printf("%-10s %-12s %-16s %s\n", k ? "" : type, k ? "" : id, json_in_string(p, "role"),
                               json_in_string(p, "path"));
                }
        }
}

/* Host objects the definition names that are not on this host: the
 * definition is valid, but a start would be refused. */
static void check_print_unresolved(JsonArray *unresolved) {
        for (guint i = 0; unresolved && i < json_array_get_length(unresolved); i++)
                printf("not on this host (start will refuse): %s\n", json_array_get_string_element(unresolved, i));
}

static int check_print(JsonNode *doc) {
        JsonObject *o = json_node_get_object(doc);
        check_print_table(json_in_object(o, "guest"));
        check_print_unresolved(json_in_array(o, "unresolved"));
        return CTL_EXIT_OK;
}

/* `guest check` parses here, whatever the transport: it needs no manager. */
static int guest_check(CtlContext *ctx, const char *path) {
        BwGuest *g = NULL;
        char *json = NULL;
        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        int r = bw_guest_to_json(g, &json);
        bw_guest_free(g);
        return print_json_or(ctx, r, json, check_print);
}

static int explain_print(JsonNode *doc) {
        JsonObject *plan = json_node_get_object(doc);
        JsonArray *changes = json_in_array(plan, "changes");
        guint n = changes ? json_array_get_length(changes) : 0;
        printf("guest '%s': %u change(s), applied in this order\n%-4s %-12s %-14s %-40s %s\n",
               json_in_string(plan, "guest"), n, "#", "PLUGIN", "CHANGE", "OBJECT", "DETAIL");
        for (guint i = 0; i < n; i++) {
                JsonObject *c = json_in_element(changes, i);
                printf("%-4u %-12s %-14s %-40s %s\n", i + 1, json_in_string(c, "plugin"), json_in_string(c, "kind"),
                       json_in_string(c, "object"), json_in_string(c, "detail"));
        }
        return CTL_EXIT_OK;
}

static int guest_explain(CtlContext *ctx, const char *path) {
        BwGuest *g = NULL;
        char *json = NULL;
        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        int r = ctl_plan_json(ctx, path, g, &json);
        bw_guest_free(g);
        if (r < 0)
                return ctl_exit_status(r);
        return print_json_or(ctx, r, json, explain_print);
}

static int guest_start(CtlContext *ctx, const char *path) {
        BwGuest *g = NULL;
        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        int r = ctl_guest_start(ctx, path, g);
        if (r >= 0)
                printf("guest '%s': started\n", bw_guest_info(g)->name);
        bw_guest_free(g);
        return r < 0 ? ctl_exit_status(r) : CTL_EXIT_OK;
}

static int guest_stop(CtlContext *ctx, const char *name, unsigned flags) {
        int r = ctl_guest_stop(ctx, name, flags);
        if (r < 0)
                return ctl_exit_status(r);
        printf("guest '%s': stopped, every change undone\n", name);
        return CTL_EXIT_OK;
}

static void hotplug_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl guest attach NAME FILE\n"
                "       bulwarkctl guest detach NAME TYPE:ID\n"
                "\n"
                "attach gives the running guest NAME the resource FILE holds: exactly one\n"
                "resource group of a guest definition ('-' reads it from standard input):\n"
                "  [disk:data]\n"
                "  path=/var/lib/images/data.qcow2\n"
                "  format=qcow2\n"
                "Host objects are looked up as a start would (a missing image is refused).\n"
                "Each plugin's changes are locked, journaled, applied and committed; on any\n"
                "failure they are undone and the guest is exactly as before.\n"
                "\n"
                "detach takes the resource TYPE:ID (disk:data; kernel, firmware, tpm or\n"
                "memory for the single groups) away: each plugin, in reverse order, takes\n"
                "back what it granted for it.  A later stop does not grant it again.\n"
                "\n"
                "Both wait for another transaction on the guest up to the lock timeout\n"
                "(exit status 75 when it did not finish); a guest whose last transaction\n"
                "was cut short must be recovered first ('bulwarkctl recover').\n");
}

/* The resource text of `path`, or of standard input for "-". */
static int hotplug_read(const char *path, char **ret) {
        g_autoptr(GError) error = NULL;
        if (strcmp(path, "-") != 0) {
                if (!g_file_get_contents(path, ret, NULL, &error)) {
                        fprintf(stderr, "bulwarkctl: '%s': %s\n", path, error->message);
                        return -EIO;
                }
                return 0;
        }
        g_autoptr(GString) text = g_string_new(NULL);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
                g_string_append_len(text, buf, (gssize) n);
        if (ferror(stdin)) {
                fprintf(stderr, "bulwarkctl: standard input: cannot read\n");
                return -EIO;
        }
        *ret = g_string_free(g_steal_pointer(&text), FALSE);
        return 0;
}

/* guest attach NAME FILE, guest detach NAME TYPE:ID (argv[0] is the command). */
static int guest_hotplug(CtlContext *ctx, int argc, char **argv) {
        bool attach = strcmp(argv[0], "attach") == 0;
        g_autofree char *text = NULL;

        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                hotplug_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc != 3) {
                hotplug_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (attach && hotplug_read(argv[2], &text) < 0)
                return CTL_EXIT_FAILURE;
        int r = attach ? ctl_guest_attach(ctx, argv[1], text) : ctl_guest_detach(ctx, argv[1], argv[2]);
        if (r < 0)
                return ctl_exit_status(r);
        if (attach)
                printf("guest '%s': attached the resource of '%s'\n", argv[1], argv[2]);
        else
                printf("guest '%s': detached [%s]\n", argv[1], argv[2]);
        return CTL_EXIT_OK;
}

static size_t list_count_changes(JsonObject *guest) {
        JsonArray *plugins = json_in_array(guest, "plugins");
        size_t n = 0;
        for (guint i = 0; plugins && i < json_array_get_length(plugins); i++) {
                JsonArray *changes = json_in_array(json_in_element(plugins, i), "changes");
                n += changes ? json_array_get_length(changes) : 0;
        }
        return n;
}

static int list_print(JsonNode *doc) {
        JsonArray *guests = JSON_NODE_HOLDS_ARRAY(doc) ? json_node_get_array(doc) : NULL;
        int rc = CTL_EXIT_OK;

        printf("%-20s %-12s %-28s %-8s %s\n", "NAME", "STATUS", "STARTED", "CHANGES", "CGROUP");
        for (guint i = 0; guests && i < json_array_get_length(guests); i++) {
                JsonObject *g = json_in_element(guests, i);
                const char *status = json_in_string(g, "status"), *started = json_in_string(g, "started");
                const char *cgroup = json_in_string(g, "cgroup");
                if (g_strcmp0(status, "unreadable") == 0) {
                        printf("%-20s %-12s %s\n", json_in_string(g, "name"), status, json_in_string(g, "error"));
                        rc = CTL_EXIT_FAILURE;
                        continue;
                }
                printf("%-20s %-12s %-28s %-8zu %s\n", json_in_string(g, "name"), status, started ? started : "-",
                       list_count_changes(g), cgroup ? cgroup : "-");
        }
        return rc;
}

static int guest_list(CtlContext *ctx) {
        char *json = NULL;
        int r = ctl_guests_json(ctx, &json);
        if (r < 0)
                return ctl_exit_status(r);
        return print_json_or(ctx, r, json, list_print);
}

/* The changes made and not undone, per plugin in the order each first
 * made one: the JSON's own grouping. */
static void show_print_changes(JsonObject *s) {
        JsonArray *plugins = json_in_array(s, "plugins");
        guint np = plugins ? json_array_get_length(plugins) : 0;

        printf("changes made and not undone: %zu\n", list_count_changes(s));
        for (guint i = 0; i < np; i++) {
                JsonObject *p = json_in_element(plugins, i);
                JsonArray *changes = json_in_array(p, "changes");
                printf("plugin %s\n  %-14s %-40s %-16s %s\n", json_in_string(p, "name"), "CHANGE", "OBJECT",
                       "RESOURCE", "LOCK");
                for (guint k = 0; changes && k < json_array_get_length(changes); k++) {
                        JsonObject *c = json_in_element(changes, k);
                        JsonArray *flags = json_in_array(c, "flags");
                        bool shared = false;
                        for (guint f = 0; flags && f < json_array_get_length(flags); f++)
                                shared |= g_strcmp0(json_array_get_string_element(flags, f), "lock-shared") == 0;
                        const char *resource = json_in_string(c, "resource"), *lock = json_in_string(c, "lock");
                        printf("  %-14s %-40s %-16s %s%s%s\n", json_in_string(c, "kind"), json_in_string(c, "object"),
                               resource ? resource : "-", lock ? lock : "-", shared ? " (shared)" : "",
                               json_in_bool(c, "done") ? "" : "  [not confirmed: the transaction was cut short]");
                }
        }
}

static int show_print(JsonNode *doc) {
        JsonObject *s = json_node_get_object(doc);
        const char *started = json_in_string(s, "started"), *cgroup = json_in_string(s, "cgroup");
        JsonObject *info = json_in_object(s, "guest");

        printf("guest '%s': %s\nstarted %s\ncgroup %s\n", json_in_string(s, "name"), json_in_string(s, "status"),
               started ? started : "unknown", cgroup ? cgroup : "-");
        if (info)
                check_print_table(info);
        else
                printf("(the journal holds no readable record of the guest)\n");
        show_print_changes(s);
        return CTL_EXIT_OK;
}

static int guest_show(CtlContext *ctx, const char *name) {
        char *json = NULL;
        int r = ctl_guest_json(ctx, name, &json);
        if (r < 0)
                return ctl_exit_status(r);
        return print_json_or(ctx, r, json, show_print);
}

int ctl_guest_main(CtlContext *ctx, int argc, char **argv) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                guest_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc == 3 && strcmp(argv[1], "check") == 0)
                return guest_check(ctx, argv[2]);
        if (argc == 3 && strcmp(argv[1], "explain") == 0)
                return guest_explain(ctx, argv[2]);
        if (argc == 3 && strcmp(argv[1], "start") == 0)
                return guest_start(ctx, argv[2]);
        if (argc == 3 && strcmp(argv[1], "stop") == 0)
                return guest_stop(ctx, argv[2], 0);
        if (argc == 4 && strcmp(argv[1], "stop") == 0 && strcmp(argv[2], "--kill") == 0)
                return guest_stop(ctx, argv[3], BW_STOP_KILL);
        if (argc == 2 && strcmp(argv[1], "list") == 0)
                return guest_list(ctx);
        if (argc >= 2 && (strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "detach") == 0))
                return guest_hotplug(ctx, argc - 1, argv + 1);
        if (argc == 3 && strcmp(argv[1], "show") == 0)
                return guest_show(ctx, argv[2]);
        guest_help(stderr);
        return CTL_EXIT_USAGE;
}

static void recover_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl recover [--force GUEST | GUEST]\n\n"
                "Rolls back every transaction a crash interrupted (a start, attach,\n"
                "detach or stop that did not finish), as recorded in the journal under\n"
                "the state directory.  Guests that started completely are left alone; a\n"
                "guest whose transaction is running now is skipped, with a warning.\n"
                "\n"
                "A journal with a bad record followed by more data is corrupt: it is\n"
                "reported (file and offset), left exactly as it is, and the exit status\n"
                "is non-zero.  Only a bad record at the very end (a write cut short by\n"
                "a crash) is cut off.\n"
                "\n"
                "  GUEST          recover that guest only\n"
                "  --force GUEST  for a corrupt journal: undo every change the records\n"
                "                 before the damage list, report what could not be undone\n"
                "                 and that later records were unreadable, keep a copy\n"
                "                 GUEST.journal.corrupt-TIME, and remove the journal only\n"
                "                 when everything readable was undone\n");
}

int ctl_recover_main(CtlContext *ctx, int argc, char **argv) {
        unsigned flags = 0;
        const char *name = NULL;
        int r;

        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                recover_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc == 3 && strcmp(argv[1], "--force") == 0) {
                flags = BW_RECOVER_FORCE;
                name = argv[2];
        } else if (argc == 2 && argv[1][0] != '-')
                name = argv[1];
        else if (argc != 1) {
                recover_help(stderr);
                return CTL_EXIT_USAGE;
        }
        r = ctl_recover(ctx, name, flags);
        if (r < 0)
                return ctl_exit_status(r);
        if (name && flags)
                printf("guest '%s': %s\n", name, r ? "recovered: every readable change undone" : "nothing to recover");
        else
                printf("recovered %d interrupted transaction(s)\n", r);
        return CTL_EXIT_OK;
}
