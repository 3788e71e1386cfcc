/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_query() and the cgroup-bpf plugin's query op, on the real
 * kernel: finding (or loading) the plugin, unknown commands, JSON, a sink
 * that fails, the configured cgroup root, and a `denials --follow` that
 * neither blocks a stop nor outlives its cgroup. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "cgtest.h"
#include "device-cgroup.h"
#include "plugin-host.h"
#include "test-util.h"

/* How long a follower may take to notice that it must end. */
#define FOLLOW_END_MS 5000

static char *arg_root;
static pid_t arg_follower; /* a follower a failed test left running */

static int setup(void **state) {
        *state = cgtest_fixture_new(arg_root, "query");
        return 0;
}

static int teardown(void **state) {
        if (arg_follower > 0) {
                kill(arg_follower, SIGKILL);
                waitpid(arg_follower, NULL, 0);
                arg_follower = 0;
        }
        cgtest_fixture_free(*state);
        return 0;
}

typedef struct Answer {
        char *text;
        size_t len;
        unsigned calls;            /* write() calls with data */
        unsigned empty_calls;      /* write() calls without */
        int fail_with;             /* when set, every call with data fails so */
        int fail_empty_with;       /* when set, every call without data fails so */
} Answer;

static int answer_write(void *userdata, const char *data, size_t len) {
        Answer *a = userdata;
        if (len == 0) {
                a->empty_calls++;
                return a->fail_empty_with;
        }
        a->calls++;
        if (a->fail_with)
                return a->fail_with;
        a->text = realloc(a->text, a->len + len + 1);
        memcpy(a->text + a->len, data, len);
        a->len += len;
        a->text[a->len] = '\0';
        return 0;
}

static void answer_clear(Answer *a) {
        free(a->text);
        *a = (Answer) {};
}

/* A manager with an empty configuration file in the fixture's scratch
 * directory, the plugins `plugins` and cgroup root `root` (NULL: found). */
static BwManager *manager_new(const CgFixture *f, const char *plugins, const char *root) {
        char *conf = NULL, *state = NULL, *dirs = NULL;
        char *nop = test_builddir_path("plugins/nop/.libs"), *cgb = test_builddir_path("plugins/cgroup-bpf/.libs");
        BwManager *m = NULL;
        BwError err = {};

        assert_true(asprintf(&conf, "%s/bulwark.conf", f->scratch) > 0);
        assert_true(asprintf(&state, "%s/state", f->scratch) > 0);
        assert_true(asprintf(&dirs, "%s:%s", nop, cgb) > 0);
        if (access(conf, F_OK) < 0)
                cgtest_write(conf, "[bulwark]\n");
        BwOptions o = { .config_path = conf, .plugin_dir = dirs, .state_dir = state, .run_dir = state,
                        .cgroup_root = root, .plugins = plugins };
        if (bw_manager_new(&o, &m, &err) < 0) {
                fprintf(stderr, "# %s\n", err.message);
                fail();
        }
        free(conf);
        free(state);
        free(dirs);
        free(nop);
        free(cgb);
        return m;
}

static int query(BwManager *m, const char *command, const char *a0, const char *a1, unsigned flags, Answer *a,
                 BwError *err) {
        const char *argv[] = { a0, a1 };
        size_t argc = a1 ? 2 : a0 ? 1 : 0;
        return bw_manager_query(m, "cgroup-bpf", command, argc, argv, flags, answer_write, a, err);
}

static void allow(BwManager *m, const char *cgroup, const char *rule) {
        const char *argv[] = { cgroup, rule };
        Answer a = {};
        BwError err = {};
        if (bw_manager_query(m, "cgroup-bpf", "devices-allow", 2, argv, 0, answer_write, &a, &err) < 0) {
                fprintf(stderr, "# allow %s: %s\n", rule, err.message);
                fail();
        }
        answer_clear(&a);
}

static void test_query_plugin_not_configured(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "nop", NULL);
        Answer a = {};
        BwError err = {};

        assert_int_equal(query(m, "devices-probe", NULL, NULL, 0, &a, &err), -ENOENT);
        assert_non_null(strstr(err.message, "plugin 'cgroup-bpf': not loaded (loaded: 'nop')"));
        assert_null(a.text);
        /* Loaded for the one call, and never added to the plugins that
         * start guests. */
        assert_int_equal(query(m, "devices-probe", NULL, NULL, BW_MANAGER_QUERY_LOAD, &a, &err), 0);
        assert_non_null(strstr(a.text, "usable:           yes"));
        assert_int_equal(bw_manager_plugin_count(m), 1);
        answer_clear(&a);
        bw_manager_free(m);
}

