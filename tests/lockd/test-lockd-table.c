/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock table in-process: what it keys, sorts, refuses and rolls back,
 * checked against the kernel's OFD and POSIX locks on real files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock-table.h"
#include "lockd-test.h"
#include "test-util.h"

static char *scratch;
static unsigned dir_counter;

static int setup_all(void **state) {
        scratch = test_scratch_new("lockd-table");
        return 0;
}

static int teardown_all(void **state) {
        test_scratch_remove(scratch);
        g_free(scratch);
        return 0;
}

typedef struct Fixture {
        LockTable *table;
        LockOwner *a;
        LockOwner *b;
        char *dir;
        char **f;
} Fixture;

static int setup(void **state) {
        Fixture *x = g_new0(Fixture, 1);
        lock_table_new(&x->table);
        lock_owner_new(1, "alice", 101, 0, &x->a);
        lock_owner_new(2, "bob", 202, 0, &x->b);
        x->dir = g_strdup_printf("%s/t%u", scratch, dir_counter++);
        assert_int_equal(mkdir(x->dir, 0700), 0);
        x->f = test_make_files(x->dir, "f", 5);
        *state = x;
        return 0;
}

static int teardown(void **state) {
        Fixture *x = *state;
        lock_table_release_all(x->table, x->a);
        lock_table_release_all(x->table, x->b);
        assert_int_equal(lock_table_n_entries(x->table), 0);
        lock_owner_free(x->a);
        lock_owner_free(x->b);
        lock_table_free(x->table);
        g_strfreev(x->f);
        g_free(x->dir);
        g_free(x);
        return 0;
}

static int acquire(Fixture *x, LockOwner *o, char **paths, size_t n, LockdMode mode, bool allow_missing,
                   LockFailure *failure) {
        g_autofree LockdPathResult *results = g_new0(LockdPathResult, n ? n : 1);
        LockFailure local = {};
        int r = lock_table_acquire(x->table, o, paths, n, mode, allow_missing, NULL, results,
                                   failure ? failure : &local);
        lock_failure_clear(&local);
        return r;
}

/* An OFD lock from a separate open file description of this process:
 * 0 when byte 1 can be taken with `type` (and is released again). */
