/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dac and selinux plugins through the manager and a real lockd, on
 * real files (a tmpfs and an ext4 image): what a guest's files carry
 * while it runs, that every original comes back exactly and no
 * trusted.bulwark.* record stays, sharing and conflicts between guests,
 * crashes at every step, records of another boot, a filesystem without
 * xattrs, refused chowns and system paths, and concurrent starts.
 *
 * Crashes and faults are injected at the system calls the plugins make:
 * this binary defines fchownat, fchown, setxattr, fsetxattr, removexattr
 * and fremovexattr (exported with -rdynamic, so the dlopen'd plugins call
 * them; the engine changes regular files through a descriptor, other
 * files through their path) and counts them; at step kill_at it SIGKILLs
 * itself, at the fail_selinux_at-th security.selinux write it fails with
 * EIO. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest.h"
#include "label-fixture.h"
#include "test-util.h"

static long step_count, kill_at, fail_selinux_at, selinux_writes;

static void label_step(void) {
        if (++step_count == kill_at)
                kill(getpid(), SIGKILL);
}

__attribute__((visibility("default"))) int fchownat(int fd, const char *path, uid_t uid, gid_t gid, int flags) {
        int (*real)(int, const char *, uid_t, gid_t, int) = (int (*)(int, const char *, uid_t, gid_t, int)) dlsym(RTLD_NEXT, "fchownat");
        label_step();
        return real(fd, path, uid, gid, flags);
}

__attribute__((visibility("default"))) int fchown(int fd, uid_t uid, gid_t gid) {
        int (*real)(int, uid_t, gid_t) = (int (*)(int, uid_t, gid_t)) dlsym(RTLD_NEXT, "fchown");
        label_step();
        return real(fd, uid, gid);
}

/* A step of an xattr write; false: the injected selinux fault. */
static bool label_xattr_write_step(const char *name) {
        if (strcmp(name, "security.selinux") == 0 && fail_selinux_at > 0 && ++selinux_writes == fail_selinux_at) {
                errno = EIO;
                return false;
        }
        label_step();
        return true;
}

__attribute__((visibility("default"))) int setxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
        int (*real)(const char *, const char *, const void *, size_t, int) =
                (int (*)(const char *, const char *, const void *, size_t, int)) dlsym(RTLD_NEXT, "setxattr");
        return label_xattr_write_step(name) ? real(path, name, value, size, flags) : -1;
}

__attribute__((visibility("default"))) int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
        int (*real)(int, const char *, const void *, size_t, int) =
                (int (*)(int, const char *, const void *, size_t, int)) dlsym(RTLD_NEXT, "fsetxattr");
        return label_xattr_write_step(name) ? real(fd, name, value, size, flags) : -1;
}

__attribute__((visibility("default"))) int removexattr(const char *path, const char *name) {
        int (*real)(const char *, const char *) = (int (*)(const char *, const char *)) dlsym(RTLD_NEXT, "removexattr");
        label_step();
        return real(path, name);
}

__attribute__((visibility("default"))) int fremovexattr(int fd, const char *name) {
        int (*real)(int, const char *) = (int (*)(int, const char *)) dlsym(RTLD_NEXT, "fremovexattr");
        label_step();
        return real(fd, name);
}

static int setup_ext4(void **state) {
        *state = label_fixture_new("labels-ext4", LABEL_FS_EXT4);
        return 0;
}

static int setup_tmpfs(void **state) {
        *state = label_fixture_new("labels-tmpfs", LABEL_FS_TMPFS);
        return 0;
}

/* The fixture (main() leaves out the ext4 cases where no ext4 image can
 * be mounted, so a missing one here is a failure). */
static LabelFixture *fixture(void **state) {
        if (!*state)
                fail_msg("the test's filesystem could not be set up");
        return *state;
}

static int teardown(void **state) {
        label_fixture_free(*state);
        return 0;
}

#define PLUGINS "dac,selinux"

static void assert_owner(const char *path, const char *want) {
        g_autofree char *owner = label_fixture_owner(path);
        if (strcmp(owner, want) != 0)
                fail_msg("'%s': owner %s, expected %s", path, owner, want);
}

