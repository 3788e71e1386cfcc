/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The labelling engine without the manager: the record's encoding and
 * its validation, system paths by component, holders, and the inode a
 * change acts on (a symlink or another file swapped in after the lock
 * changes nothing).  The driver here chowns, like dac. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "label-engine.h"
#include "label-path.h"
#include "test-util.h"

static int chown_read(LabelInode *inode, GBytes *shape, GBytes **ret) {
        (void) shape;
        if (fstat(inode->fd, &inode->st) < 0)
                return -errno;
        g_autofree char *s = g_strdup_printf("%u:%u", (unsigned) inode->st.st_uid, (unsigned) inode->st.st_gid);
        *ret = g_bytes_new(s, strlen(s));
        return 0;
}

static int chown_write(LabelInode *inode, GBytes *label) {
        g_autofree char *s = g_strndup(g_bytes_get_data(label, NULL), g_bytes_get_size(label));
        unsigned u, g;
        if (sscanf(s, "%u:%u", &u, &g) != 2)
                return -EINVAL;
        return label_inode_chown(inode, u, g);
}

static bool chown_valid(const void *label, size_t len) {
        return len > 2 && memchr(label, ':', len) != NULL;
}

static const LabelDriver test_driver = {
        .name = "dac", .verb = "chown", .read = chown_read, .write = chown_write, .valid = chown_valid,
};

#define HOLDER_A "11111111-2222-3333-4444-555555555555"
#define HOLDER_B "66666666-7777-8888-9999-aaaaaaaaaaaa"

static int parse(const char *text, char **why) {
        LabelRecord *r = NULL;
        int k = label_record_parse("dac", chown_valid, text, strlen(text), &r, why);
        label_record_free(r);
        return k;
}

static void test_record_round_trip(void **state) {
        (void) state;
        g_autoptr(GBytes) orig = g_bytes_new("sys\\tem\0", 8), app = g_bytes_new("107:107", 7);
        g_autoptr(LabelRecord) r = label_record_new("dac", "0123abcd-0000-1111-2222-333344445555", orig, app);
        assert_true(label_record_add_holder(r, HOLDER_A));
        assert_false(label_record_add_holder(r, HOLDER_A));
        assert_true(label_record_add_holder(r, HOLDER_B));
        size_t len;
        g_autofree char *text = label_record_format(r, &len);
        assert_non_null(strstr(text, "original sys\\x5ctem\\x00\n"));
        g_autoptr(LabelRecord) back = NULL;
        g_autofree char *why = NULL;
        /* "sys\tem\0" is no chown label: parse with no validator. */
        assert_int_equal(label_record_parse("dac", NULL, text, len, &back, &why), 0);
        assert_true(g_bytes_equal(back->original, orig));
        assert_int_equal(back->holders->len, 2);
        assert_true(label_record_remove_holder(back, HOLDER_A));
        assert_false(label_record_remove_holder(back, HOLDER_A));
}

