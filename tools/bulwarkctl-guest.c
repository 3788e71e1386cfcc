/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl guest check|explain|start|stop|list|attach|detach, and bulwarkctl recover. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "bulwarkctl.h"

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

/* Prints a document the library made, or says why it could not. */
static int json_print(int r, char *json) {
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: cannot produce JSON: %s\n", strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        printf("%s\n", json);
        bw_free(json);
        return CTL_EXIT_OK;
}

static void check_print_table(const BwGuestInfo *g) {
        printf("guest %s  uuid %s  uid %u gid %u%s\n", g->name, g->uuid, (unsigned) g->uid,
               (unsigned) g->gid, g->hotplug_vfio ? "  hotplug-vfio" : "");
        if (g->cgroup_given)
                printf("cgroup %s\n", g->cgroup);
        for (size_t i = 0; i < g->n_hotplug_dirs; i++)
                printf("hotplug-dir %s\n", g->hotplug_dirs[i]);
        printf("%-10s %-12s %-16s %s\n", "TYPE", "ID", "ROLE", "PATH");
        for (size_t i = 0; i < g->n_resources; i++) {
                const BwResource *res = g->resources[i];
                if (res->n_paths == 0)
                        printf("%-10s %-12s %-16s %s\n", bw_resource_type_to_string(res->type), res->id, "-",
                               "(no host path)");
                for (size_t k = 0; k < res->n_paths; k++)
                        printf("%-10s %-12s %-16s %s\n", k ? "" : bw_resource_type_to_string(res->type),
                               k ? "" : res->id, bw_path_role_to_string(res->roles[k]), res->paths[k]);
        }
}

/* Host objects the definition names that are not on this host: the
 * definition is valid, but a start would be refused. */
static void check_print_unresolved(const BwGuest *g) {
        size_t n = bw_guest_unresolved_count(g);
        for (size_t i = 0; i < n; i++)
                printf("not on this host (start will refuse): %s\n", bw_guest_unresolved(g, i));
}

static int guest_check(CtlContext *ctx, const char *path) {
        BwGuest *g = NULL;
        int rc = CTL_EXIT_OK;
        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        if (ctx->json) {
                char *json = NULL;
                int r = bw_guest_to_json(g, &json);
                rc = json_print(r, json);
        } else {
                check_print_table(bw_guest_info(g));
                check_print_unresolved(g);
        }
        bw_guest_free(g);
        return rc;
}

static void explain_print_table(const BwGuestInfo *g, const BwPlan *plan) {
        size_t n = bw_plan_count(plan);
        printf("guest '%s': %zu change(s), applied in this order\n%-4s %-12s %-14s %-40s %s\n", g->name, n, "#",
               "PLUGIN", "CHANGE", "OBJECT", "DETAIL");
        for (size_t i = 0; i < n; i++) {
                BwPlanChange c;
                if (bw_plan_change(plan, i, &c) < 0)
                        continue;
                printf("%-4zu %-12s %-14s %-40s %s\n", i + 1, c.plugin, c.kind, c.object, c.detail);
        }
}

static int guest_explain(CtlContext *ctx, const char *path) {
        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwPlan *plan = NULL;
        BwError err = {};
        int rc = CTL_EXIT_FAILURE;

        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        if (ctl_manager_open(ctx, &m) < 0)
                goto finish;
        if (bw_manager_plan(m, g, &plan, &err) < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                goto finish;
        }
        if (ctx->json) {
                char *json = NULL;
                int r = bw_plan_to_json(plan, g, &json);
                rc = json_print(r, json);
        } else {
                explain_print_table(bw_guest_info(g), plan);
                rc = CTL_EXIT_OK;
        }
finish:
        bw_plan_free(plan);
        bw_manager_free(m);
        bw_guest_free(g);
        return rc;
}

static int guest_start(CtlContext *ctx, const char *path) {
        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwError err = {};
        int rc = CTL_EXIT_FAILURE;

        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        if (ctl_manager_open(ctx, &m) >= 0) {
                if (bw_manager_start(m, g, &err) < 0)
                        fprintf(stderr, "bulwarkctl: %s\n", err.message);
                else {
                        printf("guest '%s': started\n", bw_guest_info(g)->name);
                        rc = CTL_EXIT_OK;
                }
        }
        bw_manager_free(m);
        bw_guest_free(g);
        return rc;
}

static int guest_stop(CtlContext *ctx, const char *name, unsigned flags) {
        BwManager *m = NULL;
        BwError err = {};
        int rc = CTL_EXIT_FAILURE;

        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        int r = bw_manager_stop_with_flags(m, name, flags, &err);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                if (r == -ETIMEDOUT)
                        rc = CTL_EXIT_TEMPFAIL;
        } else {
                printf("guest '%s': stopped, every change undone\n", name);
                rc = CTL_EXIT_OK;
        }
        bw_manager_free(m);
        return rc;
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
        BwManager *m = NULL;
        BwError err = {};

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
        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        int r = attach ? bw_manager_attach(m, argv[1], text, &err) : bw_manager_detach(m, argv[1], argv[2], &err);
        bw_manager_free(m);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return r == -ETIMEDOUT ? CTL_EXIT_TEMPFAIL : CTL_EXIT_FAILURE;
        }
        if (attach)
                printf("guest '%s': attached the resource of '%s'\n", argv[1], argv[2]);
        else
                printf("guest '%s': detached [%s]\n", argv[1], argv[2]);
        return CTL_EXIT_OK;
}