static void assert_context(const char *path, const char *want_prefix) {
        g_autofree char *ctx = label_fixture_context(path);
        if (!g_str_has_prefix(ctx, want_prefix))
                fail_msg("'%s': context '%s', expected '%s...'", path, ctx, want_prefix);
}

static void assert_snapshot(LabelFixture *f, const char *before) {
        g_autofree char *now = label_fixture_snapshot(f);
        if (strcmp(now, before) != 0)
                fail_msg("files differ from before the guest ran:\nbefore:\n%s\nnow:\n%s", before, now);
        assert_int_equal(label_fixture_count_records(f), 0);
}

static int start_text(BwManager *m, const char *text, const char *name, BwError *err) {
        BwGuest *g = label_fixture_guest(text, name);
        int r = bw_manager_start(m, g, err);
        bw_guest_free(g);
        return r;
}

static void start_ok(BwManager *m, const char *text, const char *name) {
        BwError err = {};
        if (start_text(m, text, name, &err) < 0)
                fail_msg("start '%s': %s", name, err.message);
}

static void stop_ok(BwManager *m, const char *name) {
        BwError err = {};
        if (bw_manager_stop(m, name, &err) < 0)
                fail_msg("stop '%s': %s", name, err.message);
}

static bool guest_running(LabelFixture *f, const char *name) {
        g_autofree char *file = g_strdup_printf("%s.journal", name);
        g_autofree char *journal = g_build_filename(f->state, "guests", file, NULL);
        return access(journal, F_OK) == 0;
}

static char *path_of(LabelFixture *f, const char *name) {
        return g_build_filename(f->files, name, NULL);
}

/* Every file of every resource type: owned by the guest with its
 * contexts while it runs, exactly as before once it stopped. */
static void test_start_stop_every_resource_type(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_guest_text(f, "vm1", "vm1.iso", "vm1_VARS.fd");
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, text, "vm1");

        const char *rw[] = { "vm1-disk.img", "vm1-serial.log", "vm1_VARS.fd", "vm1-memory.ram", "vm1-tpm",
                             "vm1-tpm/tpm2", "vm1-tpm/tpm2/tpm2-00.permall", "vm1-monitor.sock", "vm1-pipe", NULL };
        const char *ro[] = { "vm1.iso", "vmlinuz", "initrd.img", "OVMF_CODE.fd", NULL };
        for (size_t i = 0; rw[i]; i++) {
                g_autofree char *p = path_of(f, rw[i]);
                assert_owner(p, "107:107");
                assert_context(p, "system_u:object_r:svirt_image_t:s0:c");
        }
        for (size_t i = 0; ro[i]; i++) {
                g_autofree char *p = path_of(f, ro[i]);
                assert_owner(p, "107:107");
                assert_context(p, "system_u:object_r:virt_content_t:s0");
        }
        /* A [device:] node is the host's, shared by every guest: left as
         * it was (its original owner 1:2 and context, no record). */
        g_autofree char *node = g_build_filename(f->devdir, "vm1-null", NULL);
        assert_owner(node, "1:2");
        assert_int_equal(lgetxattr(node, "trusted.bulwark.dac", NULL, 0), -1);
        g_autofree char *node_context = label_fixture_context(node);
        assert_null(strstr(node_context, "svirt_image_t"));
        g_autofree char *disk = path_of(f, "vm1-disk.img");
        char rec[4096];
        ssize_t n = lgetxattr(disk, "trusted.bulwark.dac", rec, sizeof(rec) - 1);
        assert_true(n > 0);
        rec[n] = '\0';
        assert_non_null(strstr(rec, "original 1:2\napplied 107:107\n"));

        stop_ok(m, "vm1");
        assert_snapshot(f, before);
        /* The MCS pair is released with the guest. */
        g_autofree char *mcs = g_build_filename(f->state, "selinux", "mcs", NULL);
        assert_int_equal(test_count_entries(mcs), 0);
        bw_manager_free(m);
}

