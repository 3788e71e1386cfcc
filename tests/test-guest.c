/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest definitions: every resource type, the examples, every error with
 * its file:line location, hostile input (garbage, NUL bytes, huge values,
 * long lines, many resources) and the unresolved-resource rules. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <glib.h>

#include "guest-parse.h"
#include "guest-record.h"
#include "guest.h"
#include "test-util.h"

/* guest.h leaves it out because manager.c defines its own. */

static char *scratch;
static char *sysfs;

/* The [guest] group most cases start with: lines 1 to 4. */
#define G "[guest]\nname=t\nuser=107\ngroup=107\n"

static int parse(const char *text, size_t len, BwGuest **ret, BwError *err) {
        GuestParseOptions o = { .sysfs_root = sysfs };
        return guest_parse(text, len, "t.guest", &o, ret, err);
}

static BwGuest *load_ok(const char *text) {
        BwGuest *g = NULL;
        BwError err = {};
        if (parse(text, strlen(text), &g, &err) < 0)
                fail_msg("guest_parse: %s", err.message);
        return g;
}

static void load_fails_len(const char *text, size_t len, int code, const char *fragment) {
        BwGuest *g = NULL;
        BwError err = {};
        int r = parse(text, len, &g, &err);
        if (r != code)
                fail_msg("expected %d, got %d (%s)", code, r, err.message);
        assert_null(g);
        assert_int_equal(err.code, code);
        if (!strstr(err.message, fragment))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
        /* Every message starts with the source. */
        assert_true(g_str_has_prefix(err.message, "t.guest"));
}

static void load_fails(const char *text, int code, const char *fragment) {
        load_fails_len(text, strlen(text), code, fragment);
}

static const BwResource *resource(const BwGuest *g, size_t i) {
        const BwGuestInfo *info = bw_guest_info(g);
        assert_true(i < info->n_resources);
        return info->resources[i];
}

static void assert_path(const BwResource *r, size_t i, const char *path, BwPathRole role) {
        assert_true(i < r->n_paths);
        assert_string_equal(r->paths[i], path);
        assert_int_equal(r->roles[i], role);
}

/* A qcow2 v3 image, optionally naming a backing file and its format. */
static char *qcow2_write_format(const char *name, const char *backing, const char *format) {
        uint8_t buf[1024] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
        size_t off = 104;
        buf[23] = 16;  /* cluster_bits */
        buf[99] = 4;   /* refcount_order */
        buf[103] = 104; /* header_length */
        if (format) {
                /* the backing-format extension, padded to 8 bytes */
                const uint8_t type[4] = { 0xe2, 0x79, 0x2a, 0xca };
                memcpy(buf + off, type, 4);
                buf[off + 7] = (uint8_t) strlen(format);
                memcpy(buf + off + 8, format, strlen(format));
                off += 8 + ((strlen(format) + 7) & ~(size_t) 7);
        }
        off += 8; /* end marker */
        if (backing) {
                buf[15] = (uint8_t) off; /* backing_file_offset */
                buf[19] = (uint8_t) strlen(backing);
                memcpy(buf + off, backing, strlen(backing));
        }
        return test_write_file(scratch, name, buf, sizeof(buf));
}

static char *qcow2_write(const char *name, const char *backing) {
        return qcow2_write_format(name, backing, NULL);
}

/* ---- Valid definitions ------------------------------------------------- */

static void test_guest_parse_minimal(void **state) {
        g_autoptr(BwGuest) g = load_ok(G);
        const BwGuestInfo *info = bw_guest_info(g);
        assert_string_equal(info->name, "t");
        /* uuid5(5f3cf790-374f-4cdb-9cf6-f857c8a6f72b, "t"), by Python's uuid module */
        assert_string_equal(info->uuid, "8cae9951-4e43-5d0b-ab8c-4882620d8c69");
        assert_int_equal(info->uid, 107);
        assert_int_equal(info->gid, 107);
        assert_null(info->cgroup);
        assert_false(info->cgroup_given);
        assert_false(info->hotplug_vfio);
        assert_int_equal(info->n_resources, 0);
        assert_string_equal(guest_get_name(g), "t");
        assert_string_equal(guest_get_source(g), "t.guest");
        assert_string_equal(guest_get_text(g), G);
        assert_int_equal(guest_get_n_unresolved(g), 0);
        assert_int_equal(guest_check_resolved(g, NULL), 0);
}

/* [guest] hotplug-dirs: ';'-separated, normalized, a trailing ';' allowed;
 * absent means none. */
static void test_guest_parse_hotplug_dirs(void **state) {
        (void) state;
        g_autoptr(BwGuest) a = load_ok("[guest]\nname=t\nuser=1\ngroup=1\nhotplug-dirs=/srv//hot/;/var/lib/x;\n");
        const BwGuestInfo *info = bw_guest_info(a);
        assert_int_equal(info->n_hotplug_dirs, 2);
        assert_string_equal(info->hotplug_dirs[0], "/srv/hot");
        assert_string_equal(info->hotplug_dirs[1], "/var/lib/x");
        g_autoptr(BwGuest) b = load_ok("[guest]\nname=t\nuser=1\ngroup=1\n");
        assert_int_equal(bw_guest_info(b)->n_hotplug_dirs, 0);
}

/* [guest] groups: names and numbers, ';'-separated like hotplug-dirs,
 * looked up at load; absent means none. */
static void test_guest_parse_groups(void **state) {
        (void) state;
        g_autoptr(BwGuest) a = load_ok(G "groups=root;4242;\n");
        const BwGuestInfo *info = bw_guest_info(a);
        assert_int_equal(info->n_groups, 2);
        assert_int_equal(info->groups[0], 0);
        assert_int_equal(info->groups[1], 4242);
        assert_int_equal(guest_get_n_unresolved(a), 0);
        g_autoptr(BwGuest) b = load_ok(G);
        assert_int_equal(bw_guest_info(b)->n_groups, 0);
}

/* A group name the host does not know (no `kvm` group without udev's
 * packages) leaves the guest loadable but unresolved, listed before the
 * resources' messages; the groups that were found stay. */
static void test_guest_parse_groups_unknown(void **state) {
        (void) state;
        g_autofree char *text = g_strdup_printf(G "groups=4242;no-such-group-bw\n[disk:a]\npath=%s/gone.qcow2\nformat=qcow2\n",
                                                scratch);
        g_autoptr(BwGuest) g = load_ok(text);
        BwError err = {};
        assert_int_equal(bw_guest_info(g)->n_groups, 1);
        assert_int_equal(bw_guest_info(g)->groups[0], 4242);
        assert_int_equal(guest_get_n_unresolved(g), 2);
        assert_string_equal(guest_get_unresolved(g, 0),
                            "t.guest:5: [guest] key 'groups': unknown group 'no-such-group-bw': the guest's process cannot join it");
        assert_true(g_str_has_prefix(guest_get_unresolved(g, 1), "t.guest:7: [disk:a] "));
        assert_int_equal(guest_check_resolved(g, &err), -ENODEV);
        assert_string_equal(err.message, guest_get_unresolved(g, 0));
}

/* The journal's record keeps the groups as resolved at start. */
static void test_guest_record_groups(void **state) {
        (void) state;
        g_autoptr(BwGuest) g = load_ok(G "groups=4242;0\n");
        g_autoptr(GVariant) v = guest_record_build(bw_guest_info(g), "/sys/fs/cgroup", 1);
        g_autoptr(GuestRecord) rec = NULL;
        assert_int_equal(guest_record_load(v, guest_get_text(g), "t.journal", &rec, NULL), 0);
        const BwGuestInfo *info = bw_guest_info(rec->guest);
        assert_int_equal(info->n_groups, 2);
        assert_int_equal(info->groups[0], 4242);
        assert_int_equal(info->groups[1], 0);
        g_autoptr(BwGuest) none = load_ok(G);
        g_autoptr(GVariant) v2 = guest_record_build(bw_guest_info(none), "/sys/fs/cgroup", 1);
        g_autoptr(GuestRecord) rec2 = NULL;
        assert_int_equal(guest_record_load(v2, guest_get_text(none), "t.journal", &rec2, NULL), 0);
        assert_int_equal(bw_guest_info(rec2->guest)->n_groups, 0);
}

static void test_guest_parse_identity(void **state) {
        g_autoptr(BwGuest) a = load_ok("[guest]\nname=demo\nuser=root\ngroup=root\nhotplug-vfio=true\n"
                                       "cgroup=/sys/fs/cgroup//machine.slice/demo/\n");
        const BwGuestInfo *info = bw_guest_info(a);
        assert_string_equal(info->uuid, "c384adc2-d594-5366-8eaa-b95def14f19e");
        assert_int_equal(info->uid, 0);
        assert_int_equal(info->gid, 0);
        assert_true(info->hotplug_vfio);
        assert_true(info->cgroup_given);
        assert_string_equal(info->cgroup, "/sys/fs/cgroup/machine.slice/demo");
        g_autoptr(BwGuest) b = load_ok("[guest]\nname=x\nuuid=3F0C9A6E-52B1-4C4E-9D8E-2A7D1F6B9C01\n"
                                       "user=0\ngroup=4294967294\n");
        assert_string_equal(bw_guest_info(b)->uuid, "3f0c9a6e-52b1-4c4e-9d8e-2a7d1f6b9c01");
        assert_int_equal(bw_guest_info(b)->gid, 4294967294u);
}

