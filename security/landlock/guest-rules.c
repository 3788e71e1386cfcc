/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "guest-rules.h"
#include "ll-abi.h"

#define RIGHTS_READ LL_FS_READ_FILE
#define RIGHTS_RW (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE)
/* A directory the guest's process keeps files in (TPM state, hugepages):
 * its tree, with creating, removing and renaming inside one directory. */
#define RIGHTS_TREE (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_READ_DIR | LL_FS_REMOVE_FILE | \
                     LL_FS_REMOVE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_DIR)
/* hotplug-dirs: files a running guest may be given later, opened in place. */
#define RIGHTS_HOTPLUG (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_READ_DIR | LL_FS_IOCTL_DEV)

#define VFIO_CONTAINER "/dev/vfio/vfio"

const char *guest_rules_resource_ref(const BwResource *res, char *buf, size_t size) {
        const char *type = bw_resource_type_name(res->type);
        bool singleton = res->type == BW_RESOURCE_KERNEL || res->type == BW_RESOURCE_FIRMWARE ||
                         res->type == BW_RESOURCE_TPM || res->type == BW_RESOURCE_MEMORY;
        if (singleton)
                snprintf(buf, size, "%s", type);
        else
                snprintf(buf, size, "%s:%s", type, res->id ? res->id : "?");
        return buf;
}

/* The rights a device resource's access bits give; a hostdev node is
 * opened read-write.  ioctl is how devices are driven. */
static uint64_t guest_device_rights(const BwResource *res) {
        uint64_t access = LL_FS_IOCTL_DEV;
        unsigned bits = res->type == BW_RESOURCE_DEVICE ? res->access : BW_ACCESS_READ | BW_ACCESS_WRITE;
        if (bits & BW_ACCESS_READ)
                access |= LL_FS_READ_FILE;
        if (bits & BW_ACCESS_WRITE)
                access |= LL_FS_WRITE_FILE;
        return access;
}

/* The rights and the name of the role of one existing path. */
static uint64_t guest_role_rights(const BwResource *res, BwPathRole role, const struct stat *st, const char **ret_role) {
        uint64_t blk_ioctl = S_ISBLK(st->st_mode) ? LL_FS_IOCTL_DEV : 0;
        switch (role) {
        case BW_PATH_IMAGE:
                *ret_role = "read-write image";
                return RIGHTS_RW | blk_ioctl;
        case BW_PATH_IMAGE_READONLY:
                *ret_role = "read-only image";
                return RIGHTS_READ | blk_ioctl;
        case BW_PATH_BACKING:
                *ret_role = "backing file";
                return RIGHTS_READ | blk_ioctl;
        case BW_PATH_DEVICE_NODE:
                *ret_role = "device node";
                return guest_device_rights(res);
        case BW_PATH_CHARDEV:
                if (S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode)) {
                        *ret_role = S_ISSOCK(st->st_mode) ? "chardev socket" : "chardev pipe";
                        return LL_FS_READ_FILE | LL_FS_WRITE_FILE;
                }
                *ret_role = "chardev file";
                return RIGHTS_RW | (S_ISCHR(st->st_mode) ? LL_FS_IOCTL_DEV : 0);
        case BW_PATH_KERNEL:
                *ret_role = "kernel, initrd or loader";
                return RIGHTS_READ;
        case BW_PATH_NVRAM:
                *ret_role = "nvram";
                return RIGHTS_RW;
        case BW_PATH_STATE_DIR:
                *ret_role = "state directory tree";
                return RIGHTS_TREE;
        case BW_PATH_MEMORY:
                *ret_role = S_ISDIR(st->st_mode) ? "memory backing tree" : "memory backing file";
                return S_ISDIR(st->st_mode) ? RIGHTS_TREE : RIGHTS_RW;
        }
        *ret_role = "unknown role";
        return 0;
}

/* A chardev socket the guest's process will create (a server socket):
 * its directory may hold a new socket, nothing more. */
static int guest_missing_socket(const char *guest, const char *ref, const char *path, LlRuleList *out,
                                PluginError *err) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = '\0';
        else if (slash)
                *slash = '\0';
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return plugin_error_set(err, -ENOENT, "guest '%s': %s: socket '%s': its directory '%s' does not exist",
                                    guest, ref, path, dir);
        int r = rule_list_add(out, dir, LL_FS_MAKE_SOCK, ref, "directory of a chardev socket to create", false, 0);
        return r < 0 ? plugin_error_set(err, r, "guest '%s': %m", guest) : 0;
}

