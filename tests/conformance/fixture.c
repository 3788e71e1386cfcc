/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "fixture.h"
#include "guest.h"


/* The identity the generated guest runs as (libvirt-qemu on Debian). */
#define FIXTURE_GUEST_UID 107
#define FIXTURE_GUEST_GID 107

/* A label the SELinux plugin must give back, not just remove. */
#define FIXTURE_ORIGINAL_CONTEXT "system_u:object_r:virt_image_t:s0"

/* ---- Removing ---------------------------------------------------------- */

/* A plugin may have left a directory unreadable: open everything first. */
static int fixture_unlock_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_D || flag == FTW_DNR)
                (void) chmod(path, 0700);
        return 0;
}

static int fixture_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_DP)
                (void) rmdir(path);
        else
                (void) unlink(path);
        return 0;
}

static void fixture_remove_tree(const char *path) {
        if (!path)
                return;
        (void) nftw(path, fixture_unlock_one, 16, FTW_PHYS);
        (void) nftw(path, fixture_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* cgroup directories go leaves first; their files are the kernel's. */
static void fixture_remove_cgroup(const char *path) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        for (const char *name; d && (name = g_dir_read_name(d));) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                struct stat st;
                if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                        fixture_remove_cgroup(child);
        }
        if (rmdir(path) < 0 && errno != ENOENT)
                fprintf(stderr, "bulwark-conformance: cgroup '%s': cannot remove: %s\n", path, g_strerror(errno));
}

void fixture_free(Fixture *f) {
        if (!f)
                return;
        g_clear_pointer(&f->guest, bw_guest_free);
        g_clear_pointer(&f->settings, settings_free);
        g_clear_pointer(&f->scope, snapshot_scope_free);
        fixture_remove_tree(f->scratch);
        fixture_remove_tree(f->dev_scratch);
        if (f->cgroup_made)
                fixture_remove_cgroup(f->cgroup_made);
        for (guint i = 0; f->cgroups_absent && i < f->cgroups_absent->len; i++) {
                const char *path = f->cgroups_absent->pdata[i];
                if (i == 0)
                        fixture_remove_cgroup(path);
                else
                        (void) rmdir(path); /* a parent: only if nothing else is in it */
        }
        g_free(f->scratch);
        g_free(f->dev_scratch);
        g_free(f->state_dir);
        g_free(f->cgroup_root);
        g_free(f->cgroup_made);
        if (f->cgroups_absent)
                g_ptr_array_unref(f->cgroups_absent);
        g_free(f->guest_text);
        g_free(f->guest_source);
        g_free(f);
}

/* ---- Files of the generated guest -------------------------------------- */

static int fixture_mkdtemp(const char *parent, char **ret) {
        g_autofree char *path = g_build_filename(parent, "bulwark-conformance-XXXXXX", NULL);
        if (!g_mkdtemp_full(path, 0755))
                return -errno;
        *ret = g_steal_pointer(&path);
        return 0;
}

static int fixture_write(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (len > 0 && write(fd, data, len) != (ssize_t) len)
                return errno > 0 ? -errno : -EIO;
        if (fchmod(fd, mode) < 0) /* past the umask */
                return -errno;
        return 0;
}

