/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The local lock backend: OFD locks on byte 1, between processes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "path-lock.h"
#include "test-util.h"

static char *scratch;

static void stop_child(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void test_local_lock_busy_times_out_naming_holder(void **state) {
        g_autofree char *a = test_write_file(scratch, "a", "x", -1);
        g_autofree char *b = test_write_file(scratch, "b", "x", -1);
        PathLocker *l = NULL;
        PathLockHandle *h = NULL;
        BwError err = {};
        assert_int_equal(path_locker_new_local(&l), 0);
        pid_t holder = test_hold_byte1_lock(b, F_WRLCK);

        const char *paths[] = { a, b };
        gint64 t0 = g_get_monotonic_time();
        assert_int_equal(path_locker_acquire(l, paths, 2, PATH_LOCK_EXCLUSIVE, 150, NULL, &h, &err), -ETIMEDOUT);
        gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
        assert_true(waited_ms >= 150);
        g_autofree char *expect = g_strdup_printf("path '%s': still locked by process %d after 150 ms", b, holder);
        assert_string_equal(err.message, expect);

        /* All or nothing: 'a' was not left locked. */
        pid_t other = test_hold_byte1_lock(a, F_WRLCK);
        stop_child(other);

        stop_child(holder);
        assert_int_equal(path_locker_acquire(l, paths, 2, PATH_LOCK_EXCLUSIVE, 1000, NULL, &h, &err), 0);
        path_locker_release(l, h);
        path_locker_free(l);
}

/* Our lock makes another process's F_SETLK on byte 1 fail; a hard link
 * and the original are one lock; missing paths and duplicates are fine. */
static void test_local_lock_excludes_other_processes(void **state) {
        g_autofree char *a = test_write_file(scratch, "c", "x", -1);
        g_autofree char *hard = g_build_filename(scratch, "c-hard", NULL);
        g_autofree char *missing = g_build_filename(scratch, "not-yet", NULL);
        PathLocker *l = NULL;
        PathLockHandle *h = NULL;
        BwError err = {};
        assert_int_equal(link(a, hard), 0);
        assert_int_equal(path_locker_new_local(&l), 0);
        const char *paths[] = { a, hard, missing, a };
        assert_int_equal(path_locker_acquire(l, paths, 4, PATH_LOCK_EXCLUSIVE, 100, NULL, &h, &err), 0);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(hard, O_RDWR | O_CLOEXEC);
                struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
                _exit(fcntl(fd, F_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES) ? 0 : 1);
        }
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* A second exclusive acquire in this process conflicts too (OFD locks
         * belong to the open file description, not the process). */
        PathLockHandle *h2 = NULL;
        const char *one[] = { hard };
        assert_int_equal(path_locker_acquire(l, one, 1, PATH_LOCK_EXCLUSIVE, 20, NULL, &h2, &err), -ETIMEDOUT);
        path_locker_release(l, h);
        assert_int_equal(path_locker_acquire(l, one, 1, PATH_LOCK_EXCLUSIVE, 20, NULL, &h2, &err), 0);
        path_locker_release(l, h2);
        path_locker_free(l);
}

static void test_local_lock_shared(void **state) {
        g_autofree char *a = test_write_file(scratch, "d", "x", -1);
        PathLocker *l = NULL;
        PathLockHandle *h1 = NULL, *h2 = NULL, *h3 = NULL;
        BwError err = {};
        const char *paths[] = { a };
        assert_int_equal(path_locker_new_local(&l), 0);
        assert_int_equal(path_locker_acquire(l, paths, 1, PATH_LOCK_SHARED, 20, NULL, &h1, &err), 0);
        assert_int_equal(path_locker_acquire(l, paths, 1, PATH_LOCK_SHARED, 20, NULL, &h2, &err), 0);
        assert_int_equal(path_locker_acquire(l, paths, 1, PATH_LOCK_EXCLUSIVE, 20, NULL, &h3, &err), -ETIMEDOUT);
        path_locker_release(l, h1);
        path_locker_release(l, h2);
        assert_int_equal(path_locker_acquire(l, paths, 1, PATH_LOCK_EXCLUSIVE, 20, NULL, &h3, &err), 0);
        path_locker_release(l, h3);
        path_locker_free(l);
}

