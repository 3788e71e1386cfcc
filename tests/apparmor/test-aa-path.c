/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The path matrix: every path a guest definition could hand the AppArmor
 * plugin, and what becomes of it (refused with which reason, or the exact
 * quoted file name of the rule).  In the spirit of libvirt's
 * virt-aa-helper-test, which the cases below go beyond: restricted trees
 * against look-alike names, every glob and syntax character, long names.
 * Pure logic: needs no root. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "aa-path.h"
#include "aa-rule-check.h"
#include "test-util.h"

#define R AA_ACCESS_READ
#define W AA_ACCESS_WRITE

typedef struct PathCase {
        const char *path;          /* as given; NULL: built by the test (see len_case) */
        size_t len;                /* 0: strlen(path) */
        AaAccess access;
        int code;                  /* 0: accepted */
        const char *expect;        /* accepted: the quoted rule name; refused: part of the message */
} PathCase;

static const PathCase cases[] = {
        /* plain paths, read and write */
        { "/var/lib/images/a.qcow2", 0, W, 0, "\"/var/lib/images/a.qcow2\"" },
        { "/var/lib/images/a.qcow2", 0, R, 0, "\"/var/lib/images/a.qcow2\"" },
        { "/srv/vm/disk-1_2+3.img", 0, W, 0, "\"/srv/vm/disk-1_2+3.img\"" },
        { "/srv/vm/a:b=c~d%e", 0, W, 0, "\"/srv/vm/a:b=c~d%e\"" },
        { "/dev/sda", 0, W, 0, "\"/dev/sda\"" },
        { "/dev/vfio/12", 0, W, 0, "\"/dev/vfio/12\"" },
        { "/dev/bus/usb/001/004", 0, W, 0, "\"/dev/bus/usb/001/004\"" },
        { "/dev/hugepages/guest", 0, W, 0, "\"/dev/hugepages/guest\"" },
        { "/var/lib/does/not/exist/yet.img", 0, W, 0, "\"/var/lib/does/not/exist/yet.img\"" },
        /* normalization */
        { "//var//lib///x.img", 0, W, 0, "\"/var/lib/x.img\"" },
        { "/var/./lib/./x.img", 0, W, 0, "\"/var/lib/x.img\"" },
        { "/var/lib/../lib/x.img", 0, W, 0, "\"/var/lib/x.img\"" },
        { "/var/lib/images/", 0, W, 0, "\"/var/lib/images\"" },
        { "/var/lib/images/.", 0, W, 0, "\"/var/lib/images\"" },
        { "/../../var/x.img", 0, W, 0, "\"/var/x.img\"" },
        { "/var/lib/images/..", 0, W, 0, "\"/var/lib\"" },
        { "/var/...", 0, W, 0, "\"/var/...\"" },
        { "/var/..x/.y", 0, W, 0, "\"/var/..x/.y\"" },
        { "/srv/a/../../etc/shadow", 0, R, -EPERM, "'/etc/shadow' is never allowed" },
        { "/srv/../etc/passwd", 0, W, -EPERM, "'/etc' is never writable" },
        { "/srv/../etc/passwd", 0, R, 0, "\"/etc/passwd\"" },
        { "/srv/./../usr/bin/qemu", 0, W, -EPERM, "'/usr' is never writable" },
        /* relative and empty */
        { "var/lib/x.img", 0, W, -EINVAL, "relative path refused" },
        { "./x.img", 0, R, -EINVAL, "relative path refused" },
        { "../x.img", 0, R, -EINVAL, "relative path refused" },
        { "x", 0, R, -EINVAL, "relative path refused" },
        { "", 0, R, -EINVAL, "empty path refused" },
        { " /var/x", 0, R, -EINVAL, "relative path refused" },
        { "~/x.img", 0, R, -EINVAL, "relative path refused" },
        /* never allowed */
        { "/dev/mem", 0, R, -EPERM, "'/dev/mem' is never allowed" },
        { "/dev/kmem", 0, R, -EPERM, "'/dev/kmem' is never allowed" },
        { "/dev/port", 0, W, -EPERM, "'/dev/port' is never allowed" },
        { "//dev/./mem", 0, R, -EPERM, "'/dev/mem' is never allowed" },
        { "/proc/1/mem", 0, R, -EPERM, "'/proc' is never allowed" },
        { "/proc/self/mem", 0, W, -EPERM, "'/proc' is never allowed" },
        { "/proc/kcore", 0, R, -EPERM, "'/proc' is never allowed" },
        { "/sys/kernel/security", 0, R, -EPERM, "'/sys' is never allowed" },
        { "/etc/shadow", 0, R, -EPERM, "'/etc/shadow' is never allowed" },
        { "/etc/gshadow", 0, R, -EPERM, "'/etc/gshadow' is never allowed" },
        { "/etc/sudoers.d/x", 0, R, -EPERM, "'/etc/sudoers.d' is never allowed" },
        { "/etc/apparmor.d/bulwark/x", 0, R, -EPERM, "'/etc/apparmor.d' is never allowed" },
        { "/root/disk.img", 0, R, -EPERM, "'/root' is never allowed" },
        /* look-alike names are not the restricted ones */
        { "/dev/memory.img", 0, W, 0, "\"/dev/memory.img\"" },
        { "/dev/mem0", 0, W, 0, "\"/dev/mem0\"" },
        { "/dev/portal", 0, W, 0, "\"/dev/portal\"" },
        { "/procedures/x.img", 0, W, 0, "\"/procedures/x.img\"" },
        { "/system/x.img", 0, W, 0, "\"/system/x.img\"" },
        { "/etc/shadowed.img", 0, R, 0, "\"/etc/shadowed.img\"" },
        { "/rootfs/x.img", 0, W, 0, "\"/rootfs/x.img\"" },
        { "/library/x", 0, W, 0, "\"/library/x\"" },
        { "/lib64x/disk", 0, W, 0, "\"/lib64x/disk\"" },
        { "/usrdata/x.img", 0, W, 0, "\"/usrdata/x.img\"" },
        { "/etcetera/x.img", 0, W, 0, "\"/etcetera/x.img\"" },
        { "/boots/x.img", 0, W, 0, "\"/boots/x.img\"" },
        { "/var/lib/etc/x.img", 0, W, 0, "\"/var/lib/etc/x.img\"" },
        /* never writable, readable */
        { "/boot/vmlinuz-6.1", 0, R, 0, "\"/boot/vmlinuz-6.1\"" },
        { "/boot/vmlinuz-6.1", 0, W, -EPERM, "'/boot' is never writable" },
        { "/vmlinuz", 0, R, 0, "\"/vmlinuz\"" },
        { "/initrd.img", 0, W, -EPERM, "'/initrd.img' is never writable" },
        { "/etc/passwd", 0, W, -EPERM, "'/etc' is never writable" },
        { "/usr/share/OVMF/OVMF_CODE.fd", 0, R, 0, "\"/usr/share/OVMF/OVMF_CODE.fd\"" },
        { "/usr/share/OVMF/OVMF_VARS.fd", 0, W, -EPERM, "'/usr' is never writable" },
        { "/usr/lib/u-boot/qemu/u-boot.bin", 0, R, 0, "\"/usr/lib/u-boot/qemu/u-boot.bin\"" },
        { "/lib/firmware/x.bin", 0, W, -EPERM, "'/lib' is never writable" },
        { "/lib/firmware/x.bin", 0, R, 0, "\"/lib/firmware/x.bin\"" },
        { "/bin/sh", 0, W, -EPERM, "'/bin' is never writable" },
        { "/sbin/init", 0, W, -EPERM, "'/sbin' is never writable" },
        { "/", 0, W, -EPERM, "'/' is never writable" },
        { "/", 0, R, 0, "\"/\"" },
        { "/efi/EFI/x", 0, W, -EPERM, "'/efi' is never writable" },
        /* every glob and syntax character names itself */
        { "/srv/a*b", 0, W, 0, "\"/srv/a\\052b\"" },
        { "/srv/**", 0, W, 0, "\"/srv/\\052\\052\"" },
        { "/srv/a?b", 0, W, 0, "\"/srv/a\\077b\"" },
        { "/srv/a[0-9]b", 0, W, 0, "\"/srv/a\\1330-9\\135b\"" },
        { "/srv/a{b,c}", 0, W, 0, "\"/srv/a\\173b\\054c\\175\"" },
        { "/srv/a^b", 0, W, 0, "\"/srv/a\\136b\"" },
        { "/srv/a\"b", 0, W, 0, "\"/srv/a\\042b\"" },
        { "/srv/a\\b", 0, W, 0, "\"/srv/a\\134b\"" },
        { "/srv/a,b", 0, W, 0, "\"/srv/a\\054b\"" },
        { "/srv/a b", 0, W, 0, "\"/srv/a\\040b\"" },
        { "/srv/a\tb", 0, W, 0, "\"/srv/a\\011b\"" },
        { "/srv/a\nb", 0, W, 0, "\"/srv/a\\012b\"" },
        { "/srv/a\rb", 0, W, 0, "\"/srv/a\\015b\"" },
        { "/srv/@{HOME}", 0, W, 0, "\"/srv/\\100\\173HOME\\175\"" },
        { "/srv/#x", 0, W, 0, "\"/srv/\\043x\"" },
        { "/srv/a!b|c&d$e'f(g)h<i>j;k`l", 0, W, 0,
          "\"/srv/a\\041b\\174c\\046d\\044e\\047f\\050g\\051h\\074i\\076j\\073k\\140l\"" },
        { "/srv/caf\xc3\xa9", 0, W, 0, "\"/srv/caf\\303\\251\"" },
        { "/srv/\x7f", 0, W, 0, "\"/srv/\\177\"" },
        { "/srv/x\0y", 8, W, -EINVAL, "embedded NUL byte refused" },
        { "/dev/mem\0.img", 13, R, -EINVAL, "embedded NUL byte refused" },
};