static void test_attach_detach(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *extra = label_fixture_file(f, "extra.img");
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, text, "vm1");
        assert_owner(extra, "1:2");
        g_autofree char *group = g_strdup_printf("[disk:extra]\npath=%s\n", extra);
        BwError err = {};
        if (bw_manager_attach(m, "vm1", group, &err) < 0)
                fail_msg("attach: %s", err.message);
        assert_owner(extra, "107:107");
        assert_context(extra, "system_u:object_r:svirt_image_t:s0:c");
        if (bw_manager_detach(m, "vm1", "disk:extra", &err) < 0)
                fail_msg("detach: %s", err.message);
        assert_owner(extra, "1:2");
        assert_context(extra, LABEL_ORIGINAL_CONTEXT);
        char buf[16];
        assert_true(lgetxattr(extra, "trusted.bulwark.dac", buf, sizeof(buf)) < 0 && errno == ENODATA);
        stop_ok(m, "vm1");
        assert_snapshot(f, before);
        bw_manager_free(m);
}

static char *holders_of(const char *path, const char *driver) {
        g_autofree char *name = g_strdup_printf("trusted.bulwark.%s", driver);
        char rec[4096];
        ssize_t n = lgetxattr(path, name, rec, sizeof(rec) - 1);
        if (n < 0)
                return g_strdup("");
        rec[n] = '\0';
        GString *h = g_string_new(NULL);
        for (char *p = strstr(rec, "holder "); p; p = strstr(p + 1, "holder "))
                g_string_append_c(h, 'H');
        return g_string_free(h, FALSE);
}

/* A read-only image and a shared=true disk used by two guests: the first
 * stop restores nothing, the second restores. */
static void test_two_guests_share(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *shared = label_fixture_file(f, "cluster.img");
        g_autofree char *a = label_fixture_guest_text(f, "vma", "common.iso", "vma_VARS.fd");
        g_autofree char *b = label_fixture_guest_text(f, "vmb", "common.iso", "vmb_VARS.fd");
        g_autofree char *sa = g_strdup_printf("%s[disk:cluster]\npath=%s\nshared=true\n", a, shared);
        g_autofree char *sb = g_strdup_printf("%s[disk:cluster]\npath=%s\nshared=true\n", b, shared);
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, sa, "vma");
        start_ok(m, sb, "vmb");
        g_autofree char *iso = path_of(f, "common.iso");
        g_autofree char *h1 = holders_of(iso, "dac"), *h2 = holders_of(shared, "selinux");
        assert_string_equal(h1, "HH");
        assert_string_equal(h2, "HH");
        assert_context(shared, "system_u:object_r:svirt_image_t:s0");
        g_autofree char *ctx = label_fixture_context(shared);
        assert_string_equal(ctx, "system_u:object_r:svirt_image_t:s0");   /* no categories */
        stop_ok(m, "vma");
        assert_owner(iso, "107:107");
        assert_owner(shared, "107:107");
        assert_context(iso, "system_u:object_r:virt_content_t:s0");
        g_autofree char *h3 = holders_of(iso, "dac");
        assert_string_equal(h3, "H");
        stop_ok(m, "vmb");
        assert_snapshot(f, before);
        bw_manager_free(m);
}

/* Two guests wanting one nvram: the second is refused naming the first
 * (its uuid), whose record stays as it was.  Through lockd, the first
 * guest's lease on its nvram refuses the second start before any change
 * (the labels' records would refuse it later, naming it). */
