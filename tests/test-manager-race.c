/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* start, stop, recover, attach and detach racing on the same guests, from
 * several processes and from several threads sharing one manager (nop and
 * fake-files plugins, no root): every call gives an answer its guest's
 * state allows, and at the end every guest is consistent — started: its
 * journal is committed and readable, its record lists its disks and
 * exactly the extra disks whose marker files exist; stopped: no journal,
 * no marker, no lock file — and no journal is corrupt. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "core/guest-parse.h"
#include "core/journal.h"
#include "manager-fixture.h"
#include "test-util.h"

#define N_GUESTS 3
#define N_DISKS 3
#define N_EXTRA 2           /* disks attached and detached while running */
#define N_WORKERS 4
#define N_ROUNDS 50

typedef struct Fixture {
        ManagerFixture *mf;
        char *conf;                /* no lock timeout: waiting is allowed */
        char *guests[N_GUESTS];    /* definition files */
        char *extra[N_GUESTS][N_EXTRA]; /* [disk:gI-xK] groups to attach */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->mf = manager_fixture_new("race");
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\n", f->mf->markers);
        f->conf = test_write_file(f->mf->dir, "bulwark.conf", conf, -1);
        for (int i = 0; i < N_GUESTS; i++) {
                g_autoptr(GString) text = g_string_new(NULL);
                g_string_printf(text, "[guest]\nname=g%d\nuser=0\ngroup=0\n", i);
                for (int k = 1; k <= N_DISKS; k++) {
                        g_autofree char *file = g_strdup_printf("g%d-d%d.img", i, k);
                        g_autofree char *img = test_write_file(f->mf->dir, file, "raw", -1);
                        g_string_append_printf(text, "[disk:g%d-d%d]\npath=%s\n", i, k, img);
                }
                g_autofree char *name = g_strdup_printf("g%d.guest", i);
                f->guests[i] = test_write_file(f->mf->dir, name, text->str, -1);
                for (int k = 1; k <= N_EXTRA; k++) {
                        g_autofree char *file = g_strdup_printf("g%d-x%d.img", i, k);
                        g_autofree char *img = test_write_file(f->mf->dir, file, "raw", -1);
                        f->extra[i][k - 1] = g_strdup_printf("[disk:g%d-x%d]\npath=%s\n", i, k, img);
                }
        }
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        manager_fixture_free(f->mf);
        for (int i = 0; i < N_GUESTS; i++) {
                free(f->guests[i]);
                for (int k = 0; k < N_EXTRA; k++)
                        g_free(f->extra[i][k]);
        }
        free(f->conf);
        free(f);
        return 0;
}

static BwManager *race_manager(Fixture *f, char *msg, size_t size) {
        BwOptions o = { .config_path = f->conf, .plugin_dir = f->mf->plugin_dir, .plugins = "nop,fake-files",
                        .state_dir = f->mf->state, .cgroup_root = f->mf->cgroot };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                snprintf(msg, size, "bw_manager_new: %s", err.message);
        return m;
}

typedef enum RaceOp { RACE_START, RACE_STOP, RACE_RECOVER, RACE_ATTACH, RACE_DETACH, N_OPS } RaceOp;
static const char *const race_op_names[N_OPS] = { "start", "stop", "recover", "attach", "detach" };

/* Runs `op` on guest `i` (attach and detach: its extra disk k); the result. */
static int race_call(BwManager *m, Fixture *f, RaceOp op, int i, int k, BwError *err) {
        g_autofree char *name = g_strdup_printf("g%d", i);
        g_autofree char *ref = g_strdup_printf("disk:g%d-x%d", i, k + 1);
        switch (op) {
        case RACE_START: {
                g_autoptr(BwGuest) g = NULL;
                int r = bw_guest_load_file(f->guests[i], &g, err);
                return r < 0 ? r : bw_manager_start(m, g, err);
        }
        case RACE_STOP:
                return bw_manager_stop(m, name, err);
        case RACE_RECOVER:
                return bw_manager_recover(m, err);
        case RACE_ATTACH:
                return bw_manager_attach(m, name, f->extra[i][k], err);
        default:
                return bw_manager_detach(m, name, ref, err);
        }
}

