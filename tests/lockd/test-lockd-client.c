/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lockd client library: backoff and deadline, the process-wide
 * mutex under many threads, and what callers see when the daemon goes. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

static char *scratch;
static TestDaemon daemon_;

static int setup_all(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "lockd-client");
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        return 0;
}

static void test_backoff_schedule(void **state) {
        unsigned d = 0;
        const unsigned want[] = { 1, 2, 4, 8, 16, 32, 64, 100, 100, 100 };
        for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
                d = bw_lockd_backoff_next(d);
                assert_int_equal(d, want[i]);
        }
}

static void test_deadline_names_holder(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "deadline");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *holder = test_client_new(&daemon_, "the-holder"), *waiter = test_client_new(&daemon_, "w");
        BwLockdHandle *h, *w;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(holder, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        int64_t t0 = test_now_usec();
        assert_int_equal(bw_lockd_acquire(waiter, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 300, &w, &err),
                         -ETIMEDOUT);
        int64_t dt = test_now_usec() - t0;
        unsigned attempts = bw_lockd_client_attempts(waiter);
        printf("# 300 ms deadline: gave up after %.1f ms and %u attempts\n", dt / 1000.0, attempts);
        assert_int_equal(err.code, -ETIMEDOUT);
        assert_non_null(strstr(err.message, "'the-holder'"));
        assert_non_null(strstr(err.message, f[0]));
        assert_non_null(strstr(err.message, "gave up after"));
        /* It waited for the deadline... */
        assert_true(dt >= 300 * 1000);
        /* ...with exponential backoff: 1+2+4+...+64 ms, then 100 ms steps
         * make about ten attempts in 300 ms.  Fixed 1 ms polling would be
         * ~300 and no retry 1; a loaded machine only sleeps longer, so
         * fewer attempts, never more. */
        assert_in_range(attempts, 2, 14);
        assert_int_equal(bw_lockd_release(h), 0);
        bw_lockd_client_free(holder);
        bw_lockd_client_free(waiter);
}

typedef struct DelayedRelease {
        BwLockdHandle *handle;
        int delay_ms;
} DelayedRelease;

static void *release_later(void *p) {
        DelayedRelease *d = p;
        usleep((useconds_t) d->delay_ms * 1000);
        bw_lockd_release(d->handle);
        return NULL;
}

