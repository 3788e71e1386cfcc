/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 headers and backing chains, on real files the tests write:
 * versions 2 and 3, with and without the backing-format extension,
 * relative names, loops, the depth limit and malformed headers; backing
 * files that must not be opened (FIFOs, character devices, sockets,
 * directories, block devices nobody listed, per-process names), with
 * inotify to prove they were not. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "qcow2.h"
#include "test-util.h"

static char *scratch;

/* ---- Writing images ---------------------------------------------------- */

typedef struct Image {
        uint32_t version;          /* 0 means 3 */
        const char *backing;       /* NULL: no backing file */
        const char *backing_format; /* NULL: no backing-format extension */
        uint32_t cluster_bits;     /* 0 means 16 */
        uint64_t incompatible;     /* v3 incompatible feature bits */
        uint32_t header_length;    /* v3; 0 means 112, what qemu writes today */
} Image;

#define IMAGE_SIZE 4096

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static void put_be64(uint8_t *p, uint64_t v) {
        put_be32(p, (uint32_t) (v >> 32));
        put_be32(p + 4, (uint32_t) v);
}

/* Lays out an image as qemu-img does: header, extensions, end marker,
 * backing name.  Returns the offset of the backing name (0 when none). */
static size_t image_build(const Image *img, uint8_t buf[IMAGE_SIZE]) {
        uint32_t version = img->version ? img->version : 3;
        uint32_t header_length = img->header_length ? img->header_length : 112;
        size_t off = version == 2 ? 72 : header_length;

        memset(buf, 0, IMAGE_SIZE);
        put_be32(buf, 0x514649fb);
        put_be32(buf + 4, version);
        put_be32(buf + 20, img->cluster_bits ? img->cluster_bits : 16);
        put_be64(buf + 24, 1 << 20);
        if (version == 3) {
                put_be64(buf + 72, img->incompatible);
                put_be32(buf + 96, 4);
                put_be32(buf + 100, header_length);
        }
        if (img->backing_format) {
                size_t n = strlen(img->backing_format);
                put_be32(buf + off, 0xe2792aca);
                put_be32(buf + off + 4, (uint32_t) n);
                memcpy(buf + off + 8, img->backing_format, n);
                off += 8 + ((n + 7) & ~(size_t) 7);
        }
        off += 8; /* end marker: zeros */
        if (!img->backing)
                return 0;
        size_t n = strlen(img->backing);
        put_be64(buf + 8, off);
        put_be32(buf + 16, (uint32_t) n);
        memcpy(buf + off, img->backing, n);
        return off;
}

static char *image_write(const char *name, const Image *img) {
        uint8_t buf[IMAGE_SIZE];
        image_build(img, buf);
        return test_write_file(scratch, name, buf, IMAGE_SIZE);
}

static char *raw_write(const char *name) {
        return test_write_file(scratch, name, "just some raw bytes, no header", -1);
}

static char *scratch_path(const char *name) {
        return g_build_filename(scratch, name, NULL);
}

/* ---- Helpers ----------------------------------------------------------- */

static void chain_ok(const char *image, bool sniff, Qcow2Chain *chain) {
        BwError err = {};
        if (qcow2_chain_resolve(image, sniff, NULL, NULL, chain, &err) < 0)
                fail_msg("qcow2_chain_resolve(%s): %s", image, err.message);
        assert_non_null(chain->backing);
}

static void chain_fails(const char *image, bool sniff, int code, const char *fragment) {
        g_auto(Qcow2Chain) chain = {};
        BwError err = {};
        int r = qcow2_chain_resolve(image, sniff, NULL, NULL, &chain, &err);
        if (r != code)
                fail_msg("%s: expected %d, got %d (%s)", image, code, r, err.message);
        if (!strstr(err.message, fragment))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
        /* Every message names the image that was asked for. */
        if (!strstr(err.message, image))
                fail_msg("'%s' does not name '%s'", err.message, image);
        assert_null(chain.backing);
}