static void test_query_unknown_command(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        Answer a = {};
        BwError err = {};

        assert_int_equal(query(m, "devices-frobnicate", NULL, NULL, 0, &a, &err), -EOPNOTSUPP);
        print_message("# %s\n", err.message);
        assert_non_null(strstr(err.message, "unknown command 'devices-frobnicate'"));
        assert_non_null(strstr(err.message, "devices-probe, devices-list, devices-explain, devices-allow, "
                                            "devices-deny, devices-remove, devices-denials"));
        assert_null(a.text);
        bw_manager_free(m);
}

static void test_query_json_flag(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        Answer text = {}, json = {};
        char *want = NULL;
        BwError err = {};

        allow(m, f->cgroup, "c 1:3 rw");
        assert_int_equal(query(m, "devices-list", f->cgroup, NULL, 0, &text, &err), 0);
        assert_int_equal(query(m, "devices-list", f->cgroup, NULL, BW_QUERY_JSON, &json, &err), 0);
        assert_true(asprintf(&want, "{\"cgroup\":\"%s\",\"program\":{\"id\":", f->cgroup) > 0);
        assert_true(strncmp(json.text, want, strlen(want)) == 0);
        assert_non_null(strstr(json.text, "\"rules\":[{\"type\":\"c\",\"device\":\"1:3\",\"access\":\"rw\","
                                          "\"node\":\"/dev/null\"}],\"other_programs\":[]}\n"));
        free(want);
        assert_true(asprintf(&want, "cgroup %s: bw_devices program ", f->cgroup) > 0);
        assert_true(strncmp(text.text, want, strlen(want)) == 0);
        assert_null(strchr(text.text, '{'));
        free(want);
        answer_clear(&text);
        answer_clear(&json);
        bw_manager_free(m);
}

/* A sink that fails stops the plugin: one write, the error returned. */
static void test_query_sink_error_stops(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        Answer a = {}, failing = { .fail_with = -EIO };
        BwError err = {};

        for (unsigned i = 0; i < 300; i++) {
                char rule[32];
                snprintf(rule, sizeof(rule), "c 240:%u r", i);
                allow(m, f->cgroup, rule);
        }
        assert_int_equal(query(m, "devices-list", f->cgroup, NULL, 0, &a, &err), 0);
        assert_true(a.calls >= 2); /* an answer this long comes in pieces */
        assert_int_equal(query(m, "devices-list", f->cgroup, NULL, 0, &failing, &err), -EIO);
        assert_int_equal(failing.calls, 1);
        answer_clear(&a);
        answer_clear(&failing);
        bw_manager_free(m);
}

/* CGROUP arguments resolve against the configured root and never leave it. */
static void check_root_rule(BwManager *m, const CgFixture *f, const char *inner) {
        int programs = cgtest_prog_count(arg_root);
        Answer a = {};
        BwError err = {};
        char *want = NULL;

        assert_int_equal(query(m, "devices-list", "inner", NULL, 0, &a, &err), 0);
        assert_true(asprintf(&want, "cgroup %s: no bw_devices program", inner) > 0);
        assert_non_null(strstr(a.text, want));
        free(want);
        answer_clear(&a);
        assert_int_equal(query(m, "devices-list", arg_root, NULL, 0, &a, &err), -EINVAL);
        assert_true(asprintf(&want, "cgroup '%s': not below the cgroup2 root '%s'", arg_root, f->cgroup) > 0);
        assert_non_null(strstr(err.message, want));
        free(want);
        assert_null(a.text);
        assert_int_equal(query(m, "devices-allow", arg_root, "c 1:3 r", 0, &a, &err), -EINVAL);
        assert_int_equal(cgtest_prog_count(arg_root), programs);
        assert_int_equal(query(m, "devices-probe", NULL, NULL, 0, &a, &err), 0);
        assert_true(asprintf(&want, "cgroup2 root:     %s (configured)", f->cgroup) > 0);
        assert_non_null(strstr(a.text, want));
        free(want);
        answer_clear(&a);
}