static void test_guest_parse_every_type(void **state) {
        g_autoptr(BwGuest) g = load_ok(
                G "[disk:root]\npath=/img/root.raw\n"
                "[disk:cd]\npath=/img/cd.iso\nreadonly=true\nshared=true\nformat=raw\n"
                "[hostdev:tok]\ntype=usb\nbus=001\ndevice=4\n"
                "[hostdev:sg]\ntype=scsi-generic\npath=/dev/sg2\n"
                "[device:tun]\npath=/dev/net/tun\n"
                "[device:kmsg]\npath=/dev/kmsg\naccess=rm\n"
                "[chardev:log]\ntype=file\npath=/var/log/t.log\n"
                "[chardev:mon]\ntype=socket\npath=/run/t.sock\n"
                "[chardev:p]\ntype=pipe\npath=/run/t.fifo\n"
                "[chardev:con]\ntype=pty\n"
                "[kernel]\nkernel=/boot/vmlinuz\ninitrd=/boot/initrd\n"
                "[firmware]\nloader=/fw/CODE.fd\nnvram=/fw/VARS.fd\n"
                "[tpm]\nstate=/var/lib/tpm/t\n"
                "[memory]\nbacking=/dev/hugepages/t\n");
        const BwResource *r;
        assert_int_equal(bw_guest_info(g)->n_resources, 14);
        r = resource(g, 0);
        assert_int_equal(r->type, BW_RESOURCE_DISK);
        assert_string_equal(r->id, "root");
        assert_false(r->readonly);
        assert_int_equal(r->n_paths, 1);
        assert_path(r, 0, "/img/root.raw", BW_PATH_IMAGE);
        r = resource(g, 1);
        assert_true(r->readonly && r->shared);
        assert_path(r, 0, "/img/cd.iso", BW_PATH_IMAGE_READONLY);
        r = resource(g, 2);
        assert_int_equal(r->hostdev_type, BW_HOSTDEV_USB);
        assert_int_equal(r->usb_bus, 1);
        assert_int_equal(r->usb_device, 4);
        assert_path(r, 0, "/dev/bus/usb/001/004", BW_PATH_DEVICE_NODE);
        r = resource(g, 3);
        assert_int_equal(r->hostdev_type, BW_HOSTDEV_SCSI_GENERIC);
        assert_path(r, 0, "/dev/sg2", BW_PATH_DEVICE_NODE);
        r = resource(g, 4);
        assert_int_equal(r->access, BW_ACCESS_READ | BW_ACCESS_WRITE);
        assert_path(r, 0, "/dev/net/tun", BW_PATH_DEVICE_NODE);
        r = resource(g, 5);
        assert_int_equal(r->access, BW_ACCESS_READ | BW_ACCESS_MKNOD);
        assert_true(r->readonly);
        for (size_t i = 6; i <= 8; i++)
                assert_int_equal(resource(g, i)->roles[0], BW_PATH_CHARDEV);
        assert_int_equal(resource(g, 6)->chardev_type, BW_CHARDEV_FILE);
        assert_int_equal(resource(g, 7)->chardev_type, BW_CHARDEV_SOCKET);
        assert_int_equal(resource(g, 8)->chardev_type, BW_CHARDEV_PIPE);
        r = resource(g, 9);
        assert_int_equal(r->chardev_type, BW_CHARDEV_PTY);
        assert_null(r->path);
        assert_int_equal(r->n_paths, 0);
        assert_non_null(r->paths);
        r = resource(g, 10);
        assert_string_equal(r->id, "kernel");
        assert_true(r->readonly);
        assert_path(r, 0, "/boot/vmlinuz", BW_PATH_KERNEL);
        assert_path(r, 1, "/boot/initrd", BW_PATH_KERNEL);
        r = resource(g, 11);
        assert_string_equal(r->path, "/fw/CODE.fd");
        assert_path(r, 0, "/fw/CODE.fd", BW_PATH_KERNEL);
        assert_path(r, 1, "/fw/VARS.fd", BW_PATH_NVRAM);
        assert_path(resource(g, 12), 0, "/var/lib/tpm/t", BW_PATH_STATE_DIR);
        assert_path(resource(g, 13), 0, "/dev/hugepages/t", BW_PATH_MEMORY);
}

static void test_guest_parse_syntax_variants(void **state) {
        /* Comments, blank lines, indentation, CRLF, spaces around '=',
         * GKeyFile escapes, empty optional values, slashes dropped. */
        g_autoptr(BwGuest) g = load_ok("# head\r\n\r\n  [guest]  \r\n\tname = t\r\nuser=107\r\ngroup=107\r\n"
                                       "uuid=\r\n[kernel]\r\n  # indented comment\r\nkernel=//boot///my\\svmlinuz/\r\n"
                                       "initrd=\r\n[firmware]\nnvram=/fw/VARS.fd");
        assert_string_equal(bw_guest_info(g)->uuid, "8cae9951-4e43-5d0b-ab8c-4882620d8c69");
        const BwResource *k = resource(g, 0);
        assert_int_equal(k->n_paths, 1);
        assert_path(k, 0, "/boot/my vmlinuz", BW_PATH_KERNEL);
        const BwResource *fw = resource(g, 1);
        assert_false(fw->readonly);
        assert_path(fw, 0, "/fw/VARS.fd", BW_PATH_NVRAM);
}

static void test_guest_load_file_examples(void **state) {
        g_autofree char *dir = test_srcdir_path("examples");
        DIR *d = opendir(dir);
        int n = 0;
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));) {
                if (!g_str_has_suffix(e->d_name, ".guest"))
                        continue;
                g_autofree char *path = g_build_filename(dir, e->d_name, NULL);
                g_autoptr(BwGuest) g = NULL;
                BwError err = {};
                if (bw_guest_load_file(path, &g, &err) < 0)
                        fail_msg("%s", err.message);
                /* A VFIO device either resolved or says why not. */
                const BwGuestInfo *info = bw_guest_info(g);
                for (size_t i = 0; i < info->n_resources; i++)
                        if (info->resources[i]->hostdev_type == BW_HOSTDEV_VFIO_PCI && !info->resources[i]->path)
                                assert_true(guest_get_n_unresolved(g) > 0);
                n++;
        }
        closedir(d);
        assert_true(n >= 5);
        g_autofree char *demo = test_srcdir_path("examples/demo.guest");
        g_autoptr(BwGuest) g = NULL;
        assert_int_equal(bw_guest_load_file(demo, &g, NULL), 0);
        assert_string_equal(bw_guest_info(g)->name, "demo");
        assert_string_equal(guest_get_source(g), demo);

        /* qemu.guest's groups=kvm: the group's id, or unresolved naming it. */
        g_autofree char *qemu = test_srcdir_path("examples/qemu.guest");
        g_autoptr(BwGuest) q = NULL;
        assert_int_equal(bw_guest_load_file(qemu, &q, NULL), 0);
        struct group *kvm = getgrnam("kvm");
        if (kvm) {
                assert_int_equal(bw_guest_info(q)->n_groups, 1);
                assert_int_equal(bw_guest_info(q)->groups[0], kvm->gr_gid);
        } else {
                assert_int_equal(bw_guest_info(q)->n_groups, 0);
                assert_non_null(strstr(guest_get_unresolved(q, 0), "[guest] key 'groups': unknown group 'kvm'"));
        }
}

/* ---- Host lookups: VFIO groups and qcow2 chains ------------------------ */

static void test_guest_parse_vfio_group(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n"
                                         "[hostdev:audio]\ntype=vfio-pci\naddress=0000:0A:1F.7\n");
        const BwResource *gpu = resource(g, 0), *audio = resource(g, 1);
        assert_int_equal(gpu->hostdev_type, BW_HOSTDEV_VFIO_PCI);
        assert_string_equal(gpu->pci_address, "0000:01:00.0");
        assert_string_equal(gpu->path, "/dev/vfio/12");
        assert_path(gpu, 0, "/dev/vfio/12", BW_PATH_DEVICE_NODE);
        assert_string_equal(audio->pci_address, "0000:0a:1f.7");
        assert_path(audio, 0, "/dev/vfio/7", BW_PATH_DEVICE_NODE);
        assert_int_equal(guest_get_n_unresolved(g), 0);
}

static void test_guest_parse_vfio_unresolved(void **state) {
        BwError err = {};
        g_autoptr(BwGuest) g = load_ok(G "[hostdev:gone]\ntype=vfio-pci\naddress=0000:02:00.0\n"
                                         "[hostdev:noiommu]\ntype=vfio-pci\naddress=0000:03:00.0\n");
        assert_null(resource(g, 0)->path);
        assert_int_equal(resource(g, 0)->n_paths, 0);
        assert_int_equal(resource(g, 1)->n_paths, 0);
        assert_int_equal(guest_get_n_unresolved(g), 2);
        assert_string_equal(guest_get_unresolved(g, 0),
                            "t.guest:7: [hostdev:gone] PCI device 0000:02:00.0 is not present: its VFIO group is not known");
        assert_non_null(strstr(guest_get_unresolved(g, 1), "t.guest:10: [hostdev:noiommu] PCI device 0000:03:00.0 has no IOMMU group"));
        assert_null(guest_get_unresolved(g, 2));
        assert_int_equal(guest_check_resolved(g, &err), -ENODEV);
        assert_string_equal(err.message, guest_get_unresolved(g, 0));
}

static void test_guest_parse_vfio_bad_link(void **state) {
        load_fails(G "[hostdev:x]\ntype=vfio-pci\naddress=0000:04:00.0\n", -EINVAL,
                   "t.guest:7: [hostdev:x] key 'address': ");
        load_fails(G "[hostdev:x]\ntype=vfio-pci\naddress=0000:04:00.0\n", -EINVAL, "not an IOMMU group");
}

static void test_guest_parse_disk_chain(void **state) {
        g_autofree char *base = qcow2_write("g-base.qcow2", NULL);
        g_autofree char *top = qcow2_write("g-top.qcow2", "g-base.qcow2");
        g_autofree char *text = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n"
                                                  "[disk:ro]\npath=%s\nformat=auto\nreadonly=true\n", top, top);
        g_autoptr(BwGuest) g = load_ok(text);
        const BwResource *r = resource(g, 0);
        assert_int_equal(r->n_paths, 2);
        assert_path(r, 0, top, BW_PATH_IMAGE);
        assert_path(r, 1, base, BW_PATH_BACKING);
        r = resource(g, 1);
        assert_int_equal(r->n_paths, 2);
        assert_path(r, 0, top, BW_PATH_IMAGE_READONLY);
        /* format=raw never opens the image: its content does not matter */
        g_autofree char *raw = g_strdup_printf(G "[disk:root]\npath=%s\n", top);
        g_autoptr(BwGuest) g2 = load_ok(raw);
        assert_int_equal(resource(g2, 0)->n_paths, 1);
}

