/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "aa-test-guest.h"
#include "test-util.h"

/* Test fixtures live for the whole run: one arena, freed at exit. */
static GPtrArray *arena(void) {
        static GPtrArray *a;
        if (!a)
                a = g_ptr_array_new();
        return a;
}

static void *keep(void *p) {
        g_ptr_array_add(arena(), p);
        return p;
}

/* A copy of n elements of `size` bytes, with room for one more (zeroed),
 * so an empty array is a valid pointer too. */
static void *copy_n(const void *src, size_t n, size_t size) {
        void *p = keep(g_malloc0((n + 1) * size));
        if (n)
                memcpy(p, src, n * size);
        return p;
}

static BwResource *res_new(BwResourceType type, const char *id, size_t n, const char *const *paths,
                           const BwPathRole *roles) {
        BwResource *r = keep(g_new0(BwResource, 1));
        r->size = sizeof(*r);
        r->type = type;
        r->id = id;
        r->path = n ? paths[0] : NULL;
        r->n_paths = n;
        r->paths = copy_n(paths, n, sizeof(*paths));
        r->roles = copy_n(roles, n, sizeof(*roles));
        return r;
}

static BwResource *res1(BwResourceType type, const char *id, const char *path, BwPathRole role) {
        return res_new(type, id, 1, (const char *const[]){ path }, (const BwPathRole[]){ role });
}

const BwResource *aa_test_vfio(const char *id, const char *group) {
        char *node = keep(g_strdup_printf("/dev/vfio/%s", group));
        BwResource *r = res1(BW_RESOURCE_HOSTDEV, id, node, BW_PATH_DEVICE_NODE);
        r->hostdev_type = BW_HOSTDEV_VFIO_PCI;
        r->pci_address = "0000:01:00.0";
        return r;
}

static BwGuestInfo *guest_new(const char *name, const char *uuid, bool hotplug, size_t n,
                              const BwResource *const *res) {
        BwGuestInfo *g = keep(g_new0(BwGuestInfo, 1));
        g->size = sizeof(*g);
        g->name = name;
        g->uuid = uuid;
        g->uid = 107;
        g->gid = 107;
        g->cgroup = "/sys/fs/cgroup/bulwark/test";
        g->hotplug_vfio = hotplug;
        g->n_resources = n;
        g->resources = copy_n(res, n, sizeof(*res));
        return g;
}

