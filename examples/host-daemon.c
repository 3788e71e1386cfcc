/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host-daemon: what a VMM's management daemon does with libbulwark, in
 * one short file.  It loads the library at run time (dlopen), then:
 *
 *   1. starts the guest of GUEST-FILE (every plugin's changes, locked and
 *      journaled; all undone if any fails),
 *   2. starts the guest's process confined: bw_manager_exec_prepare() in
 *      the daemon, fork(), bw_exec_apply() in the child, exec,
 *   3. hot-plugs the disk of DISK-FILE into the running guest,
 *   4. lets the process end, and stops the guest (every change undone).
 *
 * Usage: host-daemon LIBBULWARK.so GUEST-FILE DISK-FILE
 * The manager takes its settings from the environment (BULWARK_CONFIG,
 * BULWARK_PLUGIN_DIR, BULWARK_STATE_DIR, ...) and the configuration file.
 * The "guest process" here is cat(1) reading a pipe: the daemon holds the
 * pipe open while it attaches the disk, so the guest is running then.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

/* The entry points this daemon uses, resolved by name. */
static struct {
        int (*manager_new)(const BwOptions *, BwManager **, BwError *);
        void (*manager_free)(BwManager *);
        int (*guest_load_file)(const char *, BwGuest **, BwError *);
        const BwGuestInfo *(*guest_info)(const BwGuest *);
        void (*guest_free)(BwGuest *);
        int (*start)(BwManager *, const BwGuest *, BwError *);
        int (*stop)(BwManager *, const char *, BwError *);
        int (*attach)(BwManager *, const char *, const char *, BwError *);
        int (*exec_prepare)(BwManager *, const char *, BwExec **, BwError *);
        int (*exec_apply)(const BwExec *);
        void (*exec_free)(BwExec *);
} bw;

static int load_library(const char *path) {
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                fprintf(stderr, "host-daemon: %s\n", dlerror());
                return -1;
        }
#define RESOLVE(field, name) \
        if (!(*(void **) &bw.field = dlsym(dl, name))) { \
                fprintf(stderr, "host-daemon: '%s': no symbol %s\n", path, name); \
                return -1; \
        }
        RESOLVE(manager_new, "bw_manager_new");
        RESOLVE(manager_free, "bw_manager_free");
        RESOLVE(guest_load_file, "bw_guest_load_file");
        RESOLVE(guest_info, "bw_guest_info");
        RESOLVE(guest_free, "bw_guest_free");
        RESOLVE(start, "bw_manager_start");
        RESOLVE(stop, "bw_manager_stop");
        RESOLVE(attach, "bw_manager_attach");
        RESOLVE(exec_prepare, "bw_manager_exec_prepare");
        RESOLVE(exec_apply, "bw_exec_apply");
        RESOLVE(exec_free, "bw_exec_free");
#undef RESOLVE
        return 0;
}

static char *read_file(const char *path) {
        static char buf[65536];
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (!f || ferror(f)) {
                fprintf(stderr, "host-daemon: '%s': cannot read\n", path);
                if (f)
                        fclose(f);
                return NULL;
        }
        fclose(f);
        buf[n] = '\0';
        return buf;
}

/* Step 2: the child applies what the parent prepared, async-signal-safe
 * calls only, and execs; a child that cannot be confined never execs. */
static pid_t spawn_guest_process(BwManager *m, const char *name, int *ret_pipe) {
        BwExec *exec = NULL;
        BwError err = {};
        int fds[2];

        if (bw.exec_prepare(m, name, &exec, &err) < 0) {
                fprintf(stderr, "host-daemon: %s\n", err.message);
                return -1;
        }
        if (pipe(fds) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                int step = bw.exec_apply(exec);
                if (step < 0)
                        _exit(BW_EXEC_EXIT_BASE - step);
                dup2(fds[0], STDIN_FILENO);
                close(fds[1]);
                execl("/bin/cat", "cat", (char *) NULL);
                _exit(127);
        }
        close(fds[0]);
        bw.exec_free(exec);
        *ret_pipe = fds[1];
        return pid;
}

int main(int argc, char **argv) {
        BwManager *m = NULL;
        BwGuest *guest = NULL;
        BwError err = {};
        int status = 1, pipe_fd = -1;

        if (argc != 4) {
                fprintf(stderr, "Usage: host-daemon LIBBULWARK.so GUEST-FILE DISK-FILE\n");
                return 2;
        }
        char *disk = load_library(argv[1]) < 0 ? NULL : read_file(argv[3]);
        if (!disk)
                return 1;
        if (bw.manager_new(NULL, &m, &err) < 0 || bw.guest_load_file(argv[2], &guest, &err) < 0) {
                fprintf(stderr, "host-daemon: %s\n", err.message);
                goto finish;
        }
        const char *name = bw.guest_info(guest)->name;

        if (bw.start(m, guest, &err) < 0) {                                 /* 1 */
                fprintf(stderr, "host-daemon: %s\n", err.message);
                goto finish;
        }
        printf("guest '%s': started\n", name);
        pid_t pid = spawn_guest_process(m, name, &pipe_fd);                 /* 2 */
        if (pid > 0)
                printf("guest '%s': process %d started confined\n", name, (int) pid);
        if (pid > 0 && bw.attach(m, name, disk, &err) == 0)                 /* 3 */
                printf("guest '%s': disk attached while it runs\n", name);
        else if (pid > 0)
                fprintf(stderr, "host-daemon: %s\n", err.message);
        if (pid > 0) {                                                      /* 4 */
                int ws;
                close(pipe_fd);
                waitpid(pid, &ws, 0);
                printf("guest '%s': process exited with status %d\n", name, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
                status = WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
        }
        if (bw.stop(m, name, &err) < 0) {
                fprintf(stderr, "host-daemon: %s\n", err.message);
                status = 1;
        } else
                printf("guest '%s': stopped, every change undone\n", name);
finish:
        if (guest)
                bw.guest_free(guest);
        if (m)
                bw.manager_free(m);
        return status;
}