static void test_nvram_conflict_names_the_guest(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *a = label_fixture_guest_text(f, "vma", "vma.iso", "one_VARS.fd");
        g_autofree char *b = label_fixture_guest_text(f, "vmb", "vmb.iso", "one_VARS.fd");
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, a, "vma");
        g_autofree char *vars = path_of(f, "one_VARS.fd");
        char rec1[4096] = "", rec2[4096] = "";
        assert_true(lgetxattr(vars, "trusted.bulwark.selinux", rec1, sizeof(rec1) - 1) > 0);
        g_autofree char *b_before = label_fixture_snapshot(f);
        BwError err = {};
        BwManager *quick = label_fixture_manager(f, PLUGINS, "[bulwark]\nlock-timeout=0.3\n");
        g_autofree char *uuid = guest_uuid_from_name("vma");
        assert_int_equal(start_text(quick, b, "vmb", &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, "one_VARS.fd"));
        assert_non_null(strstr(err.message, "leased exclusively"));
        assert_non_null(strstr(err.message, uuid));
        bw_manager_free(quick);
        assert_true(lgetxattr(vars, "trusted.bulwark.selinux", rec2, sizeof(rec2) - 1) > 0);
        assert_string_equal(rec1, rec2);
        g_autofree char *after = label_fixture_snapshot(f);
        assert_string_equal(after, b_before);
        stop_ok(m, "vma");
        assert_snapshot(f, before);
        bw_manager_free(m);
}

/* Runs op in a child killed at step n; returns true when it was killed
 * (false: the op finished before step n). */
typedef void (*LabelOp)(LabelFixture *f, const char *text);

static bool run_killed_at(LabelFixture *f, LabelOp op, const char *text, long n) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                step_count = 0;
                kill_at = n;
                op(f, text);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return false;
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        return true;
}

static void recover_ok(LabelFixture *f) {
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        if (bw_manager_recover(m, &err) < 0)
                fail_msg("recover: %s", err.message);
        bw_manager_free(m);
}

static void op_start(LabelFixture *f, const char *text) {
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, text, "crash");
        bw_manager_free(m);
}

static void op_stop(LabelFixture *f, const char *text) {
        (void) text;
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        stop_ok(m, "crash");
        bw_manager_free(m);
}

static void op_attach(LabelFixture *f, const char *text) {
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        if (bw_manager_attach(m, "crash", text, &err) < 0)
                fail_msg("attach: %s", err.message);
        bw_manager_free(m);
}

static void op_detach(LabelFixture *f, const char *text) {
        (void) text;
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        if (bw_manager_detach(m, "crash", "disk:extra", &err) < 0)
                fail_msg("detach: %s", err.message);
        bw_manager_free(m);
}

/* Kills `op` at every step in turn; after recover (and a stop of a guest
 * left running) every file has its original owner and context and no
 * record is left. */
static void crash_every_step(LabelFixture *f, const char *prepare, LabelOp op, const char *op_text) {
        g_autofree char *text = label_fixture_small_guest_text(f, "crash");
        g_autofree char *extra = label_fixture_file(f, "extra.img");
        g_autofree char *before = label_fixture_snapshot(f);
        g_autofree char *group = g_strdup_printf("[disk:extra]\npath=%s\n", extra);
        g_autofree char *with_extra = g_strconcat(text, group, NULL);
        const char *arg = op_text && strcmp(op_text, "group") == 0 ? group : text;
        long n;
        for (n = 1;; n++) {
                BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
                if (prepare)
                        start_ok(m, strcmp(prepare, "start+extra") == 0 ? with_extra : text, "crash");
                bw_manager_free(m);
                bool killed = run_killed_at(f, op, arg, n);
                recover_ok(f);
                if (guest_running(f, "crash")) {
                        m = label_fixture_manager(f, PLUGINS, NULL);
                        stop_ok(m, "crash");
                        bw_manager_free(m);
                }
                assert_snapshot(f, before);
                if (!killed)
                        break;
        }
        print_message("# %s: killed at each of %ld steps, recovered every time\n", op_text ? op_text : "start", n - 1);
        assert_true(n > 4);
}

static void test_crash_start(void **state) {
        crash_every_step(fixture(state), NULL, op_start, NULL);
}

static void test_crash_stop(void **state) {
        crash_every_step(fixture(state), "start", op_stop, "stop");
}

static void test_crash_attach(void **state) {
        crash_every_step(fixture(state), "start", op_attach, "group");
}

static void test_crash_detach(void **state) {
        crash_every_step(fixture(state), "start+extra", op_detach, "detach");
}


/* Starts a guest over a record a guest that no longer runs left on its
 * disk (the file still its, 5:5, original 1:2), written in boot `boot`:
 * the guest gets the file, the record keeps 1:2 as the original and
 * forgets the old holder, and the stop gives 1:2 back. */