static void test_waits_until_released(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "wait");
        g_auto(GStrv) f = test_make_files(dir, "f", 2);
        BwLockdClient *holder = test_client_new(&daemon_, "holder"), *waiter = test_client_new(&daemon_, "waiter");
        BwLockdHandle *h, *w;
        pthread_t t;

        /* Timeout -1 is the default (60 s), not "try once": it waits. */
        assert_int_equal(bw_lockd_acquire(holder, (const char *const *) f + 1, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        DelayedRelease d = { .handle = h, .delay_ms = 200 };
        assert_int_equal(pthread_create(&t, NULL, release_later, &d), 0);
        int64_t t0 = test_now_usec();
        assert_int_equal(bw_lockd_acquire(waiter, (const char *const *) f, 2, BW_LOCKD_EXCLUSIVE, -1, &w, NULL), 0);
        printf("# acquired %.1f ms after the holder released\n", (test_now_usec() - t0) / 1000.0 - 200);
        pthread_join(t, NULL);
        assert_int_equal(bw_lockd_release(w), 0);
        bw_lockd_client_free(holder);
        bw_lockd_client_free(waiter);
}

typedef struct Shared {
        BwLockdClient *client;     /* one client for all threads, or NULL: one each */
        const char *socket_path;
        char *common;
        char **own;
        atomic_int inside;
        atomic_int overlaps;
        atomic_int failures;
        int iterations;
} Shared;

typedef struct Worker {
        Shared *s;
        int index;
} Worker;

static void *worker_main(void *p) {
        Worker *w = p;
        Shared *s = w->s;
        BwLockdClient *c = s->client;
        if (!c && bw_lockd_client_new(s->socket_path, "worker", &c) < 0)
                return NULL;
        for (int i = 0; i < s->iterations; i++) {
                BwLockdHandle *h;
                const char *paths[] = { s->own[w->index], s->common };
                BwError err = {};
                if (bw_lockd_acquire(c, paths, 2, BW_LOCKD_EXCLUSIVE, 30000, &h, &err) < 0) {
                        fprintf(stderr, "# worker %d: %s\n", w->index, err.message);
                        atomic_fetch_add(&s->failures, 1);
                        continue;
                }
                if (atomic_fetch_add(&s->inside, 1) != 0)
                        atomic_fetch_add(&s->overlaps, 1);
                usleep(50);
                atomic_fetch_sub(&s->inside, 1);
                if (bw_lockd_release(h) < 0)
                        atomic_fetch_add(&s->failures, 1);
        }
        if (!s->client)
                bw_lockd_client_free(c);
        return NULL;
}

static void run_workers(Shared *s, int n) {
        pthread_t threads[16];
        Worker workers[16];
        for (int i = 0; i < n; i++) {
                workers[i] = (Worker) { .s = s, .index = i };
                assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
        }
        for (int i = 0; i < n; i++)
                pthread_join(threads[i], NULL);
}

static void test_threads_share_one_client(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "threads");
        g_auto(GStrv) own = test_make_files(dir, "own", 16);
        g_autofree char *common = test_write_file(dir, "common", "", 0);
        Shared s = { .socket_path = daemon_.socket_path, .common = common, .own = own, .iterations = 40 };

        /* Sixteen threads, one client (one connection): conversations are
         * serialized by the mutex, and the locks still exclude each other
         * although the daemon sees a single owner. */
        s.client = test_client_new(&daemon_, "threads");
        int64_t t0 = test_now_usec();
        run_workers(&s, 16);
        printf("# 16 threads x 40 critical sections on one client: %.0f ms\n", (test_now_usec() - t0) / 1000.0);
        assert_int_equal(atomic_load(&s.failures), 0);
        assert_int_equal(atomic_load(&s.overlaps), 0);
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_ping(s.client, &info, NULL), 0);
        assert_int_equal(info.locks, 0);
        bw_lockd_client_free(s.client);

        /* Sixteen threads with a client each: sixteen connections. */
        s.client = NULL;
        run_workers(&s, 16);
        assert_int_equal(atomic_load(&s.failures), 0);
        assert_int_equal(atomic_load(&s.overlaps), 0);
}

static void test_relative_paths_and_empty_handle(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "relative");
        g_auto(GStrv) f = test_make_files(dir, "rel", 1);
        g_autofree char *cwd = g_get_current_dir();
        BwLockdClient *c = test_client_new(&daemon_, "rel");
        BwLockdHandle *h;
        BwLockdLock *locks;
        size_t n;

        assert_int_equal(chdir(dir), 0);
        const char *rel = "rel0";
        assert_int_equal(bw_lockd_acquire(c, &rel, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(chdir(cwd), 0);
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, NULL), 0);
        assert_int_equal(n, 1);
        assert_string_equal(locks[0].path, f[0]);
        bw_lockd_lock_list_free(locks, n);
        assert_int_equal(bw_lockd_release(h), 0);
        bw_lockd_client_free(c);

        /* No paths: a valid handle, and no daemon needed. */
        assert_int_equal(bw_lockd_client_new("/nonexistent/lockd.sock", NULL, &c), 0);
        assert_int_equal(bw_lockd_acquire(c, NULL, 0, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_handle_n_paths(h), 0);
        assert_int_equal(bw_lockd_release(h), 0);
        BwError err = {};
        const char *p = "/x";
        assert_int_equal(bw_lockd_acquire(c, &p, 1, BW_LOCKD_EXCLUSIVE, 0, &h, &err), -ENOENT);
        assert_non_null(strstr(err.message, "/nonexistent/lockd.sock"));
        assert_non_null(strstr(err.message, "is bulwark-lockd running?"));
        assert_int_equal(bw_lockd_acquire(c, &p, 1, 0x80, 0, &h, &err), -EINVAL);
        bw_lockd_client_free(c);
        assert_int_equal(bw_lockd_client_new("relative.sock", NULL, &c), -EINVAL);
}