static int guest_path_rule(const BwGuestInfo *g, const BwResource *res, const char *path, BwPathRole role,
                           LlRuleList *out, PluginError *err) {
        char ref[160];
        struct stat st;
        guest_rules_resource_ref(res, ref, sizeof(ref));
        if (stat(path, &st) < 0) {
                int e = -errno;
                if (e == -ENOENT && role == BW_PATH_CHARDEV && res->chardev_type == BW_CHARDEV_SOCKET)
                        return guest_missing_socket(g->name, ref, path, out, err);
                if (e == -ENOENT)
                        return plugin_error_set(err, e, "guest '%s': %s: '%s' does not exist: Landlock grants access to existing files only (create it before the guest starts)",
                                            g->name, ref, path);
                return plugin_error_set(err, e, "guest '%s': %s: '%s': cannot look at it: %m", g->name, ref, path);
        }
        const char *what;
        uint64_t access = guest_role_rights(res, role, &st, &what);
        int r = rule_list_add(out, path, access, ref, what, false, 0);
        return r < 0 ? plugin_error_set(err, r, "guest '%s': %m", g->name) : 0;
}

/* The VFIO container node, which every VFIO device of the guest opens
 * (and a guest that may get one later, hotplug-vfio=true). */
static int guest_vfio_rule(const BwGuestInfo *g, LlRuleList *out, PluginError *err) {
        const char *source = NULL;
        char ref[160];
        for (size_t i = 0; i < g->n_resources && !source; i++)
                if (g->resources[i]->type == BW_RESOURCE_HOSTDEV && g->resources[i]->hostdev_type == BW_HOSTDEV_VFIO_PCI)
                        source = guest_rules_resource_ref(g->resources[i], ref, sizeof(ref));
        if (!source && g->hotplug_vfio)
                source = "hotplug-vfio";
        if (!source)
                return 0;
        struct stat st;
        if (stat(VFIO_CONTAINER, &st) < 0)
                return plugin_error_set(err, -errno, "guest '%s': %s: the VFIO container '%s': %m", g->name, source,
                                    VFIO_CONTAINER);
        int r = rule_list_add(out, VFIO_CONTAINER, LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_IOCTL_DEV, source,
                              "VFIO container", false, 0);
        return r < 0 ? plugin_error_set(err, r, "guest '%s': %m", g->name) : 0;
}

/* [guest] hotplug-dirs: each must exist now, its tree is granted. */
static int guest_hotplug_rules(const BwGuestInfo *g, LlRuleList *out, PluginError *err) {
        if (!BW_FIELD_VALID(g, hotplug_dirs))
                return 0;
        for (size_t i = 0; i < g->n_hotplug_dirs; i++) {
                const char *dir = g->hotplug_dirs[i];
                struct stat st;
                if (stat(dir, &st) < 0)
                        return plugin_error_set(err, -errno, "guest '%s': hotplug-dirs '%s': %m", g->name, dir);
                if (!S_ISDIR(st.st_mode))
                        return plugin_error_set(err, -ENOTDIR, "guest '%s': hotplug-dirs '%s': not a directory", g->name, dir);
                int r = rule_list_add(out, dir, RIGHTS_HOTPLUG, "hotplug-dirs", "hotplug directory tree", false, 0);
                if (r < 0)
                        return plugin_error_set(err, r, "guest '%s': %m", g->name);
        }
        return 0;
}

int guest_rules_build(const BwGuestInfo *g, const LlRuleList *base, LlRuleList *out, PluginError *err) {
        int r = base ? rule_list_extend(out, base) : 0;
        if (r < 0)
                return plugin_error_set(err, r, "guest '%s': %m", g->name);
        for (size_t i = 0; i < g->n_resources; i++) {
                const BwResource *res = g->resources[i];
                for (size_t k = 0; k < res->n_paths; k++) {
                        r = guest_path_rule(g, res, res->paths[k], res->roles[k], out, err);
                        if (r < 0)
                                return r;
                }
        }
        r = guest_vfio_rule(g, out, err);
        return r < 0 ? r : guest_hotplug_rules(g, out, err);
}
