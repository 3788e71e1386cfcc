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
#include "protocol-writer.h"
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
        assert_false(locks[0].flags & LOCKD_PATH_LOST);
        bw_lockd_lock_list_free(locks, n);
        /* The daemon, asked (CHECK), still holds it. */
        BwError verr = {};
        assert_int_equal(bw_lockd_handle_verify(h, &verr), 0);
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
        /* CHECK: the lock still held is not reported; the released one,
         * no longer this connection's, is (ENOLCK, named by its key). */
        assert_true(features & LOCKD_FEATURE_CHECK);
        LockdFileKey both[] = { keys[1], keys[0] };
        g_autoptr(GByteArray) check = test_raw_frame(LOCKD_MSG_CHECK, 7, protocol_release_keys_encode(both, 2));
        test_raw_send(fd, check->data, check->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_CHECK)));
                assert_int_equal(g_variant_n_children(r.body), 1);
                g_autoptr(GVariant) path = NULL;
                int32_t error;
                g_variant_get_child(r.body, 0, "(@ayi)", &path, &error);
                g_autofree char *name = protocol_path_from_variant(path);
                g_autofree char *want = g_strdup_printf("(%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ")",
                                                        keys[0].dev, keys[0].ino);
                assert_string_equal(name, want);
                assert_int_equal(error, ENOLCK);
        }
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

/* One LIST page on a raw connection: the rows' paths, whether more
 * follow and the cursor to go on from. */
static char **raw_list_page(int fd, uint32_t serial, uint64_t cursor, uint32_t limit, bool *ret_more,
                            uint64_t *ret_next) {
        g_autoptr(GByteArray) f = test_raw_frame(LOCKD_MSG_LIST, serial, g_variant_new("(tu)", (guint64) cursor, limit));
        g_auto(LockdReply) r = {};
        g_autoptr(GVariant) rows = NULL;
        gboolean more;
        guint64 next;
        LockdHeader h;

        f->data[6] = LOCKD_FRAME_LIST_PAGE;
        test_raw_send(fd, f->data, f->len);
        assert_int_equal(test_raw_read_reply(fd, 5000, &h, &r), 1);
        assert_int_equal(h.serial, serial);
        if (r.status != LOCKD_STATUS_OK)
                fail_msg("LIST page: status %u '%s'", r.status, r.message);
        assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_LIST_PAGE)));
        g_variant_get(r.body, "(bt@a" LOCKD_LIST_ROW ")", &more, &next, &rows);
        size_t n = g_variant_n_children(rows);
        char **paths = g_new0(char *, n + 1);
        for (size_t i = 0; i < n; i++) {
                g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
                g_autoptr(GVariant) path = g_variant_get_child_value(row, 0);
                paths[i] = protocol_path_from_variant(path);
        }
        *ret_more = more;
        *ret_next = next;
        return paths;
}

static void expect_paths(char **got, const char *const *want, size_t n) {
        size_t i = 0;
        for (; got[i] && i < n; i++)
                if (strcmp(got[i], want[i]) != 0)
                        fail_msg("row %zu: '%s', expected '%s'", i, got[i], want[i]);
        if (got[i] || i != n)
                fail_msg("%u rows, expected %zu", g_strv_length(got), n);
}

/* Paged LIST on the wire: pages of the asked size, oldest hold first; a
 * hold released between pages is not listed after, one taken meanwhile
 * comes at the end, none twice; the last page says so; a re-exec makes
 * an old cursor stale.  The unpaged LIST is the reply it always was. */
