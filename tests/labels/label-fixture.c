/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "label-fixture.h"
#include "test-util.h"

/* The ext4 image: made and loop-mounted by mkfs.ext4 and mount(8), which
 * find a free loop device and let it go at unmount. */
static bool label_fixture_ext4(LabelFixture *f) {
        g_autofree char *img = g_build_filename(f->dir, "ext4.img", NULL);
        g_autofree char *mkfs = g_strdup_printf("truncate -s 32M '%s' && mkfs.ext4 -q -F '%s' >/dev/null 2>&1", img, img);
        g_autofree char *mnt = g_strdup_printf("mount -o loop,nosuid,nodev '%s' '%s' 2>&1", img, f->files);
        if (system(mkfs) != 0) {
                print_message("# skipped: mkfs.ext4 of '%s' failed\n", img);
                return false;
        }
        if (system(mnt) != 0) {
                print_message("# skipped: cannot loop-mount '%s' (no loop device?)\n", img);
                return false;
        }
        return true;
}

LabelFixture *label_fixture_new(const char *tag, LabelFs fs) {
        static unsigned counter;
        LabelFixture *f = g_new0(LabelFixture, 1);
        f->dir = test_scratch_new(tag);
        f->files = g_build_filename(f->dir, "files", NULL);
        f->state = g_build_filename(f->dir, "state", NULL);
        f->cgroot = g_build_filename(f->dir, "cg", NULL);
        f->devdir = g_strdup_printf("/dev/shm/bulwark-labels-%d-%u", (int) getpid(), counter++);
        f->mounts = g_ptr_array_new_with_free_func(g_free);
        assert_int_equal(mkdir(f->files, 0755), 0);
        assert_int_equal(mkdir(f->cgroot, 0700), 0);
        assert_int_equal(mkdir(f->devdir, 0755), 0);
        if (fs == LABEL_FS_TMPFS) {
                if (mount("bulwark-labels", f->files, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") < 0)
                        fail_msg("tmpfs on '%s': %s", f->files, strerror(errno));
                f->mounted = true;
        } else if (!(f->mounted = label_fixture_ext4(f))) {
                label_fixture_free(f);
                return NULL;
        }
        g_autofree char *a = test_builddir_path("security/label/.libs");
        g_autofree char *b = test_builddir_path("tests/plugins/.libs");
        f->plugin_dir = g_strdup_printf("%s:%s", a, b);
        test_daemon_start(&f->lockd, f->dir, "lockd", NULL, NULL);
        return f;
}

void label_fixture_free(LabelFixture *f) {
        if (!f)
                return;
        if (f->lockd.pid > 0)
                test_daemon_stop(&f->lockd);
        test_daemon_clear(&f->lockd);
        if (f->mounted)
                (void) umount2(f->files, MNT_DETACH);
        for (guint i = 0; i < f->mounts->len; i++)
                (void) umount2(f->mounts->pdata[i], MNT_DETACH);
        g_ptr_array_unref(f->mounts);
        test_scratch_remove(f->devdir);
        test_scratch_remove(f->dir);
        g_free(f->files);
        g_free(f->state);
        g_free(f->cgroot);
        g_free(f->devdir);
        g_free(f->plugin_dir);
        free(f->dir);
        g_free(f);
}

char *label_fixture_mount(LabelFixture *f, const char *name, const char *type, const char *options) {
        g_autofree char *dir = g_build_filename(f->dir, name, NULL);
        assert_int_equal(mkdir(dir, 0755), 0);
        if (mount("bulwark-labels", dir, type, MS_NOSUID | MS_NODEV, options) < 0)
                fail_msg("%s on '%s': %s", type, dir, strerror(errno));
        g_ptr_array_add(f->mounts, g_strdup(dir));
        return g_steal_pointer(&dir);
}

BwManager *label_fixture_manager(LabelFixture *f, const char *plugins, const char *extra) {
        g_autofree char *markers = g_build_filename(f->dir, "markers", NULL);
        (void) g_mkdir_with_parents(markers, 0700);
        g_autofree char *conf = g_strdup_printf("[bulwark]\nlock-backend=lockd\nlock-timeout=5\n[lockd]\nsocket=%s\n"
                                                "[plugin:fake-files]\ndir=%s\n%s",
                                                f->lockd.socket_path, markers, extra ? extra : "");
        /* Each process its own file: processes starting guests at once
         * must not read another's half-written one (which would fall
         * back to the local lock backend). */
        g_autofree char *conf_name = g_strdup_printf("bulwark-%d.conf", (int) getpid());
        g_autofree char *conf_path = test_write_file(f->dir, conf_name, conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = plugins,
                        .state_dir = f->state, .cgroup_root = f->cgroot };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        return m;
}

static void label_fixture_originals(const char *path) {
        assert_int_equal(lchown(path, LABEL_ORIGINAL_UID, LABEL_ORIGINAL_GID), 0);
        assert_int_equal(lsetxattr(path, "security.selinux", LABEL_ORIGINAL_CONTEXT, sizeof(LABEL_ORIGINAL_CONTEXT), 0),
                         0);
}

char *label_fixture_file(LabelFixture *f, const char *name) {
        g_autofree char *path = g_build_filename(f->files, name, NULL);
        if (access(path, F_OK) < 0) {
                free(test_write_file(f->files, name, "bulwark label test data", -1));
                label_fixture_originals(path);
        }
        return g_steal_pointer(&path);
}

static char *label_fixture_tpm(LabelFixture *f, const char *name) {
        g_autofree char *dir = g_build_filename(f->files, name, NULL);
        if (access(dir, F_OK) == 0)
                return g_steal_pointer(&dir);
        g_autofree char *sub = g_build_filename(dir, "tpm2", NULL);
        assert_int_equal(g_mkdir_with_parents(sub, 0750), 0);
        label_fixture_originals(dir);
        label_fixture_originals(sub);
        free(test_write_file(sub, "tpm2-00.permall", "tpm state", -1));
        g_autofree char *state = g_build_filename(sub, "tpm2-00.permall", NULL);
        label_fixture_originals(state);
        return g_steal_pointer(&dir);
}

static char *label_fixture_node(LabelFixture *f, const char *name) {
        g_autofree char *path = g_build_filename(f->devdir, name, NULL);
        if (access(path, F_OK) < 0) {
                assert_true(test_node_make(path, S_IFCHR, makedev(1, 3)));
                label_fixture_originals(path);
        }
        return g_steal_pointer(&path);
}

/* A listening socket's file (bound, then closed) or a FIFO, as a VMM's
 * chardev backends leave them. */
static char *label_fixture_special(LabelFixture *f, const char *name, bool socket_file) {
        g_autofree char *path = g_build_filename(f->files, name, NULL);
        if (access(path, F_OK) == 0)
                return g_steal_pointer(&path);
        if (socket_file) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                assert_true(strlen(path) < sizeof(sa.sun_path));
                strcpy(sa.sun_path, path);
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_true(fd >= 0);
                assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
                close(fd);
        } else
                assert_int_equal(mkfifo(path, 0600), 0);
        label_fixture_originals(path);
        return g_steal_pointer(&path);
}

char *label_fixture_guest_text(LabelFixture *f, const char *name, const char *ro, const char *nvram) {
        g_autofree char *disk_name = g_strdup_printf("%s-disk.img", name);
        g_autofree char *serial_name = g_strdup_printf("%s-serial.log", name);
        g_autofree char *mem_name = g_strdup_printf("%s-memory.ram", name);
        g_autofree char *tpm_name = g_strdup_printf("%s-tpm", name);
        g_autofree char *node_name = g_strdup_printf("%s-null", name);
        g_autofree char *sock_name = g_strdup_printf("%s-monitor.sock", name), *fifo_name = g_strdup_printf("%s-pipe", name);
        g_autofree char *sock = label_fixture_special(f, sock_name, true), *fifo = label_fixture_special(f, fifo_name, false);
        g_autofree char *disk = label_fixture_file(f, disk_name), *iso = label_fixture_file(f, ro),
                        *serial = label_fixture_file(f, serial_name), *kernel = label_fixture_file(f, "vmlinuz"),
                        *initrd = label_fixture_file(f, "initrd.img"), *loader = label_fixture_file(f, "OVMF_CODE.fd"),
                        *vars = label_fixture_file(f, nvram), *mem = label_fixture_file(f, mem_name),
                        *tpm = label_fixture_tpm(f, tpm_name), *node = label_fixture_node(f, node_name);
        return g_strdup_printf("[guest]\nname=%s\nuser=107\ngroup=107\n"
                               "[disk:root]\npath=%s\n[disk:iso]\npath=%s\nreadonly=true\n"
                               "[chardev:serial0]\ntype=file\npath=%s\n[kernel]\nkernel=%s\ninitrd=%s\n"
                               "[firmware]\nloader=%s\nnvram=%s\n[tpm]\nstate=%s\n[memory]\nbacking=%s\n"
                               "[device:null]\npath=%s\naccess=rw\n[chardev:monitor]\ntype=socket\npath=%s\n"
                               "[chardev:pipe]\ntype=pipe\npath=%s\n[chardev:console]\ntype=pty\n",
                               name, disk, iso, serial, kernel, initrd, loader, vars, tpm, mem, node, sock, fifo);
}

char *label_fixture_small_guest_text(LabelFixture *f, const char *name) {
        g_autofree char *disk_name = g_strdup_printf("%s-disk.img", name);
        g_autofree char *tpm_name = g_strdup_printf("%s-tpm", name);
        g_autofree char *disk = label_fixture_file(f, disk_name), *iso = label_fixture_file(f, "small.iso"),
                        *tpm = label_fixture_tpm(f, tpm_name);
        return g_strdup_printf("[guest]\nname=%s\nuser=107\ngroup=107\n[disk:root]\npath=%s\n"
                               "[disk:iso]\npath=%s\nreadonly=true\n[tpm]\nstate=%s\n",
                               name, disk, iso, tpm);
}

BwGuest *label_fixture_guest(const char *text, const char *name) {
        BwGuest *g = NULL;
        BwError err = {};
        if (bw_guest_load_data(text, strlen(text), name, &g, &err) < 0)
                fail_msg("guest '%s': %s", name, err.message);
        return g;
}

static void label_fixture_walk(const char *path, GPtrArray *lines, int *records) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return;
        char context[256] = "";
        ssize_t n = lgetxattr(path, "security.selinux", context, sizeof(context) - 1);
        context[n > 0 ? n : 0] = '\0';
        char names[4096];
        ssize_t len = llistxattr(path, names, sizeof(names));
        GString *xattrs = g_string_new(NULL);
        for (ssize_t i = 0; i < len; i += (ssize_t) strlen(names + i) + 1)
                if (g_str_has_prefix(names + i, "trusted.bulwark.")) {
                        g_string_append_printf(xattrs, " %s", names + i);
                        (*records)++;
                }
        if (lines)
                g_ptr_array_add(lines, g_strdup_printf("%s %u:%u %o %s%s", path, (unsigned) st.st_uid,
                                                       (unsigned) st.st_gid, (unsigned) st.st_mode, context, xattrs->str));
        g_string_free(xattrs, TRUE);
        if (!S_ISDIR(st.st_mode))
                return;
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                label_fixture_walk(child, lines, records);
        }
}

static int label_fixture_compare(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *label_fixture_snapshot(LabelFixture *f) {
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        int records = 0;
        label_fixture_walk(f->files, lines, &records);
        label_fixture_walk(f->devdir, lines, &records);
        g_ptr_array_sort(lines, label_fixture_compare);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **) lines->pdata);
}

int label_fixture_count_records(LabelFixture *f) {
        int records = 0;
        label_fixture_walk(f->files, NULL, &records);
        label_fixture_walk(f->devdir, NULL, &records);
        return records;
}

char *label_fixture_owner(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return g_strdup("missing");
        return g_strdup_printf("%u:%u", (unsigned) st.st_uid, (unsigned) st.st_gid);
}

char *label_fixture_context(const char *path) {
        char context[256];
        ssize_t n = lgetxattr(path, "security.selinux", context, sizeof(context) - 1);
        if (n < 0)
                return g_strdup("(none)");
        if (n > 0 && context[n - 1] == '\0')
                n--;
        return g_strndup(context, (gsize) n);
}