static void test_query_configured_root(void **state) {
        CgFixture *f = *state;
        char *inner = NULL, *conf = NULL, *text = NULL;

        assert_true(asprintf(&inner, "%s/inner", f->cgroup) > 0);
        assert_int_equal(mkdir(inner, 0755), 0);
        /* From the options (--cgroup-root) ... */
        BwManager *m = manager_new(f, "cgroup-bpf", f->cgroup);
        check_root_rule(m, f, inner);
        bw_manager_free(m);
        /* ... and from bulwark.conf. */
        assert_true(asprintf(&conf, "%s/bulwark.conf", f->scratch) > 0);
        assert_true(asprintf(&text, "[bulwark]\ncgroup-root=%s\n", f->cgroup) > 0);
        cgtest_write(conf, text);
        m = manager_new(f, "cgroup-bpf", NULL);
        check_root_rule(m, f, inner);
        bw_manager_free(m);
        rmdir(inner);
        free(inner);
        free(conf);
        free(text);
}

/* ---- denials --follow --------------------------------------------------- */

typedef struct Follower {
        pid_t pid;
        int fd;                    /* the follower's answer */
        char out[8192];
        size_t len;
} Follower;

static int pipe_write(void *userdata, const char *data, size_t len) {
        int fd = *(int *) userdata;
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0)
                        return errno == EPIPE ? -EPIPE : -errno;
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Reads the follower's answer until `want` shows (true) or it ends or
 * the time is up (false). */
static bool follower_wait_for(Follower *fw, const char *want, int timeout_ms) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (want && strstr(fw->out, want))
                        return true;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                struct pollfd pfd = { .fd = fw->fd, .events = POLLIN };
                if (left <= 0 || poll(&pfd, 1, (int) left) <= 0)
                        return false;
                ssize_t n = read(fw->fd, fw->out + fw->len, sizeof(fw->out) - 1 - fw->len);
                if (n <= 0)
                        return want == NULL;
                fw->len += (size_t) n;
                fw->out[fw->len] = '\0';
        }
}

/* Starts `devices-denials --follow` in a child (its own manager) and
 * waits until it follows. */
static void follower_start(Follower *fw, const CgFixture *f) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        *fw = (Follower) { .fd = p[0] };
        fw->pid = fork();
        assert_true(fw->pid >= 0);
        if (fw->pid == 0) {
                close(p[0]);
                BwManager *m = manager_new(f, "cgroup-bpf", NULL);
                const char *argv[] = { "--follow", f->cgroup };
                BwError err = {};
                int r = bw_manager_query(m, "cgroup-bpf", "devices-denials", 2, argv, 0, pipe_write, &p[1], &err);
                if (r < 0)
                        dprintf(p[1], "error %d: %s\n", r, err.message);
                bw_manager_free(m);
                _exit(r < 0 ? 1 : 0);
        }
        close(p[1]);
        arg_follower = fw->pid;
        if (!follower_wait_for(fw, "Following denials of cgroup", FOLLOW_END_MS)) {
                fprintf(stderr, "# follower did not start: %s\n", fw->out);
                fail();
        }
}

/* Waits for the follower to end on its own; returns its exit status, or
 * -1 (after killing it) when it did not end in time. */
