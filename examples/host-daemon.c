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
 * Usage: host-daemon LIBBULWARK.so GUEST-FILE DISK-FILE [--qmp SOCKET -- QEMU ARGS...]
 * The manager takes its settings from the environment (BULWARK_CONFIG,
 * BULWARK_PLUGIN_DIR, BULWARK_STATE_DIR, ...) and the configuration file.
 *
 * Without --qmp the "guest process" is cat(1) reading a pipe: the daemon
 * holds the pipe open while it attaches the disk, so the guest is running
 * then.  With --qmp it is QEMU, whose QMP monitor is SOCKET, and the disk
 * is hot-plugged the way a VMM manager does it: QEMU may not open the file
 * by path (a Landlock domain cannot grow after QEMU started), so
 *   3a. bw_manager_attach() labels and allows the disk,
 *   3b. the daemon opens it and hands QEMU the descriptor (QMP add-fd,
 *       SCM_RIGHTS), blockdev-add of /dev/fdset/N, device_add scsi-hd
 *       (QEMU needs "-device virtio-scsi-pci,id=scsi0"),
 *   3c. then unplugs it (device_del, blockdev-del, remove-fd) and
 *       bw_manager_detach() gives the disk its owner and label back,
 *   4.  and asks QEMU to quit.
 */
#define _GNU_SOURCE /* pipe2 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "qmp-disk.h"

/* How long QEMU may take to create its monitor socket, or to unplug. */
#define QMP_TIMEOUT_MS 10000

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
        int (*detach)(BwManager *, const char *, const char *, BwError *);
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
        RESOLVE(detach, "bw_manager_detach");
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
 * calls only, and execs `cmd` (its path resolved here, in the parent); a
 * child that cannot be confined never execs.  The child's standard input
 * is a pipe the daemon holds (*ret_pipe): cat(1) runs until it is closed. */
static pid_t spawn_guest_process(BwManager *m, const char *name, char **cmd, int *ret_pipe) {
        BwExec *exec = NULL;
        BwError err = {};
        int fds[2];

        g_autofree char *path = g_find_program_in_path(cmd[0]);
        if (!path) {
                fprintf(stderr, "host-daemon: guest '%s': '%s': command not found\n", name, cmd[0]);
                return -1;
        }
        if (bw.exec_prepare(m, name, &exec, &err) < 0) {
                fprintf(stderr, "host-daemon: %s\n", err.message);
                return -1;
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                bw.exec_free(exec);
                return -1;
        }
        pid_t pid = fork();
        if (pid == 0) {
                int step = bw.exec_apply(exec);
                if (step < 0)
                        _exit(BW_EXEC_EXIT_BASE - step);
                dup2(fds[0], STDIN_FILENO); /* dup2 clears O_CLOEXEC */
                execv(path, cmd);
                _exit(127);
        }
        close(fds[0]);
        bw.exec_free(exec);
        *ret_pipe = fds[1];
        return pid;
}

/* Waits for the guest's process; 0 when it exited with status 0. */
static int reap_guest_process(const char *name, pid_t pid) {
        int ws;
        waitpid(pid, &ws, 0);
        printf("guest '%s': process exited with status %d\n", name, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

/* The disk a resource text describes: its id, path, format and access. */
typedef struct {
        char *id, *path, *format;
        gboolean readonly;
} DiskResource;

static void disk_resource_clear(DiskResource *d) {
        g_free(d->id);
        g_free(d->path);
        g_free(d->format);
}

static int disk_resource_parse(const char *text, DiskResource *ret_disk, GError **error) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, error))
                return -EINVAL;
        g_autofree char *group = g_key_file_get_start_group(kf);
        if (!group || !g_str_has_prefix(group, "disk:")) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND, "not a [disk:ID] resource");
                return -EINVAL;
        }
        char *path = g_key_file_get_string(kf, group, "path", error);
        if (!path)
                return -EINVAL;
        char *format = g_key_file_get_string(kf, group, "format", NULL);
        *ret_disk = (DiskResource) {
                .id = g_strdup(group + strlen("disk:")),
                .path = path,
                .format = format ? format : g_strdup("raw"),
                .readonly = g_key_file_get_boolean(kf, group, "readonly", NULL),
        };
        return 0;
}

/* Steps 3a-3c with QEMU: attach, open, hand QEMU the descriptor, unplug,
 * detach.  The disk is the guest's only between attach and detach. */