static void parse_fails(const uint8_t *buf, size_t len, uint64_t size, const char *fragment) {
        g_auto(Qcow2Header) h = {};
        BwError err = {};
        assert_int_equal(qcow2_header_parse(buf, len, size, "image 'x'", &h, &err), -EINVAL);
        if (!strstr(err.message, fragment))
                fail_msg("'%s' does not contain '%s'", err.message, fragment);
        assert_non_null(strstr(err.message, "image 'x'"));
}

/* ---- Headers ----------------------------------------------------------- */

static void test_qcow2_header_parse_v2(void **state) {
        uint8_t buf[IMAGE_SIZE];
        g_auto(Qcow2Header) h = {};
        image_build(&(Image){ .version = 2, .backing = "base.img" }, buf);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_int_equal(h.version, 2);
        assert_int_equal(h.header_length, 72);
        assert_string_equal(h.backing_file, "base.img");
        assert_null(h.backing_format);
}

static void test_qcow2_header_parse_v2_extension(void **state) {
        uint8_t buf[IMAGE_SIZE];
        g_auto(Qcow2Header) h = {};
        image_build(&(Image){ .version = 2, .backing = "/b.qcow2", .backing_format = "qcow2" }, buf);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_string_equal(h.backing_file, "/b.qcow2");
        assert_string_equal(h.backing_format, "qcow2");
}

static void test_qcow2_header_parse_v3(void **state) {
        uint8_t buf[IMAGE_SIZE];
        g_auto(Qcow2Header) h = {};
        image_build(&(Image){ .backing = "/b.raw", .backing_format = "raw" }, buf);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_int_equal(h.version, 3);
        assert_int_equal(h.header_length, 112);
        assert_string_equal(h.backing_file, "/b.raw");
        assert_string_equal(h.backing_format, "raw");
        /* the shortest v3 header, as older qemu wrote it */
        g_auto(Qcow2Header) h104 = {};
        image_build(&(Image){ .backing = "/b.raw", .backing_format = "raw", .header_length = 104 }, buf);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h104, NULL), 0);
        assert_int_equal(h104.header_length, 104);
        assert_string_equal(h104.backing_format, "raw");
}

static void test_qcow2_header_parse_no_backing(void **state) {
        uint8_t buf[IMAGE_SIZE];
        g_auto(Qcow2Header) h = {};
        image_build(&(Image){ 0 }, buf);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_null(h.backing_file);
        /* offset set, size 0: qemu reads no name, and neither do we */
        put_be64(buf + 8, 200);
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_null(h.backing_file);
}

static void test_qcow2_header_parse_truncated(void **state) {
        uint8_t buf[IMAGE_SIZE];
        image_build(&(Image){ .version = 2 }, buf);
        parse_fails(buf, 3, 3, "not a qcow2 image");
        parse_fails(buf, 50, 50, "truncated qcow2 header (50 bytes");
        image_build(&(Image){ 0 }, buf);
        parse_fails(buf, 90, 90, "truncated qcow2 v3 header (90 bytes");
        /* the buffer is long but the file is not */
        parse_fails(buf, sizeof(buf), 60, "truncated qcow2 header (60 bytes");
}

static void test_qcow2_header_parse_bad_fields(void **state) {
        uint8_t buf[IMAGE_SIZE];
        image_build(&(Image){ 0 }, buf);
        put_be32(buf + 4, 4);
        parse_fails(buf, sizeof(buf), sizeof(buf), "unsupported qcow2 version 4");
        image_build(&(Image){ .cluster_bits = 30 }, buf);
        parse_fails(buf, sizeof(buf), sizeof(buf), "invalid qcow2 cluster size");
        image_build(&(Image){ 0 }, buf);
        put_be32(buf + 100, 100);
        parse_fails(buf, sizeof(buf), sizeof(buf), "header length 100");
        put_be32(buf + 100, 1u << 20);
        parse_fails(buf, sizeof(buf), sizeof(buf), "header length 1048576");
        image_build(&(Image){ .incompatible = 1u << 2 }, buf);
        g_auto(Qcow2Header) h = {};
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), -EOPNOTSUPP);
}