static void check_case(const PathCase *c) {
        size_t len = c->len ? c->len : strlen(c->path);
        g_autofree char *norm = NULL, *quoted = NULL;
        BwError err = {};
        int r = aa_path_check(c->path, len, c->access, &norm, &err);

        if (r != c->code)
                fail_msg("path '%s' (%s): got %d (%s), want %d", g_strescape(c->path, NULL),
                         c->access == W ? "write" : "read", r, err.message, c->code);
        if (c->code == 0) {
                quoted = aa_path_quote(norm);
                if (strcmp(quoted, c->expect) != 0)
                        fail_msg("path '%s': quoted as %s, want %s", g_strescape(c->path, NULL), quoted, c->expect);
        } else if (!strstr(err.message, c->expect))
                fail_msg("path '%s': message '%s' lacks '%s'", g_strescape(c->path, NULL), err.message, c->expect);
}

static void test_aa_path_matrix(void **state) {
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
                check_case(&cases[i]);
        print_message("# %zu path cases\n", G_N_ELEMENTS(cases));
}

/* Long names: a component of NAME_MAX bytes is fine, one more is not; a
 * path of PATH_MAX bytes is refused. */
static void test_aa_path_long(void **state) {
        g_autofree char *name = g_strnfill(NAME_MAX, 'a'), *name1 = g_strnfill(NAME_MAX + 1, 'b');
        g_autofree char *ok = g_strconcat("/srv/", name, NULL), *bad = g_strconcat("/srv/", name1, NULL);
        GString *huge = g_string_new(NULL);
        g_autofree char *norm = NULL;
        BwError err = {};

        assert_int_equal(aa_path_check(ok, strlen(ok), W, &norm, &err), 0);
        assert_string_equal(norm, ok);
        assert_int_equal(aa_path_check(bad, strlen(bad), W, &norm, &err), -EINVAL);
        assert_non_null(strstr(err.message, "a component is longer than 255 bytes"));
        while (huge->len < PATH_MAX)
                g_string_append(huge, "/abcdefg");
        assert_int_equal(aa_path_check(huge->str, huge->len, R, &norm, &err), -EINVAL);
        assert_non_null(strstr(err.message, "longer than 4095 bytes"));
        g_string_free(huge, TRUE);
}