static void start_over_left_record(LabelFixture *f, const char *boot) {
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *disk = path_of(f, "vm1-disk.img");
        g_autofree char *before = label_fixture_snapshot(f);
        g_autofree char *rec = g_strdup_printf("bulwark-label-record 1\ndriver dac\nboot %s\noriginal 1:2\n"
                                               "applied 5:5\nholder 99999999-9999-9999-9999-999999999999\n", boot);
        assert_int_equal(lchown(disk, 5, 5), 0);
        assert_int_equal(lsetxattr(disk, "trusted.bulwark.dac", rec, strlen(rec), 0), 0);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m, text, "vm1");
        assert_owner(disk, "107:107");
        char buf[4096];
        ssize_t n = lgetxattr(disk, "trusted.bulwark.dac", buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "original 1:2\n"));
        assert_null(strstr(buf, "9999"));
        stop_ok(m, "vm1");
        assert_snapshot(f, before);
        bw_manager_free(m);
}

/* A record another boot left: discarded, its original put back first. */
static void test_foreign_boot_record(void **state) {
        start_over_left_record(fixture(state), "00000000-1111-2222-3333-444444444444");
}

/* A damaged or hostile record is refused, naming the file, and nothing
 * is changed. */
static void test_damaged_record_refused(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *disk = path_of(f, "vm1-disk.img");
        const char rec[] = "bulwark-label-record 1\ndriver dac\noriginal 0:0\nholder ../../etc\n";
        assert_int_equal(lsetxattr(disk, "trusted.bulwark.dac", rec, strlen(rec), 0), 0);
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        assert_int_equal(start_text(m, text, "vm1", &err), -EBADMSG);
        assert_non_null(strstr(err.message, "vm1-disk.img"));
        assert_non_null(strstr(err.message, "damaged"));
        g_autofree char *after = label_fixture_snapshot(f);
        assert_string_equal(after, before);
        assert_false(guest_running(f, "vm1"));
        assert_int_equal(lremovexattr(disk, "trusted.bulwark.dac"), 0);
        bw_manager_free(m);
}

/* A filesystem that refuses xattrs (ramfs): the record goes to the host
 * journal under the state directory, and the original comes back. */
static void test_no_xattr_fallback_journal(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *ram = label_fixture_mount(f, "ram", "ramfs", NULL);
        g_autofree char *img = test_write_file(ram, "disk.img", "data", -1);
        assert_int_equal(lchown(img, 1, 2), 0);
        assert_true(lsetxattr(img, "trusted.x", "1", 1, 0) < 0 && errno == EOPNOTSUPP);
        g_autofree char *text = g_strdup_printf("[guest]\nname=vm1\nuser=107\ngroup=107\n[disk:root]\npath=%s\n", img);
        BwManager *m = label_fixture_manager(f, "dac", NULL);
        start_ok(m, text, "vm1");
        assert_owner(img, "107:107");
        g_autofree char *journal = g_build_filename(f->state, "label", "dac", NULL);
        assert_int_equal(test_count_entries(journal), 1);
        stop_ok(m, "vm1");
        assert_owner(img, "1:2");
        assert_int_equal(test_count_entries(journal), 0);
        bw_manager_free(m);
}

static int set_immutable(const char *path, bool on) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int flags = 0;
        int r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
        if (r == 0) {
                flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
                r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
        }
        r = r < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* An immutable file (chattr +i on ext4): the chown is refused with EPERM,
 * the error names the file, and nothing else stays changed. */
static void test_eperm_reported_nothing_changed(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *iso = path_of(f, "small.iso");
        g_autofree char *before = label_fixture_snapshot(f);
        int r = set_immutable(iso, true);
        if (r < 0) {
                print_message("# skipped: chattr +i on '%s': %s\n", iso, strerror(-r));
                skip();
        }
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        r = start_text(m, text, "vm1", &err);
        assert_int_equal(set_immutable(iso, false), 0);
        assert_int_equal(r, -EPERM);
        assert_non_null(strstr(err.message, "small.iso"));
        assert_non_null(strstr(err.message, "Operation not permitted"));
        assert_snapshot(f, before);
        bw_manager_free(m);
}