static void test_qcow2_header_parse_backing_out_of_bounds(void **state) {
        uint8_t buf[IMAGE_SIZE];
        size_t off = image_build(&(Image){ .backing = "base" }, buf);
        /* past the end of the file */
        put_be64(buf + 8, 10000);
        parse_fails(buf, sizeof(buf), sizeof(buf), "past the end of the image (4096 bytes)");
        /* a name running over the end */
        put_be64(buf + 8, IMAGE_SIZE - 2);
        parse_fails(buf, sizeof(buf), sizeof(buf), "past the end of the image");
        /* an offset so large that offset + size wraps */
        put_be64(buf + 8, UINT64_MAX - 1);
        parse_fails(buf, sizeof(buf), sizeof(buf), "past the end of the image");
        /* inside the header */
        put_be64(buf + 8, 16);
        parse_fails(buf, sizeof(buf), sizeof(buf), "overlaps the header");
        /* too long a name */
        put_be64(buf + 8, off);
        put_be32(buf + 16, 2000);
        parse_fails(buf, sizeof(buf), sizeof(buf), "backing file name of 2000 bytes");
        /* a control character in the name */
        put_be32(buf + 16, 4);
        buf[off + 1] = '\n';
        parse_fails(buf, sizeof(buf), sizeof(buf), "control characters");
        /* beyond the first cluster (512 bytes) yet inside the file */
        image_build(&(Image){ .backing = "base", .cluster_bits = 9 }, buf);
        put_be64(buf + 8, 1000);
        parse_fails(buf, sizeof(buf), sizeof(buf), "outside the first cluster");
}

static void test_qcow2_header_parse_bad_extensions(void **state) {
        uint8_t buf[IMAGE_SIZE];
        image_build(&(Image){ .backing_format = "qcow2", .header_length = 104 }, buf);
        put_be32(buf + 108, 100000);
        parse_fails(buf, sizeof(buf), sizeof(buf), "extension 0xe2792aca at offset 104 runs past");
        put_be32(buf + 108, 0);
        parse_fails(buf, sizeof(buf), sizeof(buf), "backing format extension of 0 bytes");
        put_be32(buf + 108, 40);
        parse_fails(buf, sizeof(buf), sizeof(buf), "backing format extension of 40 bytes");
        put_be32(buf + 108, 5);
        buf[113] = '\x01';
        parse_fails(buf, sizeof(buf), sizeof(buf), "not printable");
        /* two backing format extensions */
        image_build(&(Image){ .backing_format = "raw", .header_length = 104 }, buf);
        memcpy(buf + 120, buf + 104, 16);
        parse_fails(buf, sizeof(buf), sizeof(buf), "more than one backing format extension");
        /* unknown extensions are skipped */
        image_build(&(Image){ .backing_format = "raw", .header_length = 104 }, buf);
        memmove(buf + 120, buf + 104, 16);
        put_be32(buf + 104, 0x12345678);
        put_be32(buf + 108, 3);
        g_auto(Qcow2Header) h = {};
        assert_int_equal(qcow2_header_parse(buf, sizeof(buf), sizeof(buf), "x", &h, NULL), 0);
        assert_string_equal(h.backing_format, "raw");
}

/* Random damage to a valid header never crashes or reads out of bounds
 * (ASan builds check the latter). */
