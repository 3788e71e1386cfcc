/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ll-open MODE PATH EXPECT...: what a confined guest process sees.  Opens
 * each PATH as MODE says and compares the outcome with EXPECT ("ok" or an
 * errno name: EACCES, ENOENT...).  Prints one line per open; exits 0 when
 * every outcome was expected, 1 otherwise, 2 on a usage error.
 *   r   open O_RDONLY            w   open O_WRONLY
 *   rw  open O_RDWR              t   open O_WRONLY|O_TRUNC
 *   c   create (O_CREAT|O_EXCL, O_WRONLY) and remove it again
 *   d   open a directory and read an entry
 *   s   bind a UNIX socket at PATH (a server socket; left in place)
 * A last argument "pause" makes it wait for a signal after printing, so
 * a test can look at the process (its cgroup) before it goes.
 * Only libc: the test's base rules let the guest execute this binary. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const struct {
        int code;
        const char *name;
} errnos[] = {
        { EACCES, "EACCES" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EXDEV, "EXDEV" },
        { EISDIR, "EISDIR" }, { ENOTDIR, "ENOTDIR" }, { ENXIO, "ENXIO" }, { EBADFD, "EBADFD" },
};

static const char *errno_name(int e) {
        for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
                if (errnos[i].code == e)
                        return errnos[i].name;
        return strerror(e);
}

static int try_bind(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno;
        int e = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? errno : 0;
        close(fd);
        return e;
}

static int try_open(const char *mode, const char *path) {
        int flags;
        if (strcmp(mode, "s") == 0)
                return try_bind(path);
        if (strcmp(mode, "d") == 0) {
                DIR *d = opendir(path);
                if (!d)
                        return errno;
                errno = 0;
                int e = readdir(d) ? 0 : (errno ? errno : 0);
                closedir(d);
                return e;
        }
        if (strcmp(mode, "r") == 0)
                flags = O_RDONLY;
        else if (strcmp(mode, "w") == 0)
                flags = O_WRONLY;
        else if (strcmp(mode, "rw") == 0)
                flags = O_RDWR;
        else if (strcmp(mode, "t") == 0)
                flags = O_WRONLY | O_TRUNC;
        else if (strcmp(mode, "c") == 0)
                flags = O_WRONLY | O_CREAT | O_EXCL;
        else
                return -1;
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return errno;
        close(fd);
        if (strcmp(mode, "c") == 0 && unlink(path) < 0)
                return errno;
        return 0;
}

int main(int argc, char **argv) {
        int failed = 0;
        bool hold = argc > 1 && strcmp(argv[argc - 1], "pause") == 0;
        if (hold)
                argc--;
        if (argc < 4 || (argc - 1) % 3 != 0) {
                fprintf(stderr, "usage: ll-open MODE PATH EXPECT... [pause]\n");
                return 2;
        }
        for (int i = 1; i + 2 < argc; i += 3) {
                int e = try_open(argv[i], argv[i + 1]);
                if (e < 0) {
                        fprintf(stderr, "ll-open: unknown mode '%s'\n", argv[i]);
                        return 2;
                }
                const char *got = e == 0 ? "ok" : errno_name(e);
                int match = strcmp(got, argv[i + 2]) == 0;
                printf("%s %s %s: %s%s\n", match ? "as expected" : "UNEXPECTED", argv[i], argv[i + 1], got,
                       match ? "" : " (expected otherwise)");
                failed += !match;
        }
        fflush(stdout);
        if (hold)
                pause();
        return failed ? 1 : 0;
}
