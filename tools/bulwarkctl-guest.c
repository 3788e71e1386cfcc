/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl guest check|explain|start|stop, and bulwarkctl recover. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bulwarkctl.h"
#include "core/guest.h"
#include "json-out.h"

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
                "  stop NAME      undo every change of a started guest, newest first\n"
                "\n"
                "--json (before 'guest') prints JSON for check and explain.\n");
}

static int guest_load(const char *path, BwGuest **ret) {
        BwError err = {};
        int r = bw_guest_load_file(path, ret, &err);
        if (r < 0)
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
        return r;
}

static void check_print_json(const BwGuestInfo *g) {
        printf("{\"name\":");
        json_print_string(stdout, g->name);
        printf(",\"uuid\":");
        json_print_string(stdout, g->uuid);
        printf(",\"uid\":%u,\"gid\":%u,\"cgroup\":", (unsigned) g->uid, (unsigned) g->gid);
        json_print_string(stdout, g->cgroup_given ? g->cgroup : NULL);
        printf(",\"hotplug_vfio\":%s,\"resources\":[", g->hotplug_vfio ? "true" : "false");
        for (size_t i = 0; i < g->n_resources; i++) {
                const BwResource *res = g->resources[i];
                printf("%s{\"type\":", i ? "," : "");
                json_print_string(stdout, bw_resource_type_to_string(res->type));
                printf(",\"id\":");
                json_print_string(stdout, res->id);
                printf(",\"readonly\":%s,\"shared\":%s,\"paths\":[", res->readonly ? "true" : "false",
                       res->shared ? "true" : "false");
                for (size_t k = 0; k < res->n_paths; k++) {
                        printf("%s{\"path\":", k ? "," : "");
                        json_print_string(stdout, res->paths[k]);
                        printf(",\"role\":");
                        json_print_string(stdout, bw_path_role_to_string(res->roles[k]));
                        printf("}");
                }
                printf("]}");
        }
        printf("]}");
}

static void check_print_table(const BwGuestInfo *g) {
        printf("guest %s  uuid %s  uid %u gid %u%s\n", g->name, g->uuid, (unsigned) g->uid,
               (unsigned) g->gid, g->hotplug_vfio ? "  hotplug-vfio" : "");
        if (g->cgroup_given)
                printf("cgroup %s\n", g->cgroup);
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
static void check_print_unresolved(CtlContext *ctx, const BwGuest *g) {
        size_t n = guest_get_n_unresolved(g);
        if (ctx->json) {
                printf("[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s", i ? "," : "");
                        json_print_string(stdout, guest_get_unresolved(g, i));
                }
                printf("]");
                return;
        }
        for (size_t i = 0; i < n; i++)
                printf("not on this host (start will refuse): %s\n", guest_get_unresolved(g, i));
}

static int guest_check(CtlContext *ctx, const char *path) {
        BwGuest *g = NULL;
        if (guest_load(path, &g) < 0)
                return CTL_EXIT_FAILURE;
        if (ctx->json) {
                printf("{\"guest\":");
                check_print_json(bw_guest_info(g));
                printf(",\"unresolved\":");
                check_print_unresolved(ctx, g);
                printf("}\n");
        } else {
                check_print_table(bw_guest_info(g));
                check_print_unresolved(ctx, g);
        }
        bw_guest_free(g);
        return CTL_EXIT_OK;
}

static void explain_print(CtlContext *ctx, const BwGuestInfo *g, const BwPlan *plan) {
        size_t n = bw_plan_count(plan);
        if (ctx->json) {
                printf("{\"guest\":");
                json_print_string(stdout, g->name);
                printf(",\"changes\":[");
        } else
                printf("guest '%s': %zu change(s), applied in this order\n%-4s %-12s %-14s %-40s %s\n",
                       g->name, n, "#", "PLUGIN", "CHANGE", "OBJECT", "DETAIL");
        for (size_t i = 0; i < n; i++) {
                BwPlanChange c;
                if (bw_plan_change(plan, i, &c) < 0)
                        continue;
                if (ctx->json) {
                        printf("%s{\"plugin\":", i ? "," : "");
                        json_print_string(stdout, c.plugin);
                        printf(",\"kind\":");
                        json_print_string(stdout, c.kind);
                        printf(",\"object\":");
                        json_print_string(stdout, c.object);
                        printf(",\"detail\":");
                        json_print_string(stdout, c.detail);
                        printf(",\"lock\":");
                        json_print_string(stdout, c.lock_path);
                        printf("}");
                } else
                        printf("%-4zu %-12s %-14s %-40s %s\n", i + 1, c.plugin, c.kind, c.object, c.detail);
        }
        if (ctx->json)
                printf("]}\n");
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
        explain_print(ctx, bw_guest_info(g), plan);
        rc = CTL_EXIT_OK;
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

static int guest_stop(CtlContext *ctx, const char *name) {
        BwManager *m = NULL;
        BwError err = {};
        int rc = CTL_EXIT_FAILURE;

        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        if (bw_manager_stop(m, name, &err) < 0)
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
        else {
                printf("guest '%s': stopped, every change undone\n", name);
                rc = CTL_EXIT_OK;
        }
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
                return guest_stop(ctx, argv[2]);
        guest_help(stderr);
        return CTL_EXIT_USAGE;
}

int ctl_recover_main(CtlContext *ctx, int argc, char **argv) {
        BwManager *m = NULL;
        BwError err = {};

        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: bulwarkctl recover\n\n"
                       "Rolls back every transaction a crash interrupted (a start, attach,\n"
                       "detach or stop that did not finish), as recorded in the journal under\n"
                       "the state directory.  Guests that started completely are left alone.\n");
                return CTL_EXIT_OK;
        }
        if (argc != 1) {
                fprintf(stderr, "Usage: bulwarkctl recover\n");
                return CTL_EXIT_USAGE;
        }
        if (ctl_manager_open(ctx, &m) < 0)
                return CTL_EXIT_FAILURE;
        int r = bw_manager_recover(m, &err);
        bw_manager_free(m);
        if (r < 0) {
                fprintf(stderr, "bulwarkctl: %s\n", err.message);
                return CTL_EXIT_FAILURE;
        }
        printf("recovered %d interrupted transaction(s)\n", r);
        return CTL_EXIT_OK;
}
