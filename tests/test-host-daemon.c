/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plays the host management daemon: dlopen()s the built libbulwark.so,
 * resolves the public entry points with dlsym() and checks and explains a
 * guest through them, JSON included; internal symbols must not be
 * reachable. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "test-util.h"

typedef struct Api {
        void *dl;
        int (*guest_load_data)(const char *, size_t, const char *, BwGuest **, BwError *);
        const BwGuestInfo *(*guest_info)(const BwGuest *);
        void (*guest_free)(BwGuest *);
        int (*manager_new)(const BwOptions *, BwManager **, BwError *);
        void (*manager_free)(BwManager *);
        int (*manager_plan)(BwManager *, const BwGuest *, BwPlan **, BwError *);
        size_t (*plan_count)(const BwPlan *);
        int (*plan_change)(const BwPlan *, size_t, BwPlanChange *);
        void (*plan_free)(BwPlan *);
        int (*guest_to_json)(const BwGuest *, char **);
        int (*plan_to_json)(const BwPlan *, const BwGuest *, char **);
        int (*plugins_to_json)(const BwManager *, char **);
        void (*free)(void *);
} Api;

static void *sym(void *dl, const char *name) {
        void *p = dlsym(dl, name);
        if (!p)
                fail_msg("libbulwark.so does not export %s: %s", name, dlerror());
        return p;
}

static int api_open(void **state) {
        Api *a = calloc(1, sizeof(*a));
        g_autofree char *path = test_builddir_path(".libs/libbulwark.so");
        a->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!a->dl) {
                fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
                return -1;
        }
        *state = a;
        return 0;
}

static int api_close(void **state) {
        Api *a = *state;
        dlclose(a->dl);
        free(a);
        return 0;
}

/* Each case's host: a scratch directory that is the manager's state
 * directory and cgroup root, a raw image vm.img in it, and options for
 * the nop plugin; removed by host_teardown() even when the case fails. */
typedef struct Host {
        Api *api;
        char *dir;
        char *img;
        char *plugins;
        BwOptions o;
} Host;

static int host_setup(void **state) {
        Host *h = calloc(1, sizeof(*h));
        h->api = *state; /* the group's */
        h->dir = test_scratch_new("hostd");
        h->img = test_write_file(h->dir, "vm.img", "raw", -1);
        h->plugins = test_builddir_path("plugins/nop/.libs");
        h->o = (BwOptions) { .config_path = "/dev/null", .plugin_dir = h->plugins, .plugins = "nop",
                             .state_dir = h->dir, .cgroup_root = h->dir };
        *state = h;
        return 0;
}

static int host_teardown(void **state) {
        Host *h = *state;
        test_scratch_remove(h->dir);
        free(h->dir);
        free(h->img);
        free(h->plugins);
        free(h);
        return 0;
}

/* Guest `name` with one disk, root on vm.img, then `extra` (NULL: none). */
static char *host_guest_text(const Host *h, const char *name, const char *extra) {
        return g_strdup_printf("[guest]\nname=%s\nuser=0\ngroup=0\n[disk:root]\npath=%s\n%s", name, h->img,
                               extra ? extra : "");
}

/* Loads guest `name` and starts it on a new manager, as a daemon does,
 * through the resolved entry points. */
static void host_start(const Host *h, const char *name, BwManager **ret_m, BwGuest **ret_g) {
        int (*load)(const char *, size_t, const char *, BwGuest **, BwError *) = sym(h->api->dl, "bw_guest_load_data");
        int (*mnew)(const BwOptions *, BwManager **, BwError *) = sym(h->api->dl, "bw_manager_new");
        int (*start)(BwManager *, const BwGuest *, BwError *) = sym(h->api->dl, "bw_manager_start");
        g_autofree char *text = host_guest_text(h, name, NULL);
        BwError err = {};
        assert_int_equal(load(text, strlen(text), "<host-daemon>", ret_g, &err), 0);
        assert_int_equal(mnew(&h->o, ret_m, &err), 0);
        assert_int_equal(start(*ret_m, *ret_g, &err), 0);
}