/* Whether `r` is an answer operation `op` may give: whatever the other
 * workers did, start finds the guest stopped or running, stop, attach and
 * detach find it running or not, the disk attached or not. */
static bool race_answer_allowed(RaceOp op, int r) {
        switch (op) {
        case RACE_START:
                return r == 0 || r == -EEXIST;
        case RACE_STOP:
                return r == 0 || r == -ENOENT;
        case RACE_RECOVER:
                return r >= 0;
        case RACE_ATTACH:
                return r == 0 || r == -ENOENT || r == -EEXIST;
        default:
                return r == 0 || r == -ENOENT;
        }
}

/* One random operation; false (with a message) on an answer the guest's
 * state never allows. */
static bool race_op(BwManager *m, Fixture *f, GRand *rand, char *msg, size_t size) {
        int i = g_rand_int_range(rand, 0, N_GUESTS);
        RaceOp op = (RaceOp) g_rand_int_range(rand, 0, N_OPS);
        int k = g_rand_int_range(rand, 0, N_EXTRA);
        BwError err = {};
        int r = race_call(m, f, op, i, k, &err);
        if (race_answer_allowed(op, r))
                return true;
        snprintf(msg, size, "%s g%d (x%d): %d: %s", race_op_names[op], i, k + 1, r, err.message);
        return false;
}

static bool race_worker(Fixture *f, BwManager *m, unsigned seed, char *msg, size_t size) {
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
        for (int round = 0; round < N_ROUNDS; round++)
                if (!race_op(m, f, rand, msg, size))
                        return false;
        return true;
}

static bool race_marker(Fixture *f, int i, char kind, int k) {
        g_autofree char *marker = g_strdup_printf("%s/g%d-%c%d", f->mf->markers, i, kind, k);
        return access(marker, F_OK) == 0;
}

/* Whether the record of running guest `i` lists disk gI-<kind><k>. */
static bool race_record_has(const BwGuestInfo *info, int i, char kind, int k) {
        g_autofree char *ref = g_strdup_printf("disk:g%d-%c%d", i, kind, k);
        bool found = false;
        for (size_t j = 0; j < info->n_resources; j++) {
                g_autofree char *r = guest_resource_ref(info->resources[j]);
                found = found || strcmp(r, ref) == 0;
        }
        return found;
}

/* A running guest: its journal's last transaction (a start, attach or
 * detach) committed, its record lists its own disks, and an extra disk
 * exactly when that disk's marker exists — attached and not detached. */
static void race_check_running(Fixture *f, BwManager *m, int i, const char *journal) {
        g_autoptr(JournalState) s = NULL;
        g_autofree char *name = g_strdup_printf("g%d", i);
        BwGuestState *gs = NULL;
        BwError err = {};
        if (journal_read(journal, &s, &err) < 0)
                fail_msg("guest g%d: %s", i, err.message);
        if (s->last_op == JOURNAL_OP_STOP || !s->last_committed)
                fail_msg("guest g%d: journal of an unfinished %s", i, journal_op_to_string(s->last_op));
        if (bw_manager_get_guest(m, name, &gs, &err) < 0)
                fail_msg("guest g%d: get_guest: %s", i, err.message);
        const BwGuestInfo *info = bw_guest_state_info(gs);
        if (bw_guest_state_status(gs) != BW_GUEST_RUNNING || !info)
                fail_msg("guest g%d: %s, record %s", i, bw_guest_status_to_string(bw_guest_state_status(gs)),
                         info ? "readable" : "unreadable");
        for (int k = 1; k <= N_DISKS; k++)
                if (!race_record_has(info, i, 'd', k) || !race_marker(f, i, 'd', k))
                        fail_msg("guest g%d is running, but disk d%d is %s", i, k,
                                 race_marker(f, i, 'd', k) ? "not in its record" : "without marker");
        for (int k = 1; k <= N_EXTRA; k++)
                if (race_record_has(info, i, 'x', k) != race_marker(f, i, 'x', k))
                        fail_msg("guest g%d: disk x%d is %s its record, but its marker is %s", i, k,
                                 race_record_has(info, i, 'x', k) ? "in" : "not in",
                                 race_marker(f, i, 'x', k) ? "there" : "missing");
        bw_guest_state_free(gs);
}