static void test_record_damaged_refused(void **state) {
        (void) state;
        const char *ok = "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\n"
                         "original 0:0\napplied 107:107\nholder " HOLDER_A "\n";
        char *why = NULL;
        assert_int_equal(parse(ok, &why), 0);
        const char *bad[][2] = {
                { "bulwark-label-record 2\ndriver dac\n", "first line" },
                { "bulwark-label-record 1\ndriver selinux\n", "driver 'selinux'" },
                { "bulwark-label-record 1\ndriver dac\nboot ../../etc/passwd\n", "boot id" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal 0:0\napplied 107:107\n", "lacks a holder" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal 0:0\napplied 107:107\nholder " HOLDER_A "\nholder " HOLDER_A "\n", "listed twice" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal 0:0\napplied 107:107\nholder x\n", "not a uuid" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal 0:0\napplied 107:107\nowner root\n", "unknown or repeated key 'owner'" },
                { "bulwark-label-record 1\ndriver dac\noriginal 0:0\noriginal 5:5\n", "repeated key 'original'" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal nonsense\n", "not a valid label" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal 0:0\\x4\n", "badly escaped" },
                { "bulwark-label-record 1\ndriver dac", "newline-terminated" },
                { "bulwark-label-record 1\ndriver dac\nboot 0123abcd-0000-1111-2222-333344445555\noriginal \n", "original label is empty" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *reason = NULL;
                assert_int_equal(parse(bad[i][0], &reason), -EBADMSG);
                if (!strstr(reason, bad[i][1]))
                        fail_msg("record %zu: reason '%s' lacks '%s'", i, reason, bad[i][1]);
        }
        g_autofree char *big = g_strnfill(LABEL_RECORD_SIZE_MAX + 1, 'x');
        g_autofree char *reason = NULL;
        assert_int_equal(parse(big, &reason), -EBADMSG);
        free(why);
}

static void test_system_paths_by_component(void **state) {
        (void) state;
        assert_non_null(label_path_refusal("/", S_IFDIR));
        assert_non_null(label_path_refusal("/etc/shadow", S_IFREG));
        assert_non_null(label_path_refusal("/etc", S_IFDIR));
        assert_non_null(label_path_refusal("/proc/self/mem", S_IFREG));
        assert_non_null(label_path_refusal("/sys/kernel/notes", S_IFREG));
        assert_non_null(label_path_refusal("/dev/sda-backup.img", S_IFREG));
        assert_null(label_path_refusal("/library/x.img", S_IFREG));
        assert_null(label_path_refusal("/etcetera/x.img", S_IFREG));
        assert_null(label_path_refusal("/dev/vfio/12", S_IFCHR));
        assert_null(label_path_refusal("/dev/shm/guest/mem", S_IFREG));
        assert_null(label_path_refusal("/var/lib/images/a.qcow2", S_IFREG));
        assert_true(label_path_is_shipped("/usr/share/OVMF/OVMF_CODE.fd", S_IFREG));
        assert_false(label_path_is_shipped("/etc/OVMF_CODE.fd", S_IFREG));
        g_autofree char *prefix = NULL;
        assert_true(label_path_skipped("/mnt/nfs:/srv/x", "/srv/x/a.img", &prefix));
        assert_string_equal(prefix, "/srv/x");
        assert_false(label_path_skipped("/srv/x", "/srv/xy/a.img", NULL));
}

typedef struct Fx {
        char *dir;
        LabelEngine *e;
} Fx;

static int setup(void **state) {
        Fx *fx = g_new0(Fx, 1);
        fx->dir = test_scratch_new("label-engine");
        g_autofree char *st = g_build_filename(fx->dir, "state", NULL);
        assert_int_equal(label_engine_new(&test_driver, st, NULL, NULL, &fx->e), 0);
        *state = fx;
        return 0;
}

static int teardown(void **state) {
        Fx *fx = *state;
        label_engine_free(fx->e);
        test_scratch_remove(fx->dir);
        free(fx->dir);
        g_free(fx);
        return 0;
}

static char *make_file(Fx *fx, const char *name) {
        char *p = test_write_file(fx->dir, name, "x", -1);
        assert_int_equal(chown(p, 1, 2), 0);
        return p;
}

static void assert_untouched(const char *path) {
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_uid, 1);
        assert_int_equal(st.st_gid, 2);
        char buf[8];
        assert_true(lgetxattr(path, "trusted.bulwark.dac", buf, sizeof(buf)) < 0 && errno == ENODATA);
}

static LabelTarget locked_target(const char *path, const char *what) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return (LabelTarget) { .path = path, .what = what, .check_id = true, .dev = st.st_dev, .ino = st.st_ino };
}

/* The final component replaced by a symlink to a file outside after the
 * lock: refused, and the outside file is untouched. */