static void test_host_daemon_check_and_explain(void **state) {
        Host *h = *state;
        Api *a = h->api;
        *(void **) &a->guest_load_data = sym(a->dl, "bw_guest_load_data");
        *(void **) &a->guest_info = sym(a->dl, "bw_guest_info");
        *(void **) &a->guest_free = sym(a->dl, "bw_guest_free");
        *(void **) &a->manager_new = sym(a->dl, "bw_manager_new");
        *(void **) &a->manager_free = sym(a->dl, "bw_manager_free");
        *(void **) &a->manager_plan = sym(a->dl, "bw_manager_plan");
        *(void **) &a->plan_count = sym(a->dl, "bw_plan_count");
        *(void **) &a->plan_change = sym(a->dl, "bw_plan_change");
        *(void **) &a->plan_free = sym(a->dl, "bw_plan_free");
        *(void **) &a->guest_to_json = sym(a->dl, "bw_guest_to_json");
        *(void **) &a->plan_to_json = sym(a->dl, "bw_plan_to_json");
        *(void **) &a->plugins_to_json = sym(a->dl, "bw_manager_plugins_to_json");
        *(void **) &a->free = sym(a->dl, "bw_free");

        const char *img = h->img;
        g_autofree char *log = g_strdup_printf("[chardev:log]\ntype=file\npath=%s/log\n", h->dir);
        g_autofree char *text = host_guest_text(h, "hosted", log);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(a->guest_load_data(text, strlen(text), "<host-daemon>", &g, &err), 0);
        assert_string_equal(a->guest_info(g)->name, "hosted");
        assert_int_equal(a->guest_info(g)->n_resources, 2);

        /* A definition with a typo is refused with file, line and key. */
        BwGuest *bad = NULL;
        const char *typo = "[guest]\nname=x\nuser=0\ngroup=0\nhotplug-vifo=true\n";
        assert_true(a->guest_load_data(typo, strlen(typo), "<host-daemon>", &bad, &err) < 0);
        assert_non_null(strstr(err.message, "<host-daemon>:5"));
        assert_non_null(strstr(err.message, "hotplug-vifo"));

        BwManager *m = NULL;
        BwPlan *plan = NULL;
        assert_int_equal(a->manager_new(&h->o, &m, &err), 0);
        assert_int_equal(a->manager_plan(m, g, &plan, &err), 0);
        assert_int_equal(a->plan_count(plan), 2);
        BwPlanChange c;
        assert_int_equal(a->plan_change(plan, 0, &c), 0);
        assert_string_equal(c.plugin, "nop");
        assert_string_equal(c.object, img);

        /* The JSON the CLI prints, through the shared library. */
        char *json = NULL;
        assert_int_equal(a->guest_to_json(g, &json), 0);
        assert_true(g_str_has_prefix(json, "{\"guest\":{\"name\":\"hosted\","));
        assert_non_null(strstr(json, "\"unresolved\":[]"));
        a->free(json);
        assert_int_equal(a->plan_to_json(plan, g, &json), 0);
        assert_true(g_str_has_prefix(json, "{\"guest\":\"hosted\",\"changes\":[{\"plugin\":\"nop\","));
        a->free(json);
        assert_int_equal(a->plugins_to_json(m, &json), 0);
        assert_true(g_str_has_prefix(json, "[{\"name\":\"nop\","));
        a->free(json);
        a->plan_free(plan);
        a->manager_free(m);
        a->guest_free(g);
}

/* The lifecycle entry points a daemon resolves: start, list, get, stop
 * with flags, recover of one guest. */