/* A file that cannot be opened for writing (a running program: ETXTBSY
 * even for root) is still locked, with a read lock on byte 1. */
static void test_local_lock_unwritable_file(void **state) {
        g_autofree char *prog = g_build_filename(scratch, "busy-program", NULL);
        g_autofree char *contents = NULL;
        gsize len = 0;
        assert_true(g_file_get_contents("/bin/sleep", &contents, &len, NULL));
        assert_true(g_file_set_contents(prog, contents, (gssize) len, NULL));
        assert_int_equal(chmod(prog, 0755), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl(prog, prog, "30", (char *) NULL);
                _exit(127);
        }
        /* Wait until the kernel maps the file (it then refuses writers). */
        for (int i = 0; i < 2000; i++) {
                int fd = open(prog, O_RDWR | O_CLOEXEC);
                if (fd < 0 && errno == ETXTBSY)
                        break;
                if (fd >= 0)
                        close(fd);
                g_usleep(1000);
        }
        PathLocker *l = NULL;
        PathLockHandle *h = NULL;
        BwError err = {};
        const char *paths[] = { prog };
        assert_int_equal(path_locker_new_local(&l), 0);
        if (path_locker_acquire(l, paths, 1, PATH_LOCK_EXCLUSIVE, 100, NULL, &h, &err) < 0)
                fail_msg("lock of a running program: %s", err.message);

        /* It is a real lock: another process's write lock attempt on a
         * read-only description fails, its read-lock probe sees ours. */
        int fd = open(prog, O_RDONLY | O_CLOEXEC);
        struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        assert_int_equal(fcntl(fd, F_OFD_GETLK, &probe), 0);
        assert_int_equal(probe.l_type, F_RDLCK);
        close(fd);
        path_locker_release(l, h);
        path_locker_free(l);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

/* Each path's (dev, ino) as locked, in request order; a missing path says so. */
static void test_local_lock_reports_what_it_locked(void **state) {
        g_autofree char *a = test_write_file(scratch, "e", "x", -1);
        g_autofree char *missing = g_build_filename(scratch, "e-missing", NULL);
        PathLocker *l = NULL;
        PathLockHandle *h = NULL;
        BwError err = {};
        PathLockInfo infos[3];
        struct stat sa, sd;
        const char *paths[] = { a, missing, scratch };
        assert_int_equal(stat(a, &sa), 0);
        assert_int_equal(stat(scratch, &sd), 0);
        assert_int_equal(path_locker_new_local(&l), 0);
        assert_int_equal(path_locker_acquire(l, paths, 3, PATH_LOCK_EXCLUSIVE, 100, infos, &h, &err), 0);
        assert_true(infos[0].existed && infos[0].dev == sa.st_dev && infos[0].ino == sa.st_ino);
        assert_false(infos[1].existed);
        assert_true(infos[2].existed && infos[2].dev == sd.st_dev && infos[2].ino == sd.st_ino);
        path_locker_release(l, h);
        path_locker_free(l);
}

typedef struct Holder {
        PathLocker *locker;
        const char *path;
        PathLockMode mode;
        GMutex lock;
        GCond cond;
        bool held, release;
} Holder;

/* Takes the lock in another thread, holds it until told to release. */
static gpointer holder_thread(gpointer data) {
        Holder *t = data;
        PathLockHandle *h = NULL;
        BwError err = {};
        const char *paths[] = { t->path };
        int r = path_locker_acquire(t->locker, paths, 1, t->mode, 1000, NULL, &h, &err);
        g_mutex_lock(&t->lock);
        t->held = r == 0;
        g_cond_broadcast(&t->cond);
        while (!t->release)
                g_cond_wait(&t->cond, &t->lock);
        g_mutex_unlock(&t->lock);
        path_locker_release(t->locker, h);
        return NULL;
}

static GThread *holder_start(Holder *t, PathLocker *locker, const char *path, PathLockMode mode) {
        *t = (Holder) { .locker = locker, .path = path, .mode = mode };
        g_mutex_init(&t->lock);
        g_cond_init(&t->cond);
        GThread *thread = g_thread_new("holder", holder_thread, t);
        g_mutex_lock(&t->lock);
        while (!t->held)
                g_cond_wait(&t->cond, &t->lock);
        g_mutex_unlock(&t->lock);
        return thread;
}

static void holder_stop(Holder *t, GThread *thread) {
        g_mutex_lock(&t->lock);
        t->release = true;
        g_cond_broadcast(&t->cond);
        g_mutex_unlock(&t->lock);
        g_thread_join(thread);
        g_mutex_clear(&t->lock);
        g_cond_clear(&t->cond);
}

/* Tries `path` in `mode` once (20 ms) and releases it again. */
static int try_lock(PathLocker *l, const char *path, PathLockMode mode, BwError *err) {
        PathLockHandle *h = NULL;
        const char *paths[] = { path };
        int r = path_locker_acquire(l, paths, 1, mode, 20, NULL, &h, err);
        path_locker_release(l, h);
        return r;
}

/* Directories and device nodes are locked in the process's table: by
 * another thread of the same locker and by a second locker (a second
 * manager) alike. */
static void test_local_lock_table_for_directories_and_devices(void **state) {
        g_autofree char *dir = g_build_filename(scratch, "state-dir", NULL);
        const char *targets[] = { dir, "/dev/null" };
        PathLocker *l1 = NULL, *l2 = NULL;
        BwError err = {};
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(path_locker_new_local(&l1), 0);
        assert_int_equal(path_locker_new_local(&l2), 0);

        for (size_t i = 0; i < G_N_ELEMENTS(targets); i++) {
                Holder t;
                GThread *thread = holder_start(&t, l1, targets[i], PATH_LOCK_EXCLUSIVE);
                assert_int_equal(try_lock(l1, targets[i], PATH_LOCK_EXCLUSIVE, &err), -ETIMEDOUT);
                g_autofree char *expect = g_strdup_printf(
                        "path '%s': still locked by another transaction of this process after 20 ms", targets[i]);
                assert_string_equal(err.message, expect);
                assert_int_equal(try_lock(l2, targets[i], PATH_LOCK_SHARED, &err), -ETIMEDOUT);
                holder_stop(&t, thread);
                assert_int_equal(try_lock(l2, targets[i], PATH_LOCK_EXCLUSIVE, &err), 0);

                /* Shared holders share; an exclusive one waits for all of them. */
                thread = holder_start(&t, l1, targets[i], PATH_LOCK_SHARED);
                assert_int_equal(try_lock(l2, targets[i], PATH_LOCK_SHARED, &err), 0);
                assert_int_equal(try_lock(l2, targets[i], PATH_LOCK_EXCLUSIVE, &err), -ETIMEDOUT);
                holder_stop(&t, thread);
                assert_int_equal(try_lock(l2, targets[i], PATH_LOCK_EXCLUSIVE, &err), 0);
        }
        path_locker_free(l1);
        path_locker_free(l2);
}

int main(void) {
        scratch = test_scratch_new("pathlock");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_local_lock_busy_times_out_naming_holder),
                cmocka_unit_test(test_local_lock_excludes_other_processes),
                cmocka_unit_test(test_local_lock_shared),
                cmocka_unit_test(test_local_lock_unwritable_file),
                cmocka_unit_test(test_local_lock_reports_what_it_locked),
                cmocka_unit_test(test_local_lock_table_for_directories_and_devices),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_scratch_remove(scratch);
        return r;
}