static void be32_put(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

/* A qcow2 version 2 header naming `backing` (relative to the image's
 * directory), followed by the name: all bulwark ever reads of an image. */
static int fixture_write_qcow2(const char *path, const char *backing) {
        enum { HEADER = 72, SIZE = 4096 };
        uint8_t image[SIZE] = {};
        size_t n = strlen(backing);

        g_assert(HEADER + n <= SIZE);
        be32_put(image, 0x514649fb);                 /* "QFI\xfb" */
        be32_put(image + 4, 2);                      /* version */
        be32_put(image + 12, HEADER);                /* backing_file_offset (low half) */
        be32_put(image + 16, (uint32_t) n);          /* backing_file_size */
        be32_put(image + 20, 16);                    /* cluster_bits */
        be32_put(image + 28, 1u << 20);              /* size: 1 MiB (low half) */
        memcpy(image + HEADER, backing, n);
        return fixture_write(path, image, SIZE, 0640);
}

typedef struct FixtureFile {
        const char *name;
        mode_t mode;               /* 0: a directory of mode 0700 */
} FixtureFile;

static int fixture_make_files(const char *dir) {
        static const FixtureFile files[] = {
                { "base.img", 0644 },      { "data.img", 0644 },     { "hotplug.img", 0660 },
                { "serial.log", 0600 },    { "vmlinuz", 0644 },      { "initrd.img", 0644 },
                { "OVMF_CODE.fd", 0644 },  { "OVMF_VARS.fd", 0600 }, { "memory.ram", 0600 },
                { "tpm", 0 },
        };
        int r;

        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *path = g_build_filename(dir, files[i].name, NULL);
                if (files[i].mode == 0)
                        r = mkdir(path, 0700) < 0 ? -errno : 0;
                else
                        r = fixture_write(path, "bulwark-conformance\n", 20, files[i].mode);
                if (r < 0)
                        return r;
                /* An existing xattr of the guest's files must survive; best effort. */
                (void) lsetxattr(path, "user.bulwark-conformance", "fixture", 7, 0);
        }
        g_autofree char *root = g_build_filename(dir, "root.qcow2", NULL);
        r = fixture_write_qcow2(root, "base.img");
        if (r < 0)
                return r;
        if (geteuid() == 0)
                (void) lsetxattr(root, "security.selinux", FIXTURE_ORIGINAL_CONTEXT,
                                 sizeof(FIXTURE_ORIGINAL_CONTEXT), 0);
        return 0;
}

/* A device node the guest may open: a copy of /dev/null (c 1:3) under
 * /dev/shm, since device resources must be under /dev.  Root only. */
static int fixture_make_device(Fixture *f, char **ret_path) {
        *ret_path = NULL;
        if (geteuid() != 0 || !g_file_test("/dev/shm", G_FILE_TEST_IS_DIR))
                return 0;
        int r = fixture_mkdtemp("/dev/shm", &f->dev_scratch);
        if (r < 0)
                return r;
        g_autofree char *node = g_build_filename(f->dev_scratch, "null", NULL);
        if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) < 0)
                return 0; /* a container may refuse it: the guest goes without */
        (void) chmod(node, 0666);
        *ret_path = g_steal_pointer(&node);
        return 0;
}

/* A cgroup of the suite's own under the cgroup root, for the guest's
 * cgroup= key.  Root only; without one the guest has the default cgroup,
 * which nothing creates. */
static void fixture_make_cgroup(Fixture *f) {
        if (geteuid() != 0 || !f->cgroup_root)
                return;
        g_autofree char *name = g_strdup_printf("bulwark-conformance-%d-%08x", (int) getpid(), g_random_int());
        g_autofree char *path = g_build_filename(f->cgroup_root, name, NULL);
        if (mkdir(path, 0755) == 0)
                f->cgroup_made = g_steal_pointer(&path);
}

static char *fixture_guest_text(Fixture *f, const char *dir, const char *device) {
        GString *t = g_string_new(NULL);

        g_string_append_printf(t, "# The guest bulwark-conformance generated; its files are in %s.\n", dir);
        g_string_append_printf(t, "[guest]\nname=bwconf-%d\nuser=%d\ngroup=%d\n", (int) getpid(),
                               FIXTURE_GUEST_UID, FIXTURE_GUEST_GID);
        if (f->cgroup_made)
                g_string_append_printf(t, "cgroup=%s\n", f->cgroup_made);
        g_string_append_printf(t, "\n[disk:root]\npath=%s/root.qcow2\nformat=qcow2\n", dir);
        g_string_append_printf(t, "\n[disk:data]\npath=%s/data.img\nreadonly=true\n", dir);
        g_string_append_printf(t, "\n[chardev:serial0]\ntype=file\npath=%s/serial.log\n", dir);
        g_string_append_printf(t, "\n[kernel]\nkernel=%s/vmlinuz\ninitrd=%s/initrd.img\n", dir, dir);
        g_string_append_printf(t, "\n[firmware]\nloader=%s/OVMF_CODE.fd\nnvram=%s/OVMF_VARS.fd\n", dir, dir);
        g_string_append_printf(t, "\n[tpm]\nstate=%s/tpm\n", dir);
        g_string_append_printf(t, "\n[memory]\nbacking=%s/memory.ram\n", dir);
        g_string_append_printf(t, "\n[disk:hotplug]\npath=%s/hotplug.img\n", dir);
        /* Last: the resource the attach check takes away and gives back, a
         * device node when there is one (every plugin has a say on those). */
        if (device)
                g_string_append_printf(t, "\n[device:null]\npath=%s\naccess=rw\n", device);
        return g_string_free(t, FALSE);
}