static void test_host_daemon_lifecycle(void **state) {
        Host *h = *state;
        Api *a = h->api;
        void (*guest_free)(BwGuest *) = sym(a->dl, "bw_guest_free");
        void (*mfree)(BwManager *) = sym(a->dl, "bw_manager_free");
        int (*list)(BwManager *, char ***, BwError *) = sym(a->dl, "bw_manager_list_guests");
        void (*strv_free)(char **) = sym(a->dl, "bw_strv_free");
        int (*get)(BwManager *, const char *, BwGuestState **, BwError *) = sym(a->dl, "bw_manager_get_guest");
        BwGuestStatus (*status)(const BwGuestState *) = sym(a->dl, "bw_guest_state_status");
        const BwGuestInfo *(*info)(const BwGuestState *) = sym(a->dl, "bw_guest_state_info");
        const char *(*cgroup)(const BwGuestState *) = sym(a->dl, "bw_guest_state_cgroup");
        int64_t (*started)(const BwGuestState *) = sym(a->dl, "bw_guest_state_start_time");
        void (*state_free)(BwGuestState *) = sym(a->dl, "bw_guest_state_free");
        int (*stop)(BwManager *, const char *, unsigned, BwError *) = sym(a->dl, "bw_manager_stop_with_flags");
        int (*recover)(BwManager *, const char *, unsigned, BwError *) = sym(a->dl, "bw_manager_recover_guest");

        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwGuestState *s = NULL;
        BwError err = {};
        char **names = NULL;
        int64_t before = g_get_real_time();

        host_start(h, "hosted", &m, &g);
        assert_int_equal(list(m, &names, &err), 0);
        assert_string_equal(names[0], "hosted");
        assert_null(names[1]);
        strv_free(names);
        assert_int_equal(get(m, "hosted", &s, &err), 0);
        assert_int_equal(status(s), BW_GUEST_RUNNING);
        assert_string_equal(info(s)->resources[0]->path, h->img);
        assert_non_null(strstr(cgroup(s), "/bulwark/hosted"));
        assert_true(started(s) >= before && started(s) <= g_get_real_time());
        state_free(s);
        assert_int_equal(recover(m, "hosted", 0, &err), 0);
        assert_int_equal(stop(m, "hosted", BW_STOP_KILL, &err), 0);
        assert_int_equal(get(m, "hosted", &s, &err), -ENOENT);
        mfree(m);
        guest_free(g);
}

/* The exec API a host daemon uses: prepare refuses a guest that is not
 * running, naming it; free accepts NULL; the step names are there. */
static void test_host_daemon_exec_api(void **state) {
        Host *h = *state;
        Api *a = h->api;
        int (*manager_new)(const BwOptions *, BwManager **, BwError *) = sym(a->dl, "bw_manager_new");
        void (*manager_free)(BwManager *) = sym(a->dl, "bw_manager_free");
        int (*exec_prepare)(BwManager *, const char *, BwExec **, BwError *) = sym(a->dl, "bw_manager_exec_prepare");
        void (*exec_free)(BwExec *) = sym(a->dl, "bw_exec_free");
        const char *(*step_to_string)(int) = sym(a->dl, "bw_exec_step_to_string");
        (void) sym(a->dl, "bw_exec_apply");
        (void) sym(a->dl, "bw_exec_spawn");

        BwManager *m = NULL;
        BwExec *e = NULL;
        BwError err = {};
        assert_int_equal(manager_new(&h->o, &m, &err), 0);
        assert_int_equal(exec_prepare(m, "absent", &e, &err), -ENOENT);
        assert_null(e);
        assert_non_null(strstr(err.message, "guest 'absent': not running"));
        exec_free(NULL);
        assert_string_equal(step_to_string(BW_EXEC_STEP_LANDLOCK), "restrict itself with Landlock");
        manager_free(m);
}

/* The host objects a definition names that are missing, in resource
 * order, located like parse errors; none for a definition whose objects
 * exist. */