static void test_qcow2_header_parse_mutations(void **state) {
        uint8_t good[IMAGE_SIZE], buf[IMAGE_SIZE];
        GRand *rand = g_rand_new_with_seed(42);
        image_build(&(Image){ .backing = "../base/image.qcow2", .backing_format = "qcow2" }, good);
        for (int i = 0; i < 20000; i++) {
                g_auto(Qcow2Header) h = {};
                size_t len = (size_t) g_rand_int_range(rand, 0, IMAGE_SIZE + 1);
                memcpy(buf, good, sizeof(buf));
                for (int j = g_rand_int_range(rand, 1, 6); j > 0; j--)
                        buf[g_rand_int_range(rand, 0, 160)] = (uint8_t) g_rand_int(rand);
                int r = qcow2_header_parse(buf, len, len, "x", &h, NULL);
                assert_true(r == 0 || r == -EINVAL || r == -EOPNOTSUPP);
                if (r == 0 && h.backing_file)
                        assert_true(strlen(h.backing_file) <= QCOW2_BACKING_NAME_MAX);
        }
        g_rand_free(rand);
}

/* ---- Chains ------------------------------------------------------------ */

static void test_qcow2_chain_resolve_chain_of_3(void **state) {
        g_autofree char *base = image_write("c3-base.qcow2", &(Image){ .version = 2 });
        g_autofree char *mid = image_write("c3-mid.qcow2", &(Image){ .backing = base, .backing_format = "qcow2" });
        g_autofree char *top = image_write("c3-top.qcow2", &(Image){ .backing = mid });
        g_auto(Qcow2Chain) chain = {};
        chain_ok(top, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), 2);
        assert_string_equal(chain.backing[0], mid);
        assert_string_equal(chain.backing[1], base);
        assert_null(chain.unresolved);
}

static void test_qcow2_chain_resolve_relative(void **state) {
        g_autofree char *dir_a = scratch_path("rel-a"), *dir_b = scratch_path("rel-b");
        assert_int_equal(mkdir(dir_a, 0700), 0);
        assert_int_equal(mkdir(dir_b, 0700), 0);
        g_free(image_write("rel-b/base.qcow2", &(Image){ 0 }));
        /* relative to the directory of the image that names it */
        g_free(image_write("rel-b/mid.qcow2", &(Image){ .backing = "base.qcow2" }));
        g_autofree char *top = image_write("rel-a/top.qcow2", &(Image){ .backing = "../rel-b/mid.qcow2" });
        g_autofree char *want_mid = g_build_filename(dir_a, "../rel-b/mid.qcow2", NULL);
        g_autofree char *want_base = g_build_filename(dir_a, "../rel-b/base.qcow2", NULL);
        g_auto(Qcow2Chain) chain = {};
        chain_ok(top, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), 2);
        assert_string_equal(chain.backing[0], want_mid);
        assert_string_equal(chain.backing[1], want_base);
}

static void test_qcow2_chain_resolve_raw_backing(void **state) {
        g_autofree char *raw = raw_write("rb-base.raw");
        g_autofree char *top = image_write("rb-top.qcow2", &(Image){ .backing = raw });
        g_auto(Qcow2Chain) chain = {};
        chain_ok(top, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), 1);
        assert_string_equal(chain.backing[0], raw);
        /* format=raw recorded: the file is listed and never opened */
        g_autofree char *gone = scratch_path("rb-missing.raw");
        g_autofree char *top2 = image_write("rb-top2.qcow2", &(Image){ .backing = gone, .backing_format = "raw" });
        g_auto(Qcow2Chain) chain2 = {};
        chain_ok(top2, false, &chain2);
        assert_int_equal(g_strv_length(chain2.backing), 1);
        assert_null(chain2.unresolved);
}

static void test_qcow2_chain_resolve_format_extension_wins(void **state) {
        /* A raw backing file whose content looks like qcow2: the recorded
         * format says raw, so its "header" is never read. */
        g_autofree char *evil = image_write("fx-evil.raw", &(Image){ .backing = "/etc/shadow" });
        g_autofree char *top = image_write("fx-top.qcow2", &(Image){ .backing = evil, .backing_format = "raw" });
        g_auto(Qcow2Chain) chain = {};
        chain_ok(top, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), 1);
        /* format recorded as qcow2 but the file is raw */
        g_autofree char *raw = raw_write("fx-plain.raw");
        g_autofree char *top2 = image_write("fx-top2.qcow2", &(Image){ .backing = raw, .backing_format = "qcow2" });
        chain_fails(top2, false, -EINVAL, "not a qcow2 image");
        g_autofree char *top3 = image_write("fx-top3.qcow2", &(Image){ .backing = raw, .backing_format = "vmdk" });
        chain_fails(top3, false, -EOPNOTSUPP, "backing format 'vmdk' is not supported");
}