static int follower_end(Follower *fw) {
        int status;
        bool ended = follower_wait_for(fw, NULL, FOLLOW_END_MS);
        if (!ended)
                kill(fw->pid, SIGKILL);
        waitpid(fw->pid, &status, 0);
        arg_follower = 0;
        close(fw->fd);
        return ended && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs fn(arg) in a child and waits for it at most FOLLOW_END_MS: a call
 * that would hang fails the test (the child is killed) and teardown still
 * runs.  Returns the child's exit status, or -1 when it did not end. */
static int run_bounded(int (*fn)(void *arg), void *arg) {
        int status;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(fn(arg));
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        assert_true(pidfd >= 0);
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        bool ended = poll(&pfd, 1, FOLLOW_END_MS) == 1;
        close(pidfd);
        if (!ended)
                kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return ended && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_query_follow_ends_when_cgroup_removed(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        Follower fw;

        allow(m, f->cgroup, "c 1:3 rw");
        bw_manager_free(m);
        follower_start(&fw, f);
        assert_int_equal(cgtest_open(f->cgroup, "/dev/zero", O_RDONLY), EPERM);
        assert_true(follower_wait_for(&fw, "/dev/zero", FOLLOW_END_MS));
        assert_int_equal(rmdir(f->cgroup), 0);
        int status = follower_end(&fw);
        print_message("# follower said: %s", fw.out);
        assert_int_equal(status, 0);
        assert_non_null(strstr(fw.out, "the cgroup was removed; stopped following"));
}

/* While a follower runs, the plugin can still take the cgroup for
 * writing and release the guest; the follower then ends by itself. */
static void test_query_follow_does_not_block_release(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        DeviceCgroupOptions nonblocking = { .nonblocking = true };
        DeviceCgroup *dc = NULL;
        DevError err = {};
        PluginHost h;
        Follower fw;

        allow(m, f->cgroup, "c 1:3 rw");
        bw_manager_free(m);
        follower_start(&fw, f);
        assert_int_equal(device_cgroup_open(f->cgroup, &nonblocking, &dc, &err), 0);
        device_cgroup_free(dc);
        BwGuestInfo guest = { .name = "query", .cgroup = f->cgroup, .cgroup_given = true };
        assert_int_equal(plugin_host_open(&h, NULL), 0);
        assert_int_equal(h.entry->release(h.state, &guest), 0);
        plugin_host_close(&h);
        assert_int_equal(cgtest_prog_count(f->cgroup), 0);
        assert_int_equal(follower_end(&fw), 0);
        assert_non_null(strstr(fw.out, "the bw_devices program was detached; stopped following"));
}

/* In a child, so that a stop that waits for the follower fails the test
 * rather than hangs it. */
static int guest_stop(void *arg) {
        BwManager *m = manager_new(arg, "cgroup-bpf", NULL);
        BwError err = {};
        int r = bw_manager_stop(m, "querystop", &err);
        if (r < 0)
                fprintf(stderr, "# stop: %s\n", err.message);
        bw_manager_free(m);
        return r < 0 ? 1 : 0;
}

/* The same through the manager: `guest stop` while a follower runs. */
static void test_query_follow_does_not_block_guest_stop(void **state) {
        CgFixture *f = *state;
        char *rules = test_srcdir_path("policy/devices/default.rules"), *conf = NULL, *text = NULL, *def = NULL;
        BwGuest *g = NULL;
        BwError err = {};
        Follower fw;

        assert_true(asprintf(&conf, "%s/bulwark.conf", f->scratch) > 0);
        assert_true(asprintf(&text, "[bulwark]\n[plugin:cgroup-bpf]\ndefault-rules=%s\n", rules) > 0);
        cgtest_write(conf, text);
        assert_true(asprintf(&def, "[guest]\nname=querystop\nuser=0\ngroup=0\ncgroup=%s\n", f->cgroup) > 0);
        assert_int_equal(bw_guest_load_data(def, strlen(def), "<test>", &g, &err), 0);
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        if (bw_manager_start(m, g, &err) < 0) {
                fprintf(stderr, "# start: %s\n", err.message);
                fail();
        }
        bw_manager_free(m);
        follower_start(&fw, f);
        assert_int_equal(run_bounded(guest_stop, f), 0);
        assert_int_equal(cgtest_prog_count(f->cgroup), 0);
        assert_int_equal(follower_end(&fw), 0);
        assert_non_null(strstr(fw.out, "the bw_devices program was detached; stopped following"));
        bw_guest_free(g);
        free(rules);
        free(conf);
        free(text);
        free(def);
}

/* A reader that goes away (-EPIPE on the keep-alive write) ends a
 * follower without an error, even when no event comes. */
static int follow_until_epipe(void *arg) {
        const CgFixture *f = arg;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);
        Answer a = { .fail_empty_with = -EPIPE };
        BwError err = {};
        int r = query(m, "devices-denials", "--follow", f->cgroup, 0, &a, &err);
        bool ok = r == 0 && a.empty_calls == 1 && a.text && strstr(a.text, "Following denials of cgroup");
        if (!ok)
                fprintf(stderr, "# follow: %d, %u empty writes: %s\n", r, a.empty_calls, a.text ? a.text : err.message);
        answer_clear(&a);
        bw_manager_free(m);
        return ok ? 0 : 1;
}

static void test_query_follow_ends_when_reader_goes(void **state) {
        CgFixture *f = *state;
        BwManager *m = manager_new(f, "cgroup-bpf", NULL);

        allow(m, f->cgroup, "c 1:3 rw");
        bw_manager_free(m);
        assert_int_equal(run_bounded(follow_until_epipe, f), 0);
}

int main(void) {
        arg_root = cgtest_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_query_plugin_not_configured, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_unknown_command, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_json_flag, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_sink_error_stops, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_configured_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_follow_ends_when_cgroup_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_follow_does_not_block_release, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_follow_does_not_block_guest_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_query_follow_ends_when_reader_goes, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(arg_root);
        return r;
}