/* bw_lockd_release() does not wait for the daemon's answer.  The same
 * client's next request is read after it, so it finds the file free at
 * once; another client may need one retry; bw_lockd_release_sync()
 * returns only when the file is free. */
static void test_release_without_waiting(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "noreply");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        BwLockdClient *a = test_client_new(&daemon_, "a"), *b = test_client_new(&daemon_, "b");
        BwLockdHandle *h, *hb;

        for (int i = 0; i < 200; i++) {
                assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
                assert_int_equal(bw_lockd_release(h), 0);
        }
        /* 200 acquires, each answered on its first attempt. */
        assert_int_equal(bw_lockd_client_attempts(a), 200);

        assert_int_equal(bw_lockd_acquire(a, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_release(h), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 1000, &hb, NULL), 0);
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(bw_lockd_release_sync(hb), 0);
        assert_int_equal(test_posix_probe(f[0]), 0);
        bw_lockd_client_free(a);
        bw_lockd_client_free(b);
}

/* Sends HELLO on a raw connection; returns the features its reply lists. */
static uint32_t raw_hello(int fd) {
        g_autoptr(GByteArray) hello = test_raw_frame(LOCKD_MSG_HELLO, 1, g_variant_new("(su)", "raw", 0));
        g_auto(LockdReply) r = {};
        LockdHeader h;
        test_raw_send(fd, hello->data, hello->len);
        assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
        assert_int_equal(r.status, LOCKD_STATUS_OK);
        assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_HELLO)));
        return g_variant_get_uint32(r.body);
}

/* The same on the wire: HELLO lists the feature, a RELEASE flagged "no
 * reply" gets none when it works and an error reply when it does not. */
static void test_release_no_reply_on_the_wire(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "wire");
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        int fd = test_raw_connect(daemon_.socket_path);
        LockdHeader h;

        assert_true(raw_hello(fd) & LOCKD_FEATURE_NO_REPLY_RELEASE);
        g_autoptr(GByteArray) acquire = test_raw_frame(
                LOCKD_MSG_ACQUIRE, 2, g_variant_new("(uu@aay)", 0, 0, protocol_paths_encode((const char *const *) f, 1)));
        test_raw_send(fd, acquire->data, acquire->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
        }
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        /* Released without a reply: the next frame answers the PING. */
        g_autoptr(GByteArray) release = test_raw_frame(
                LOCKD_MSG_RELEASE, 3, g_variant_new("(b@aay)", FALSE, protocol_paths_encode((const char *const *) f, 1)));
        release->data[6] = LOCKD_FRAME_NO_REPLY;
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 4, g_variant_new("()"));
        test_raw_send(fd, release->data, release->len);
        test_raw_send(fd, ping->data, ping->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(h.serial, 4);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
        }
        assert_int_equal(test_posix_probe(f[0]), 0);
        /* A failing one still answers, under its own serial. */
        const char *relative = "not/absolute";
        g_autoptr(GByteArray) bad = test_raw_frame(
                LOCKD_MSG_RELEASE, 5, g_variant_new("(b@aay)", FALSE, protocol_paths_encode(&relative, 1)));
        bad->data[6] = LOCKD_FRAME_NO_REPLY;
        test_raw_send(fd, bad->data, bad->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(h.serial, 5);
                assert_int_equal(r.status, LOCKD_STATUS_INVALID);
                assert_non_null(strstr(r.message, "RELEASE"));
        }
        close(fd);
}