static void test_qcow2_chain_resolve_top_formats(void **state) {
        g_autofree char *raw = raw_write("tf.raw");
        g_autofree char *empty = test_write_file(scratch, "tf-empty.raw", "", 0);
        g_auto(Qcow2Chain) a = {}, b = {};
        chain_ok(raw, true, &a);
        assert_int_equal(g_strv_length(a.backing), 0);
        chain_ok(empty, true, &b);
        assert_int_equal(g_strv_length(b.backing), 0);
        chain_fails(raw, false, -EINVAL, "not a qcow2 image");
        g_autofree char *dir = scratch_path("tf-dir");
        assert_int_equal(mkdir(dir, 0700), 0);
        chain_fails(dir, true, -EINVAL, "not a regular file or block device");
}

static void test_qcow2_chain_resolve_loop(void **state) {
        g_autofree char *a = scratch_path("loop-a.qcow2"), *b = scratch_path("loop-b.qcow2");
        g_free(image_write("loop-a.qcow2", &(Image){ .backing = b }));
        g_free(image_write("loop-b.qcow2", &(Image){ .backing = a }));
        chain_fails(a, false, -ELOOP, "backing chain loops");
        /* an image naming itself */
        g_autofree char *self = image_write("loop-self.qcow2", &(Image){ .backing = "loop-self.qcow2" });
        chain_fails(self, false, -ELOOP, "backing chain loops");
        /* through another name: a symlink to the top */
        g_autofree char *link = scratch_path("loop-link.qcow2");
        g_autofree char *c = image_write("loop-c.qcow2", &(Image){ .backing = link });
        assert_int_equal(symlink(c, link), 0);
        chain_fails(c, false, -ELOOP, "backing file '");
}

static void test_qcow2_chain_resolve_depth(void **state) {
        char name[64], prev[64] = "";
        /* depth-0 is the deepest file; depth-16 has 16 backing files */
        for (int i = 0; i <= QCOW2_CHAIN_DEPTH_MAX + 1; i++) {
                snprintf(name, sizeof(name), "depth-%d.qcow2", i);
                g_free(image_write(name, &(Image){ .backing = i ? prev : NULL }));
                memcpy(prev, name, sizeof(prev));
        }
        g_autofree char *ok = scratch_path("depth-16.qcow2");
        g_auto(Qcow2Chain) chain = {};
        chain_ok(ok, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), QCOW2_CHAIN_DEPTH_MAX);
        g_autofree char *deep = scratch_path("depth-17.qcow2");
        chain_fails(deep, false, -ELOOP, "backing chain longer than 16 files");
}

static void test_qcow2_chain_resolve_missing(void **state) {
        g_autofree char *none = scratch_path("missing-top.qcow2");
        g_auto(Qcow2Chain) a = {};
        chain_ok(none, false, &a);
        assert_int_equal(g_strv_length(a.backing), 0);
        assert_non_null(a.unresolved);
        assert_non_null(strstr(a.unresolved, "does not exist"));
        /* a missing backing file is listed, and the chain ends there */
        g_autofree char *gone = scratch_path("missing-base.qcow2");
        g_autofree char *top = image_write("missing-mid.qcow2", &(Image){ .backing = "missing-base.qcow2" });
        g_auto(Qcow2Chain) b = {};
        chain_ok(top, false, &b);
        assert_int_equal(g_strv_length(b.backing), 1);
        assert_string_equal(b.backing[0], gone);
        assert_non_null(strstr(b.unresolved, "backing file '"));
        assert_non_null(strstr(b.unresolved, gone));
}