const BwGuestInfo *aa_test_guest_every_resource(void) {
        BwResource *disk = res_new(BW_RESOURCE_DISK, "root", 3,
                                   (const char *const[]){ "/var/lib/bulwark/images/every.qcow2",
                                                          "/var/lib/bulwark/images/base-1.qcow2",
                                                          "/var/lib/bulwark/images/base 0 [golden].qcow2" },
                                   (const BwPathRole[]){ BW_PATH_IMAGE, BW_PATH_BACKING, BW_PATH_BACKING });
        BwResource *iso = res1(BW_RESOURCE_DISK, "install", "/srv/iso/debian*12?.iso", BW_PATH_IMAGE_READONLY);
        iso->readonly = true;
        BwResource *tun = res1(BW_RESOURCE_DEVICE, "tun", "/dev/net/tun", BW_PATH_DEVICE_NODE);
        tun->access = BW_ACCESS_READ | BW_ACCESS_WRITE;
        BwResource *rng = res1(BW_RESOURCE_DEVICE, "rng", "/dev/hwrng", BW_PATH_DEVICE_NODE);
        rng->access = BW_ACCESS_READ;
        BwResource *usb = res1(BW_RESOURCE_HOSTDEV, "token", "/dev/bus/usb/001/004", BW_PATH_DEVICE_NODE);
        usb->hostdev_type = BW_HOSTDEV_USB;
        BwResource *sg = res1(BW_RESOURCE_HOSTDEV, "tape", "/dev/sg2", BW_PATH_DEVICE_NODE);
        sg->hostdev_type = BW_HOSTDEV_SCSI_GENERIC;
        BwResource *log = res1(BW_RESOURCE_CHARDEV, "log", "/var/log/bulwark/every,serial.log", BW_PATH_CHARDEV);
        log->chardev_type = BW_CHARDEV_FILE;
        BwResource *sock = res1(BW_RESOURCE_CHARDEV, "qga", "/run/bulwark/every/qga.sock", BW_PATH_CHARDEV);
        sock->chardev_type = BW_CHARDEV_SOCKET;
        BwResource *pipe = res1(BW_RESOURCE_CHARDEV, "mon", "/run/bulwark/every/mon", BW_PATH_CHARDEV);
        pipe->chardev_type = BW_CHARDEV_PIPE;
        BwResource *pty = res_new(BW_RESOURCE_CHARDEV, "serial0", 0, (const char *const[]){ NULL },
                                  (const BwPathRole[]){ 0 });
        pty->chardev_type = BW_CHARDEV_PTY;
        BwResource *kernel = res_new(BW_RESOURCE_KERNEL, "kernel", 2,
                                     (const char *const[]){ "/boot/vmlinuz-6.1.0-21-amd64", "/boot/initrd.img-6.1.0-21-amd64" },
                                     (const BwPathRole[]){ BW_PATH_KERNEL, BW_PATH_KERNEL });
        BwResource *fw = res_new(BW_RESOURCE_FIRMWARE, "firmware", 2,
                                 (const char *const[]){ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/var/lib/bulwark/nvram/every_VARS.fd" },
                                 (const BwPathRole[]){ BW_PATH_KERNEL, BW_PATH_NVRAM });
        BwResource *tpm = res1(BW_RESOURCE_TPM, "tpm", "/var/lib/bulwark/swtpm/every", BW_PATH_STATE_DIR);
        BwResource *mem = res1(BW_RESOURCE_MEMORY, "memory", "/dev/hugepages/bulwark-every-missing/mem", BW_PATH_MEMORY);
        const BwResource *all[] = { disk, iso, tun, rng, aa_test_vfio("gpu", "12"), aa_test_vfio("gpu-audio", "12"),
                                    usb, sg, log, sock, pipe, pty, kernel, fw, tpm, mem };
        return guest_new("every", "6c1d3a6e-0b7a-4a51-9a43-3c2f6f0e4b11", false, G_N_ELEMENTS(all), all);
}

const BwGuestInfo *aa_test_guest_hotplug(void) {
        const BwResource *disk = res1(BW_RESOURCE_DISK, "root", "/var/lib/bulwark/images/hp.img", BW_PATH_IMAGE);
        return guest_new("hotplug", "0f8e2c1a-6d7b-4e3f-8a29-5b4c3d2e1f00", true, 1, &disk);
}

const BwGuestInfo *aa_test_guest_plus(const BwGuestInfo *g, const BwResource *extra) {
        g_autofree const BwResource **all = g_new0(const BwResource *, g->n_resources + 1);
        memcpy(all, g->resources, g->n_resources * sizeof(*all));
        all[g->n_resources] = extra;
        return guest_new(g->name, g->uuid, g->hotplug_vfio, g->n_resources + 1, all);
}

AaConfig aa_test_config(const char *profile_dir) {
        return (AaConfig){
                .profile_dir = profile_dir,
                .template_path = keep(test_srcdir_path("policy/apparmor/TEMPLATE.guest")),
                .parser = {
                        .parser = APPARMOR_PARSER,
                        .features = aa_parser_features(NULL),
                        .include_dir = keep(test_srcdir_path("policy/apparmor")),
                },
                .kernel_enabled = false,
        };
}

void aa_test_require_parser(void) {
        if (access(APPARMOR_PARSER, X_OK) < 0)
                test_skip_all("%s is not installed (Debian package apparmor)", APPARMOR_PARSER);
}
