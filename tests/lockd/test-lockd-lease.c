/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leases: locks bulwark-lockd holds for an owner key (a guest's uuid),
 * not for a connection.  They outlive the client that took them, refuse
 * every other client and the kernel's byte-1 lockers, are granted to
 * requests acting for their key, go with RELEASE_LEASE, are listed, and
 * survive a re-exec. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd-test.h"
#include "protocol-writer.h"
#include "test-util.h"

#define KEY "6f1c1d2e-0000-4000-8000-00000000lease"
#define OTHER_KEY "6f1c1d2e-0000-4000-8000-0000000other"

static char *scratch;
static TestDaemon daemon_;

static int setup(void **state) {
        scratch = test_scratch_daemon_start(&daemon_, "lockd-lease");
        return 0;
}

static int teardown(void **state) {
        test_scratch_daemon_stop(&daemon_, scratch);
        return 0;
}

/* How many rows of path are leases of key with every one of flags. */
static size_t count_leases_flagged(BwLockdClient *c, const char *path, const char *key, uint32_t flags) {
        BwLockdLock *locks;
        size_t n, found = 0;
        flags |= LOCKD_PATH_LEASE;
        assert_int_equal(bw_lockd_list(c, &locks, &n, NULL, NULL), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(locks[i].path, path) == 0 && (locks[i].flags & flags) == flags &&
                    strcmp(locks[i].owner, key) == 0)
                        found++;
        bw_lockd_lock_list_free(locks, n);
        return found;
}

static size_t count_leases(BwLockdClient *c, const char *path, const char *key) {
        return count_leases_flagged(c, path, key, 0);
}

/* Takes the lease in a child process that exits at once: the lease is
 * not the connection's. */
static void lease_from_child(const char *key, char **files, size_t n, unsigned mode) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwLockdClient *c;
                if (bw_lockd_client_new(daemon_.socket_path, "leaser", &c) < 0)
                        _exit(2);
                int r = bw_lockd_lease(c, key, (const char *const *) files, n, mode, 0, NULL);
                _exit(r == 0 ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_lease_outlives_client(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "outlives");
        g_auto(GStrv) files = test_make_files(dir, "disk", 2);
        BwLockdClient *b = test_client_new(&daemon_, "other");
        BwLockdHandle *h = NULL;
        BwError err = {};

        lease_from_child(KEY, files, 1, BW_LOCKD_EXCLUSIVE);
        assert_int_equal(count_leases(b, files[0], KEY), 1);
        /* Another client, another key, the kernel: all refused. */
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) files, 1, BW_LOCKD_SHARED, 0, &h, &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, files[0]));
        assert_non_null(strstr(err.message, KEY));
        assert_int_equal(bw_lockd_lease(b, OTHER_KEY, (const char *const *) files, 1, BW_LOCKD_SHARED, 0, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire_for(b, OTHER_KEY, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0,
                                              &h, NULL), -ETIMEDOUT);
        assert_int_equal(test_posix_probe(files[0]), -EAGAIN);
        /* The key's own transaction is granted, exclusive, with another file. */
        assert_int_equal(bw_lockd_acquire_for(b, KEY, (const char *const *) files, 2, BW_LOCKD_EXCLUSIVE, 0, &h, NULL),
                         0);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        /* Taking it again is a no-op: one lease, released at once. */
        lease_from_child(KEY, files, 1, BW_LOCKD_EXCLUSIVE);
        assert_int_equal(count_leases(b, files[0], KEY), 1);
        assert_int_equal(bw_lockd_release_lease(b, KEY, (const char *const *) files, 1, NULL), 1);
        assert_int_equal(count_leases(b, files[0], KEY), 0);
        assert_int_equal(test_posix_probe(files[0]), 0);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        bw_lockd_client_free(b);
}