static void test_qcow2_chain_resolve_protocols(void **state) {
        static const struct {
                const char *name, *fragment;
        } cases[] = {
                { "json:{\"driver\":\"file\",\"filename\":\"/etc/shadow\"}", "'json:' block-layer description" },
                { "nbd://server:10809/export", "uses protocol 'nbd'" },
                { "nbd:unix:/run/nbd.sock", "uses protocol 'nbd'" },
                { "http://example.com/base.qcow2", "uses protocol 'http'" },
                { "file:base.qcow2", "uses protocol 'file'" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *top = image_write("proto.qcow2", &(Image){ .backing = cases[i].name });
                chain_fails(top, false, -EINVAL, cases[i].fragment);
        }
        /* a colon after a slash is part of a file name */
        g_free(image_write("odd:name.qcow2", &(Image){ 0 }));
        g_autofree char *top = image_write("proto-ok.qcow2", &(Image){ .backing = "./odd:name.qcow2" });
        g_auto(Qcow2Chain) chain = {};
        chain_ok(top, false, &chain);
        assert_int_equal(g_strv_length(chain.backing), 1);
}

/* ---- Hostile backing files: looked at, never opened --------------------- */

/* An inotify descriptor that reports every open of `path`. */
static int watch_opens(const char *path) {
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(inotify_add_watch(fd, path, IN_OPEN) >= 0);
        return fd;
}

static void assert_not_opened(int watch, const char *path) {
        char buf[4096];
        ssize_t n = read(watch, buf, sizeof(buf));
        if (n > 0)
                fail_msg("'%s' was opened", path);
        close(watch);
}

/* `image` fails for its backing file `backing`: the message names both
 * and says what the backing file is. */
static void chain_fails_backing(const char *image, const char *backing, int code, const char *fragment) {
        g_autofree char *want = g_strdup_printf("image '%s': backing file '%s': ", image, backing);
        chain_fails(image, false, code, want);
        chain_fails(image, false, code, fragment);
}

static void test_qcow2_chain_resolve_fifo(void **state) {
        /* Opening a FIFO for reading would block until a writer came; the
         * alarm turns a hang into a failure. */
        g_autofree char *fifo = scratch_path("fifo.qcow2");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        g_autofree char *top = image_write("fifo-top.qcow2", &(Image){ .backing = fifo });
        int watch = watch_opens(fifo);
        alarm(10);
        chain_fails_backing(top, fifo, -EINVAL, "a FIFO, not a regular file or block device (not opened)");
        /* raw: never read, still looked at */
        g_autofree char *top_raw = image_write("fifo-raw.qcow2", &(Image){ .backing = fifo, .backing_format = "raw" });
        chain_fails_backing(top_raw, fifo, -EINVAL, "a FIFO");
        alarm(0);
        assert_not_opened(watch, fifo);
}

static void test_qcow2_chain_resolve_char_device(void **state) {
        /* /dev/ptmx would allocate a pty, /dev/watchdog arm the watchdog. */
        g_autofree char *top = image_write("chr-ptmx.qcow2", &(Image){ .backing = "/dev/ptmx" });
        chain_fails_backing(top, "/dev/ptmx", -EINVAL, "a character device, not a regular file or block device (not opened)");
        g_autofree char *top_raw = image_write("chr-ptmx-raw.qcow2", &(Image){ .backing = "/dev/ptmx", .backing_format = "raw" });
        chain_fails_backing(top_raw, "/dev/ptmx", -EINVAL, "a character device");
        /* Not opened: a node of our own (the numbers of /dev/null), watched. */
        g_autofree char *node = scratch_path("chr-null");
        if (!test_node_make(node, S_IFCHR, makedev(1, 3)))
                return;
        g_autofree char *top2 = image_write("chr-node.qcow2", &(Image){ .backing = node });
        int watch = watch_opens(node);
        chain_fails_backing(top2, node, -EINVAL, "a character device");
        assert_not_opened(watch, node);
        /* the image the caller names is looked at first too */
        watch = watch_opens(node);
        chain_fails(node, true, -EINVAL, "a character device, not a regular file or block device");
        assert_not_opened(watch, node);
}

static void test_qcow2_chain_resolve_socket_and_dir(void **state) {
        g_autofree char *sock = scratch_path("s.sock");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(sock) < sizeof(sa.sun_path)) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_true(fd >= 0);
                strcpy(sa.sun_path, sock);
                assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
                g_autofree char *top = image_write("sock-top.qcow2", &(Image){ .backing = sock });
                chain_fails_backing(top, sock, -EINVAL, "a socket, not a regular file or block device");
                close(fd);
        } else
                print_message("# scratch path too long for a socket: that part is not checked\n");
        g_autofree char *dir = scratch_path("dir-backing");
        assert_int_equal(mkdir(dir, 0700), 0);
        g_autofree char *top2 = image_write("dir-top.qcow2", &(Image){ .backing = dir });
        chain_fails_backing(top2, dir, -EINVAL, "a directory, not a regular file or block device");
}