/* ACQUIRE with the paths as strings and RELEASE by (dev, ino) key, as
 * frames: HELLO offers both, the reply's keys release the file, and a
 * string path is checked like a byte-string one. */
static void test_text_paths_and_keys_on_the_wire(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "wire-keys");
        g_auto(GStrv) f = test_make_files(dir, "f", 2);
        int fd = test_raw_connect(daemon_.socket_path);
        LockdHeader h;
        size_t n;

        uint32_t features = raw_hello(fd);
        assert_true(features & LOCKD_FEATURE_TEXT_PATHS);
        assert_true(features & LOCKD_FEATURE_RELEASE_BY_KEY);
        g_autoptr(GByteArray) acquire = test_raw_frame(
                LOCKD_MSG_ACQUIRE, 2,
                g_variant_new("(uu@as)", 0, 0, protocol_text_paths_encode((const char *const *) f, 2)));
        acquire->data[6] = LOCKD_FRAME_TEXT_PATHS;
        test_raw_send(fd, acquire->data, acquire->len);
        LockdFileKey keys[2];
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                const LockdPathResult *res = protocol_acquire_body_get(r.body, &n);
                assert_int_equal(n, 2);
                for (size_t i = 0; i < 2; i++) {
                        struct stat st;
                        assert_int_equal(stat(f[i], &st), 0);
                        assert_true(res[i].dev == (uint64_t) st.st_dev && res[i].ino == (uint64_t) st.st_ino);
                        keys[i] = (LockdFileKey) { .dev = res[i].dev, .ino = res[i].ino };
                }
        }
        assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
        assert_int_equal(test_posix_probe(f[1]), -EAGAIN);
        /* The same ACQUIRE without the flag is an "(uuaay)" and its "as"
         * payload is refused by type. */
        acquire->data[6] = 0;
        acquire->data[8] = 3;
        test_raw_send(fd, acquire->data, acquire->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_INVALID);
                assert_string_equal(r.message, "ACQUIRE: payload has type '(uuas)', expected '(uuaay)'");
        }
        /* One key released, with a reply counting one hold. */
        g_autoptr(GByteArray) release = test_raw_frame(LOCKD_MSG_RELEASE, 4, protocol_release_keys_encode(keys, 1));
        release->data[6] = LOCKD_FRAME_BY_KEY;
        test_raw_send(fd, release->data, release->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                assert_int_equal(g_variant_get_uint32(r.body), 1);
        }
        assert_int_equal(test_posix_probe(f[0]), 0);
        assert_int_equal(test_posix_probe(f[1]), -EAGAIN);
        /* A key this connection does not hold releases nothing. */
        LockdFileKey stranger = { .dev = keys[1].dev, .ino = keys[1].ino + 1000000 };
        g_autoptr(GByteArray) none = test_raw_frame(LOCKD_MSG_RELEASE, 5, protocol_release_keys_encode(&stranger, 1));
        none->data[6] = LOCKD_FRAME_BY_KEY;
        test_raw_send(fd, none->data, none->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(g_variant_get_uint32(r.body), 0);
        }
        assert_int_equal(test_posix_probe(f[1]), -EAGAIN);
        /* A relative string path is refused like a byte-string one. */
        const char *relative = "not/absolute";
        g_autoptr(GByteArray) bad = test_raw_frame(
                LOCKD_MSG_ACQUIRE, 6, g_variant_new("(uu@as)", 0, 0, protocol_text_paths_encode(&relative, 1)));
        bad->data[6] = LOCKD_FRAME_TEXT_PATHS;
        test_raw_send(fd, bad->data, bad->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_INVALID);
                assert_string_equal(r.message, "ACQUIRE: path 0 'not/absolute' is not absolute");
        }
        close(fd);
        /* The connection's end frees the rest. */
        for (int i = 0; i < 500 && test_posix_probe(f[1]) != 0; i++)
                g_usleep(2000);
        assert_int_equal(test_posix_probe(f[1]), 0);
}