static void test_lease_shared(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "shared");
        g_auto(GStrv) files = test_make_files(dir, "base", 1);
        BwLockdClient *b = test_client_new(&daemon_, "other");
        BwLockdHandle *h = NULL, *h2 = NULL;

        /* Two guests share a read-only base image. */
        lease_from_child(KEY, files, 1, BW_LOCKD_SHARED);
        lease_from_child(OTHER_KEY, files, 1, BW_LOCKD_SHARED);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) files, 1, BW_LOCKD_SHARED, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        /* Neither key may lease it exclusively, nor may a client acting
         * for no key lock it so. */
        assert_int_equal(bw_lockd_lease(b, KEY, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire(b, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL),
                         -ETIMEDOUT);
        /* A transaction acting for either key is granted exclusive over
         * the shared leases (each guest relabels the image it shares),
         * and excludes everyone else, shared too, meanwhile. */
        assert_int_equal(bw_lockd_acquire_for(b, KEY, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL),
                         0);
        BwLockdClient *c = test_client_new(&daemon_, "third");
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) files, 1, BW_LOCKD_SHARED, 0, &h2, NULL), -ETIMEDOUT);
        assert_int_equal(bw_lockd_acquire_for(c, OTHER_KEY, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0,
                                              &h2, NULL), -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        assert_int_equal(bw_lockd_release_lease(b, OTHER_KEY, NULL, 0, NULL), 1);
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) files, 1, BW_LOCKD_SHARED, 0, &h2, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(h2), 0);
        /* No paths: every lease of the key. */
        assert_int_equal(bw_lockd_release_lease(b, KEY, NULL, 0, NULL), 1);
        assert_int_equal(bw_lockd_release_lease(b, KEY, NULL, 0, NULL), 0);
        bw_lockd_client_free(c);
        bw_lockd_client_free(b);
}

/* Speaking the protocol by hand: a lease needs the key's header flag. */
static void test_lease_wire(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "wire");
        g_auto(GStrv) files = test_make_files(dir, "f", 1);
        int fd = test_raw_connect(daemon_.socket_path);
        LockdHeader hdr;
        LockdReply reply = {};

        GByteArray *f = test_raw_frame(LOCKD_MSG_HELLO, 1, g_variant_new("(su)", "raw", 0u));
        test_raw_send(fd, f->data, f->len);
        g_byte_array_unref(f);
        assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &reply), 1);
        assert_true(g_variant_get_uint32(reply.body) & LOCKD_FEATURE_LEASES);
        protocol_reply_clear(&reply);

        const char *paths[] = { files[0] };
        f = test_raw_frame(LOCKD_MSG_ACQUIRE, 2,
                           g_variant_new("(uu@aay)", 0u, (guint32) LOCKD_ACQUIRE_LEASE, protocol_paths_encode(paths, 1)));
        test_raw_send(fd, f->data, f->len);
        g_byte_array_unref(f);
        assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &reply), 1);
        assert_int_equal(reply.status, LOCKD_STATUS_INVALID);
        protocol_reply_clear(&reply);

        /* An empty key is refused too. */
        f = test_raw_frame(LOCKD_MSG_RELEASE_LEASE, 3, g_variant_new("(s@aay)", "", protocol_paths_encode(NULL, 0)));
        test_raw_send(fd, f->data, f->len);
        g_byte_array_unref(f);
        assert_int_equal(test_raw_read_reply(fd, 5000, &hdr, &reply), 1);
        assert_int_equal(reply.status, LOCKD_STATUS_INVALID);
        protocol_reply_clear(&reply);
        close(fd);
}

static uint32_t generation(BwLockdClient *c) {
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_ping(c, &info, NULL), 0);
        return info.generation;
}

static void test_lease_reexec(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "reexec");
        g_auto(GStrv) files = test_make_files(dir, "disk", 2);
        BwLockdClient *b = test_client_new(&daemon_, "other");
        BwLockdHandle *h = NULL;

        lease_from_child(KEY, files, 1, BW_LOCKD_EXCLUSIVE);
        lease_from_child(KEY, files + 1, 1, BW_LOCKD_SHARED);
        /* The key's transaction holds the shared one exclusively across
         * the re-exec, too. */
        assert_int_equal(bw_lockd_acquire_for(b, KEY, (const char *const *) files + 1, 1, BW_LOCKD_EXCLUSIVE, 0, &h,
                                              NULL), 0);
        uint32_t gen = generation(b);
        assert_int_equal(kill(daemon_.pid, SIGUSR1), 0);
        int64_t end = test_now_usec() + 10 * 1000 * 1000;
        while (generation(b) != gen + 1)
                assert_true(test_now_usec() < end);
        assert_int_equal(count_leases(b, files[0], KEY), 1);
        assert_int_equal(count_leases(b, files[1], KEY), 1);
        assert_int_equal(test_posix_probe(files[0]), -EAGAIN);
        BwLockdClient *c = test_client_new(&daemon_, "third");
        BwLockdHandle *h2 = NULL;
        assert_int_equal(bw_lockd_acquire(c, (const char *const *) files + 1, 1, BW_LOCKD_SHARED, 0, &h2, NULL),
                         -ETIMEDOUT);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        /* A new lease after the re-exec joins the same owner. */
        lease_from_child(KEY, files, 2, BW_LOCKD_EXCLUSIVE);
        assert_int_equal(bw_lockd_release_lease(b, KEY, NULL, 0, NULL), 2);
        assert_int_equal(test_posix_probe(files[0]), 0);
        bw_lockd_client_free(c);
        bw_lockd_client_free(b);
}

