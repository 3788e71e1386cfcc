/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"

void test_skip_all(const char *format, ...) {
        va_list ap;
        printf("1..0 # SKIP ");
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        exit(0);
}

void test_require_root(void) {
        if (geteuid() != 0)
                test_skip_all("needs root (running as uid %u)", (unsigned) geteuid());
}

char *test_scratch_new(const char *tag) {
        const char *tmp = getenv("TMPDIR");
        char *path;
        if (asprintf(&path, "%s/bulwark-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag) < 0)
                abort();
        if (!mkdtemp(path)) {
                perror("mkdtemp");
                abort();
        }
        return path;
}

static int scratch_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

void test_scratch_remove(const char *path) {
        if (path)
                nftw(path, scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_write_file(const char *dir, const char *name, const void *data, long len) {
        char *path;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                abort();
        FILE *f = fopen(path, "we");
        if (!f) {
                perror(path);
                abort();
        }
        size_t n = len < 0 ? strlen(data) : (size_t) len;
        if (fwrite(data, 1, n, f) != n || fclose(f) != 0)
                abort();
        return path;
}

static char *test_tree_path(const char *env, const char *fallback, const char *relative) {
        const char *top = getenv(env);
        char *path;
        if (asprintf(&path, "%s/%s", top && *top ? top : fallback, relative) < 0)
                abort();
        return path;
}

char *test_srcdir_path(const char *relative) {
        return test_tree_path("BW_TOP_SRCDIR", BW_TEST_SRCDIR, relative);
}

char *test_builddir_path(const char *relative) {
        return test_tree_path("BW_TOP_BUILDDIR", BW_TEST_BUILDDIR, relative);
}

bool test_node_make(const char *path, mode_t type, dev_t dev) {
        if (mknod(path, type | 0600, dev) == 0)
                return true;
        assert_true(errno == EPERM || errno == EACCES);
        print_message("# no device node %s here (%s): that part is not checked\n", path, strerror(errno));
        return false;
}

int test_count_entries(const char *dir) {
        DIR *d = opendir(dir);
        int n = 0;
        if (!d)
                return errno == ENOENT ? 0 : -1;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

int test_count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        if (!d)
                return -1;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own descriptor */
}

/* Takes a lock in the child, between fork and pause (system calls only). */
typedef bool (*HoldFn)(const char *path, short type);

static bool hold_byte1(const char *path, short type) {
        int fd = open(path, (type == F_RDLCK ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        return fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0;
}

static bool hold_flock(const char *path, short type) {
        (void) type;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        return fd >= 0 && flock(fd, LOCK_EX) == 0;
}

/* Forks a child that takes the lock and holds it until killed; returns
 * its pid once the lock is held. */
static pid_t hold_in_child(HoldFn take, const char *path, short type) {
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char ok = take(path, type) ? 'y' : 'n';
                (void) !write(pipefd[1], &ok, 1);
                pause();
                _exit(0);
        }
        char c = 0;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        assert_int_equal(c, 'y');
        close(pipefd[0]);
        close(pipefd[1]);
        return pid;
}

pid_t test_hold_byte1_lock(const char *path, short type) {
        return hold_in_child(hold_byte1, path, type);
}

pid_t test_hold_flock(const char *path) {
        return hold_in_child(hold_flock, path, 0);
}