/* An ACQUIRE of no paths is a success with an empty lock set, on the
 * wire in both path encodings and through the library (which answers it
 * itself, as the core's lock step expects for an empty set).  The daemon
 * used to sort a NULL array of zero candidates: undefined behaviour that
 * the sanitizer build stops on. */
static void test_zero_paths(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        LockdHeader h;
        size_t n;

        assert_true(raw_hello(fd) & LOCKD_FEATURE_TEXT_PATHS);
        for (uint32_t mode = LOCKD_MODE_EXCLUSIVE; mode <= LOCKD_MODE_SHARED; mode++) {
                g_autoptr(GByteArray) bytes = test_raw_frame(
                        LOCKD_MSG_ACQUIRE, 10 + mode,
                        g_variant_new("(uu@aay)", mode, LOCKD_ACQUIRE_ALLOW_MISSING, protocol_paths_encode(NULL, 0)));
                g_autoptr(GByteArray) text = test_raw_frame(
                        LOCKD_MSG_ACQUIRE, 20 + mode,
                        g_variant_new("(uu@as)", mode, 0, protocol_text_paths_encode(NULL, 0)));
                text->data[6] = LOCKD_FRAME_TEXT_PATHS;
                GByteArray *frames[] = { bytes, text };
                for (size_t i = 0; i < G_N_ELEMENTS(frames); i++) {
                        g_auto(LockdReply) r = {};
                        test_raw_send(fd, frames[i]->data, frames[i]->len);
                        assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                        assert_int_equal(h.serial, (i ? 20 : 10) + mode);
                        if (r.status != LOCKD_STATUS_OK)
                                fail_msg("ACQUIRE of no paths: status %u '%s'", r.status, r.message);
                        assert_non_null(protocol_acquire_body_get(r.body, &n));
                        assert_int_equal(n, 0);
                }
        }
        /* Nothing is held, and the connection and the daemon go on. */
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 30, g_variant_new("()"));
        test_raw_send(fd, ping->data, ping->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
        }
        g_autoptr(GByteArray) release = test_raw_frame(LOCKD_MSG_RELEASE, 31, protocol_release_keys_encode(NULL, 0));
        release->data[6] = LOCKD_FRAME_BY_KEY;
        test_raw_send(fd, release->data, release->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                assert_int_equal(g_variant_get_uint32(r.body), 0);
        }
        close(fd);

        /* Through the library: an empty handle, whatever the mode. */
        BwLockdClient *c = test_client_new(&daemon_, "zero");
        BwLockdDaemonInfo info;
        const char *none[] = { NULL };
        for (unsigned mode = 0; mode <= (BW_LOCKD_SHARED | BW_LOCKD_ALLOW_MISSING); mode++) {
                BwLockdHandle *handle;
                assert_int_equal(bw_lockd_acquire(c, mode & 1 ? NULL : none, 0, mode, 0, &handle, NULL), 0);
                assert_int_equal(bw_lockd_handle_n_paths(handle), 0);
                assert_null(bw_lockd_handle_path_info(handle, 0));
                assert_int_equal(bw_lockd_handle_check(handle), 0);
                assert_int_equal(mode & BW_LOCKD_SHARED ? bw_lockd_release(handle) : bw_lockd_release_sync(handle), 0);
        }
        assert_int_equal(bw_lockd_ping(c, &info, NULL), 0);
        assert_int_equal(info.pid, daemon_.pid);
        assert_int_equal(info.locks, 0);
        bw_lockd_client_free(c);
}

/* Through the library: paths that are not UTF-8 go as byte strings, a
 * file named twice (same path, hard link) is one key, and a release
 * leaves nothing held. */