/* A stopped guest: no lock file, and every marker, attached disks' too,
 * is gone. */
static void race_check_stopped(Fixture *f, int i) {
        g_autofree char *lock = g_strdup_printf("%s/guests/.g%d.lock", f->mf->state, i);
        if (access(lock, F_OK) == 0)
                fail_msg("guest g%d: stopped, but its lock file is left", i);
        for (int k = 1; k <= N_DISKS; k++)
                if (race_marker(f, i, 'd', k))
                        fail_msg("guest g%d is stopped, but marker d%d is left", i, k);
        for (int k = 1; k <= N_EXTRA; k++)
                if (race_marker(f, i, 'x', k))
                        fail_msg("guest g%d is stopped, but attached disk x%d's marker is left", i, k);
}

/* Every guest is either started in full or stopped in full. */
static void race_check_consistent(Fixture *f) {
        char msg[2048] = "";
        BwManager *m = race_manager(f, msg, sizeof(msg));
        if (!m)
                fail_msg("%s", msg);
        for (int i = 0; i < N_GUESTS; i++) {
                g_autofree char *journal = g_strdup_printf("%s/guests/g%d.journal", f->mf->state, i);
                if (access(journal, F_OK) == 0)
                        race_check_running(f, m, i, journal);
                else
                        race_check_stopped(f, i);
        }
        bw_manager_free(m);
        g_autofree char *gdir = g_build_filename(f->mf->state, "guests", NULL);
        g_autoptr(GDir) d = g_dir_open(gdir, 0, NULL);
        for (const char *e; d && (e = g_dir_read_name(d));)
                if (strstr(e, ".corrupt-"))
                        fail_msg("a corrupt journal was kept: %s", e);
}

static void test_race_processes(void **state) {
        Fixture *f = *state;
        pid_t pids[N_WORKERS];
        for (int w = 0; w < N_WORKERS; w++) {
                pids[w] = fork();
                assert_true(pids[w] >= 0);
                if (pids[w] == 0) {
                        char msg[2048] = "";
                        BwManager *m = race_manager(f, msg, sizeof(msg));
                        bool ok = m && race_worker(f, m, 1000u + (unsigned) w, msg, sizeof(msg));
                        if (!ok)
                                fprintf(stderr, "worker %d: %s\n", w, msg);
                        bw_manager_free(m);
                        _exit(ok ? 0 : 1);
                }
        }
        int failed = 0;
        for (int w = 0; w < N_WORKERS; w++) {
                int status;
                assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }
        assert_int_equal(failed, 0);
        race_check_consistent(f);
}

typedef struct RaceThread {
        Fixture *f;
        BwManager *m;
        unsigned seed;
        bool ok;
        char msg[2048];
} RaceThread;

static void *race_thread(void *data) {
        RaceThread *t = data;
        t->ok = race_worker(t->f, t->m, t->seed, t->msg, sizeof(t->msg));
        return NULL;
}

static void test_race_threads(void **state) {
        Fixture *f = *state;
        char msg[2048] = "";
        BwManager *m = race_manager(f, msg, sizeof(msg));
        RaceThread t[N_WORKERS];
        GThread *threads[N_WORKERS];
        if (!m)
                fail_msg("%s", msg);
        for (int w = 0; w < N_WORKERS; w++) {
                t[w] = (RaceThread) { .f = f, .m = m, .seed = 2000u + (unsigned) w };
                threads[w] = g_thread_new("race", race_thread, &t[w]);
        }
        for (int w = 0; w < N_WORKERS; w++)
                g_thread_join(threads[w]);
        for (int w = 0; w < N_WORKERS; w++)
                if (!t[w].ok)
                        fail_msg("thread %d: %s", w, t[w].msg);
        bw_manager_free(m);
        race_check_consistent(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_race_processes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_race_threads, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
