/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "guest-lock.h"
#include "journal.h"

#define LOCK_BACKOFF_START_MS 1
#define LOCK_BACKOFF_MAX_MS 100

struct GuestLock {
        char *path;
        char *journal;             /* NULL: never remove the lock file */
        int fd;
};

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One non-blocking try: 0 locked, -EAGAIN held by someone, -ESTALE the
 * file we locked was removed meanwhile (try again at once). */
static int lock_try(const char *path, bool directory, int *ret_fd) {
        struct stat st, now;
        _cleanup_close_ int fd = directory
                ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                : open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -EINVAL : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!directory && !S_ISREG(st.st_mode))
                return -EINVAL;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        if (stat(path, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)
                return -ESTALE;
        *ret_fd = steal_fd(&fd);
        return 0;
}

static int lock_wait(const char *path, bool directory, unsigned timeout_ms, int *ret_fd) {
        int64_t deadline = now_ms() + timeout_ms;
        unsigned backoff = LOCK_BACKOFF_START_MS;

        for (;;) {
                int r = lock_try(path, directory, ret_fd);
                if (r == -ESTALE)
                        continue;
                if (r != -EAGAIN)
                        return r;
                int64_t left = deadline - now_ms();
                if (timeout_ms == 0)
                        return -EBUSY;
                if (left <= 0)
                        return -ETIMEDOUT;
                g_usleep((gulong) MIN((int64_t) backoff, left) * 1000);
                backoff = MIN(backoff * 2, LOCK_BACKOFF_MAX_MS);
        }
}

/* file NULL: the directory itself. */
static int lock_acquire(const char *state_dir, const char *file, const char *what, unsigned timeout_ms,
                        GuestLock **ret, BwError *reterr) {
        g_autofree char *dir = journal_dir(state_dir);
        g_autofree char *path = file ? g_build_filename(dir, file, NULL) : g_strdup(dir);
        int fd = -1;

        if (g_mkdir_with_parents(dir, 0700) < 0)
                return error_set(reterr, -errno, "state directory '%s': cannot create: %m", dir);
        int r = lock_wait(path, !file, timeout_ms, &fd);
        if (r == -EBUSY)
                return error_set(reterr, r, "%s: a transaction on it is running in another process or thread (lock '%s' is held)",
                                 what, path);
        if (r == -ETIMEDOUT)
                return error_set(reterr, r, "%s: another transaction on it did not finish within %u ms (lock '%s' is held)",
                                 what, timeout_ms, path);
        if (r == -EINVAL)
                return error_set(reterr, r, "%s: lock '%s' is not a regular file or directory", what, path);
        if (r < 0)
                return error_set(reterr, r, "%s: lock '%s': cannot take: %m", what, path);
        GuestLock *l = g_new0(GuestLock, 1);
        l->path = g_steal_pointer(&path);
        l->fd = fd;
        *ret = l;
        return 0;
}

int guest_lock_acquire(const char *state_dir, const char *name, unsigned timeout_ms, GuestLock **ret,
                       BwError *reterr) {
        /* A dot file: guest names never start with '.', so no guest's own
         * files (<name>.journal) can be taken for it. */
        g_autofree char *file = g_strdup_printf(".%s.lock", name);
        g_autofree char *what = g_strdup_printf("guest '%s'", name);
        int r = lock_acquire(state_dir, file, what, timeout_ms, ret, reterr);
        if (r >= 0)
                (*ret)->journal = journal_file(state_dir, name);
        return r;
}

int state_lock_acquire(const char *state_dir, unsigned timeout_ms, GuestLock **ret, BwError *reterr) {
        g_autofree char *what = g_strdup_printf("state directory '%s'", state_dir);
        return lock_acquire(state_dir, NULL, what, timeout_ms, ret, reterr);
}

void guest_lock_release(GuestLock *l) {
        if (!l)
                return;
        /* Still holding it: whoever waits on this inode retries on a new file. */
        if (l->journal && access(l->journal, F_OK) < 0 && errno == ENOENT)
                (void) unlink(l->path);
        close_fdp(&l->fd);
        g_free(l->path);
        g_free(l->journal);
        g_free(l);
}
