/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp-tool: the QMP client (qmp.h, qmp-disk.h) from the command line, as
 * the host side of a VMM manager: it opens files itself and hands QEMU the
 * descriptors.  Used by demo.sh, the QEMU tests and bench/e2e.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp-disk.h"

#define DEFAULT_TIMEOUT_MS 10000

static const char usage[] =
        "Usage: qmp-tool [--timeout MS] [--bus BUS] SOCKET COMMAND [ARGS...]\n"
        "\n"
        "Talks to QEMU's QMP monitor at SOCKET (QEMU started with\n"
        "-chardev socket,id=mon0,path=SOCKET,server=on,wait=off -mon chardev=mon0,mode=control),\n"
        "waiting up to the timeout for QEMU to create it.\n"
        "\n"
        "Commands:\n"
        "  hmp LINE                  run the HMP command LINE ('info block') and print its output\n"
        "  execute JSON              execute a QMP command given as JSON ('{\"execute\":\"query-block\"}')\n"
        "                            and print its return as JSON\n"
        "  add-fd FDSET-ID FILE [ro|rw]\n"
        "                            open FILE here (read-only by default) and pass the descriptor\n"
        "                            into fdset FDSET-ID (add-fd, SCM_RIGHTS); print add-fd's return\n"
        "  hotplug-disk ID FILE [ro|rw] [raw|qcow2] [BACKING...]\n"
        "                            open FILE here (read-write, raw by default) and hot-plug it as\n"
        "                            SCSI disk ID: add-fd, blockdev-add of /dev/fdset/N, device_add\n"
        "                            scsi-hd on BUS (QEMU needs -device virtio-scsi-pci,id=scsi0);\n"
        "                            a qcow2 FILE's backing chain, in order, is opened here too\n"
        "                            (read-only, raw or qcow2 by its magic) and passed the same way,\n"
        "                            each file's node the backing of the one above\n"
        "  unplug-disk ID            device_del ID, wait for DEVICE_DELETED, blockdev-del of its\n"
        "                            nodes, remove-fd of its fdsets\n"
        "  quit                      ask QEMU to quit and wait until it closes the monitor\n"
        "\n"
        "Options:\n"
        "  --timeout MS              wait for the socket, and for DEVICE_DELETED (default 10000)\n"
        "  --bus BUS                 the SCSI bus of hotplug-disk (default scsi0.0)\n"
        "  -h, --help                show this help\n"
        "\n"
        "Exit status: 0 done; 1 QEMU refused or could not be reached (the message names the\n"
        "socket, the command and QEMU's error class and description); 2 usage.\n";