/* ---- The guest --------------------------------------------------------- */

static int fixture_parse(const Fixture *f, const char *text, const char *source, BwGuest **ret,
                         BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;
        int r = bw_guest_load_data(text, strlen(text), source, &g, reterr);
        if (r < 0)
                return r;
        if (f->cgroup_root) {
                r = guest_resolve_cgroup(g, f->cgroup_root);
                if (r < 0)
                        return error_set(reterr, r, "guest '%s': cannot place its cgroup under '%s': %m",
                                         guest_get_name(g), f->cgroup_root);
        }
        *ret = g_steal_pointer(&g);
        return 0;
}

static int fixture_load_guest(Fixture *f, const FixtureOptions *o, BwError *reterr) {
        g_autofree char *device = NULL;
        int r;

        if (o->guest_path) {
                g_autoptr(BwGuest) g = NULL;
                r = bw_guest_load_file(o->guest_path, &g, reterr);
                if (r < 0)
                        return r;
                f->guest_text = g_strdup(guest_get_text(g));
                f->guest_source = g_strdup(o->guest_path);
        } else {
                g_autofree char *dir = g_build_filename(f->scratch, "guest", NULL);
                if (mkdir(dir, 0755) < 0)
                        return error_set(reterr, -errno, "scratch directory '%s': cannot create: %m", dir);
                r = fixture_make_files(dir);
                if (r < 0)
                        return error_set(reterr, r, "scratch directory '%s': cannot create the guest's files: %m", dir);
                r = fixture_make_device(f, &device);
                if (r < 0)
                        return error_set(reterr, r, "/dev/shm: cannot create a scratch directory: %m");
                if (!o->cgroup_root)
                        fixture_make_cgroup(f);
                f->guest_text = fixture_guest_text(f, dir, device);
                f->guest_source = g_build_filename(f->scratch, "guest.conf", NULL);
                r = fixture_write(f->guest_source, f->guest_text, strlen(f->guest_text), 0644);
                if (r < 0)
                        return error_set(reterr, r, "'%s': cannot write: %m", f->guest_source);
        }
        return fixture_parse(f, f->guest_text, f->guest_source, &f->guest, reterr);
}

static int fixture_load_settings(Fixture *f, const FixtureOptions *o, BwError *reterr) {
        g_autofree char *config = NULL, *run_dir = g_build_filename(f->scratch, "run", NULL);

        f->state_dir = o->state_dir ? g_strdup(o->state_dir) : g_build_filename(f->scratch, "state", NULL);
        if (!o->config_path) {
                config = g_build_filename(f->scratch, "bulwark.conf", NULL);
                int r = fixture_write(config, "", 0, 0644);
                if (r < 0)
                        return error_set(reterr, r, "'%s': cannot write: %m", config);
        }
        if (!o->state_dir && mkdir(f->state_dir, 0700) < 0)
                return error_set(reterr, -errno, "'%s': cannot create: %m", f->state_dir);
        if (mkdir(run_dir, 0755) < 0)
                return error_set(reterr, -errno, "'%s': cannot create: %m", run_dir);

        BwOptions options = {
                .config_path = o->config_path ? o->config_path : config,
                .state_dir = f->state_dir,
                .run_dir = run_dir,
                .cgroup_root = o->cgroup_root,
        };
        int r = settings_load(&options, &f->settings, reterr);
        if (r < 0)
                return r;
        f->cgroup_root = g_strdup(f->settings->cgroup_root); /* configured or discovered */
        return 0;
}