static void test_host_daemon_guest_unresolved(void **state) {
        Host *h = *state;
        Api *a = h->api;
        const char *dir = h->dir, *img = h->img;
        int (*load)(const char *, size_t, const char *, BwGuest **, BwError *) = sym(a->dl, "bw_guest_load_data");
        void (*guest_free)(BwGuest *) = sym(a->dl, "bw_guest_free");
        size_t (*count)(const BwGuest *) = sym(a->dl, "bw_guest_unresolved_count");
        const char *(*unresolved)(const BwGuest *, size_t) = sym(a->dl, "bw_guest_unresolved");

        g_autofree char *text = g_strdup_printf("[guest]\nname=u\nuser=0\ngroup=0\n"
                                                "[disk:a]\npath=%s/a.qcow2\nformat=qcow2\n"
                                                "[disk:root]\npath=%s\n"
                                                "[disk:b]\npath=%s/b.qcow2\nformat=qcow2\n",
                                                dir, img, dir);
        g_autofree char *want_a = g_strdup_printf("<unres>:6: [disk:a] image '%s/a.qcow2' does not exist: "
                                                  "its backing chain is not known", dir);
        g_autofree char *want_b = g_strdup_printf("<unres>:11: [disk:b] image '%s/b.qcow2' does not exist: "
                                                  "its backing chain is not known", dir);
        BwGuest *g = NULL;
        BwError err = {};

        assert_int_equal(load(text, strlen(text), "<unres>", &g, &err), 0);
        assert_int_equal(count(g), 2);
        assert_string_equal(unresolved(g, 0), want_a);
        assert_string_equal(unresolved(g, 1), want_b);
        assert_null(unresolved(g, 2));
        guest_free(g);

        g_autofree char *found = g_strdup_printf("[guest]\nname=f\nuser=0\ngroup=0\n[disk:root]\npath=%s\n", img);
        assert_int_equal(load(found, strlen(found), "<unres>", &g, &err), 0);
        assert_int_equal(count(g), 0);
        assert_null(unresolved(g, 0));
        guest_free(g);
}

/* Attach and detach through the shared library: the guest's record gains
 * and loses the resource; the internal variant is not exported. */
static void test_host_daemon_attach_detach(void **state) {
        Host *h = *state;
        Api *a = h->api;
        void (*guest_free)(BwGuest *) = sym(a->dl, "bw_guest_free");
        void (*mfree)(BwManager *) = sym(a->dl, "bw_manager_free");
        int (*attach)(BwManager *, const char *, const char *, BwError *) = sym(a->dl, "bw_manager_attach");
        int (*detach)(BwManager *, const char *, const char *, BwError *) = sym(a->dl, "bw_manager_detach");
        int (*get)(BwManager *, const char *, BwGuestState **, BwError *) = sym(a->dl, "bw_manager_get_guest");
        const BwGuestInfo *(*info)(const BwGuestState *) = sym(a->dl, "bw_guest_state_info");
        void (*state_free)(BwGuestState *) = sym(a->dl, "bw_guest_state_free");
        int (*stop)(BwManager *, const char *, BwError *) = sym(a->dl, "bw_manager_stop");
        assert_null(dlsym(a->dl, "manager_attach_with_options"));

        g_autofree char *res = g_strdup_printf("[chardev:log]\ntype=file\npath=%s/log\n", h->dir);
        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwGuestState *s = NULL;
        BwError err = {};

        host_start(h, "hosted", &m, &g);
        assert_int_equal(attach(m, "hosted", res, &err), 0);
        assert_int_equal(get(m, "hosted", &s, &err), 0);
        assert_int_equal(info(s)->n_resources, 2);
        assert_string_equal(info(s)->resources[1]->id, "log");
        state_free(s);
        assert_int_equal(attach(m, "hosted", res, &err), -EEXIST);
        assert_int_equal(detach(m, "hosted", "chardev:log", &err), 0);
        assert_int_equal(get(m, "hosted", &s, &err), 0);
        assert_int_equal(info(s)->n_resources, 1);
        state_free(s);
        assert_int_equal(detach(m, "hosted", "chardev:log", &err), -ENOENT);
        assert_non_null(strstr(err.message, "chardev:log"));
        assert_int_equal(stop(m, "hosted", &err), 0);
        mfree(m);
        guest_free(g);
}