static void test_list_pages_on_the_wire(void **state) {
        TestDaemon d;
        test_daemon_start(&d, scratch, "paging", NULL, NULL);
        g_autofree char *dir = test_make_dir(scratch, "pages");
        g_auto(GStrv) f = test_make_files(dir, "f", 11);
        BwLockdClient *c = test_client_new(&d, "pager");
        BwLockdHandle *h[11];
        BwLockdDaemonInfo info;
        LockdHeader hdr;
        bool more;
        uint64_t next, stale;

        for (size_t i = 0; i < 10; i++)
                assert_int_equal(bw_lockd_acquire(c, (const char *const *) f + i, 1, BW_LOCKD_EXCLUSIVE, 0, &h[i], NULL), 0);
        int fd = test_raw_connect(d.socket_path);
        assert_true(raw_hello(fd) & LOCKD_FEATURE_LIST_PAGES);

        g_auto(GStrv) p1 = raw_list_page(fd, 2, 0, 3, &more, &next);
        expect_paths(p1, (const char *const[]) { f[0], f[1], f[2] }, 3);
        assert_true(more);
        assert_true(next != 0);
        /* Between pages a listed hold and a hold not listed yet go, and a
         * new one comes. */
        assert_int_equal(bw_lockd_release_sync(h[2]), 0);
        assert_int_equal(bw_lockd_release_sync(h[4]), 0);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) f + 10, 1, BW_LOCKD_EXCLUSIVE, 0, &h[10], NULL), 0);
        g_auto(GStrv) p2 = raw_list_page(fd, 3, next, 3, &more, &next);
        expect_paths(p2, (const char *const[]) { f[3], f[5], f[6] }, 3);
        assert_true(more);
        g_auto(GStrv) p3 = raw_list_page(fd, 4, next, 0, &more, &next);
        expect_paths(p3, (const char *const[]) { f[7], f[8], f[9], f[10] }, 4);
        assert_false(more);
        assert_true(next == 0);
        /* A page ending on the last row has no more after it. */
        const char *const all[] = { f[0], f[1], f[3], f[5], f[6], f[7], f[8], f[9], f[10] };
        g_auto(GStrv) p4 = raw_list_page(fd, 5, 0, 9, &more, &next);
        expect_paths(p4, all, 9);
        assert_false(more);

        /* The page flag takes "(tu)" only; without it, the unpaged reply. */
        g_autoptr(GByteArray) unit = test_raw_frame(LOCKD_MSG_LIST, 6, g_variant_new("()"));
        unit->data[6] = LOCKD_FRAME_LIST_PAGE;
        test_raw_send(fd, unit->data, unit->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_INVALID);
                assert_string_equal(r.message, "LIST: payload has type '()', expected '(tu)'");
        }
        unit->data[6] = 0;
        test_raw_send(fd, unit->data, unit->len);
        {
                g_auto(LockdReply) r = {};
                g_autoptr(GVariant) rows = NULL;
                gboolean truncated;
                assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_OK);
                assert_true(g_variant_is_of_type(r.body, G_VARIANT_TYPE(LOCKD_BODY_LIST)));
                g_variant_get(r.body, "(b@a" LOCKD_LIST_ROW ")", &truncated, &rows);
                assert_false(truncated);
                assert_int_equal(g_variant_n_children(rows), 9);
        }

        /* A re-exec numbers the holds afresh: a cursor from before it is
         * refused as stale (the library then starts over), 0 starts over. */
        g_auto(GStrv) p5 = raw_list_page(fd, 7, 0, 2, &more, &stale);
        assert_true(more);
        assert_int_equal(kill(d.pid, SIGUSR1), 0);
        int64_t end = test_now_usec() + 10 * 1000 * 1000;
        while (bw_lockd_ping(c, &info, NULL) < 0 || info.generation != 1) {
                assert_true(test_now_usec() < end);
                g_usleep(1000);
        }
        g_autoptr(GByteArray) old = test_raw_frame(LOCKD_MSG_LIST, 8, g_variant_new("(tu)", (guint64) stale, 0u));
        old->data[6] = LOCKD_FRAME_LIST_PAGE;
        test_raw_send(fd, old->data, old->len);
        {
                g_auto(LockdReply) r = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &r), 1);
                assert_int_equal(r.status, LOCKD_STATUS_INVALID);
                assert_int_equal(r.error, ESTALE);
                assert_non_null(strstr(r.message, "re-executed"));
        }
        g_auto(GStrv) p6 = raw_list_page(fd, 9, 0, 0, &more, &next);
        assert_int_equal(g_strv_length(p6), 9);
        assert_false(more);
        BwLockdLock *locks;
        size_t n;
        bool truncated = true;
        assert_int_equal(bw_lockd_list(c, &locks, &n, &truncated, NULL), 0);
        assert_int_equal(n, 9);
        assert_false(truncated);
        bw_lockd_lock_list_free(locks, n);
        close(fd);

        for (size_t i = 0; i < 11; i++)
                if (i != 2 && i != 4)
                        assert_int_equal(bw_lockd_release_sync(h[i]), 0);
        bw_lockd_client_free(c);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