static void fixture_note_absent_cgroups(Fixture *f, const char *cgroup) {
        g_autofree char *path = g_strdup(cgroup);

        f->cgroups_absent = g_ptr_array_new_with_free_func(g_free);
        while (f->cgroup_root && g_str_has_prefix(path, f->cgroup_root) && strcmp(path, f->cgroup_root) != 0 &&
               access(path, F_OK) < 0 && errno == ENOENT) {
                char *parent = g_path_get_dirname(path);
                g_ptr_array_add(f->cgroups_absent, g_steal_pointer(&path));
                path = parent;
        }
}

/* The host as the checks see it: the scratch directory (guest files,
 * state, run directory), the device directory, every guest path outside
 * them, the directories to watch and the guest's cgroup. */
static void fixture_build_scope(Fixture *f, const FixtureOptions *o) {
        const BwGuestInfo *info = bw_guest_info(f->guest);

        f->scope = snapshot_scope_new();
        snapshot_scope_add_tree(f->scope, f->scratch);
        if (f->dev_scratch)
                snapshot_scope_add_tree(f->scope, f->dev_scratch);
        if (o->state_dir)
                snapshot_scope_add_tree(f->scope, o->state_dir);
        for (char **w = o->watch; w && *w; w++)
                snapshot_scope_add_tree(f->scope, *w);
        for (size_t i = 0; i < info->n_resources; i++) {
                const BwResource *res = info->resources[i];
                for (size_t j = 0; j < res->n_paths; j++)
                        snapshot_scope_add_path(f->scope, res->paths[j]);
        }
        if (info->cgroup) {
                snapshot_scope_add_cgroup(f->scope, info->cgroup);
                fixture_note_absent_cgroups(f, info->cgroup);
        }
}

int fixture_new(const FixtureOptions *o, Fixture **ret, BwError *reterr) {
        g_autoptr(Fixture) f = g_new0(Fixture, 1);
        const char *tmp = g_getenv("TMPDIR");
        int r;

        r = fixture_mkdtemp(tmp && *tmp ? tmp : "/tmp", &f->scratch);
        if (r < 0)
                return error_set(reterr, r, "'%s': cannot create a scratch directory: %m", tmp && *tmp ? tmp : "/tmp");
        r = fixture_load_settings(f, o, reterr);
        if (r < 0)
                return r;
        r = fixture_load_guest(f, o, reterr);
        if (r < 0)
                return r;
        fixture_build_scope(f, o);
        *ret = g_steal_pointer(&f);
        return 0;
}

int fixture_guest_without(const Fixture *f, size_t index, BwGuest **ret, BwError *reterr) {
        const BwGuestInfo *info = bw_guest_info(f->guest);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) gerr = NULL;

        g_assert(index < info->n_resources);
        const BwResource *res = info->resources[index];
        const char *type = bw_resource_type_to_string(res->type);
        g_autofree char *typed = g_strdup_printf("%s:%s", type, res->id);
        if (!g_key_file_load_from_data(kf, f->guest_text, (gsize) -1, G_KEY_FILE_NONE, &gerr))
                return error_set(reterr, -EINVAL, "%s: %s", f->guest_source, gerr->message);
        const char *group = g_key_file_has_group(kf, typed) ? typed : type;
        if (!g_key_file_remove_group(kf, group, NULL))
                return error_set(reterr, -ENOENT, "%s: no group [%s] or [%s]", f->guest_source, typed, type);

        g_autofree char *text = g_key_file_to_data(kf, NULL, NULL);
        g_autofree char *source = g_strdup_printf("%s without [%s]", f->guest_source, group);
        return fixture_parse(f, text, source, ret, reterr);
}