static void test_byte_paths_and_duplicates(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "bytes");
        g_autofree char *latin1 = test_write_file(dir, "caf\xe9", "x", 1);
        g_auto(GStrv) f = test_make_files(dir, "f", 1);
        g_autofree char *second = g_build_filename(dir, "link", NULL);
        assert_int_equal(link(f[0], second), 0);
        BwLockdClient *a = test_client_new(&daemon_, "bytes");
        BwLockdDaemonInfo info;
        BwLockdHandle *h;

        const char *paths[] = { latin1, f[0], second, f[0] };
        for (int round = 0; round < 2; round++) {
                assert_int_equal(bw_lockd_acquire(a, paths, 4, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
                assert_int_equal(test_posix_probe(latin1), -EAGAIN);
                assert_int_equal(test_posix_probe(f[0]), -EAGAIN);
                assert_true(bw_lockd_handle_path_info(h, 2)->flags & LOCKD_PATH_DUPLICATE);
                assert_int_equal(bw_lockd_ping(a, &info, NULL), 0);
                assert_int_equal(info.locks, 2);
                /* Both ways of releasing: without and with waiting. */
                assert_int_equal(round ? bw_lockd_release_sync(h) : bw_lockd_release(h), 0);
                assert_int_equal(bw_lockd_ping(a, &info, NULL), 0);
                assert_int_equal(info.locks, 0);
                assert_int_equal(test_posix_probe(latin1), 0);
                assert_int_equal(test_posix_probe(f[0]), 0);
        }
        bw_lockd_client_free(a);
}

static void test_daemon_gone(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "gone");
        g_auto(GStrv) f = test_make_files(dir, "f", 2);
        TestDaemon d;
        test_daemon_start(&d, scratch, "doomed", NULL, NULL);
        BwLockdClient *c = test_client_new(&d, "c");
        BwLockdHandle *h1, *h2;
        BwError err = {};

        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 1, BW_LOCKD_EXCLUSIVE, 0, &h1, NULL), 0);
        assert_int_equal(bw_lockd_handle_check(h1), 0);
        test_daemon_kill(&d);
        /* The handle learns its locks are gone... */
        assert_int_equal(bw_lockd_handle_check(h1), -ECONNRESET);
        assert_int_equal(test_posix_probe(f[0]), 0);
        /* ...a new acquire says the daemon is not there... */
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f + 1, 1, BW_LOCKD_EXCLUSIVE, 0, &h2, &err),
                         -ECONNREFUSED);
        /* ...and release reports the loss. */
        assert_int_equal(bw_lockd_release(h1), -ECONNRESET);

        /* A daemon back on the same socket: the client reconnects. */
        TestDaemon d2;
        g_autofree char *old_socket = g_strdup(d.socket_path);
        test_daemon_clear(&d);
        g_autofree char *name = g_strdup("doomed");
        g_autofree char *olddir = g_build_filename(scratch, name, NULL);
        test_scratch_remove(olddir);
        test_daemon_start(&d2, scratch, "doomed", NULL, NULL);
        assert_string_equal(d2.socket_path, old_socket);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f, 2, BW_LOCKD_EXCLUSIVE, 0, &h2, NULL), 0);
        assert_int_equal(bw_lockd_release(h2), 0);
        bw_lockd_client_free(c);
        assert_int_equal(test_daemon_stop(&d2), 0);
        test_daemon_clear(&d2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_schedule),
                cmocka_unit_test(test_deadline_names_holder),
                cmocka_unit_test(test_waits_until_released),
                cmocka_unit_test(test_threads_share_one_client),
                cmocka_unit_test(test_relative_paths_and_empty_handle),
                cmocka_unit_test(test_release_without_waiting),
                cmocka_unit_test(test_release_no_reply_on_the_wire),
                cmocka_unit_test(test_text_paths_and_keys_on_the_wire),
                cmocka_unit_test(test_zero_paths),
                cmocka_unit_test(test_byte_paths_and_duplicates),
                cmocka_unit_test(test_daemon_gone),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