static int ofd_probe(const char *path, short type) {
        int fd = open(path, (type == F_WRLCK ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        assert_true(fd >= 0);
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        int r = fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
        close(fd);
        return r;
}

static void test_exclusive_conflict(void **state) {
        Fixture *x = *state;
        g_auto(LockFailure) f = {};

        assert_int_equal(acquire(x, x->a, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL), 0);
        assert_int_equal(ofd_probe(x->f[0], F_RDLCK), -EAGAIN);
        char *two[] = { x->f[1], x->f[0] };
        assert_int_equal(acquire(x, x->b, two, 2, LOCKD_MODE_SHARED, false, &f), -EBUSY);
        assert_int_equal(f.index, 1);
        assert_string_equal(f.owner, "alice");
        assert_int_equal(f.pid, 101);
        assert_false(f.foreign);
        assert_true(f.since > 0);
        /* Nothing of bob's request stayed, in the table or the kernel. */
        assert_int_equal(lock_table_n_entries(x->table), 1);
        assert_int_equal(ofd_probe(x->f[1], F_WRLCK), 0);
        /* Not re-entrant for the same owner either. */
        assert_int_equal(acquire(x, x->a, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL), -EBUSY);
        assert_int_equal(lock_table_release(x->table, x->a, x->f, 1), 1);
        assert_int_equal(ofd_probe(x->f[0], F_WRLCK), 0);
        assert_int_equal(acquire(x, x->b, two, 2, LOCKD_MODE_SHARED, false, NULL), 0);
}

static void test_shared_counts(void **state) {
        Fixture *x = *state;

        assert_int_equal(acquire(x, x->a, x->f, 1, LOCKD_MODE_SHARED, false, NULL), 0);
        assert_int_equal(acquire(x, x->b, x->f, 1, LOCKD_MODE_SHARED, false, NULL), 0);
        assert_int_equal(acquire(x, x->a, x->f, 1, LOCKD_MODE_SHARED, false, NULL), 0);
        /* A shared hold is a kernel read lock. */
        assert_int_equal(ofd_probe(x->f[0], F_RDLCK), 0);
        assert_int_equal(ofd_probe(x->f[0], F_WRLCK), -EAGAIN);
        assert_int_equal(lock_table_n_entries(x->table), 1);
        assert_int_equal(acquire(x, x->b, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL), -EBUSY);
        /* alice holds two counts, bob one: three releases free the file. */
        assert_int_equal(lock_table_release(x->table, x->a, x->f, 1), 1);
        assert_int_equal(lock_table_release(x->table, x->b, x->f, 1), 1);
        assert_int_equal(ofd_probe(x->f[0], F_WRLCK), -EAGAIN);
        assert_int_equal(lock_table_release(x->table, x->a, x->f, 1), 1);
        assert_int_equal(lock_table_release(x->table, x->a, x->f, 1), 0);
        assert_int_equal(lock_table_n_entries(x->table), 0);
        assert_int_equal(ofd_probe(x->f[0], F_WRLCK), 0);
}

static void test_sorted_and_deduplicated(void **state) {
        Fixture *x = *state;
        g_autofree char *hard = g_strdup_printf("%s/hard", x->dir), *sym = g_strdup_printf("%s/sym", x->dir);
        assert_int_equal(link(x->f[3], hard), 0);
        assert_int_equal(symlink(x->f[3], sym), 0);
        char *paths[] = { x->f[4], sym, x->f[0], hard, x->f[4], x->f[3] };
        LockdPathResult r[G_N_ELEMENTS(paths)];
        g_auto(LockFailure) f = {};

        assert_int_equal(lock_table_acquire(x->table, x->a, paths, G_N_ELEMENTS(paths), LOCKD_MODE_EXCLUSIVE,
                                            false, NULL, r, &f), 0);
        assert_int_equal(lock_table_n_entries(x->table), 3);
        /* The first naming of each file (in key order) is the lock. */
        assert_int_equal(r[1].flags, 0);
        assert_int_equal(r[3].flags, LOCKD_PATH_DUPLICATE);
        assert_int_equal(r[5].flags, LOCKD_PATH_DUPLICATE);
        assert_int_equal(r[0].flags, 0);
        assert_int_equal(r[4].flags, LOCKD_PATH_DUPLICATE);
        assert_true(r[1].ino == r[3].ino && r[3].ino == r[5].ino);
        /* Released by any of the names it was acquired by, or by the file. */
        char *by_hard[] = { hard };
        assert_int_equal(lock_table_release(x->table, x->a, by_hard, 1), 1);
        assert_int_equal(ofd_probe(x->f[3], F_WRLCK), 0);
        char *by_other_alias[] = { x->dir };
        assert_int_equal(lock_table_release(x->table, x->a, by_other_alias, 1), 0);
        assert_int_equal(lock_table_release_all(x->table, x->a), 2);
}

static void test_all_or_nothing_kernel_rollback(void **state) {
        Fixture *x = *state;
        /* Someone else's OFD lock on the file that sorts last. */
        struct stat st;
        size_t last = 0;
        ino_t max = 0;
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(stat(x->f[i], &st), 0);
                if (st.st_ino > max)
                        max = st.st_ino, last = i;
        }
        int fd = open(x->f[last], O_RDWR | O_CLOEXEC);
        struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
        g_auto(LockFailure) f = {};

        assert_int_equal(acquire(x, x->a, x->f, 5, LOCKD_MODE_EXCLUSIVE, false, &f), -EBUSY);
        assert_int_equal(f.index, last);
        assert_true(f.foreign);
        assert_null(f.owner);
        assert_non_null(strstr(f.detail, "outside lockd"));
        assert_int_equal(lock_table_n_entries(x->table), 0);
        for (size_t i = 0; i < 5; i++)
                if (i != last)
                        assert_int_equal(ofd_probe(x->f[i], F_WRLCK), 0);
        /* Shared fits next to someone else's read lock. */
        assert_int_equal(acquire(x, x->a, x->f, 5, LOCKD_MODE_SHARED, false, NULL), 0);
        close(fd);
}

static void test_foreign_posix_holder_named(void **state) {
        Fixture *x = *state;
        int ready[2], go[2];
        char byte;
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                int fd = open(x->f[2], O_RDWR | O_CLOEXEC);
                struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
                if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                (void) !write(ready[1], "r", 1);
                (void) !read(go[0], &byte, 1);
                _exit(0);
        }
        assert_int_equal(read(ready[0], &byte, 1), 1);
        g_auto(LockFailure) f = {};
        assert_int_equal(acquire(x, x->a, x->f + 2, 1, LOCKD_MODE_EXCLUSIVE, false, &f), -EBUSY);
        assert_true(f.foreign);
        assert_int_equal(f.pid, pid);
        g_autofree char *who = g_strdup_printf("process %d (", (int) pid);
        assert_non_null(strstr(f.detail, who));
        /* A read lock elsewhere does not stop a shared hold. */
        assert_int_equal(acquire(x, x->a, x->f + 2, 1, LOCKD_MODE_SHARED, false, NULL), 0);
        assert_int_equal(write(go[1], "g", 1), 1);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

static void test_table_only_and_missing(void **state) {
        Fixture *x = *state;
        g_autofree char *sub = g_strdup_printf("%s/sub", x->dir);
        g_autofree char *missing = g_strdup_printf("%s/new.img", x->dir);
        g_autofree char *missing_alias = g_strdup_printf("%s/sub/../new.img", x->dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        char *paths[] = { sub, (char *) "/dev/null", missing };
        LockdPathResult r[3];
        g_auto(LockFailure) f = {};

        assert_int_equal(lock_table_acquire(x->table, x->a, paths, 3, LOCKD_MODE_EXCLUSIVE, false, NULL, r, &f), -ENOENT);
        assert_int_equal(f.index, 2);
        assert_int_equal(lock_table_acquire(x->table, x->a, paths, 3, LOCKD_MODE_EXCLUSIVE, true, NULL, r, &f), 0);
        assert_int_equal(r[0].flags, LOCKD_PATH_TABLE_ONLY);
        assert_int_equal(r[1].flags, LOCKD_PATH_TABLE_ONLY);
        assert_int_equal(r[2].flags, LOCKD_PATH_MISSING);
        /* Directories take no kernel lock: a write lock needs a writable
         * descriptor, which a directory never has. */
        assert_int_equal(ofd_probe(sub, F_RDLCK), 0);
        assert_int_equal(acquire(x, x->b, paths, 1, LOCKD_MODE_SHARED, false, NULL), -EBUSY);
        /* Two spellings of the missing path are one name. */
        char *alias[] = { missing_alias };
        assert_int_equal(acquire(x, x->b, alias, 1, LOCKD_MODE_SHARED, true, NULL), -EBUSY);
        /* Once created, the file is covered by the name lock. */
        g_free(test_write_file(x->dir, "new.img", "", 0));
        assert_int_equal(acquire(x, x->b, alias, 1, LOCKD_MODE_SHARED, false, NULL), -EBUSY);
        /* A name that cannot be a file is refused. */
        g_autofree char *dots = g_strdup_printf("%s/nothere/..", x->dir);
        char *bad[] = { dots };
        assert_int_equal(acquire(x, x->b, bad, 1, LOCKD_MODE_SHARED, true, NULL), -EINVAL);
        g_autofree char *orphan = g_strdup_printf("%s/no-dir/file", x->dir);
        char *bad2[] = { orphan };
        assert_int_equal(acquire(x, x->b, bad2, 1, LOCKD_MODE_SHARED, true, NULL), -ENOENT);
}

static void test_read_only_file(void **state) {
        Fixture *x = *state;
        int fd = open(x->f[0], O_RDONLY | O_CLOEXEC);
        int flags = 0;
        assert_true(fd >= 0);
        /* Immutable stops even root from opening for writing. */
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
            (flags |= FS_IMMUTABLE_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)) {
                if (geteuid() == 0) {
                        printf("# immutable flag unsupported here (%s); read-only case not exercised\n",
                               strerror(errno));
                        close(fd);
                        return;
                }
                assert_int_equal(chmod(x->f[0], 0400), 0);
        }
        LockdPathResult r[1];
        g_auto(LockFailure) f = {};
        assert_int_equal(lock_table_acquire(x->table, x->a, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL, r, &f), 0);
        assert_int_equal(r[0].flags, LOCKD_PATH_READ_LOCK);
        /* The best the kernel allows: writers elsewhere are kept out. */
        assert_int_equal(ofd_probe(x->f[0], F_RDLCK), 0);
        assert_int_equal(acquire(x, x->b, x->f, 1, LOCKD_MODE_SHARED, false, NULL), -EBUSY);
        assert_int_equal(lock_table_release_all(x->table, x->a), 1);
        flags &= ~FS_IMMUTABLE_FL;
        (void) ioctl(fd, FS_IOC_SETFLAGS, &flags);
        close(fd);
}

static bool count_rows(const LockTableRow *row, void *userdata) {
        (*(unsigned *) userdata)++;
        return true;
}

static void test_list_and_save(void **state) {
        Fixture *x = *state;
        assert_int_equal(acquire(x, x->a, x->f, 3, LOCKD_MODE_SHARED, false, NULL), 0);
        assert_int_equal(acquire(x, x->b, x->f, 2, LOCKD_MODE_SHARED, false, NULL), 0);
        unsigned rows = 0;
        lock_table_foreach(x->table, count_rows, &rows);
        assert_int_equal(rows, 5);

        g_autoptr(GVariant) saved = g_variant_ref_sink(lock_table_save(x->table));
        assert_true(g_variant_is_of_type(saved, G_VARIANT_TYPE(LOCK_TABLE_STATE_TYPE)));
        assert_int_equal(g_variant_n_children(saved), 3);
        /* Restoring needs the saved owners (and takes no descriptor over
         * without them) and the saved descriptors. */
        g_autoptr(GHashTable) owners = g_hash_table_new(g_direct_hash, g_direct_equal);
        LockTable *t2;
        g_autofree char *m = NULL;
        lock_table_new(&t2);
        assert_int_equal(lock_table_restore(t2, saved, owners, &m), -EINVAL);
        assert_non_null(m);
        assert_int_equal(lock_table_n_entries(t2), 0);
        lock_table_free(t2);

        const char *xp = "/x";
        GVariantBuilder holds, entries;
        g_variant_builder_init(&holds, G_VARIANT_TYPE("a(uxxuaay)"));
        g_variant_builder_add(&holds, "(uxxu@aay)", 1, (int64_t) 0, (int64_t) 0, 1, protocol_paths_encode(&xp, 1));
        g_variant_builder_init(&entries, G_VARIANT_TYPE(LOCK_TABLE_STATE_TYPE));
        g_variant_builder_add(&entries, "(uttiu@aya(uxxuaay))", 0, (uint64_t) 1, (uint64_t) 2, 999, 0,
                              protocol_path_to_variant(""), &holds);
        g_autoptr(GVariant) bogus = g_variant_ref_sink(g_variant_builder_end(&entries));
        LockOwner *o;
        lock_owner_new(1, "o", 1, 0, &o);
        g_hash_table_insert(owners, GUINT_TO_POINTER(1), o);
        g_autofree char *m2 = NULL;
        lock_table_new(&t2);
        assert_int_equal(lock_table_restore(t2, bogus, owners, &m2), -EBADF);
        assert_non_null(strstr(m2, "descriptor 999 is not the saved file"));
        lock_table_free(t2);
        lock_owner_free(o);
}

/* The descriptor of this process open on path (the table's: the test
 * keeps none open). */
static int fd_open_on(const char *path) {
        g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
        const char *name;
        int found = -1;
        assert_non_null(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *link = g_strdup_printf("/proc/self/fd/%s", name);
                g_autofree char *target = g_file_read_link(link, NULL);
                if (target && strcmp(target, path) == 0)
                        found = atoi(name);
        }
        assert_true(found >= 0);
        return found;
}

/* What a shared filesystem does to a partitioned host, done by hand: the
 * kernel lock goes away under the table (the open file description is
 * replaced by one on which the same lock cannot be re-issued: EBADF). */
static void drop_kernel_lock(const char *path, int flags) {
        int fd = fd_open_on(path), other = open(path, flags | O_CLOEXEC);
        assert_true(other >= 0);
        assert_int_equal(dup3(other, fd, O_CLOEXEC), fd);
        close(other);
}

typedef struct LostCalls {
        unsigned n;
        char path[PATH_MAX];
        int error;
} LostCalls;

static void record_lost(const char *path, uint64_t dev, uint64_t ino, int error, void *userdata) {
        LostCalls *calls = userdata;
        calls->n++;
        g_strlcpy(calls->path, path, sizeof(calls->path));
        calls->error = error;
}

static void add_lost(const char *path, int error, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%s %d", path, error));
}

static bool find_lost_row(const LockTableRow *row, void *userdata) {
        if (row->flags & LOCKD_PATH_LOST)
                *(const char **) userdata = row->path;
        return true;
}

static void test_reassert_lost(void **state) {
        Fixture *x = *state;
        LostCalls calls = {};
        g_autofree LockdPathResult *res = g_new0(LockdPathResult, 1);
        LockFailure f = {};

        lock_table_set_lost_handler(x->table, record_lost, &calls);
        assert_int_equal(lock_table_acquire(x->table, x->a, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL, res, &f), 0);
        assert_int_equal(acquire(x, x->a, x->f + 1, 1, LOCKD_MODE_SHARED, false, NULL), 0);
        /* Held locks re-assert quietly. */
        assert_int_equal(lock_table_reassert(x->table), 0);
        assert_int_equal(calls.n, 0);

        drop_kernel_lock(x->f[0], O_RDONLY);
        assert_int_equal(lock_table_reassert(x->table), 1);
        assert_int_equal(calls.n, 1);
        assert_string_equal(calls.path, x->f[0]);
        assert_int_equal(calls.error, EBADF);
        /* Found once, never trusted again: its descriptor is closed. */
        assert_int_equal(lock_table_reassert(x->table), 0);
        assert_int_equal(calls.n, 1);
        const char *lost_path = NULL;
        lock_table_foreach(x->table, find_lost_row, &lost_path);
        assert_string_equal(lost_path, x->f[0]);

        /* CHECK: the holder is told, with why; a file not held is ENOLCK. */
        g_autoptr(GPtrArray) lost = g_ptr_array_new_with_free_func(g_free);
        LockdFileKey keys[] = { { res[0].dev, res[0].ino }, { 1, 2 } };
        assert_int_equal(lock_table_check_keys(x->table, x->a, keys, 2, add_lost, lost), 2);
        g_autofree char *want = g_strdup_printf("%s %d", x->f[0], EBADF);
        assert_string_equal(lost->pdata[0], want);
        assert_string_equal(lost->pdata[1], "(1, 2) " G_STRINGIFY(ENOLCK));
        g_ptr_array_set_size(lost, 0);
        assert_int_equal(lock_table_check_keys(x->table, x->b, keys, 1, add_lost, lost), 1);

        /* Nobody gets the file through lockd until its holder lets go. */
        g_auto(LockFailure) busy = {};
        assert_int_equal(acquire(x, x->b, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, &busy), -EBUSY);
        assert_non_null(strstr(busy.detail, "was lost"));

        /* Joining a shared lock re-asserts it first. */
        drop_kernel_lock(x->f[1], O_WRONLY);
        g_auto(LockFailure) busy2 = {};
        assert_int_equal(acquire(x, x->b, x->f + 1, 1, LOCKD_MODE_SHARED, false, &busy2), -EBUSY);
        assert_int_equal(calls.n, 2);
        assert_string_equal(calls.path, x->f[1]);

        /* A re-exec keeps the rest (a lost lock has no descriptor to pass). */
        assert_int_equal(lock_table_set_inherit(x->table, true), 0);
        assert_int_equal(lock_table_set_inherit(x->table, false), 0);
        assert_int_equal(lock_table_release_all(x->table, x->a), 2);
        assert_int_equal(ofd_probe(x->f[0], F_WRLCK), 0);
        assert_int_equal(acquire(x, x->b, x->f, 2, LOCKD_MODE_EXCLUSIVE, false, NULL), 0);
        lock_failure_clear(&f);
}

/* No paths: success, nothing held, nothing written to results. */
static void test_zero_paths(void **state) {
        Fixture *x = *state;
        LockdPathResult sentinel = { .dev = 7, .ino = 7, .flags = 7 };
        LockFailure failure = { .index = 99 };

        for (LockdMode mode = LOCKD_MODE_EXCLUSIVE; mode <= LOCKD_MODE_SHARED; mode++) {
                assert_int_equal(lock_table_acquire(x->table, x->a, NULL, 0, mode, mode == LOCKD_MODE_SHARED, NULL,
                                                    &sentinel, &failure), 0);
                assert_int_equal(failure.index, 0);
                assert_null(failure.owner);
        }
        assert_int_equal(sentinel.dev, 7);
        assert_int_equal(lock_table_n_entries(x->table), 0);
        assert_int_equal(lock_owner_n_holds(x->a), 0);
        assert_int_equal(lock_table_release(x->table, x->a, NULL, 0), 0);
        assert_int_equal(lock_table_release_keys(x->table, x->a, NULL, 0), 0);
        /* The table still works. */
        assert_int_equal(acquire(x, x->a, x->f, 1, LOCKD_MODE_EXCLUSIVE, false, NULL), 0);
        assert_int_equal(lock_table_n_entries(x->table), 1);
}

/* Paths sharing a directory are looked up from a descriptor of it: the
 * answers must be those of whole-path lookups.  A symlinked last
 * component, a symlinked directory, a subdirectory, a missing name, "."
 * and a directory that is gone, each beside neighbours in the same
 * directory. */
static void test_paths_in_one_directory(void **state) {
        Fixture *x = *state;
        g_autofree char *link = g_build_filename(x->dir, "link", NULL);
        g_autofree char *sub = test_make_dir(x->dir, "sub");
        g_autofree char *alias = g_strconcat(x->dir, "-alias", NULL);
        g_autofree char *via_alias0 = g_build_filename(alias, "f0", NULL);
        g_autofree char *via_alias1 = g_build_filename(alias, "f1", NULL);
        g_autofree char *missing = g_build_filename(x->dir, "not-yet", NULL);
        g_autofree char *dot = g_build_filename(sub, ".", NULL);
        g_autofree char *gone0 = g_build_filename(x->dir, "gone", "a", NULL);
        g_autofree char *gone1 = g_build_filename(x->dir, "gone", "b", NULL);
        assert_int_equal(symlink(x->f[0], link), 0);
        assert_int_equal(symlink(x->dir, alias), 0);

        /* sub/f0 right after two paths of the parent: looked up from the
         * parent's descriptor it would be the parent's f0. */
        g_autofree char *sub_f0 = test_write_file(sub, "f0", "x", 1);
        char *paths[] = { x->f[0], x->f[1], link, sub, missing, via_alias0, via_alias1, dot, x->f[2], sub_f0 };
        size_t n = G_N_ELEMENTS(paths);
        g_autofree LockdPathResult *res = g_new0(LockdPathResult, n);
        LockFailure failure = {};
        assert_int_equal(lock_table_acquire(x->table, x->a, paths, n, LOCKD_MODE_EXCLUSIVE, true, NULL, res, &failure), 0);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (paths[i] == missing) {
                        assert_int_equal(res[i].flags, LOCKD_PATH_MISSING);
                        continue;
                }
                assert_int_equal(stat(paths[i], &st), 0);
                assert_true(res[i].dev == (uint64_t) st.st_dev && res[i].ino == (uint64_t) st.st_ino);
        }
        /* The symlink and the paths through the symlinked directory are
         * the files they point at; the subdirectory (also as "sub/.") is
         * locked in the table. */
        assert_true(res[2].flags & LOCKD_PATH_DUPLICATE);
        assert_true(res[5].flags & LOCKD_PATH_DUPLICATE);
        assert_true(res[6].flags & LOCKD_PATH_DUPLICATE);
        assert_int_equal(res[3].flags, LOCKD_PATH_TABLE_ONLY);
        assert_int_equal(res[7].flags, LOCKD_PATH_TABLE_ONLY | LOCKD_PATH_DUPLICATE);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(ofd_probe(x->f[i], F_WRLCK), -EAGAIN);
        assert_int_equal(res[9].flags, 0);
        assert_int_equal(lock_table_n_entries(x->table), 6);

        /* Another owner is refused on any of them, whichever way named. */
        char *theirs[] = { via_alias1, x->f[3] };
        assert_int_equal(acquire(x, x->b, theirs, 2, LOCKD_MODE_EXCLUSIVE, false, &failure), -EBUSY);
        assert_int_equal(failure.index, 0);
        lock_failure_clear(&failure);
        assert_int_equal(ofd_probe(x->f[3], F_WRLCK), 0);

        /* Two paths in a directory that does not exist: the first fails
         * with ENOENT as a whole-path lookup would. */
        char *nowhere[] = { gone0, gone1 };
        assert_int_equal(acquire(x, x->b, nowhere, 2, LOCKD_MODE_EXCLUSIVE, false, &failure), -ENOENT);
        assert_int_equal(failure.index, 0);
        lock_failure_clear(&failure);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_exclusive_conflict, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sorted_and_deduplicated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_all_or_nothing_kernel_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreign_posix_holder_named, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table_only_and_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_only_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_and_save, setup, teardown),
                cmocka_unit_test_setup_teardown(test_paths_in_one_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reassert_lost, setup, teardown),
                cmocka_unit_test_setup_teardown(test_zero_paths, setup, teardown),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