/* What a daemon resolves at its start: adopt every running guest, read
 * the report and print it, and the guest state JSON. */
static void test_host_daemon_adopt(void **state) {
        Host *h = *state;
        Api *a = h->api;
        void (*guest_free)(BwGuest *) = sym(a->dl, "bw_guest_free");
        int (*mnew)(const BwOptions *, BwManager **, BwError *) = sym(a->dl, "bw_manager_new");
        void (*mfree)(BwManager *) = sym(a->dl, "bw_manager_free");
        int (*adopt_all)(BwManager *, BwAdoptReport **, BwError *) = sym(a->dl, "bw_manager_adopt_all");
        size_t (*count)(const BwAdoptReport *) = sym(a->dl, "bw_adopt_report_count");
        int (*guest_at)(const BwAdoptReport *, size_t, BwAdoptGuest *) = sym(a->dl, "bw_adopt_report_guest");
        int (*plugin_at)(const BwAdoptReport *, size_t, size_t, BwAdoptPlugin *) = sym(a->dl, "bw_adopt_report_plugin");
        unsigned (*recovered)(const BwAdoptReport *) = sym(a->dl, "bw_adopt_report_recovered");
        const char *(*outcome)(BwAdoptOutcome) = sym(a->dl, "bw_adopt_outcome_to_string");
        int (*report_json)(const BwAdoptReport *, char **) = sym(a->dl, "bw_adopt_report_to_json");
        void (*report_free)(BwAdoptReport *) = sym(a->dl, "bw_adopt_report_free");
        int (*get)(BwManager *, const char *, BwGuestState **, BwError *) = sym(a->dl, "bw_manager_get_guest");
        size_t (*changes)(const BwGuestState *) = sym(a->dl, "bw_guest_state_change_count");
        int (*change)(const BwGuestState *, size_t, BwGuestChange *) = sym(a->dl, "bw_guest_state_change");
        const char *(*name)(const BwGuestState *) = sym(a->dl, "bw_guest_state_name");
        const char *(*status)(BwGuestStatus) = sym(a->dl, "bw_guest_status_to_string");
        int (*state_json)(const BwGuestState *, char **) = sym(a->dl, "bw_guest_state_to_json");
        int (*list_json)(BwManager *, char **, BwError *) = sym(a->dl, "bw_manager_guests_to_json");
        void (*state_free)(BwGuestState *) = sym(a->dl, "bw_guest_state_free");
        void (*json_free)(void *) = sym(a->dl, "bw_free");

        BwManager *m = NULL;
        BwGuest *g = NULL;
        BwAdoptReport *report = NULL;
        BwGuestState *s = NULL;
        BwError err = {};
        char *json = NULL;

        host_start(h, "adoptee", &m, &g);
        mfree(m); /* the daemon restarts */
        assert_int_equal(mnew(&h->o, &m, &err), 0);
        assert_int_equal(adopt_all(m, &report, &err), 1);
        assert_int_equal(count(report), 1);
        assert_int_equal(recovered(report), 0);
        BwAdoptGuest ag;
        BwAdoptPlugin ap;
        assert_int_equal(guest_at(report, 0, &ag), 0);
        assert_string_equal(ag.name, "adoptee");
        assert_string_equal(outcome(ag.outcome), "adopted");
        assert_int_equal(plugin_at(report, 0, 0, &ap), 0);
        assert_string_equal(ap.plugin, "nop");
        assert_int_equal(report_json(report, &json), 0);
        assert_non_null(strstr(json, "\"outcome\":\"adopted\""));
        json_free(json);
        report_free(report);

        assert_int_equal(get(m, "adoptee", &s, &err), 0);
        assert_string_equal(name(s), "adoptee");
        assert_string_equal(status(BW_GUEST_RUNNING), "running");
        assert_int_equal(changes(s), 1);
        BwGuestChange c;
        assert_int_equal(change(s, 0, &c), 0);
        assert_string_equal(c.plugin, "nop");
        assert_string_equal(c.object, h->img);
        assert_int_equal(state_json(s, &json), 0);
        assert_non_null(strstr(json, "\"plugins\":[{\"name\":\"nop\""));
        json_free(json);
        state_free(s);
        assert_int_equal(list_json(m, &json, &err), 0);
        assert_non_null(strstr(json, "\"name\":\"adoptee\""));
        json_free(json);
        mfree(m);
        guest_free(g);
}