/* A daemon whose pages the library reads: page one, then "stale" for
 * its cursor `stale_answers` times (a re-exec), then page two.  Or, with
 * no_way_on, a first page saying more follow with no cursor. */
typedef struct PagingDaemon {
        unsigned stale_answers;
        bool no_way_on;
        unsigned lists;
} PagingDaemon;

static void paging_daemon_handler(const LockdHeader *h, const uint8_t *payload, GByteArray *out, void *userdata) {
        static const char *const first[] = { "/paged/a", "/paged/b" }, *const second[] = { "/paged/c" };
        PagingDaemon *pd = userdata;
        g_autofree char *message = NULL;

        if (h->type == LOCKD_MSG_HELLO) {
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_OK, 0, "",
                                                         g_variant_new_uint32(_LOCKD_FEATURES));
                return;
        }
        g_autoptr(GVariant) v = protocol_payload_parse(payload, h->length, G_VARIANT_TYPE("(tu)"), &message);
        if (h->type != LOCKD_MSG_LIST || h->flags != LOCKD_FRAME_LIST_PAGE || !v) {
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_INVALID, EINVAL, "unexpected", NULL);
                return;
        }
        guint64 cursor;
        guint32 limit;
        g_variant_get(v, "(tu)", &cursor, &limit);
        pd->lists++;
        if (cursor == 0)
                (void) protocol_reply_frame_append_value(
                        out, h->serial, LOCKD_STATUS_OK, 0, "",
                        g_variant_new("(bt@a" LOCKD_LIST_ROW ")", TRUE, (guint64) (pd->no_way_on ? 0 : 7),
                                      test_list_rows(first, 2, "paged")));
        else if (pd->stale_answers > 0) {
                pd->stale_answers--;
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_INVALID, ESTALE,
                                                         "LIST: the cursor is from before the daemon re-executed; start over from 0",
                                                         NULL);
        } else
                (void) protocol_reply_frame_append_value(
                        out, h->serial, LOCKD_STATUS_OK, 0, "",
                        g_variant_new("(bt@a" LOCKD_LIST_ROW ")", FALSE, (guint64) 0, test_list_rows(second, 1, "paged")));
}

/* The library starts a listing over when the daemon re-executed between
 * pages (never mixing the two numberings), gives up after a few, and
 * refuses a page that says more follow without a cursor to go on from. */
static void test_list_pages_start_over(void **state) {
        g_autofree char *sock = g_build_filename(scratch, "paging-fake.sock", NULL);
        PagingDaemon pd = { .stale_answers = 2 };
        TestFakeDaemon *fake = test_fake_daemon_start(sock, paging_daemon_handler, &pd);
        BwLockdClient *c;
        BwLockdLock *locks;
        BwError err = {};
        size_t n;
        bool truncated = true;

        assert_int_equal(bw_lockd_client_new(sock, "pages", &c), 0);
        assert_int_equal(bw_lockd_list(c, &locks, &n, &truncated, NULL), 0);
        assert_int_equal(n, 3);
        assert_false(truncated);
        assert_string_equal(locks[0].path, "/paged/a");
        assert_string_equal(locks[1].path, "/paged/b");
        assert_string_equal(locks[2].path, "/paged/c");
        bw_lockd_lock_list_free(locks, n);
        /* Page one, stale, page one, stale, page one, page two. */
        assert_int_equal(pd.lists, 6);

        pd = (PagingDaemon) { .stale_answers = 100 };
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, &err), -ESTALE);
        assert_non_null(strstr(err.message, "re-executed or restarted 4 times"));
        err = (BwError) {};

        pd = (PagingDaemon) { .no_way_on = true };
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, &err), -EPROTO);
        assert_non_null(strstr(err.message, "no way on"));
        err = (BwError) {};
        bw_lockd_client_free(c);
        test_fake_daemon_stop(fake);
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
                cmocka_unit_test(test_list_pages_on_the_wire),
                cmocka_unit_test(test_list_pages_start_over),
                cmocka_unit_test(test_byte_paths_and_duplicates),
                cmocka_unit_test(test_daemon_gone),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