/* RFC 3339 UTC with microseconds, as the library's JSON has it; NULL when unknown. */
static char *guest_time_string(int64_t us) {
        if (us <= 0)
                return NULL;
        g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
        g_autoptr(GDateTime) dt = secs ? g_date_time_add(secs, us % G_USEC_PER_SEC) : NULL;
        return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ") : NULL;
}

static void list_print_one(const char *name, const BwGuestState *s) {
        const char *cgroup = bw_guest_state_cgroup(s);
        g_autofree char *when = guest_time_string(bw_guest_state_start_time(s));

        printf("%-20s %-12s %-28s %-8zu %s\n", name, bw_guest_status_to_string(bw_guest_state_status(s)),
               when ? when : "-", bw_guest_state_change_count(s), cgroup ? cgroup : "-");
}

static int guest_list_json(BwManager *m) {
        BwError err = {};
        char *json = NULL;
        int r = bw_manager_guests_to_json(m, &json, &err);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return CTL_EXIT_FAILURE;
        }
        return json_print(r, json);
}

static int guest_list(CtlContext *ctx) {
        BwManager *m = NULL;
        BwError err = {};
        char **names = NULL;
        int rc = CTL_EXIT_OK;

        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        if (ctx->json) {
                rc = guest_list_json(m);
                bw_manager_free(m);
                return rc;
        }
        if (bw_manager_list_guests(m, &names, &err) < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                bw_manager_free(m);
                return CTL_EXIT_FAILURE;
        }
        printf("%-20s %-12s %-28s %-8s %s\n", "NAME", "STATUS", "STARTED", "CHANGES", "CGROUP");
        for (size_t i = 0; names[i]; i++) {
                BwGuestState *s = NULL;
                int r = bw_manager_get_guest(m, names[i], &s, &err);
                if (r == -ENOENT)
                        continue; /* stopped since the directory was listed */
                if (r < 0) {
                        printf("%-20s %-12s %s\n", names[i], "unreadable", err.message);
                        rc = CTL_EXIT_FAILURE;
                        continue;
                }
                list_print_one(names[i], s);
                bw_guest_state_free(s);
        }
        bw_strv_free(names);
        bw_manager_free(m);
        return rc;
}

/* The changes made and not undone, per plugin in the order each first
 * made one: the same grouping as the JSON. */
static void show_print_changes(const BwGuestState *s) {
        size_t n = bw_guest_state_change_count(s);
        g_autoptr(GPtrArray) seen = g_ptr_array_new();

        printf("changes made and not undone: %zu\n", n);
        for (size_t i = 0; i < n; i++) {
                BwGuestChange first;
                if (bw_guest_state_change(s, i, &first) < 0 ||
                    g_ptr_array_find_with_equal_func(seen, first.plugin, g_str_equal, NULL))
                        continue;
                g_ptr_array_add(seen, (char *) first.plugin);
                printf("plugin %s\n  %-14s %-40s %-16s %s\n", first.plugin, "CHANGE", "OBJECT", "RESOURCE", "LOCK");
                for (size_t k = i; k < n; k++) {
                        BwGuestChange c;
                        if (bw_guest_state_change(s, k, &c) < 0 || strcmp(c.plugin, first.plugin) != 0)
                                continue;
                        printf("  %-14s %-40s %-16s %s%s%s\n", c.kind, c.object, c.resource ? c.resource : "-",
                               c.lock_path ? c.lock_path : "-",
                               (c.flags & BW_CHANGE_LOCK_SHARED) ? " (shared)" : "",
                               c.done ? "" : "  [not confirmed: the transaction was cut short]");
                }
        }
}

static void show_print_text(const BwGuestState *s) {
        g_autofree char *when = guest_time_string(bw_guest_state_start_time(s));
        const BwGuestInfo *info = bw_guest_state_info(s);
        const char *cgroup = bw_guest_state_cgroup(s);

        printf("guest '%s': %s\nstarted %s\ncgroup %s\n", bw_guest_state_name(s),
               bw_guest_status_to_string(bw_guest_state_status(s)), when ? when : "unknown",
               cgroup ? cgroup : "-");
        if (info)
                check_print_table(info);
        else
                printf("(the journal holds no readable record of the guest)\n");
        show_print_changes(s);
}

static int guest_show(CtlContext *ctx, const char *name) {
        BwManager *m = NULL;
        BwGuestState *s = NULL;
        BwError err = {};
        int rc = CTL_EXIT_FAILURE;

        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        if (bw_manager_get_guest(m, name, &s, &err) < 0)
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
        else if (ctx->json) {
                char *json = NULL;
                int r = bw_guest_state_to_json(s, &json);
                rc = json_print(r, json);
        } else {
                show_print_text(s);
                rc = CTL_EXIT_OK;
        }
        bw_guest_state_free(s);
        bw_manager_free(m);
        return rc;
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
        BwManager *m = NULL;
        BwError err = {};
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
        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        r = name ? bw_manager_recover_guest(m, name, flags, &err) : bw_manager_recover(m, &err);
        bw_manager_free(m);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return r == -EBUSY ? CTL_EXIT_TEMPFAIL : CTL_EXIT_FAILURE;
        }
        if (name && flags)
                printf("guest '%s': %s\n", name, r ? "recovered: every readable change undone" : "nothing to recover");
        else
                printf("recovered %d interrupted transaction(s)\n", r);
        return CTL_EXIT_OK;
}