/* System paths as resources are refused, naming the resource. */
static void test_system_paths_refused(void **state) {
        LabelFixture *f = fixture(state);
        const char *paths[] = { "/etc/shadow", "/", "/proc/self/mem", "/usr/bin/env", NULL };
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        struct stat shadow_before, shadow_after;
        assert_int_equal(stat("/etc/shadow", &shadow_before), 0);
        for (size_t i = 0; paths[i]; i++) {
                g_autofree char *text = g_strdup_printf("[guest]\nname=bad\nuser=107\ngroup=107\n[disk:sys]\npath=%s\n",
                                                        paths[i]);
                BwGuest *g = NULL;
                BwError err = {};
                int r = bw_guest_load_data(text, strlen(text), "bad", &g, &err);
                if (r >= 0) {
                        r = bw_manager_start(m, g, &err);
                        bw_guest_free(g);
                }
                assert_true(r < 0);
                if (!strstr(err.message, paths[i]))
                        fail_msg("'%s': message does not name it: %s", paths[i], err.message);
        }
        assert_int_equal(stat("/etc/shadow", &shadow_after), 0);
        assert_int_equal(shadow_after.st_uid, shadow_before.st_uid);
        assert_int_equal(shadow_after.st_gid, shadow_before.st_gid);
        char buf[64];
        assert_true(getxattr("/etc/shadow", "trusted.bulwark.dac", buf, sizeof(buf)) < 0);
        bw_manager_free(m);
}

/* A symlink to a file outside as a disk is followed once, at plan: the
 * target is what gets labelled; a dangling one is refused. */
static void test_dangling_symlink_refused(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *link = g_build_filename(f->files, "dangling.img", NULL);
        assert_int_equal(symlink("/nonexistent/bulwark-labels", link), 0);
        g_autofree char *text = g_strdup_printf("[guest]\nname=vm1\nuser=107\ngroup=107\n[disk:root]\npath=%s\n", link);
        BwGuest *g = NULL;
        BwError err = {};
        int r = bw_guest_load_data(text, strlen(text), "vm1", &g, &err);
        if (r >= 0) {
                BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
                r = bw_manager_start(m, g, &err);
                bw_guest_free(g);
                bw_manager_free(m);
        }
        assert_true(r < 0);
        assert_non_null(strstr(err.message, "dangling.img"));
}

/* Two processes starting guests whose files overlap (a shared read-only
 * image), through lockd, at once: both run, the shared file has both
 * holders, and after both stop every original is back. */
static void test_concurrent_overlapping_starts(void **state) {
        LabelFixture *f = fixture(state);
        char *texts[4];
        const char *names[] = { "c0", "c1", "c2", "c3" };
        for (int i = 0; i < 4; i++) {
                g_autofree char *vars = g_strdup_printf("%s_VARS.fd", names[i]);
                texts[i] = label_fixture_guest_text(f, names[i], "common.iso", vars);
        }
        g_autofree char *before = label_fixture_snapshot(f);
        pid_t pids[4];
        for (int i = 0; i < 4; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
                        BwError err = {};
                        int r = start_text(m, texts[i], names[i], &err);
                        if (r < 0)
                                fprintf(stderr, "start '%s': %s\n", names[i], err.message);
                        bw_manager_free(m);
                        _exit(r < 0 ? 1 : 0);
                }
        }
        for (int i = 0; i < 4; i++) {
                int status;
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        g_autofree char *iso = path_of(f, "common.iso");
        g_autofree char *h = holders_of(iso, "selinux"), *hd = holders_of(iso, "dac");
        assert_string_equal(h, "HHHH");
        assert_string_equal(hd, "HHHH");
        /* Four guests, four MCS pairs. */
        g_autofree char *mcs = g_build_filename(f->state, "selinux", "mcs", NULL);
        assert_int_equal(test_count_entries(mcs), 4);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        for (int i = 0; i < 4; i++) {
                stop_ok(m, names[i]);
                g_free(texts[i]);
        }
        assert_snapshot(f, before);
        bw_manager_free(m);
}