static void test_guest_parse_disk_unresolved(void **state) {
        g_autofree char *top = qcow2_write("u-top.qcow2", "u-gone.qcow2");
        g_autofree char *text = g_strdup_printf(G "[disk:a]\npath=/nonexistent/a.qcow2\nformat=qcow2\n"
                                                  "[disk:b]\npath=%s\nformat=qcow2\n", top);
        g_autoptr(BwGuest) g = load_ok(text);
        assert_int_equal(resource(g, 0)->n_paths, 1);
        assert_int_equal(resource(g, 1)->n_paths, 2);
        assert_int_equal(guest_get_n_unresolved(g), 2);
        assert_string_equal(guest_get_unresolved(g, 0),
                            "t.guest:6: [disk:a] image '/nonexistent/a.qcow2' does not exist: its backing chain is not known");
        assert_non_null(strstr(guest_get_unresolved(g, 1), "t.guest:9: [disk:b] image '"));
        assert_non_null(strstr(guest_get_unresolved(g, 1), "u-gone.qcow2' does not exist"));
}

static void test_guest_parse_disk_bad_image(void **state) {
        g_autofree char *raw = test_write_file(scratch, "bad.raw", "not qcow2 at all", -1);
        g_autofree char *text = g_strdup_printf(G "[disk:root]\n\nformat=qcow2\npath=%s\n", raw);
        g_autofree char *want = g_strdup_printf("t.guest:8: [disk:root] key 'path': image '%s': not a qcow2 image", raw);
        load_fails(text, -EINVAL, want);
        g_autofree char *loop = qcow2_write("g-loop.qcow2", "g-loop.qcow2");
        g_autofree char *text2 = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n", loop);
        load_fails(text2, -ELOOP, "backing chain loops");
}

/* qcow2 headers naming what must not be opened: the load fails, located
 * at the disk's path, naming the image, the backing file and why. */
static void test_guest_parse_hostile_backing(void **state) {
        g_autofree char *ptmx = qcow2_write("h-ptmx.qcow2", "/dev/ptmx");
        g_autofree char *t1 = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n", ptmx);
        g_autofree char *w1 = g_strdup_printf("t.guest:6: [disk:root] key 'path': image '%s': backing file '/dev/ptmx': "
                                              "a character device, not a regular file or block device (not opened)", ptmx);
        load_fails(t1, -EINVAL, w1);
        /* read-only format=auto disks are read the same way */
        g_autofree char *t1b = g_strdup_printf(G "[disk:root]\npath=%s\nformat=auto\nreadonly=true\n", ptmx);
        load_fails(t1b, -EINVAL, "backing file '/dev/ptmx': a character device");
        /* a FIFO: opening it for reading would block */
        g_autofree char *fifo = g_build_filename(scratch, "h.fifo", NULL);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        g_autofree char *top = qcow2_write("h-fifo.qcow2", fifo);
        g_autofree char *t2 = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n", top);
        g_autofree char *w2 = g_strdup_printf("image '%s': backing file '%s': a FIFO, not a regular file", top, fifo);
        alarm(10);
        load_fails(t2, -EINVAL, w2);
        alarm(0);
        /* a per-process name */
        g_autofree char *self = qcow2_write("h-self.qcow2", "/proc/self/fd/0");
        g_autofree char *t3 = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n", self);
        load_fails(t3, -EINVAL, "backing file '/proc/self/fd/0': refused, not opened: /proc/self");
}

/* A block device named by an image header is accepted only when the
 * definition lists it too, under any name and in any group. */