/* lockd's socket without a manager: the environment over the file over
 * <run-dir>/lockd.sock, the run dir from the options over the file. */
static void test_host_daemon_config_lockd_socket(void **state) {
        Host *h = *state;
        Api *a = h->api;
        const char *dir = h->dir;
        int (*lockd_socket)(const BwOptions *, char **, BwError *) = sym(a->dl, "bw_config_lockd_socket");
        void (*free_path)(void *) = sym(a->dl, "bw_free");

        g_autofree char *named = test_write_file(dir, "named.conf", "[bulwark]\nrun-dir=/run-file\n"
                                                 "[lockd]\nsocket=/srv/lockd/l.sock\n", -1);
        g_autofree char *plain = test_write_file(dir, "plain.conf", "[bulwark]\nrun-dir=/run-file\n", -1);
        g_autofree char *bad = test_write_file(dir, "bad.conf", "[bulwark]\nrun-dri=/x\n", -1);
        g_autofree char *saved = g_strdup(g_getenv("BULWARK_LOCKD_SOCKET"));
        g_autofree char *saved_run = g_strdup(g_getenv("BULWARK_RUN_DIR"));
        BwOptions o = { .config_path = named };
        BwError err = {};
        char *path = NULL;

        g_unsetenv("BULWARK_LOCKD_SOCKET");
        g_unsetenv("BULWARK_RUN_DIR");
        assert_int_equal(lockd_socket(&o, &path, &err), 0);
        assert_string_equal(path, "/srv/lockd/l.sock");
        free_path(path);

        g_setenv("BULWARK_LOCKD_SOCKET", "/env/l.sock", TRUE);
        assert_int_equal(lockd_socket(&o, &path, &err), 0);
        assert_string_equal(path, "/env/l.sock");
        free_path(path);
        g_unsetenv("BULWARK_LOCKD_SOCKET");

        o.config_path = plain;
        assert_int_equal(lockd_socket(&o, &path, &err), 0);
        assert_string_equal(path, "/run-file/lockd.sock");
        free_path(path);
        o.run_dir = "/run-opt";
        assert_int_equal(lockd_socket(&o, &path, &err), 0);
        assert_string_equal(path, "/run-opt/lockd.sock");
        free_path(path);

        o.config_path = bad;
        path = NULL;
        assert_int_equal(lockd_socket(&o, &path, &err), -EINVAL);
        assert_null(path);
        assert_non_null(strstr(err.message, "[bulwark] unknown key 'run-dri'"));

        if (saved)
                g_setenv("BULWARK_LOCKD_SOCKET", saved, TRUE);
        if (saved_run)
                g_setenv("BULWARK_RUN_DIR", saved_run, TRUE);
}

static void test_host_daemon_internals_hidden(void **state) {
        Api *a = ((Host *) *state)->api;
        const char *internal[] = { "plugin_load", "log_internal", "journal_create", "settings_load",
                                   "transaction_apply", "guest_copy", "error_set", "exec_apply_from",
                                   "exec_new",
                                   "json_guest_info", "json_writer_new", "json_append_string",
                                   "json_guest_state" };
        for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
                if (dlsym(a->dl, internal[i]))
                        fail_msg("libbulwark.so leaks the internal symbol %s", internal[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_host_daemon_check_and_explain, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_exec_api, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_lifecycle, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_guest_unresolved, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_config_lockd_socket, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_attach_detach, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_adopt, host_setup, host_teardown),
                cmocka_unit_test_setup_teardown(test_host_daemon_internals_hidden, host_setup, host_teardown),
        };
        return cmocka_run_group_tests(tests, api_open, api_close);
}