typedef struct Listed {
        dev_t rdev;
        int calls;
} Listed;

static bool listed_one(const char *path, dev_t rdev, void *userdata) {
        Listed *l = userdata;
        l->calls++;
        return rdev == l->rdev;
}

static void test_qcow2_chain_resolve_block_device(void **state) {
        g_autofree char *node = scratch_path("blk-node");
        if (!test_node_make(node, S_IFBLK, makedev(7, 250)))
                return;
        g_autofree char *top = image_write("blk-top.qcow2", &(Image){ .backing = node });
        g_autofree char *top_raw = image_write("blk-raw.qcow2", &(Image){ .backing = node, .backing_format = "raw" });
        int watch = watch_opens(node);
        /* nobody lists it */
        chain_fails_backing(top, node, -EINVAL, "a block device named only by an image header, not opened");
        chain_fails_backing(top_raw, node, -EINVAL, "the guest definition must list it");
        /* listed as another device: still refused */
        Listed other = { makedev(7, 251), 0 };
        g_auto(Qcow2Chain) c1 = {};
        BwError err = {};
        assert_int_equal(qcow2_chain_resolve(top, false, listed_one, &other, &c1, &err), -EINVAL);
        assert_int_equal(other.calls, 1);
        assert_non_null(strstr(err.message, node));
        assert_not_opened(watch, node);
        /* listed: accepted (raw, so not read; the node has no device behind it) */
        Listed it = { makedev(7, 250), 0 };
        g_auto(Qcow2Chain) c2 = {};
        assert_int_equal(qcow2_chain_resolve(top_raw, false, listed_one, &it, &c2, NULL), 0);
        assert_int_equal(g_strv_length(c2.backing), 1);
        assert_string_equal(c2.backing[0], node);
        /* a block device the caller names itself needs no listing */
        g_auto(Qcow2Chain) c3 = {};
        g_autofree char *blk = NULL;
        for (int i = 0; i < 8 && !blk; i++) {
                g_autofree char *loop = g_strdup_printf("/dev/loop%d", i);
                int fd = open(loop, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        close(fd);
                        blk = g_steal_pointer(&loop);
                }
        }
        if (blk) {
                assert_int_equal(qcow2_chain_resolve(blk, true, NULL, NULL, &c3, NULL), 0);
                assert_int_equal(g_strv_length(c3.backing), 0);
        }
}