static void test_guest_parse_block_device_backing(void **state) {
        g_autofree char *node = g_build_filename(scratch, "blk", NULL);
        if (!test_node_make(node, S_IFBLK, makedev(7, 241)))
                return;
        g_autofree char *link = g_build_filename(scratch, "blk-link", NULL);
        assert_int_equal(symlink(node, link), 0);
        /* raw recorded: the node is looked at, never opened (no device is behind it) */
        g_autofree char *top = qcow2_write_format("b-top.qcow2", node, "raw");
        g_autofree char *alone = g_strdup_printf(G "[disk:root]\npath=%s\nformat=qcow2\n", top);
        g_autofree char *want = g_strdup_printf("t.guest:6: [disk:root] key 'path': image '%s': backing file '%s': "
                                                "a block device named only by an image header, not opened", top, node);
        load_fails(alone, -EINVAL, want);
        /* listed by a later group, under another name */
        g_autofree char *listed = g_strdup_printf("%s[disk:base]\npath=%s\nreadonly=true\n", alone, link);
        g_autoptr(BwGuest) g = load_ok(listed);
        const BwResource *r = resource(g, 0);
        assert_int_equal(r->n_paths, 2);
        assert_path(r, 0, top, BW_PATH_IMAGE);
        assert_path(r, 1, node, BW_PATH_BACKING);
        assert_path(resource(g, 1), 0, link, BW_PATH_IMAGE_READONLY);
        /* a path of another device does not list it */
        g_autofree char *other = g_build_filename(scratch, "blk-other", NULL);
        assert_int_equal(mknod(other, S_IFBLK | 0600, makedev(7, 242)), 0);
        g_autofree char *wrong = g_strdup_printf("%s[disk:base]\npath=%s\nreadonly=true\n", alone, other);
        load_fails(wrong, -EINVAL, "a block device named only by an image header");
        /* removing the group that lists it leaves the header's word alone: refused */
        BwError err = {};
        g_autoptr(BwGuest) without = NULL;
        assert_int_equal(guest_parse_without_resource(g, "disk:base", &without, &err), -EINVAL);
        assert_true(g_str_has_prefix(err.message, "guest 't' without [disk:base]: t.guest:6: [disk:root] key 'path': "));
        assert_null(without);
        /* adding a disk whose header names it, to a guest that lists it: accepted */
        g_autoptr(BwGuest) base_only = NULL;
        assert_int_equal(guest_parse_without_resource(g, "disk:root", &base_only, &err), 0);
        g_autofree char *res = g_strdup_printf("[disk:root2]\npath=%s\nformat=qcow2\n", top);
        g_autoptr(BwGuest) again = NULL;
        const BwResource *added = NULL;
        if (guest_parse_with_resource(base_only, res, "r.res", &again, &added, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(added->n_paths, 2);
        assert_path(added, 1, node, BW_PATH_BACKING);
}

/* Unresolved entries stay in resource order, whatever the order of the
 * lookups (chains are followed after every group is parsed). */
static void test_guest_parse_unresolved_order(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[disk:a]\npath=/nonexistent/a.qcow2\nformat=qcow2\n"
                                         "[hostdev:gone]\ntype=vfio-pci\naddress=0000:02:00.0\n"
                                         "[disk:b]\npath=/nonexistent/b.qcow2\nformat=qcow2\n");
        assert_int_equal(guest_get_n_unresolved(g), 3);
        assert_true(g_str_has_prefix(guest_get_unresolved(g, 0), "t.guest:6: [disk:a] "));
        assert_true(g_str_has_prefix(guest_get_unresolved(g, 1), "t.guest:10: [hostdev:gone] "));
        assert_true(g_str_has_prefix(guest_get_unresolved(g, 2), "t.guest:12: [disk:b] "));
}

static void test_guest_parse_skip_host(void **state) {
        GuestParseOptions o = { .sysfs_root = sysfs, .skip_host = true };
        const char *text = G "[disk:a]\npath=/nonexistent/a.qcow2\nformat=qcow2\n"
                             "[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n";
        g_autoptr(BwGuest) g = NULL;
        assert_int_equal(guest_parse(text, strlen(text), "t.guest", &o, &g, NULL), 0);
        assert_int_equal(resource(g, 0)->n_paths, 1);
        assert_int_equal(resource(g, 1)->n_paths, 0);
        assert_string_equal(resource(g, 1)->pci_address, "0000:01:00.0");
        assert_int_equal(guest_get_n_unresolved(g), 0);
        /* the copy keeps the options */
        g_autoptr(BwGuest) copy = NULL;
        assert_int_equal(guest_copy(g, &copy, NULL), 0);
        assert_int_equal(resource(copy, 1)->n_paths, 0);
}

/* ---- Copies, cgroups, names -------------------------------------------- */

static void test_guest_copy_reparses(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[disk:a]\npath=/a.img\n[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n");
        g_autoptr(BwGuest) copy = NULL;
        assert_int_equal(guest_resolve_cgroup(g, "/sys/fs/cgroup/unified"), 0);
        assert_int_equal(guest_copy(g, &copy, NULL), 0);
        const BwGuestInfo *a = bw_guest_info(g), *b = bw_guest_info(copy);
        assert_ptr_not_equal(a->resources, b->resources);
        assert_string_equal(a->uuid, b->uuid);
        assert_string_equal(b->cgroup, "/sys/fs/cgroup/unified/bulwark/t");
        assert_int_equal(a->n_resources, b->n_resources);
        assert_string_equal(b->resources[0]->paths[0], "/a.img");
        /* the sysfs root carries over: the group is found again */
        assert_string_equal(b->resources[1]->path, "/dev/vfio/12");
        assert_string_equal(guest_get_text(copy), guest_get_text(g));
        assert_string_equal(guest_get_source(copy), "t.guest");
}

static void test_guest_resolve_cgroup_default(void **state) {
        g_autoptr(BwGuest) g = load_ok(G);
        assert_int_equal(guest_resolve_cgroup(g, "/sys/fs/cgroup/"), 0);
        assert_string_equal(bw_guest_info(g)->cgroup, "/sys/fs/cgroup/bulwark/t");
        assert_false(bw_guest_info(g)->cgroup_given);
        assert_int_equal(guest_resolve_cgroup(g, "/"), 0);
        assert_string_equal(bw_guest_info(g)->cgroup, "/bulwark/t");
        assert_int_equal(guest_resolve_cgroup(g, "relative"), -EINVAL);
        assert_int_equal(guest_resolve_cgroup(g, NULL), -EINVAL);
        g_autoptr(BwGuest) given = load_ok(G "cgroup=/cg/mine\n");
        assert_int_equal(guest_resolve_cgroup(given, "/sys/fs/cgroup"), 0);
        assert_string_equal(bw_guest_info(given)->cgroup, "/cg/mine");
        assert_true(bw_guest_info(given)->cgroup_given);
}

static void test_guest_to_string(void **state) {
        static const char *const types[] = { NULL, "disk", "hostdev", "device", "chardev",
                                             "kernel", "firmware", "tpm", "memory" };
        static const char *const roles[] = { NULL, "image", "image-readonly", "backing", "device-node",
                                             "chardev", "kernel", "nvram", "state-dir", "memory" };
        for (int i = 1; i < (int) G_N_ELEMENTS(types); i++)
                assert_string_equal(bw_resource_type_to_string((BwResourceType) i), types[i]);
        for (int i = 1; i < (int) G_N_ELEMENTS(roles); i++)
                assert_string_equal(bw_path_role_to_string((BwPathRole) i), roles[i]);
        assert_null(bw_resource_type_to_string((BwResourceType) 0));
        assert_null(bw_resource_type_to_string((BwResourceType) 9));
        assert_null(bw_resource_type_to_string((BwResourceType) -1));
        assert_null(bw_path_role_to_string((BwPathRole) 10));
}

static void test_guest_name_is_valid(void **state) {
        assert_true(guest_name_is_valid("a"));
        assert_true(guest_name_is_valid("build-runner.7_x"));
        assert_true(guest_name_is_valid("a."));
        assert_true(guest_name_is_valid("a..b"));
        assert_true(guest_name_is_valid("-a"));
        assert_false(guest_name_is_valid(""));
        assert_false(guest_name_is_valid("."));
        assert_false(guest_name_is_valid(".."));
        /* a leading '.': a hidden journal file `recover` skips, a hidden cgroup */
        assert_false(guest_name_is_valid("..."));
        assert_false(guest_name_is_valid(".hidden"));
        assert_false(guest_name_is_valid("a/b"));
        assert_false(guest_name_is_valid("é"));
        char name[66];
        memset(name, 'a', sizeof(name));
        name[64] = '\0';
        assert_true(guest_name_is_valid(name));
        name[64] = 'a';
        name[65] = '\0';
        assert_false(guest_name_is_valid(name));
        /* the reason, for messages */
        assert_null(guest_name_why_invalid("a"));
        assert_string_equal(guest_name_why_invalid(".hidden"), "it starts with '.'");
        assert_string_equal(guest_name_why_invalid(""), "it is empty");
        assert_string_equal(guest_name_why_invalid(name), "it is longer than 64 bytes");
        assert_non_null(strstr(guest_name_why_invalid("a b"), "a character other than"));
}

static void test_guest_path_per_process(void **state) {
        static const char *const refused[] = {
                "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd", "/dev/fd/0", "/dev/fd/12",
                "/proc/self", "/proc/self/fd/3", "/proc/self/root", "/proc/self/cwd/x", "/proc/self/environ",
                "/proc/thread-self", "/proc/thread-self/fd/1", "/proc/1", "/proc/1/fd/3", "/proc/4242/root/etc/shadow",
                "/proc/1/task/1/fd/0",
        };
        static const char *const allowed[] = {
                "/", "/dev", "/dev/null", "/dev/stdin.log", "/dev/fdx", "/dev/vfio/12", "/proc", "/proc/cpuinfo",
                "/proc/selfish", "/proc/1x", "/proc/sys/vm", "/srv/proc/self/fd/0", "/run/dev/stdin",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++)
                if (!guest_path_per_process(refused[i]))
                        fail_msg("'%s' is not refused", refused[i]);
        for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++)
                if (guest_path_per_process(allowed[i]))
                        fail_msg("'%s' is refused", allowed[i]);
}

/* Every path-valued key refuses per-process paths, and each message says
 * why; the spellings that normalize to one are refused too. */
static void test_guest_parse_per_process_paths(void **state) {
        static const struct {
                const char *text, *fragment;
        } cases[] = {
                { G "[disk:a]\npath=/dev/stdin\n",
                  "t.guest:6: [disk:a] key 'path': path '/dev/stdin' is refused: /dev/stdin, /dev/stdout and /dev/stderr are the standard streams of whichever process opens them" },
                { G "[chardev:c]\ntype=file\npath=/dev/stdout\n", "t.guest:7: [chardev:c] key 'path': path '/dev/stdout' is refused" },
                { G "[chardev:c]\ntype=pipe\npath=//dev//stderr/\n", "t.guest:7: [chardev:c] key 'path': path '/dev/stderr' is refused" },
                { G "[device:d]\npath=/dev/fd/3\n",
                  "t.guest:6: [device:d] key 'path': path '/dev/fd/3' is refused: /dev/fd/N is descriptor N of whichever process opens it" },
                { G "[hostdev:h]\ntype=scsi-generic\npath=/dev/fd/0\n", "t.guest:7: [hostdev:h] key 'path': path '/dev/fd/0' is refused" },
                { G "[tpm]\nstate=/dev/fd\n", "t.guest:6: [tpm] key 'state': path '/dev/fd' is refused" },
                { G "[kernel]\nkernel=/proc/self/fd/0\n",
                  "t.guest:6: [kernel] key 'kernel': path '/proc/self/fd/0' is refused: /proc/self and /proc/thread-self are whichever process opens them" },
                { G "[kernel]\nkernel=/boot/k\ninitrd=/proc/self/root/boot/initrd\n",
                  "t.guest:7: [kernel] key 'initrd': path '/proc/self/root/boot/initrd' is refused" },
                { G "[firmware]\nloader=/proc/self\n", "t.guest:6: [firmware] key 'loader': path '/proc/self' is refused" },
                { G "[firmware]\nnvram=/proc/thread-self/fd/4\n", "t.guest:6: [firmware] key 'nvram': path '/proc/thread-self/fd/4' is refused" },
                { G "[memory]\nbacking=/proc/1/fd/3\n",
                  "t.guest:6: [memory] key 'backing': path '/proc/1/fd/3' is refused: /proc/<pid> is one process (fd/N, root and cwd are what it has open)" },
                { G "[disk:a]\npath=/proc/4242/root/img\n", "t.guest:6: [disk:a] key 'path': path '/proc/4242/root/img' is refused" },
                { G "cgroup=/proc/self/cgroup\n", "t.guest:5: [guest] key 'cgroup': path '/proc/self/cgroup' is refused" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
                load_fails(cases[i].text, -EINVAL, cases[i].fragment);
        /* near misses are paths like any other */
        g_autoptr(BwGuest) g = load_ok(G "[chardev:c]\ntype=file\npath=/dev/stdin.log\n[disk:a]\npath=/proc/selfish\n");
        assert_path(resource(g, 0), 0, "/dev/stdin.log", BW_PATH_CHARDEV);
}

/* ---- Adding and removing one resource ---------------------------------- */

static BwGuest *with_ok(const BwGuest *g, const char *res, const BwResource **added) {
        BwGuest *n = NULL;
        BwError err = {};
        if (guest_parse_with_resource(g, res, "r.res", &n, added, &err) < 0)
                fail_msg("guest_parse_with_resource: %s", err.message);
        return n;
}

static void with_fails(const BwGuest *g, const char *res, const char *source, int code, const char *fragment) {
        BwGuest *n = NULL;
        const BwResource *added = NULL;
        BwError err = {};
        int r = guest_parse_with_resource(g, res, source, &n, &added, &err);
        if (r != code)
                fail_msg("expected %d, got %d (%s)", code, r, err.message);
        assert_null(n);
        assert_null(added);
        if (!strstr(err.message, fragment))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
}

static BwGuest *without_ok(const BwGuest *g, const char *ref) {
        BwGuest *n = NULL;
        BwError err = {};
        if (guest_parse_without_resource(g, ref, &n, &err) < 0)
                fail_msg("guest_parse_without_resource(%s): %s", ref, err.message);
        return n;
}

static void without_fails(const BwGuest *g, const char *ref, int code, const char *fragment) {
        BwGuest *n = NULL;
        BwError err = {};
        int r = guest_parse_without_resource(g, ref, &n, &err);
        if (r != code)
                fail_msg("%s: expected %d, got %d (%s)", ref, code, r, err.message);
        assert_null(n);
        if (!strstr(err.message, fragment))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
}

/* The stored text is what a re-parse reads: parsing it again gives the
 * same resources with the same paths. */
static void assert_text_reparses(const BwGuest *g) {
        g_autoptr(BwGuest) again = load_ok(guest_get_text(g));
        const BwGuestInfo *a = bw_guest_info(g), *b = bw_guest_info(again);
        assert_int_equal(a->n_resources, b->n_resources);
        for (size_t i = 0; i < a->n_resources; i++) {
                assert_int_equal(a->resources[i]->type, b->resources[i]->type);
                assert_string_equal(a->resources[i]->id, b->resources[i]->id);
                assert_int_equal(a->resources[i]->n_paths, b->resources[i]->n_paths);
                for (size_t j = 0; j < a->resources[i]->n_paths; j++)
                        assert_string_equal(a->resources[i]->paths[j], b->resources[i]->paths[j]);
        }
}

static void test_guest_with_resource(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[disk:a]\npath=/a.img\n");
        assert_int_equal(guest_resolve_cgroup(g, "/sys/fs/cgroup"), 0);
        const BwResource *added = NULL;
        g_autoptr(BwGuest) n = with_ok(g, "[disk:data]\npath=/x.img\nreadonly=true\n", &added);
        const BwGuestInfo *info = bw_guest_info(n);
        assert_int_equal(info->n_resources, 2);
        assert_ptr_equal(added, info->resources[1]);
        assert_int_equal(added->type, BW_RESOURCE_DISK);
        assert_string_equal(added->id, "data");
        assert_path(added, 0, "/x.img", BW_PATH_IMAGE_READONLY);
        assert_string_equal(guest_get_text(n), G "[disk:a]\npath=/a.img\n[disk:data]\npath=/x.img\nreadonly=true\n");
        assert_string_equal(guest_get_source(n), "t.guest");
        assert_string_equal(info->cgroup, "/sys/fs/cgroup/bulwark/t");
        assert_string_equal(info->uuid, bw_guest_info(g)->uuid);
        assert_text_reparses(n);
        /* the old guest is untouched */
        assert_int_equal(bw_guest_info(g)->n_resources, 1);
        assert_string_equal(guest_get_text(g), G "[disk:a]\npath=/a.img\n");
        /* line ends added where either text lacks one; ret_added may be NULL */
        g_autoptr(BwGuest) bare = load_ok(G "[kernel]\nkernel=/k");
        g_autoptr(BwGuest) n2 = NULL;
        assert_int_equal(guest_parse_with_resource(bare, "[tpm]\nstate=/s", NULL, &n2, NULL, NULL), 0);
        assert_string_equal(guest_get_text(n2), G "[kernel]\nkernel=/k\n[tpm]\nstate=/s\n");
        assert_text_reparses(n2);
        /* every type, the single groups included */
        g_autoptr(BwGuest) n3 = with_ok(n2, "# the GPU\n[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n", &added);
        /* the sysfs root carries over: the VFIO group is found */
        assert_string_equal(added->path, "/dev/vfio/12");
        g_autoptr(BwGuest) n4 = with_ok(n3, "[memory]\nbacking=/dev/hugepages/t\n", &added);
        assert_string_equal(added->id, "memory");
        assert_int_equal(bw_guest_info(n4)->n_resources, 4);
}

static void test_guest_with_resource_errors(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[disk:a]\npath=/a.img\n[kernel]\nkernel=/k\n");
        with_fails(g, "", "r.res", -EINVAL, "r.res: no group (a resource text holds one group");
        with_fails(g, "# only a comment\n\n", "r.res", -EINVAL, "r.res: no group");
        with_fails(g, "[disk:x]\npath=/x\n\n[disk:y]\npath=/y\n", "r.res", -EINVAL,
                   "r.res:4: [disk:y]: a second group (a resource text holds exactly one resource group)");
        with_fails(g, "[guest]\nname=u\n", "r.res", -EINVAL, "r.res:1: [guest]: not a resource");
        with_fails(g, "# again\n[disk:a]\npath=/b.img\n", "r.res", -EEXIST, "r.res:2: [disk:a]: guest 't' already has resource [disk:a]");
        with_fails(g, "[kernel]\nkernel=/k2\n", "r.res", -EEXIST, "r.res:1: [kernel]: guest 't' already has resource [kernel]");
        with_fails(g, "path=/x\n[disk:x]\n", "r.res", -EINVAL, "r.res:1: key 'path' before the first [group]");
        /* errors of the group are located in the resource text */
        with_fails(g, "\n\n[disk:x]\npath=rel.img\n", "r.res", -EINVAL,
                   "r.res:4: [disk:x] key 'path': relative path 'rel.img' (an absolute path is required)");
        with_fails(g, "[disk:x]\npath=/x\npath=/y\n", "r.res", -EINVAL, "r.res:3: [disk:x] key 'path': duplicate key (first at line 2)");
        with_fails(g, "[disk:x]\n", "r.res", -EINVAL, "r.res:1: [disk:x]: missing required key 'path'");
        with_fails(g, "[disks:x]\npath=/x\n", "r.res", -EINVAL, "r.res:1: unknown group [disks:x]");
        with_fails(g, "[disk:.x]\npath=/x\n", "r.res", -EINVAL, "r.res:1: [disk:.x]: invalid id '.x'");
        with_fails(g, "[disk:x]\npath=/dev/stdin\n", "r.res", -EINVAL, "r.res:2: [disk:x] key 'path': path '/dev/stdin' is refused");
        with_fails(g, "[disk:x]\npath=/x\x01\n", "r.res", -EINVAL, "r.res:2: control character 0x01");
        with_fails(g, "[disk:x]\n", NULL, -EINVAL, "<resource>:1: [disk:x]: missing required key 'path'");
        with_fails(g, NULL, "r.res", -EINVAL, "missing argument");
        /* an image header read for the new disk, its error located there too */
        g_autofree char *ptmx = qcow2_write("w-ptmx.qcow2", "/dev/ptmx");
        g_autofree char *res = g_strdup_printf("[disk:x]\nformat=qcow2\npath=%s\n", ptmx);
        g_autofree char *want = g_strdup_printf("r.res:3: [disk:x] key 'path': image '%s': backing file '/dev/ptmx': a character device", ptmx);
        with_fails(g, res, "r.res", -EINVAL, want);
        /* over the resource limit: located at the new group */
        g_autoptr(GString) many = g_string_new(G);
        for (unsigned i = 0; i < GUEST_RESOURCES_MAX; i++)
                g_string_append_printf(many, "[device:n%u]\npath=/dev/n%u\n", i, i);
        g_autoptr(BwGuest) full = load_ok(many->str);
        with_fails(full, "[disk:x]\npath=/x\n", "r.res", -E2BIG, "r.res:1: more than 65536 resources");
}

static void test_guest_with_resource_host(void **state) {
        /* unresolved host objects of the new resource are located in its text */
        g_autoptr(BwGuest) g = load_ok(G);
        const BwResource *added = NULL;
        g_autoptr(BwGuest) n = with_ok(g, "[disk:n]\nformat=qcow2\npath=/nonexistent/n.qcow2\n", &added);
        assert_int_equal(guest_get_n_unresolved(n), 1);
        assert_string_equal(guest_get_unresolved(n, 0),
                            "r.res:3: [disk:n] image '/nonexistent/n.qcow2' does not exist: its backing chain is not known");
        /* skip_host carries over, as in guest_copy() */
        GuestParseOptions o = { .sysfs_root = sysfs, .skip_host = true };
        g_autoptr(BwGuest) s = NULL;
        assert_int_equal(guest_parse(G, strlen(G), "t.guest", &o, &s, NULL), 0);
        g_autoptr(BwGuest) s1 = with_ok(s, "[disk:n]\nformat=qcow2\npath=/nonexistent/n.qcow2\n", NULL);
        g_autoptr(BwGuest) s2 = with_ok(s1, "[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n", &added);
        assert_int_equal(resource(s2, 0)->n_paths, 1);
        assert_int_equal(added->n_paths, 0);
        assert_int_equal(guest_get_n_unresolved(s2), 0);
        g_autoptr(BwGuest) s3 = without_ok(s2, "disk:n");
        assert_int_equal(resource(s3, 0)->n_paths, 0);
}

static void test_guest_without_resource(void **state) {
        static const char text[] = G "[disk:a]\npath=/a.img\n\n"
                                     "# the data disk\n"
                                     "[disk:data]\npath=/x.img\n# between its keys\nreadonly=true\n\n\n"
                                     "# the kernel\n"
                                     "[kernel]\nkernel=/k\n";
        g_autoptr(BwGuest) g = load_ok(text);
        assert_int_equal(guest_resolve_cgroup(g, "/sys/fs/cgroup"), 0);
        g_autoptr(BwGuest) n = without_ok(g, "disk:data");
        assert_string_equal(guest_get_text(n), G "[disk:a]\npath=/a.img\n\n# the kernel\n[kernel]\nkernel=/k\n");
        const BwGuestInfo *info = bw_guest_info(n);
        assert_int_equal(info->n_resources, 2);
        assert_string_equal(info->resources[0]->id, "a");
        assert_string_equal(info->resources[1]->id, "kernel");
        assert_string_equal(info->cgroup, "/sys/fs/cgroup/bulwark/t");
        assert_string_equal(guest_get_source(n), "t.guest");
        assert_text_reparses(n);
        assert_int_equal(bw_guest_info(g)->n_resources, 3);
        /* a single group, the last one, with no line end */
        g_autoptr(BwGuest) k = without_ok(n, "kernel");
        assert_string_equal(guest_get_text(k), G "[disk:a]\npath=/a.img\n\n");
        g_autoptr(BwGuest) none = without_ok(k, "disk:a");
        assert_string_equal(guest_get_text(none), G);
        assert_int_equal(bw_guest_info(none)->n_resources, 0);
        g_autoptr(BwGuest) eof = load_ok(G "[tpm]\nstate=/s");
        g_autoptr(BwGuest) eof2 = without_ok(eof, "tpm");
        assert_string_equal(guest_get_text(eof2), G);
        /* CRLF text keeps its line ends */
        g_autoptr(BwGuest) crlf = load_ok("[guest]\r\nname=t\r\nuser=1\r\ngroup=1\r\n[disk:a]\r\npath=/a\r\n\r\n[memory]\r\nbacking=/m\r\n");
        g_autoptr(BwGuest) crlf2 = without_ok(crlf, "disk:a");
        assert_string_equal(guest_get_text(crlf2), "[guest]\r\nname=t\r\nuser=1\r\ngroup=1\r\n[memory]\r\nbacking=/m\r\n");
        /* adding and removing again gives the text back */
        g_autoptr(BwGuest) plus = with_ok(g, "[device:tun]\npath=/dev/net/tun\n", NULL);
        g_autoptr(BwGuest) back = without_ok(plus, "device:tun");
        assert_string_equal(guest_get_text(back), text);
}

static void test_guest_without_resource_errors(void **state) {
        g_autoptr(BwGuest) g = load_ok(G "[disk:a]\npath=/a.img\n");
        without_fails(g, "guest", -EINVAL, "guest 't': the [guest] group cannot be removed");
        without_fails(g, "disk:nope", -ENOENT, "guest 't' has no resource [disk:nope]");
        without_fails(g, "kernel", -ENOENT, "guest 't' has no resource [kernel]");
        without_fails(g, "disk", -EINVAL, "'disk' is not a resource reference (<type>:<id>, or kernel, firmware, tpm, memory)");
        without_fails(g, "kernel:x", -EINVAL, "'kernel:x' is not a resource reference");
        without_fails(g, "disks:a", -EINVAL, "is not a resource reference");
        without_fails(g, "disk:.a", -EINVAL, "is not a resource reference");
        without_fails(g, "disk:a:b", -EINVAL, "is not a resource reference");
        without_fails(g, "", -EINVAL, "is not a resource reference");
        without_fails(g, "[disk:a]", -EINVAL, "is not a resource reference");
        without_fails(g, NULL, -EINVAL, "missing argument");
}


/* ---- Public entry points ----------------------------------------------- */

static void test_guest_load_file_errors(void **state) {
        BwGuest *g = NULL;
        BwError err = {};
        g_autofree char *missing = g_build_filename(scratch, "missing.guest", NULL);
        assert_int_equal(bw_guest_load_file(missing, &g, &err), -ENOENT);
        assert_non_null(strstr(err.message, missing));
        assert_int_equal(bw_guest_load_file(scratch, &g, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a regular file"));
        /* a FIFO must not block the caller */
        g_autofree char *fifo = g_build_filename(scratch, "fifo.guest", NULL);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(bw_guest_load_file(fifo, &g, &err), -EINVAL);
        /* a sparse file over the limit */
        g_autofree char *big = test_write_file(scratch, "big.guest", G, -1);
        assert_int_equal(truncate(big, (off_t) GUEST_TEXT_MAX + 1), 0);
        assert_int_equal(bw_guest_load_file(big, &g, &err), -E2BIG);
        assert_non_null(strstr(err.message, "larger than 16 MiB"));
        assert_int_equal(bw_guest_load_file(NULL, &g, &err), -EINVAL);
        assert_null(g);
        /* errors in a file are located in it */
        g_autofree char *bad = test_write_file(scratch, "bad.guest", G "[disk:root]\npath=x.img\n", -1);
        g_autofree char *want = g_strdup_printf("%s:6: [disk:root] key 'path': relative path 'x.img' (an absolute path is required)", bad);
        assert_int_equal(bw_guest_load_file(bad, &g, &err), -EINVAL);
        assert_string_equal(err.message, want);
}

static void test_guest_load_data_args(void **state) {
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(bw_guest_load_data(G, strlen(G), "x", NULL, &err), -EINVAL);
        assert_int_equal(bw_guest_load_data(NULL, 5, "x", &g, &err), -EINVAL);
        assert_int_equal(bw_guest_load_data(NULL, 0, NULL, &g, &err), -EINVAL);
        assert_string_equal(err.message, "<data>: missing group [guest]");
        /* the length is honoured: text after it is not read */
        assert_int_equal(bw_guest_load_data(G "[bogus]\n", strlen(G), "x", &g, NULL), 0);
        assert_int_equal(bw_guest_info(g)->n_resources, 0);
        bw_guest_free(g);
        bw_guest_free(NULL);
        assert_null(bw_guest_info(NULL));
}

static void test_guest_load_file_no_fd_leak(void **state) {
        g_autofree char *path = test_write_file(scratch, "ok.guest", G, -1);
        g_autofree char *bad = test_write_file(scratch, "leak-bad.guest", G "x\n", -1);
        int before = test_count_fds();
        for (int i = 0; i < 20; i++) {
                BwGuest *g = NULL;
                assert_int_equal(bw_guest_load_file(path, &g, NULL), 0);
                bw_guest_free(g);
                assert_int_equal(bw_guest_load_file(bad, &g, NULL), -EINVAL);
        }
        assert_int_equal(test_count_fds(), before);
}

/* ---- Hostile and large input ------------------------------------------- */

static void test_guest_parse_nul_byte(void **state) {
        static const char text[] = G "[disk:a]\npath=/a\0path=/b\n";
        load_fails_len(text, sizeof(text) - 1, -EINVAL, "t.guest:6: NUL byte in the definition");
        load_fails_len("\0", 1, -EINVAL, "t.guest:1: NUL byte");
}

static void test_guest_parse_long_values(void **state) {
        g_autofree char *huge = g_strnfill(100000, 'a');
        g_autofree char *t1 = g_strdup_printf("[guest]\nname=%s\nuser=1\ngroup=1\n", huge);
        BwGuest *g = NULL;
        BwError err = {};
        assert_int_equal(parse(t1, strlen(t1), &g, &err), -EINVAL);
        /* the message keeps its location and quotes only the start */
        assert_true(g_str_has_prefix(err.message, "t.guest:2: [guest] key 'name': invalid name 'aaaa"));
        assert_non_null(strstr(err.message, "...' (1 to 64"));
        g_autofree char *long_path = g_strnfill(5000, 'p');
        g_autofree char *t2 = g_strdup_printf(G "[disk:a]\npath=/%s\n", long_path);
        load_fails(t2, -EINVAL, "longer than 4095 bytes");
        /* a 1 MiB comment line and a 1 MiB value elsewhere are fine */
        g_autofree char *comment = g_strnfill(1 << 20, '#');
        g_autofree char *t3 = g_strdup_printf("%s\n" G "%s\n", comment, comment);
        g_autoptr(BwGuest) ok = load_ok(t3);
        assert_string_equal(bw_guest_info(ok)->name, "t");
        g_autofree char *t4 = g_strdup_printf(G "uuid=%s\n", huge);
        load_fails(t4, -EINVAL, "t.guest:5: [guest] key 'uuid': invalid UUID 'aaa");
        /* huge group and key names are refused before they reach a message twice */
        g_autofree char *t5 = g_strdup_printf(G "[disk:%s]\n", huge);
        load_fails(t5, -EINVAL, "t.guest:5: group name longer than 128 bytes");
        g_autofree char *t6 = g_strdup_printf(G "%s=1\n", huge);
        assert_int_equal(parse(t6, strlen(t6), &g, &err), -EINVAL);
        assert_true(strlen(err.message) < 200);
        assert_non_null(strstr(err.message, "t.guest:5: [guest]: invalid key name 'aaa"));
}

static void test_guest_parse_size_limit(void **state) {
        size_t len = GUEST_TEXT_MAX + 1;
        g_autofree char *text = g_malloc(len);
        memset(text, '#', len);
        load_fails_len(text, len, -E2BIG, "t.guest: guest definition of 16777217 bytes (the limit is 16 MiB)");
        /* exactly at the limit: read, and rejected for its content only */
        memcpy(text, G, strlen(G));
        text[len - 2] = '\n';
        g_autoptr(BwGuest) g = NULL;
        assert_int_equal(parse(text, len - 1, &g, NULL), 0);
}

static char *many_resources(unsigned n) {
        GString *s = g_string_new(G);
        for (unsigned i = 0; i < n; i++) {
                switch (i % 4) {
                case 0: g_string_append_printf(s, "[disk:d%u]\npath=/img/%u.raw\nreadonly=true\n", i, i); break;
                case 1: g_string_append_printf(s, "[device:n%u]\npath=/dev/n%u\naccess=r\n", i, i); break;
                case 2: g_string_append_printf(s, "[chardev:c%u]\ntype=socket\npath=/run/c%u.sock\n", i, i); break;
                default: g_string_append_printf(s, "[hostdev:u%u]\ntype=usb\nbus=%u\ndevice=%u\n", i, i % 999 + 1, i % 127 + 1); break;
                }
        }
        return g_string_free(s, FALSE);
}

static void test_guest_parse_10k_resources(void **state) {
        g_autofree char *text = many_resources(10000);
        gint64 start = g_get_monotonic_time();
        g_autoptr(BwGuest) g = load_ok(text);
        gint64 us = g_get_monotonic_time() - start;
        const BwGuestInfo *info = bw_guest_info(g);
        assert_int_equal(info->n_resources, 10000);
        assert_string_equal(info->resources[9996]->id, "d9996");
        assert_string_equal(info->resources[9996]->paths[0], "/img/9996.raw");
        assert_string_equal(info->resources[9999]->paths[0], "/dev/bus/usb/010/094");
        for (size_t i = 0; i < info->n_resources; i++)
                assert_int_equal(info->resources[i]->n_paths, 1);
        /* quickly: a generous bound that still catches quadratic work */
        if (us > 2 * G_USEC_PER_SEC)
                fail_msg("10,000 resources took %" G_GINT64_FORMAT " ms", us / 1000);
        /* Duplicate detection at that size: the last one repeats the first. */
        g_autofree char *dup = g_strdup_printf("%s[disk:d0]\npath=/x\n", text);
        load_fails(dup, -EINVAL, "[disk:d0]: duplicate group (first at line 5)");
}

static void test_guest_parse_resource_limit(void **state) {
        g_autofree char *ok = many_resources(GUEST_RESOURCES_MAX);
        g_autoptr(BwGuest) g = load_ok(ok);
        assert_int_equal(bw_guest_info(g)->n_resources, GUEST_RESOURCES_MAX);
        g_autofree char *over = many_resources(GUEST_RESOURCES_MAX + 1);
        load_fails(over, -E2BIG, "more than 65536 resources");
}

static void test_guest_parse_key_limit(void **state) {
        GString *s = g_string_new(G "[disk:a]\n");
        for (int i = 0; i < 65; i++)
                g_string_append_printf(s, "k%d=v\n", i);
        load_fails(s->str, -E2BIG, "t.guest:70: [disk:a]: more than 64 keys");
        g_string_free(s, TRUE);
}

/* Random bytes and random damage to a valid definition: an error or a
 * guest whose arrays hold together, never a crash (ASan checks the rest). */
static void test_guest_parse_garbage(void **state) {
        static const char good[] = G "[disk:a]\npath=/a.img\nreadonly=true\n[hostdev:h]\ntype=usb\nbus=1\ndevice=2\n"
                                     "[device:d]\npath=/dev/d\naccess=rwm\n[kernel]\nkernel=/k\n";
        GRand *rand = g_rand_new_with_seed(7);
        char buf[sizeof(good)];
        int ok = 0;
        for (int i = 0; i < 3000; i++) {
                size_t len = (size_t) g_rand_int_range(rand, 0, sizeof(good));
                if (i % 2)
                        for (size_t j = 0; j < len; j++)
                                buf[j] = (char) g_rand_int_range(rand, 0, 256);
                else {
                        memcpy(buf, good, sizeof(good));
                        len = sizeof(good) - 1;
                        for (int j = g_rand_int_range(rand, 1, 4); j > 0; j--)
                                buf[g_rand_int_range(rand, 0, (gint32) len)] = (char) g_rand_int_range(rand, 0, 256);
                }
                g_autoptr(BwGuest) g = NULL;
                BwError err = {};
                int r = parse(buf, len, &g, &err);
                if (r < 0) {
                        assert_true(r == -EINVAL || r == -E2BIG);
                        assert_true(g_str_has_prefix(err.message, "t.guest"));
                        continue;
                }
                ok++;
                const BwGuestInfo *info = bw_guest_info(g);
                for (size_t k = 0; k < info->n_resources; k++)
                        for (size_t p = 0; p < info->resources[k]->n_paths; p++)
                                assert_int_equal(info->resources[k]->paths[p][0], '/');
        }
        g_rand_free(rand);
        assert_true(ok > 0); /* some damage lands in comments or values */
}

/* ---- Every error, with its location ------------------------------------ */

typedef struct ErrorCase {
        const char *name;
        const char *text;
        const char *fragment;
} ErrorCase;

static const ErrorCase error_cases[] = {
        { "empty", "", "t.guest: missing group [guest]" },
        { "no_guest_group", "[disk:a]\npath=/x\n", "t.guest: missing group [guest]" },
        { "unknown_group", G "[disks:root]\npath=/x\n", "t.guest:5: unknown group [disks:root]" },
        { "unknown_guest_key", "[guest]\nname=t\nnmae=x\nuser=1\ngroup=1\n",
          "t.guest:3: [guest] key 'nmae': unknown key (known: name, uuid, user, group, groups, cgroup, hotplug-vfio, hotplug-dirs)" },
        { "missing_name", "[guest]\nuser=1\ngroup=1\n", "t.guest:1: [guest]: missing required key 'name'" },
        { "missing_user", "[guest]\nname=t\ngroup=1\n", "t.guest:1: [guest]: missing required key 'user'" },
        { "missing_group", "[guest]\nname=t\nuser=1\n", "t.guest:1: [guest]: missing required key 'group'" },
        { "bad_name", "[guest]\nname=a b\nuser=1\ngroup=1\n", "t.guest:2: [guest] key 'name': invalid name 'a b'" },
        { "dotdot_name", "[guest]\nname=..\nuser=1\ngroup=1\n", "key 'name': invalid name '..'" },
        { "hidden_name", "[guest]\nname=.hidden\nuser=1\ngroup=1\n",
          "t.guest:2: [guest] key 'name': invalid name '.hidden' (1 to 64 of a-z A-Z 0-9 _ . -, not starting with '.'): it starts with '.'" },
        { "dots_name", "[guest]\nname=...\nuser=1\ngroup=1\n", "key 'name': invalid name '...' (1 to 64" },
        { "hidden_id", G "[disk:.data]\npath=/a\n", "t.guest:5: [disk:.data]: invalid id '.data' (1 to 64 of a-z A-Z 0-9 _ . -, not starting with '.'): it starts with '.'" },
        { "long_name", "[guest]\nname=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\nuser=1\ngroup=1\n",
          "invalid name 'aaaaaaaa" },
        { "bad_uuid", G "uuid=1234\n", "t.guest:5: [guest] key 'uuid': invalid UUID '1234'" },
        { "uuid_dashes", G "uuid=3f0c9a6e52b1-4c4e-9d8e-2a7d1f6b9c01-\n", "invalid UUID" },
        { "uuid_nonhex", G "uuid=3f0c9a6e-52b1-4c4e-9d8e-2a7d1f6b9c0g\n", "invalid UUID" },
        { "nil_uuid", G "uuid=00000000-0000-0000-0000-000000000000\n", "not nil" },
        { "unknown_user", "[guest]\nname=t\nuser=no-such-user-bw\ngroup=1\n",
          "t.guest:3: [guest] key 'user': unknown user 'no-such-user-bw'" },
        { "bad_user_name", "[guest]\nname=t\nuser=bad name!\ngroup=1\n",
          "key 'user': 'bad name!' is not a user id or a valid user name" },
        { "negative_uid", "[guest]\nname=t\nuser=-1\ngroup=1\n", "'-1' is not a user id" },
        { "uid_reserved", "[guest]\nname=t\nuser=4294967295\ngroup=1\n",
          "key 'user': user id '4294967295' out of range (0 to 4294967294)" },
        { "uid_huge", "[guest]\nname=t\nuser=99999999999999999999999\ngroup=1\n", "out of range" },
        { "unknown_group_name", "[guest]\nname=t\nuser=1\ngroup=no-such-group-bw\n",
          "t.guest:4: [guest] key 'group': unknown group 'no-such-group-bw'" },
        { "inline_comment", "[guest]\nname=t\nuser=107 # qemu\ngroup=1\n", "'107 # qemu' is not a user id" },
        { "relative_cgroup", G "cgroup=machine/x\n",
          "t.guest:5: [guest] key 'cgroup': relative path 'machine/x' (an absolute path is required)" },
        { "bad_bool", G "hotplug-vfio=yes\n", "key 'hotplug-vfio': 'yes' is not a boolean (true or false)" },
        { "bool_case", G "hotplug-vfio=True\n", "'True' is not a boolean" },
        { "hotplug_dirs_relative", G "hotplug-dirs=/a;b/c\n",
          "t.guest:5: [guest] key 'hotplug-dirs': relative path 'b/c' (an absolute path is required)" },
        { "hotplug_dirs_dotdot", G "hotplug-dirs=/a/../etc\n", "key 'hotplug-dirs': path '/a/../etc' has a '.' or '..' component" },
        { "hotplug_dirs_empty", G "hotplug-dirs=/a;;/b\n", "key 'hotplug-dirs': empty path in the list '/a;;/b'" },
        { "groups_empty", G "groups=root;;4242\n", "t.guest:5: [guest] key 'groups': empty group in the list 'root;;4242'" },
        { "groups_twice", G "groups=root;0\n", "t.guest:5: [guest] key 'groups': group '0' (gid 0) is listed twice" },
        { "groups_bad_name", G "groups=-kvm\n", "key 'groups': '-kvm' is not a group id or a valid group name" },
        { "groups_range", G "groups=4294967295\n",
          "key 'groups': group id '4294967295' out of range (0 to 4294967294)" },
        { "hotplug_dirs_proc", G "hotplug-dirs=/proc/self/fd\n", "key 'hotplug-dirs': path '/proc/self/fd' is refused" },
        { "bool_number", G "[disk:a]\npath=/a\nreadonly=1\n", "t.guest:7: [disk:a] key 'readonly': '1' is not a boolean" },
        { "disk_relative", G "[disk:root]\npath=x.img\n",
          "t.guest:6: [disk:root] key 'path': relative path 'x.img' (an absolute path is required)" },
        { "disk_missing_path", G "[disk:root]\nreadonly=true\n", "t.guest:5: [disk:root]: missing required key 'path'" },
        { "disk_empty_path", G "[disk:root]\npath=\n", "t.guest:6: [disk:root] key 'path': empty value" },
        { "disk_dotdot", G "[disk:root]\npath=/var/../etc/shadow\n", "path '/var/../etc/shadow' has a '.' or '..' component" },
        { "disk_dot", G "[disk:root]\npath=/var/./x\n", "has a '.' or '..' component" },
        { "disk_format", G "[disk:root]\npath=/a\nformat=vmdk\n",
          "t.guest:7: [disk:root] key 'format': 'vmdk' is not one of raw|qcow2|auto" },
        { "disk_auto_writable", G "[disk:root]\npath=/a\nformat=auto\n",
          "t.guest:7: [disk:root] key 'format': format=auto on a writable disk" },
        { "disk_unknown_key", G "[disk:a]\npath=/a\nreadnly=true\n", "t.guest:7: [disk:a] key 'readnly': unknown key" },
        { "duplicate_id", G "[disk:a]\npath=/a\n[disk:a]\npath=/b\n", "t.guest:7: [disk:a]: duplicate group (first at line 5)" },
        { "duplicate_kernel", G "[kernel]\nkernel=/k\n[kernel]\nkernel=/k2\n", "t.guest:7: [kernel]: duplicate group (first at line 5)" },
        { "duplicate_guest", G "[guest]\nname=u\n", "t.guest:5: [guest]: duplicate group (first at line 1)" },
        { "duplicate_key", G "[disk:a]\npath=/a\npath=/b\n", "t.guest:7: [disk:a] key 'path': duplicate key (first at line 6)" },
        { "duplicate_guest_key", "[guest]\nname=t\nuser=1\ngroup=1\nuser=2\n", "t.guest:5: [guest] key 'user': duplicate key (first at line 3)" },
        { "no_id", G "[disk]\npath=/a\n", "t.guest:5: [disk]: group [disk] needs an id, as in [disk:<id>]" },
        { "singleton_with_id", G "[kernel:x]\nkernel=/k\n", "t.guest:5: [kernel:x]: group [kernel] takes no id" },
        { "bad_id", G "[disk:a/b]\npath=/a\n", "t.guest:5: [disk:a/b]: invalid id 'a/b'" },
        { "empty_id", G "[disk:]\npath=/a\n", "invalid id ''" },
        { "id_colon", G "[disk:a:b]\npath=/a\n", "invalid id 'a:b'" },
        { "hostdev_no_type", G "[hostdev:h]\naddress=0000:01:00.0\n", "t.guest:5: [hostdev:h]: missing required key 'type'" },
        { "hostdev_bad_type", G "[hostdev:h]\ntype=pci\n", "key 'type': 'pci' is not one of vfio-pci|usb|scsi-generic" },
        { "pci_short", G "[hostdev:h]\ntype=vfio-pci\naddress=01:00.0\n",
          "t.guest:7: [hostdev:h] key 'address': invalid PCI address '01:00.0' (DDDD:BB:DD.F)" },
        { "pci_slot", G "[hostdev:h]\ntype=vfio-pci\naddress=0000:01:20.0\n", "invalid PCI address" },
        { "pci_function", G "[hostdev:h]\ntype=vfio-pci\naddress=0000:01:00.8\n", "invalid PCI address" },
        { "pci_nonhex", G "[hostdev:h]\ntype=vfio-pci\naddress=0000:0g:00.0\n", "invalid PCI address" },
        { "pci_missing", G "[hostdev:h]\ntype=vfio-pci\n", "[hostdev:h]: missing required key 'address'" },
        { "usb_bus_zero", G "[hostdev:h]\ntype=usb\nbus=0\ndevice=1\n",
          "t.guest:7: [hostdev:h] key 'bus': '0' is not a number from 1 to 999" },
        { "usb_device_big", G "[hostdev:h]\ntype=usb\nbus=1\ndevice=128\n", "key 'device': '128' is not a number from 1 to 127" },
        { "usb_sign", G "[hostdev:h]\ntype=usb\nbus=+1\ndevice=1\n", "'+1' is not a number" },
        { "usb_huge", G "[hostdev:h]\ntype=usb\nbus=1\ndevice=18446744073709551617\n", "is not a number" },
        { "usb_no_device", G "[hostdev:h]\ntype=usb\nbus=1\n", "missing required key 'device'" },
        { "hostdev_foreign_key", G "[hostdev:h]\ntype=usb\nbus=1\ndevice=2\naddress=0000:01:00.0\n",
          "t.guest:9: [hostdev:h] key 'address': does not apply to type=usb" },
        { "scsi_not_dev", G "[hostdev:h]\ntype=scsi-generic\npath=/tmp/sg1\n", "key 'path': path '/tmp/sg1' is not under /dev" },
        { "device_not_dev", G "[device:d]\npath=/etc/passwd\n", "t.guest:6: [device:d] key 'path': path '/etc/passwd' is not under /dev" },
        { "device_dev_itself", G "[device:d]\npath=/dev/\n", "path '/dev' is not under /dev" },
        { "device_access", G "[device:d]\npath=/dev/d\naccess=rwx\n", "key 'access': 'rwx' is not a combination of r, w and m" },
        { "device_access_twice", G "[device:d]\npath=/dev/d\naccess=rr\n", "'rr' is not a combination" },
        { "chardev_type", G "[chardev:c]\ntype=tcp\npath=/x\n", "key 'type': 'tcp' is not one of file|socket|pipe|pty" },
        { "chardev_no_path", G "[chardev:c]\ntype=file\n", "t.guest:5: [chardev:c]: missing required key 'path'" },
        { "pty_path", G "[chardev:c]\ntype=pty\npath=/dev/pts/1\n", "t.guest:7: [chardev:c] key 'path': type=pty takes no path" },
        { "kernel_missing", G "[kernel]\ninitrd=/i\n", "t.guest:5: [kernel]: missing required key 'kernel'" },
        { "kernel_cmdline", G "[kernel]\nkernel=/k\ncmdline=console=ttyS0\n",
          "t.guest:7: [kernel] key 'cmdline': the kernel command line is not a host resource" },
        { "firmware_empty", G "[firmware]\n", "t.guest:5: [firmware]: needs 'loader', 'nvram' or both" },
        { "tpm_missing", G "[tpm]\n", "[tpm]: missing required key 'state'" },
        { "memory_relative", G "[memory]\nbacking=hugepages\n", "key 'backing': relative path 'hugepages'" },
        { "escaped_newline", G "[disk:a]\npath=/a\\nb\n", "t.guest:6: [disk:a] key 'path': control character in value '/a\\x0ab'" },
        { "key_before_group", "name=t\n[guest]\n", "t.guest:1: key 'name' before the first [group]" },
        { "not_key_value", G "garbage line\n", "t.guest:5: line is not a [group], a key=value pair or a # comment" },
        { "group_unclosed", G "[disk:a\npath=/a\n", "t.guest:5: group line without a closing ']'" },
        { "group_junk", G "[disk:a] x\n", "t.guest:5: group line without a closing ']'" },
        { "group_empty", G "[]\n", "t.guest:5: invalid group name ''" },
        { "group_brackets", G "[a[b]]\n", "invalid group name 'a[b]'" },
        { "key_space", G "[disk:a]\npa th=/x\n", "t.guest:6: [disk:a]: invalid key name 'pa th'" },
        { "key_locale", G "[disk:a]\npath=/a\npath[de]=/etc/shadow\n", "t.guest:7: [disk:a]: invalid key name 'path[de]'" },
        { "key_empty", G "=x\n", "t.guest:5: [guest]: invalid key name ''" },
        { "key_long", G "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x\n", "t.guest:5: [guest]: invalid key name 'aaaa" },
        { "control_char", G "# \x01\n", "t.guest:5: control character 0x01 in the definition" },
        { "bare_cr", "[guest]\nname=t\rx\nuser=1\ngroup=1\n", "t.guest:2: control character 0x0d" },
        { "cr_at_end", G "[kernel]\nkernel=/k\r", "t.guest:6: control character 0x0d" },
        { "escape_char", G "\x1b[31m\n", "t.guest:5: control character 0x1b" },
        { "invalid_utf8", G "# \xff\xfe\n", "t.guest:5: not valid UTF-8" },
        { "overlong_utf8", G "[disk:a]\npath=/\xc0\xaf\n", "t.guest:6: not valid UTF-8" },
        { "bom", "\xef\xbb\xbf[guest]\n", "t.guest:1: line is not a [group]" },
        { "crlf_lines", "[guest]\r\nname=t\r\nuser=1\r\ngroup=1\r\n[disk:a]\r\npath=a\r\n", "t.guest:6: [disk:a] key 'path': relative path 'a'" },
};

static void test_guest_parse_error(void **state) {
        const ErrorCase *c = *state;
        load_fails(c->text, -EINVAL, c->fragment);
}

/* ---- Fixtures ---------------------------------------------------------- */

/* A sysfs with three PCI devices: one in IOMMU group 12, one with no
 * group (IOMMU off), one whose link names no group. */
static void sysfs_make(void) {
        static const struct {
                const char *addr, *target;
        } devs[] = {
                { "0000:01:00.0", "../../../../kernel/iommu_groups/12" },
                { "0000:0a:1f.7", "../../../../kernel/iommu_groups/7" },
                { "0000:03:00.0", NULL },
                { "0000:04:00.0", "../../../../kernel/iommu_groups/not-a-number" },
        };
        sysfs = g_build_filename(scratch, "sys", NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(devs); i++) {
                g_autofree char *dir = g_build_filename(sysfs, "bus/pci/devices", devs[i].addr, NULL);
                g_autofree char *link = g_build_filename(dir, "iommu_group", NULL);
                assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
                if (devs[i].target)
                        assert_int_equal(symlink(devs[i].target, link), 0);
        }
}

static int setup(void **state) {
        scratch = test_scratch_new("guest");
        sysfs_make();
        return 0;
}

static int teardown(void **state) {
        test_scratch_remove(scratch);
        free(scratch);
        g_free(sysfs);
        return 0;
}

int main(void) {
        const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_guest_parse_minimal),
                cmocka_unit_test(test_guest_parse_identity),
                cmocka_unit_test(test_guest_parse_hotplug_dirs),
                cmocka_unit_test(test_guest_parse_groups),
                cmocka_unit_test(test_guest_parse_groups_unknown),
                cmocka_unit_test(test_guest_record_groups),
                cmocka_unit_test(test_guest_parse_every_type),
                cmocka_unit_test(test_guest_parse_syntax_variants),
                cmocka_unit_test(test_guest_load_file_examples),
                cmocka_unit_test(test_guest_parse_vfio_group),
                cmocka_unit_test(test_guest_parse_vfio_unresolved),
                cmocka_unit_test(test_guest_parse_vfio_bad_link),
                cmocka_unit_test(test_guest_parse_disk_chain),
                cmocka_unit_test(test_guest_parse_disk_unresolved),
                cmocka_unit_test(test_guest_parse_disk_bad_image),
                cmocka_unit_test(test_guest_parse_skip_host),
                cmocka_unit_test(test_guest_copy_reparses),
                cmocka_unit_test(test_guest_resolve_cgroup_default),
                cmocka_unit_test(test_guest_to_string),
                cmocka_unit_test(test_guest_name_is_valid),
                cmocka_unit_test(test_guest_path_per_process),
                cmocka_unit_test(test_guest_parse_per_process_paths),
                cmocka_unit_test(test_guest_parse_hostile_backing),
                cmocka_unit_test(test_guest_parse_block_device_backing),
                cmocka_unit_test(test_guest_parse_unresolved_order),
                cmocka_unit_test(test_guest_with_resource),
                cmocka_unit_test(test_guest_with_resource_errors),
                cmocka_unit_test(test_guest_with_resource_host),
                cmocka_unit_test(test_guest_without_resource),
                cmocka_unit_test(test_guest_without_resource_errors),
                cmocka_unit_test(test_guest_load_file_errors),
                cmocka_unit_test(test_guest_load_data_args),
                cmocka_unit_test(test_guest_load_file_no_fd_leak),
                cmocka_unit_test(test_guest_parse_nul_byte),
                cmocka_unit_test(test_guest_parse_long_values),
                cmocka_unit_test(test_guest_parse_size_limit),
                cmocka_unit_test(test_guest_parse_10k_resources),
                cmocka_unit_test(test_guest_parse_resource_limit),
                cmocka_unit_test(test_guest_parse_key_limit),
                cmocka_unit_test(test_guest_parse_garbage),
        };
        size_t n_fixed = G_N_ELEMENTS(fixed), n = n_fixed + G_N_ELEMENTS(error_cases);
        g_autofree struct CMUnitTest *tests = g_new0(struct CMUnitTest, n);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        memcpy(tests, fixed, sizeof(fixed));
        /* One case per error, named after it, so a failure says which. */
        for (size_t i = 0; i < G_N_ELEMENTS(error_cases); i++) {
                char *name = g_strdup_printf("test_guest_parse_error_%s", error_cases[i].name);
                g_ptr_array_add(names, name);
                tests[n_fixed + i] = (struct CMUnitTest){
                        .name = name,
                        .test_func = test_guest_parse_error,
                        .initial_state = (void *) &error_cases[i],
                };
        }
        return _cmocka_run_group_tests("test-guest", tests, n, setup, teardown);
}