/* A lease the filesystem drops under the daemon (another host took byte
 * 1) is found when the key's transaction re-asserts it: refused, listed
 * lost, released as any lease. */
static void test_lease_lost(void **state) {
        g_autofree char *dir = test_make_dir(scratch, "lost");
        g_auto(GStrv) files = test_make_files(dir, "disk", 1);
        BwLockdClient *b = test_client_new(&daemon_, "other");
        BwLockdHandle *h = NULL;
        BwError err = {};

        lease_from_child(KEY, files, 1, BW_LOCKD_EXCLUSIVE);
        int other = test_daemon_lose_lock(&daemon_, files[0]);
        if (other < 0) {
                assert_int_equal(bw_lockd_release_lease(b, KEY, NULL, 0, NULL), 1);
                bw_lockd_client_free(b);
                skip(); /* pidfd_getfd needs ptrace rights over the daemon */
        }
        assert_int_equal(bw_lockd_acquire_for(b, KEY, (const char *const *) files, 1, BW_LOCKD_EXCLUSIVE, 0, &h, &err),
                         -ETIMEDOUT);
        assert_non_null(strstr(err.message, "was lost"));
        assert_int_equal(count_leases_flagged(b, files[0], KEY, LOCKD_PATH_LOST), 1);
        assert_int_equal(bw_lockd_release_lease(b, KEY, NULL, 0, NULL), 1);
        close(other);
        bw_lockd_client_free(b);
}

/* A daemon from before leases: its HELLO lists every feature but 32; it
 * answers each ACQUIRE with one OK path and counts the keyed ones. */
typedef struct OldDaemon {
        unsigned acquires, keyed, other;
} OldDaemon;

static void old_daemon_handler(const LockdHeader *h, const uint8_t *payload, GByteArray *out, void *userdata) {
        OldDaemon *od = userdata;
        static const LockdPathResult one = { .dev = 1, .ino = 2 };

        if (h->type == LOCKD_MSG_HELLO)
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_OK, 0, "",
                                                         g_variant_new_uint32(_LOCKD_FEATURES & ~LOCKD_FEATURE_LEASES));
        else if (h->type == LOCKD_MSG_ACQUIRE) {
                od->acquires++;
                od->keyed += !!(h->flags & LOCKD_FRAME_OWNER_KEY);
                (void) protocol_reply_frame_append(out, h->serial, LOCKD_STATUS_OK, 0, "", LOCKD_BODY_ACQUIRE, &one,
                                                   sizeof(one));
        } else if (h->type == LOCKD_MSG_RELEASE)
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_OK, 0, "",
                                                         g_variant_new_uint32(1));
        else {
                od->other++;
                (void) protocol_reply_frame_append_value(out, h->serial, LOCKD_STATUS_UNKNOWN_REQUEST, EOPNOTSUPP,
                                                         "unknown", NULL);
        }
}

/* Against an older daemon: no lease is taken (EOPNOTSUPP), an acquire
 * acting for a key goes without it, releasing leases asks nothing. */
static void test_lease_old_daemon(void **state) {
        g_autofree char *sock = g_build_filename(scratch, "old.sock", NULL);
        OldDaemon od = {};
        TestFakeDaemon *fake = test_fake_daemon_start(sock, old_daemon_handler, &od);
        const char *paths[] = { "/old/disk.img" };
        BwLockdClient *c;
        BwLockdHandle *h = NULL;
        BwError err = {};

        assert_int_equal(bw_lockd_client_new(sock, "new-client", &c), 0);
        assert_int_equal(bw_lockd_lease(c, KEY, paths, 1, BW_LOCKD_EXCLUSIVE, 0, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "does not keep leases"));
        assert_int_equal(bw_lockd_acquire_for(c, KEY, paths, 1, BW_LOCKD_EXCLUSIVE, 0, &h, NULL), 0);
        assert_int_equal(bw_lockd_release_sync(h), 0);
        assert_int_equal(bw_lockd_release_lease(c, KEY, NULL, 0, NULL), 0);
        assert_int_equal(od.acquires, 1);
        assert_int_equal(od.keyed, 0);
        assert_int_equal(od.other, 0);
        bw_lockd_client_free(c);
        test_fake_daemon_stop(fake);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lease_outlives_client),
                cmocka_unit_test(test_lease_shared),
                cmocka_unit_test(test_lease_wire),
                cmocka_unit_test(test_lease_reexec),
                cmocka_unit_test(test_lease_old_daemon),
                cmocka_unit_test(test_lease_lost),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