static int open_file(const char *path, gboolean readonly, int *ret_fd) {
        int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                fprintf(stderr, "qmp-tool: '%s': cannot open: %s\n", path, g_strerror(-r));
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int print_json(JsonNode *node) {
        g_autofree char *text = json_to_string(node, TRUE);
        printf("%s\n", text);
        return 0;
}

/* "ro" / "rw" (absent: `fallback`); -EINVAL for anything else. */
static int parse_access(const char *word, gboolean fallback, gboolean *ret_readonly) {
        if (!word)
                *ret_readonly = fallback;
        else if (strcmp(word, "ro") == 0 || strcmp(word, "rw") == 0)
                *ret_readonly = strcmp(word, "ro") == 0;
        else
                return -EINVAL;
        return 0;
}

static int cmd_add_fd(QmpClient *c, char **args, int n, GError **error) {
        gboolean readonly;
        char *end;
        gint64 fdset = g_ascii_strtoll(args[0], &end, 10);
        if (*end || fdset < 0 || parse_access(n > 2 ? args[2] : NULL, TRUE, &readonly) < 0)
                return -EINVAL;
        int fd = -1, r = open_file(args[1], readonly, &fd);
        if (r < 0)
                return r;
        g_autoptr(JsonObject) a = json_object_new();
        json_object_set_int_member(a, "fdset-id", fdset);
        g_autoptr(JsonNode) ret = NULL;
        r = qmp_client_execute(c, "add-fd", a, fd, &ret, error);
        close(fd); /* QEMU holds its own copy now */
        return r < 0 ? r : print_json(ret);
}

/* A backing file's format from its first bytes, read through the
 * descriptor opened for QEMU (read-only files only: a guest may write any
 * magic into a writable one). */
static const char *layer_format(int fd) {
        unsigned char magic[4];
        return pread(fd, magic, sizeof(magic), 0) == (ssize_t) sizeof(magic) && memcmp(magic, "QFI\xfb", 4) == 0
                       ? "qcow2"
                       : "raw";
}

static int cmd_hotplug_disk(QmpClient *c, const char *bus, char **args, int n, GError **error) {
        gboolean readonly;
        const char *format = n > 3 ? args[3] : "raw";
        if (parse_access(n > 2 ? args[2] : NULL, FALSE, &readonly) < 0 ||
            (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0) || (n > 4 && strcmp(format, "qcow2") != 0))
                return -EINVAL;
        /* The top image, then its backing files. */
        size_t n_layers = n > 4 ? (size_t) n - 3 : 1;
        g_autofree QmpDiskLayer *layers = g_new0(QmpDiskLayer, n_layers);
        int r = 0;
        size_t opened = 0;
        for (; opened < n_layers && r == 0; opened++) {
                const char *path = opened == 0 ? args[1] : args[3 + opened];
                r = open_file(path, opened > 0 || readonly, &layers[opened].fd);
                layers[opened].format = opened == 0 ? format : r == 0 ? layer_format(layers[opened].fd) : NULL;
        }
        if (r < 0)
                opened--;
        gint64 fdset = -1;
        if (r == 0)
                r = qmp_disk_hotplug(c, args[0], layers, n_layers, readonly, bus, &fdset, error);
        for (size_t k = 0; k < opened; k++)
                close(layers[k].fd); /* QEMU holds its own copies now */
        if (r == 0)
                printf("disk '%s': '%s' hot-plugged by descriptor as /dev/fdset/%" G_GINT64_FORMAT " on %s%s\n",
                       args[0], args[1], fdset, bus, n_layers > 1 ? ", its backing chain by descriptor too" : "");
        return r;
}

static int cmd_quit(QmpClient *c, int timeout_ms, GError **error) {
        int r = qmp_client_execute(c, "quit", NULL, -1, NULL, error);
        /* QEMU sends SHUTDOWN, then closes the socket as it exits. */
        return r < 0 ? r : qmp_client_wait_closed(c, timeout_ms, error);
}

/* Runs COMMAND ARGS; -EINVAL for a usage error (no message set). */
static int run(QmpClient *c, const char *bus, int timeout_ms, char **argv, int argc, GError **error) {
        const char *cmd = argv[0];
        char **args = argv + 1;
        int n = argc - 1, r;
        if (strcmp(cmd, "hmp") == 0 && n == 1) {
                g_autofree char *out = NULL;
                if ((r = qmp_client_hmp(c, args[0], &out, error)) == 0)
                        fputs(out, stdout);
                return r;
        }
        if (strcmp(cmd, "execute") == 0 && n == 1) {
                g_autoptr(JsonNode) ret = NULL;
                r = qmp_client_execute_text(c, args[0], -1, &ret, error);
                return r < 0 ? r : print_json(ret);
        }
        if (strcmp(cmd, "add-fd") == 0 && n >= 2 && n <= 3)
                return cmd_add_fd(c, args, n, error);
        if (strcmp(cmd, "hotplug-disk") == 0 && n >= 2)
                return cmd_hotplug_disk(c, bus, args, n, error);
        if (strcmp(cmd, "unplug-disk") == 0 && n == 1) {
                if ((r = qmp_disk_unplug(c, args[0], timeout_ms, error)) == 0)
                        printf("disk '%s': unplugged, its node and fdset removed\n", args[0]);
                return r;
        }
        if (strcmp(cmd, "quit") == 0 && n == 0)
                return cmd_quit(c, timeout_ms, error);
        return -EINVAL;
}

static gboolean known_command(const char *cmd) {
        const char *known[] = { "hmp", "execute", "add-fd", "hotplug-disk", "unplug-disk", "quit" };
        for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
                if (strcmp(cmd, known[i]) == 0)
                        return TRUE;
        return FALSE;
}

int main(int argc, char **argv) {
        const char *bus = "scsi0.0";
        int timeout_ms = DEFAULT_TIMEOUT_MS, i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        fputs(usage, stdout);
                        return 0;
                } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
                        timeout_ms = atoi(argv[++i]);
                else if (strcmp(argv[i], "--bus") == 0 && i + 1 < argc)
                        bus = argv[++i];
                else
                        break;
        }
        if (argc - i < 2 || timeout_ms <= 0 || !known_command(argv[i + 1])) {
                fputs(usage, stderr);
                return 2;
        }
        g_autoptr(QmpClient) c = NULL;
        g_autoptr(GError) error = NULL;
        int r = qmp_client_connect(argv[i], timeout_ms, &c, &error);
        if (r == 0)
                r = run(c, bus, timeout_ms, argv + i + 1, argc - i - 1, &error);
        if (r == -EINVAL && !error) {
                fputs(usage, stderr);
                return 2;
        }
        if (r < 0 && error)
                fprintf(stderr, "qmp-tool: %s\n", error->message);
        return r < 0 ? 1 : 0;
}