/* A fault in selinux after dac labelled everything: the start fails and
 * dac's changes are rolled back too. */
static void test_rollback_selinux_fault_restores_dac(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_guest_text(f, "vm1", "vm1.iso", "vm1_VARS.fd");
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        selinux_writes = 0;
        fail_selinux_at = 3;
        int r = start_text(m, text, "vm1", &err);
        fail_selinux_at = 0;
        assert_int_equal(r, -EIO);
        assert_non_null(strstr(err.message, "cannot label it"));
        assert_snapshot(f, before);
        assert_false(guest_running(f, "vm1"));
        bw_manager_free(m);
}


/* skip-paths=: files below are never relabelled by that driver. */
static void test_skip_paths(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *before = label_fixture_snapshot(f);
        g_autofree char *extra = g_strdup_printf("[plugin:dac]\nskip-paths=%s\n", f->files);
        BwManager *m = label_fixture_manager(f, PLUGINS, extra);
        BwGuest *g = label_fixture_guest(text, "vm1");
        BwPlan *plan = NULL;
        BwError err = {};
        assert_int_equal(bw_manager_plan(m, g, &plan, &err), 0);
        char *json = NULL;
        assert_int_equal(bw_plan_to_json(plan, g, &json), 0);
        assert_non_null(strstr(json, "skipped: under skip-paths"));
        bw_free(json);
        bw_plan_free(plan);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        bw_guest_free(g);
        g_autofree char *disk = path_of(f, "vm1-disk.img");
        assert_owner(disk, "1:2");
        assert_context(disk, "system_u:object_r:svirt_image_t:s0:c");
        stop_ok(m, "vm1");
        assert_snapshot(f, before);
        bw_manager_free(m);
}

static mode_t mode_of(const char *path) {
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode & 07777;
}

/* [plugin:dac] mode=: every file of the guest gets that mode with its
 * owner, a directory keeps its own, and stop gives back each original
 * mode exactly, set-id bits included (a chown alone drops them). */