/* By component, both ways. */
static void test_aa_path_has_prefix(void **state) {
        assert_true(aa_path_has_prefix("/lib", "/lib"));
        assert_true(aa_path_has_prefix("/lib/x", "/lib"));
        assert_false(aa_path_has_prefix("/library/x", "/lib"));
        assert_false(aa_path_has_prefix("/li", "/lib"));
        assert_false(aa_path_has_prefix("/usr/lib64/x", "/usr/lib"));
        assert_true(aa_path_has_prefix("/", "/"));
        assert_false(aa_path_has_prefix("/x", "/"));
}

/* A directory tree rule: the glob is ours, after the escaped path. */
static void test_aa_path_quote_tree(void **state) {
        g_autofree char *t = aa_path_quote_tree("/var/lib/swtpm/a*b");
        assert_string_equal(t, "\"/var/lib/swtpm/a\\052b/**\"");
}

/* Rules from elsewhere (the helper's --change): what aa-rules.c writes
 * passes, nothing else does. */
static void test_aa_rule_check(void **state) {
        static const char *const good[] = {
                "  \"/var/lib/x.img\" rwk,\n",
                "  \"/srv/a\\052b\\040c\" rk,\n  \"/dev/vfio/12\" rw,\n  \"/dev/vfio/vfio\" rw,\n",
                "  \"/var/lib/swtpm/g/\" r,\n  \"/var/lib/swtpm/g/**\" rwk,\n",
                "  \"/boot/vmlinuz\" r,\n",
                "",
        };
        static const char *const bad[] = {
                "  \"/srv/*\" rw,\n",                 /* a raw glob */
                "  \"/srv/a\" rw,\n  /** rwx,\n",    /* a second, foreign rule */
                "  \"/etc/shadow\" r,\n",             /* never allowed */
                "  \"/etc/fstab\" rw,\n",             /* never writable */
                "  \"/srv/a\" rwx,\n",                /* perms we never write */
                "  \"/srv/a\\x2a\" rw,\n",           /* an escape we never write */
                "  \"/srv/../etc/passwd\" rw,\n",     /* not normalized */
                "  \"/srv/d/\" rw,\n",                /* a directory granted more than r */
                "  capability sys_admin,\n",
                "}\nprofile evil {\n",
                "  \"/srv/a\" rw, \"/etc/**\" rw,\n",
                "  \"relative\" r,\n",
        };
        BwError err = {};
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                if (aa_rule_check_section("disk:root", good[i], &err) < 0)
                        fail_msg("good rules %zu refused: %s", i, err.message);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (aa_rule_check_section("disk:root", bad[i], &err) != -EPERM)
                        fail_msg("bad rules %zu accepted: %s", i, bad[i]);
        assert_int_equal(aa_rule_check_section("guest", "", &err), 0);
        assert_int_equal(aa_rule_check_section("disk:../x", "", &err), -EINVAL);
        assert_int_equal(aa_rule_check_section("Disk:x", "", &err), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_aa_path_matrix),
                cmocka_unit_test(test_aa_path_long),
                cmocka_unit_test(test_aa_path_has_prefix),
                cmocka_unit_test(test_aa_path_quote_tree),
                cmocka_unit_test(test_aa_rule_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