static void test_qcow2_chain_resolve_per_process(void **state) {
        static const char *const names[] = {
                "/dev/stdin", "/dev/fd/0", "/dev/fd/3", "/proc/self/fd/0", "/proc/self/root/etc/shadow",
                "/proc/thread-self/fd/1", "/proc/1/fd/0", "/proc/1/root/etc/shadow",
                "/srv/../proc/self/fd/0", "/dev/./stdout",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *top = image_write("pp-top.qcow2", &(Image){ .backing = names[i] });
                chain_fails(top, false, -EINVAL, "refused, not opened: /");
                chain_fails(top, false, -EINVAL, names[i]);
        }
        /* a file of proc that no name rule catches */
        g_autofree char *version = image_write("pp-version.qcow2", &(Image){ .backing = "/proc/version" });
        chain_fails_backing(version, "/proc/version", -EINVAL, "a file of the kernel's proc file system, not an image (not opened)");
        g_autofree char *version_raw = image_write("pp-version-raw.qcow2", &(Image){ .backing = "/proc/version", .backing_format = "raw" });
        chain_fails_backing(version_raw, "/proc/version", -EINVAL, "proc file system");
        /* A symlink of our own to a magic link: the kernel refuses to
         * follow it (openat2), or the descriptor's type is refused. */
        g_autofree char *link = scratch_path("pp-link");
        assert_int_equal(symlink("/proc/self/fd/0", link), 0);
        g_autofree char *top = image_write("pp-link.qcow2", &(Image){ .backing = link });
        g_auto(Qcow2Chain) chain = {};
        assert_true(qcow2_chain_resolve(top, false, NULL, NULL, &chain, NULL) < 0);
}

static void test_qcow2_chain_resolve_no_fd_leak(void **state) {
        g_autofree char *base = image_write("leak-base.qcow2", &(Image){ 0 });
        g_autofree char *top = image_write("leak-top.qcow2", &(Image){ .backing = base });
        g_autofree char *a = scratch_path("leak-a.qcow2");
        g_autofree char *loop = image_write("leak-a.qcow2", &(Image){ .backing = a });
        int before = test_count_fds();
        for (int i = 0; i < 10; i++) {
                g_auto(Qcow2Chain) c1 = {}, c2 = {};
                assert_int_equal(qcow2_chain_resolve(top, false, NULL, NULL, &c1, NULL), 0);
                assert_int_equal(qcow2_chain_resolve(loop, false, NULL, NULL, &c2, NULL), -ELOOP);
        }
        assert_int_equal(test_count_fds(), before);
}

static int setup(void **state) {
        scratch = test_scratch_new("qcow2");
        return 0;
}

static int teardown(void **state) {
        test_scratch_remove(scratch);
        free(scratch);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_qcow2_header_parse_v2),
                cmocka_unit_test(test_qcow2_header_parse_v2_extension),
                cmocka_unit_test(test_qcow2_header_parse_v3),
                cmocka_unit_test(test_qcow2_header_parse_no_backing),
                cmocka_unit_test(test_qcow2_header_parse_truncated),
                cmocka_unit_test(test_qcow2_header_parse_bad_fields),
                cmocka_unit_test(test_qcow2_header_parse_backing_out_of_bounds),
                cmocka_unit_test(test_qcow2_header_parse_bad_extensions),
                cmocka_unit_test(test_qcow2_header_parse_mutations),
                cmocka_unit_test(test_qcow2_chain_resolve_chain_of_3),
                cmocka_unit_test(test_qcow2_chain_resolve_relative),
                cmocka_unit_test(test_qcow2_chain_resolve_raw_backing),
                cmocka_unit_test(test_qcow2_chain_resolve_format_extension_wins),
                cmocka_unit_test(test_qcow2_chain_resolve_top_formats),
                cmocka_unit_test(test_qcow2_chain_resolve_loop),
                cmocka_unit_test(test_qcow2_chain_resolve_depth),
                cmocka_unit_test(test_qcow2_chain_resolve_missing),
                cmocka_unit_test(test_qcow2_chain_resolve_protocols),
                cmocka_unit_test(test_qcow2_chain_resolve_fifo),
                cmocka_unit_test(test_qcow2_chain_resolve_char_device),
                cmocka_unit_test(test_qcow2_chain_resolve_socket_and_dir),
                cmocka_unit_test(test_qcow2_chain_resolve_block_device),
                cmocka_unit_test(test_qcow2_chain_resolve_per_process),
                cmocka_unit_test(test_qcow2_chain_resolve_no_fd_leak),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