static void test_dac_mode(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *disk = path_of(f, "vm1-disk.img"), *tpm = path_of(f, "vm1-tpm");
        assert_int_equal(chmod(disk, 02755), 0);
        mode_t tpm_mode = mode_of(tpm);
        g_autofree char *before = label_fixture_snapshot(f);
        BwManager *m = label_fixture_manager(f, PLUGINS, "[plugin:dac]\nmode=0640\n");
        BwGuest *g = label_fixture_guest(text, "vm1");
        BwError err = {};

        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        assert_owner(disk, "107:107");
        assert_int_equal(mode_of(disk), 0640);
        assert_owner(tpm, "107:107");
        assert_int_equal(mode_of(tpm), tpm_mode);
        stop_ok(m, "vm1");
        assert_int_equal(mode_of(disk), 02755);
        assert_snapshot(f, before);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* Without mode= the mode is left alone: a file chmodded while the guest
 * runs keeps that mode after stop. */
static void test_dac_mode_untouched(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *disk = path_of(f, "vm1-disk.img");
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwGuest *g = label_fixture_guest(text, "vm1");
        BwError err = {};
        mode_t mode = mode_of(disk);

        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start: %s", err.message);
        assert_int_equal(mode_of(disk), mode);
        assert_int_equal(chmod(disk, 0600), 0);
        stop_ok(m, "vm1");
        assert_owner(disk, "1:2");
        assert_int_equal(mode_of(disk), 0600);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A holder of this boot whose guest no longer runs (its daemon died and
 * its state went) never makes a file "in use". */
static void test_stale_holder_never_blocks(void **state) {
        char boot[64] = "";
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        assert_non_null(f);
        assert_non_null(fgets(boot, sizeof(boot), f));
        fclose(f);
        boot[36] = '\0';
        start_over_left_record(fixture(state), boot);
}

/* MCS pairs are reserved in the state directory: a guest started by
 * another daemon (another manager) gets another pair, and a restarted
 * daemon keeps the running guest's. */
static void test_mcs_unique_across_daemons(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *a = label_fixture_small_guest_text(f, "vma");
        g_autofree char *b = label_fixture_small_guest_text(f, "vmb");
        BwManager *m1 = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m1, a, "vma");
        bw_manager_free(m1);
        BwManager *m2 = label_fixture_manager(f, PLUGINS, NULL);
        start_ok(m2, b, "vmb");
        g_autofree char *da = path_of(f, "vma-disk.img"), *db = path_of(f, "vmb-disk.img");
        g_autofree char *ca = label_fixture_context(da), *cb = label_fixture_context(db);
        assert_true(g_str_has_prefix(ca, "system_u:object_r:svirt_image_t:s0:c"));
        assert_string_not_equal(ca, cb);
        g_autofree char *mcs = g_build_filename(f->state, "selinux", "mcs", NULL);
        assert_int_equal(test_count_entries(mcs), 2);
        stop_ok(m2, "vma");
        stop_ok(m2, "vmb");
        assert_int_equal(test_count_entries(mcs), 0);
        bw_manager_free(m2);
}

/* A read-only filesystem: the chown is refused with EROFS, reported
 * naming the file; the guest's other files are given back. */
static void test_erofs_reported(void **state) {
        LabelFixture *f = fixture(state);
        g_autofree char *text = label_fixture_small_guest_text(f, "vm1");
        g_autofree char *ro = label_fixture_mount(f, "ro", "tmpfs", "size=1m");
        g_autofree char *img = test_write_file(ro, "ro.img", "data", -1);
        assert_int_equal(lchown(img, 1, 2), 0);
        int r = mount(NULL, ro, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
        g_autofree char *before = label_fixture_snapshot(f);
        g_autofree char *with = g_strdup_printf("%s[disk:ro]\npath=%s\n", text, img);
        BwManager *m = label_fixture_manager(f, PLUGINS, NULL);
        BwError err = {};
        int k = r < 0 ? -errno : start_text(m, with, "vm1", &err);
        bw_manager_free(m);
        if (r < 0)
                fail_msg("remount '%s' read-only: %s", ro, strerror(-k));
        assert_int_equal(k, -EROFS);
        assert_non_null(strstr(err.message, "ro.img"));
        assert_non_null(strstr(err.message, "Read-only file system"));
        assert_snapshot(f, before);
}

int main(void) {
        test_require_root();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_start_stop_every_resource_type, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_attach_detach, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_two_guests_share, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_nvram_conflict_names_the_guest, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_crash_start, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_crash_stop, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_crash_attach, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_crash_detach, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_foreign_boot_record, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_damaged_record_refused, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_no_xattr_fallback_journal, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_erofs_reported, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_system_paths_refused, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_dangling_symlink_refused, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_overlapping_starts, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_rollback_selinux_fault_restores_dac, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_dac_mode, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_dac_mode_untouched, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_skip_paths, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_stale_holder_never_blocks, setup_tmpfs, teardown),
                cmocka_unit_test_setup_teardown(test_mcs_unique_across_daemons, setup_tmpfs, teardown),
        };
        /* On an ext4 image where one can be loop-mounted: chattr +i. */
        const struct CMUnitTest ext4_tests[] = {
                cmocka_unit_test_setup_teardown(test_start_stop_every_resource_type, setup_ext4, teardown),
                cmocka_unit_test_setup_teardown(test_eperm_reported_nothing_changed, setup_ext4, teardown),
        };
        struct CMUnitTest all[G_N_ELEMENTS(tests) + G_N_ELEMENTS(ext4_tests)];
        size_t n = G_N_ELEMENTS(tests);
        memcpy(all, tests, sizeof(tests));
        LabelFixture *probe = label_fixture_new("labels-probe", LABEL_FS_EXT4);
        if (probe) {
                memcpy(all + n, ext4_tests, sizeof(ext4_tests));
                n += G_N_ELEMENTS(ext4_tests);
                label_fixture_free(probe);
        } else
                print_message("# the ext4 cases are left out: no ext4 image could be mounted here\n");
        return _cmocka_run_group_tests("test-labels", all, n, NULL, NULL);
}