static int qemu_disk_round_trip(BwManager *m, const char *name, QmpClient *qmp, const char *text,
                                const DiskResource *disk) {
        BwError err = {};
        g_autoptr(GError) error = NULL;
        if (bw.attach(m, name, text, &err) < 0) {                           /* 3a */
                fprintf(stderr, "host-daemon: %s\n", err.message);
                return -1;
        }
        printf("guest '%s': disk '%s' attached (labelled and allowed)\n", name, disk->id);
        int fd = open(disk->path, (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);  /* 3b */
        gint64 fdset = -1;
        QmpDiskLayer layer = { .fd = fd, .format = disk->format };
        int r = fd < 0 ? -errno : qmp_disk_hotplug(qmp, disk->id, &layer, 1, disk->readonly, "scsi0.0", &fdset, &error);
        if (fd < 0)
                fprintf(stderr, "host-daemon: guest '%s': disk '%s': cannot open: %s\n", name, disk->path, g_strerror(-r));
        else
                close(fd); /* QEMU holds its own copy */
        if (r == 0) {
                printf("guest '%s': disk '%s' hot-plugged by descriptor as /dev/fdset/%" G_GINT64_FORMAT "\n", name,
                       disk->id, fdset);
                r = qmp_disk_unplug(qmp, disk->id, QMP_TIMEOUT_MS, &error);   /* 3c */
                if (r == 0)
                        printf("guest '%s': disk '%s' unplugged from QEMU\n", name, disk->id);
        }
        if (error)
                fprintf(stderr, "host-daemon: guest '%s': %s\n", name, error->message);
        g_autofree char *ref = g_strconcat("disk:", disk->id, NULL);
        if (bw.detach(m, name, ref, &err) < 0) {
                fprintf(stderr, "host-daemon: %s\n", err.message);
                return -1;
        }
        printf("guest '%s': disk '%s' detached (owner and label back)\n", name, disk->id);
        return r < 0 ? -1 : 0;
}

/* The guest's process is QEMU: its disk goes in by descriptor (3a-3c),
 * then QEMU is asked to quit (4). */
static int run_qemu_guest(BwManager *m, const char *name, const char *text, const char *socket, char **cmd) {
        DiskResource disk = {};
        g_autoptr(QmpClient) qmp = NULL;
        g_autoptr(GError) error = NULL;
        int pipe_fd = -1;

        if (disk_resource_parse(text, &disk, &error) < 0) {
                fprintf(stderr, "host-daemon: guest '%s': the disk resource: %s\n", name, error->message);
                return -1;
        }
        pid_t pid = spawn_guest_process(m, name, cmd, &pipe_fd);            /* 2 */
        if (pid < 0) {
                disk_resource_clear(&disk);
                return -1;
        }
        printf("guest '%s': QEMU %d started confined\n", name, (int) pid);
        int r = qmp_client_connect(socket, QMP_TIMEOUT_MS, &qmp, &error);
        if (r == 0)
                r = qemu_disk_round_trip(m, name, qmp, text, &disk);
        int q = qmp ? qmp_client_execute(qmp, "quit", NULL, -1, NULL, r == 0 ? &error : NULL) : -1;   /* 4 */
        if (error)
                fprintf(stderr, "host-daemon: guest '%s': %s\n", name, error->message);
        if (q < 0) {
                kill(pid, SIGTERM); /* QEMU that would not quit, or never answered */
                r = -1;
        }
        close(pipe_fd);
        disk_resource_clear(&disk);
        return reap_guest_process(name, pid) < 0 || r < 0 ? -1 : 0;
}

/* The guest's process is cat(1): the disk is attached while it runs. */
static int run_cat_guest(BwManager *m, const char *name, const char *text) {
        BwError err = {};
        int pipe_fd = -1;
        char *cat[] = { "cat", NULL };
        pid_t pid = spawn_guest_process(m, name, cat, &pipe_fd);            /* 2 */
        if (pid < 0)
                return -1;
        printf("guest '%s': process %d started confined\n", name, (int) pid);
        if (bw.attach(m, name, text, &err) == 0)                            /* 3 */
                printf("guest '%s': disk attached while it runs\n", name);
        else
                fprintf(stderr, "host-daemon: %s\n", err.message);
        close(pipe_fd);                                                     /* 4 */
        return reap_guest_process(name, pid);
}

int main(int argc, char **argv) {
        BwManager *m = NULL;
        BwGuest *guest = NULL;
        BwError err = {};
        int status = 1;

        bool qemu = argc >= 8 && strcmp(argv[4], "--qmp") == 0 && strcmp(argv[6], "--") == 0;
        if (argc != 4 && !qemu) {
                fprintf(stderr, "Usage: host-daemon LIBBULWARK.so GUEST-FILE DISK-FILE [--qmp SOCKET -- QEMU ARGS...]\n");
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
        int r = qemu ? run_qemu_guest(m, name, disk, argv[5], argv + 7) : run_cat_guest(m, name, disk);
        status = r < 0 ? 1 : 0;
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