static void test_symlink_swap_changes_nothing(void **state) {
        Fx *fx = *state;
        g_autofree char *disk = make_file(fx, "disk.img");
        g_autofree char *outside = make_file(fx, "outside");
        LabelTarget t = locked_target(disk, "disk 'root'");
        assert_int_equal(unlink(disk), 0);
        assert_int_equal(symlink(outside, disk), 0);
        g_autoptr(GBytes) label = g_bytes_new("107:107", 7);
        g_autofree char *msg = NULL;
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), -ELOOP);
        assert_non_null(strstr(msg, "disk 'root'"));
        assert_non_null(strstr(msg, "symlink"));
        assert_untouched(outside);
}

/* Another file renamed over the locked one: not the inode that was
 * locked, refused. */
static void test_swapped_file_refused(void **state) {
        Fx *fx = *state;
        g_autofree char *disk = make_file(fx, "disk.img");
        g_autofree char *other = make_file(fx, "other.img");
        LabelTarget t = locked_target(disk, "disk 'root'");
        assert_int_equal(rename(other, disk), 0);
        g_autoptr(GBytes) label = g_bytes_new("107:107", 7);
        g_autofree char *msg = NULL;
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), -ESTALE);
        assert_non_null(strstr(msg, "another file"));
        assert_untouched(disk);
}

/* A second name of a file (a hard link, say from a guest-writable
 * directory to a system file) is refused: the inode may be anything. */
static void test_hard_link_refused(void **state) {
        Fx *fx = *state;
        g_autofree char *victim = make_file(fx, "victim");
        g_autofree char *disk = g_build_filename(fx->dir, "disk.img", NULL);
        assert_int_equal(link(victim, disk), 0);
        LabelTarget t = locked_target(disk, "disk 'root'");
        g_autoptr(GBytes) label = g_bytes_new("107:107", 7);
        g_autofree char *msg = NULL;
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), -EPERM);
        assert_non_null(strstr(msg, "hard link"));
        assert_untouched(victim);
}

/* Holders: apply twice and undo twice are harmless; the last holder
 * restores. */
static void test_holders_idempotent(void **state) {
        Fx *fx = *state;
        g_autofree char *disk = make_file(fx, "disk.img");
        LabelTarget t = locked_target(disk, "disk 'root'");
        g_autoptr(GBytes) label = g_bytes_new("107:107", 7);
        g_autofree char *msg = NULL;
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), 0);
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), 0);
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_B, label, &msg), 0);
        assert_true(label_engine_held_by(fx->e, disk, HOLDER_B));
        assert_int_equal(label_engine_undo(fx->e, &t, HOLDER_A, &msg), 0);
        assert_int_equal(label_engine_undo(fx->e, &t, HOLDER_A, &msg), 0);
        struct stat st;
        assert_int_equal(stat(disk, &st), 0);
        assert_int_equal(st.st_uid, 107);
        assert_int_equal(label_engine_undo(fx->e, &t, HOLDER_B, &msg), 0);
        assert_untouched(disk);
        assert_int_equal(label_engine_undo(fx->e, &t, HOLDER_B, &msg), 0);
        assert_untouched(disk);
}

/* label restore: the original back whatever the holders, the record gone. */
static void test_restore(void **state) {
        Fx *fx = *state;
        g_autofree char *disk = make_file(fx, "disk.img");
        LabelTarget t = locked_target(disk, "disk 'root'");
        g_autoptr(GBytes) label = g_bytes_new("107:107", 7);
        g_autofree char *msg = NULL;
        assert_int_equal(label_engine_apply(fx->e, &t, HOLDER_A, label, &msg), 0);
        assert_int_equal(label_engine_restore(fx->e, disk, &msg), 1);
        assert_untouched(disk);
        assert_int_equal(label_engine_restore(fx->e, disk, &msg), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record_round_trip),
                cmocka_unit_test(test_record_damaged_refused),
                cmocka_unit_test(test_system_paths_by_component),
                cmocka_unit_test_setup_teardown(test_symlink_swap_changes_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_swapped_file_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hard_link_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_holders_idempotent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
        };
        if (geteuid() != 0)
                test_skip_all("needs root (chown and trusted.* xattrs)");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
