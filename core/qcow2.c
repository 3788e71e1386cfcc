/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include <glib.h>
#include <linux/magic.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "util/log.h"
#include "guest.h"
#include "qcow2.h"

/* Header layout (all fields big-endian), from the qcow2 specification. */
#define QCOW2_MAGIC 0x514649fbu          /* "QFI\xfb" */
#define QCOW2_OFF_VERSION 4
#define QCOW2_OFF_BACKING_OFFSET 8
#define QCOW2_OFF_BACKING_SIZE 16
#define QCOW2_OFF_CLUSTER_BITS 20
#define QCOW2_OFF_INCOMPATIBLE 72        /* version 3 only */
#define QCOW2_OFF_HEADER_LENGTH 100      /* version 3 only */
#define QCOW2_V2_HEADER_LENGTH 72
#define QCOW2_V3_HEADER_LENGTH_MIN 104

/* qemu accepts clusters of 512 bytes to 2 MiB. */
#define QCOW2_CLUSTER_BITS_MIN 9
#define QCOW2_CLUSTER_BITS_MAX 21

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
/* qemu keeps the backing format in a 16-byte buffer. */
#define QCOW2_BACKING_FORMAT_MAX 15

/* Incompatible feature bit 2: guest data lives in another file, which
 * would need labelling too.  bulwark does not support it yet. */
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)

static uint32_t be32_at(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t be64_at(const uint8_t *p) {
        return (uint64_t) be32_at(p) << 32 | be32_at(p + 4);
}

void qcow2_header_done(Qcow2Header *header) {
        if (!header)
                return;
        g_clear_pointer(&header->backing_file, g_free);
        g_clear_pointer(&header->backing_format, g_free);
}

void qcow2_chain_done(Qcow2Chain *chain) {
        if (!chain)
                return;
        g_clear_pointer(&chain->backing, g_strfreev);
        g_clear_pointer(&chain->unresolved, g_free);
}

/* Magic, version and cluster size: enough to know how much to read. */
static int header_parse_start(const uint8_t *buf, size_t len, const char *what, Qcow2Header *h,
                              BwError *reterr) {
        if (len < 4 || be32_at(buf) != QCOW2_MAGIC)
                return error_set(reterr, -EINVAL, "%s: not a qcow2 image (no qcow2 magic)", what);
        if (len < QCOW2_V2_HEADER_LENGTH)
                return error_set(reterr, -EINVAL, "%s: truncated qcow2 header (%zu bytes, at least %d needed)",
                                 what, len, QCOW2_V2_HEADER_LENGTH);
        h->version = be32_at(buf + QCOW2_OFF_VERSION);
        if (h->version != 2 && h->version != 3)
                return error_set(reterr, -EINVAL, "%s: unsupported qcow2 version %" PRIu32, what, h->version);
        h->cluster_bits = be32_at(buf + QCOW2_OFF_CLUSTER_BITS);
        if (h->cluster_bits < QCOW2_CLUSTER_BITS_MIN || h->cluster_bits > QCOW2_CLUSTER_BITS_MAX)
                return error_set(reterr, -EINVAL, "%s: invalid qcow2 cluster size (cluster_bits %" PRIu32 ")",
                                 what, h->cluster_bits);
        return 0;
}

/* The header length (the frame the extensions are checked against) and
 * the features that matter to us.  `len` is what was read of the first
 * cluster. */
static int header_parse_length(const uint8_t *buf, size_t len, const char *what, Qcow2Header *h,
                               BwError *reterr) {
        if (h->version == 2) {
                h->header_length = QCOW2_V2_HEADER_LENGTH;
                return 0;
        }
        if (len < QCOW2_V3_HEADER_LENGTH_MIN)
                return error_set(reterr, -EINVAL, "%s: truncated qcow2 v3 header (%zu bytes, at least %d needed)",
                                 what, len, QCOW2_V3_HEADER_LENGTH_MIN);
        h->header_length = be32_at(buf + QCOW2_OFF_HEADER_LENGTH);
        if (h->header_length < QCOW2_V3_HEADER_LENGTH_MIN || h->header_length > len)
                return error_set(reterr, -EINVAL,
                                 "%s: invalid qcow2 header length %" PRIu32 " (from %d to the %zu bytes of the first cluster)",
                                 what, h->header_length, QCOW2_V3_HEADER_LENGTH_MIN, len);
        if (be64_at(buf + QCOW2_OFF_INCOMPATIBLE) & QCOW2_INCOMPAT_DATA_FILE)
                return error_set(reterr, -EOPNOTSUPP,
                                 "%s: qcow2 image with an external data file (not supported)", what);
        return 0;
}

static int backing_format_parse(const uint8_t *data, uint32_t len, const char *what,
                                Qcow2Header *h, BwError *reterr) {
        if (h->backing_format)
                return error_set(reterr, -EINVAL, "%s: more than one backing format extension", what);
        if (len == 0 || len > QCOW2_BACKING_FORMAT_MAX)
                return error_set(reterr, -EINVAL, "%s: backing format extension of %" PRIu32 " bytes", what, len);
        for (uint32_t i = 0; i < len; i++)
                if (!g_ascii_isalnum(data[i]) && data[i] != '-' && data[i] != '_')
                        return error_set(reterr, -EINVAL, "%s: backing format name is not printable", what);
        h->backing_format = g_strndup((const char *) data, len);
        return 0;
}

/* Header extensions run from the end of the header to the backing name
 * (or the end of the first cluster); each is type, length, data padded to
 * 8 bytes.  Running out of room without an end marker ends them too,
 * as in qemu. */
static int header_parse_extensions(const uint8_t *buf, size_t end, const char *what,
                                   Qcow2Header *h, BwError *reterr) {
        size_t off = h->header_length;

        while (off <= end && end - off >= 8) {
                uint32_t type = be32_at(buf + off);
                uint32_t len = be32_at(buf + off + 4);

                if (type == QCOW2_EXT_END)
                        return 0;
                if (len > end - off - 8)
                        return error_set(reterr, -EINVAL,
                                         "%s: qcow2 header extension 0x%08" PRIx32 " at offset %zu runs past its area",
                                         what, type, off);
                if (type == QCOW2_EXT_BACKING_FORMAT) {
                        int r = backing_format_parse(buf + off + 8, len, what, h, reterr);
                        if (r < 0)
                                return r;
                }
                /* Padding may take `off` past `end`; the loop test ends it. */
                off += 8 + (((size_t) len + 7) & ~(size_t) 7);
        }
        return 0;
}

static int header_parse_backing(const uint8_t *buf, size_t len, uint64_t file_size,
                                uint64_t offset, uint32_t size, const char *what,
                                Qcow2Header *h, BwError *reterr) {
        if (offset == 0 || size == 0)
                return 0;
        if (size > QCOW2_BACKING_NAME_MAX)
                return error_set(reterr, -EINVAL, "%s: backing file name of %" PRIu32 " bytes (at most %d)",
                                 what, size, QCOW2_BACKING_NAME_MAX);
        if (offset < h->header_length)
                return error_set(reterr, -EINVAL, "%s: backing file name at offset %" PRIu64 " overlaps the header",
                                 what, offset);
        if (offset > file_size || size > file_size - offset)
                return error_set(reterr, -EINVAL,
                                 "%s: backing file name at offset %" PRIu64 " (%" PRIu32 " bytes) past the end of the image (%" PRIu64 " bytes)",
                                 what, offset, size, file_size);
        if (offset > len || size > len - offset)
                return error_set(reterr, -EINVAL,
                                 "%s: backing file name at offset %" PRIu64 " (%" PRIu32 " bytes) outside the first cluster",
                                 what, offset, size);
        const uint8_t *name = buf + offset;
        for (uint32_t i = 0; i < size; i++)
                if (name[i] < 0x20 || name[i] == 0x7f)
                        return error_set(reterr, -EINVAL, "%s: backing file name contains control characters", what);
        h->backing_file = g_strndup((const char *) name, size);
        return 0;
}

int qcow2_header_parse(const uint8_t *buf, size_t len, uint64_t file_size, const char *what,
                       Qcow2Header *ret, BwError *reterr) {
        g_auto(Qcow2Header) h = {};
        int r;

        if (len > file_size)
                len = file_size;
        r = header_parse_start(buf, len, what, &h, reterr);
        if (r < 0)
                return r;
        size_t cluster = (size_t) 1 << h.cluster_bits;
        if (len > cluster)
                len = cluster;
        r = header_parse_length(buf, len, what, &h, reterr);
        if (r < 0)
                return r;
        uint64_t backing_offset = be64_at(buf + QCOW2_OFF_BACKING_OFFSET);
        uint32_t backing_size = be32_at(buf + QCOW2_OFF_BACKING_SIZE);
        r = header_parse_backing(buf, len, file_size, backing_offset, backing_size, what, &h, reterr);
        if (r < 0)
                return r;
        /* Extensions end where the backing name starts, as qemu reads them. */
        size_t ext_end = h.backing_file ? (size_t) backing_offset : len;
        r = header_parse_extensions(buf, ext_end, what, &h, reterr);
        if (r < 0)
                return r;
        *ret = h;
        h = (Qcow2Header){};
        return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t offset) {
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (uint8_t *) buf + done, len - done, offset + (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

static int fd_size(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0)
                return -errno;
        *ret = (uint64_t) end;
        return 0;
}

int qcow2_fd_has_magic(int fd) {
        uint8_t magic[4];
        ssize_t n = pread_full(fd, magic, sizeof(magic), 0);

        if (n < 0)
                return (int) n;
        return n == (ssize_t) sizeof(magic) && be32_at(magic) == QCOW2_MAGIC;
}

int qcow2_header_read(int fd, const char *what, Qcow2Header *ret, BwError *reterr) {
        uint8_t head[QCOW2_V2_HEADER_LENGTH];
        uint64_t size = 0;
        ssize_t n;
        int r;

        r = fd_size(fd, &size);
        if (r < 0)
                return error_set(reterr, r, "%s: cannot get size: %m", what);
        n = pread_full(fd, head, sizeof(head), 0);
        if (n < 0)
                return error_set(reterr, (int) n, "%s: cannot read: %m", what);
        /* The start tells the cluster size; then read the first cluster. */
        Qcow2Header probe = {};
        r = header_parse_start(head, (size_t) n, what, &probe, reterr);
        if (r < 0)
                return r;
        size_t len = (size_t) 1 << probe.cluster_bits;
        if (len > size)
                len = (size_t) size;
        g_autofree uint8_t *buf = g_malloc(len);
        n = pread_full(fd, buf, len, 0);
        if (n < 0)
                return error_set(reterr, (int) n, "%s: cannot read: %m", what);
        return qcow2_header_parse(buf, (size_t) n, size, what, ret, reterr);
}

/* ---- Backing chains ---------------------------------------------------- */

typedef struct FileId {
        dev_t dev;
        ino_t ino;
} FileId;

typedef struct ChainWalk {
        const char *top;
        char *current;             /* the file being read */
        bool sniff;                /* decide from its magic whether it is qcow2 */
        Qcow2BlockDeviceListed listed;
        void *userdata;
        GPtrArray *backing;
        GArray *seen;              /* FileId of every file opened so far */
        char *unresolved;
} ChainWalk;

/* How messages name the file being read. */
static char *chain_what(const ChainWalk *w) {
        if (w->backing->len == 0)
                return g_strdup_printf("image '%s'", w->top);
        return g_strdup_printf("image '%s': backing file '%s'", w->top, w->current);
}

static const char *file_type_name(mode_t mode) {
        switch (mode & S_IFMT) {
        case S_IFCHR: return "a character device";
        case S_IFIFO: return "a FIFO";
        case S_IFSOCK: return "a socket";
        case S_IFDIR: return "a directory";
        case S_IFLNK: return "a symbolic link";
        default: return "a special file";
        }
}

/* "/a/./b/../c" as "/a/c": what the name says, before the file system
 * has a say.  Enough to tell "/proc/self/fd/3" written as "/x/../proc/..."
 * (openat2() below catches the rest, symlinks included). */
static char *path_lexical(const char *path) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        GString *s = g_string_new(NULL);

        for (char **c = parts; *c; c++) {
                if (**c == '\0' || g_str_equal(*c, "."))
                        continue;
                if (g_str_equal(*c, "..")) {
                        if (out->len > 0)
                                g_ptr_array_remove_index(out, out->len - 1);
                        continue;
                }
                g_ptr_array_add(out, *c);
        }
        for (guint i = 0; i < out->len; i++)
                g_string_append_printf(s, "/%s", (const char *) out->pdata[i]);
        if (s->len == 0)
                g_string_append_c(s, '/');
        return g_string_free(s, FALSE);
}

/* An O_PATH descriptor: it names the file without opening it, so no
 * device driver, FIFO or socket sees anything.  Magic links
 * (/proc/<pid>/fd/N and the like, also behind /dev/stdin) are not
 * followed where the kernel can refuse them (openat2, Linux 5.6). */
static int open_path_only(const char *path) {
#ifdef SYS_openat2
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
                return fd >= 0 ? (int) fd : -errno;
#endif
        int r = open(path, O_PATH | O_CLOEXEC);
        return r >= 0 ? r : -errno;
}

/* Opens the file an O_PATH descriptor names for reading, without looking
 * its name up again (the file cannot be swapped in between). */
static int reopen_for_reading(int path_fd, const char *path, const struct stat *st) {
        char proc[64];
        struct stat now;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
        int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd >= 0 || errno != ENOENT)
                return fd >= 0 ? fd : -errno;
        /* No /proc: open the name again and make sure it is the same file. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

/* The kernel's own file systems: their files are interfaces (reading some
 * has effects, and none is an image a guest could use), not storage.
 * NULL for any other file system. */
static const char *pseudo_fs_name(int fd) {
        static const struct {
                unsigned long magic;
                const char *name;
        } pseudo[] = {
                { PROC_SUPER_MAGIC, "proc" },       { SYSFS_MAGIC, "sysfs" },
                { DEBUGFS_MAGIC, "debugfs" },       { TRACEFS_MAGIC, "tracefs" },
                { SECURITYFS_MAGIC, "securityfs" }, { CGROUP_SUPER_MAGIC, "cgroup" },
                { CGROUP2_SUPER_MAGIC, "cgroup2" }, { BPF_FS_MAGIC, "bpf" },
                { EFIVARFS_MAGIC, "efivarfs" },     { PSTOREFS_MAGIC, "pstore" },
        };
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(pseudo); i++)
                if ((unsigned long) sfs.f_type == pseudo[i].magic)
                        return pseudo[i].name;
        return NULL;
}

/* Looks at the file w->current names without opening it: it must be a
 * regular file or a block device, and a block device named only by an
 * image header must be one the guest definition lists.  `from_header`:
 * the name comes from an image header, not from the caller.
 * 1: *ret_fd is an O_PATH descriptor, *ret_st its stat; 0: the file does
 * not exist. */
static int chain_inspect(ChainWalk *w, const char *what, bool from_header, int *ret_fd, struct stat *ret_st,
                         BwError *reterr) {
        if (from_header) {
                g_autofree char *lexical = path_lexical(w->current);
                const char *why = guest_path_per_process(lexical);
                if (why)
                        return error_set(reterr, -EINVAL, "%s: refused, not opened: %s", what, why);
        }
        _cleanup_close_ int fd = open_path_only(w->current);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd == -ELOOP)
                return error_set(reterr, -ELOOP,
                                 "%s: cannot look up: too many symbolic links, or a /proc magic link (/proc/<pid>/fd/N, /dev/stdin...)",
                                 what);
        if (fd < 0)
                return error_set(reterr, fd, "%s: cannot look up: %m", what);
        if (fstat(fd, ret_st) < 0)
                return error_set(reterr, -errno, "%s: cannot stat: %m", what);
        if (S_ISBLK(ret_st->st_mode) && from_header && !(w->listed && w->listed(w->current, ret_st->st_rdev, w->userdata)))
                return error_set(reterr, -EINVAL,
                                 "%s: a block device named only by an image header, not opened (the guest definition must list it too, e.g. as a disk)",
                                 what);
        if (!S_ISREG(ret_st->st_mode) && !S_ISBLK(ret_st->st_mode))
                return error_set(reterr, -EINVAL, "%s: %s, not a regular file or block device (not opened)", what,
                                 file_type_name(ret_st->st_mode));
        const char *fs = from_header ? pseudo_fs_name(fd) : NULL;
        if (fs)
                return error_set(reterr, -EINVAL, "%s: a file of the kernel's %s file system, not an image (not opened)",
                                 what, fs);
        *ret_fd = steal_fd(&fd);
        return 1;
}

/* 1: opened for reading; 0: the file does not exist (the chain ends, unresolved). */
static int chain_open(ChainWalk *w, const char *what, bool from_header, int *ret_fd, BwError *reterr) {
        _cleanup_close_ int path_fd = -1;
        struct stat st;
        int r;

        r = chain_inspect(w, what, from_header, &path_fd, &st, reterr);
        if (r <= 0)
                return r;
        /* (dev, ino) catches loops through other names: symlinks, hard links. */
        for (guint i = 0; i < w->seen->len; i++) {
                const FileId *id = &g_array_index(w->seen, FileId, i);
                if (id->dev == st.st_dev && id->ino == st.st_ino)
                        return error_set(reterr, -ELOOP, "%s: backing chain loops (this file is already in the chain)",
                                         what);
        }
        int fd = reopen_for_reading(path_fd, w->current, &st);
        if (fd == -ESTALE)
                return error_set(reterr, -ESTALE, "%s: replaced while being opened", what);
        if (fd < 0)
                return error_set(reterr, fd, "%s: cannot open: %m", what);
        FileId id = { st.st_dev, st.st_ino };
        g_array_append_val(w->seen, id);
        *ret_fd = fd;
        return 1;
}

/* A backing name is a local path; a relative one is relative to the
 * directory of the image that names it (as qemu reads it). */
static int chain_backing_path(const ChainWalk *w, const char *name, const char *what, char **ret,
                              BwError *reterr) {
        if (g_str_has_prefix(name, "json:"))
                return error_set(reterr, -EINVAL,
                                 "%s: backing file is a 'json:' block-layer description, not a file (not supported)",
                                 what);
        /* qemu reads "proto:..." as a protocol when ':' comes before any '/'. */
        size_t n = strcspn(name, ":/");
        if (name[n] == ':')
                return error_set(reterr, -EINVAL,
                                 "%s: backing file '%s' uses protocol '%.*s' (only local files are supported)",
                                 what, name, (int) n, name);
        if (name[0] == '/') {
                *ret = g_strdup(name);
                return 0;
        }
        g_autofree char *dir = g_path_get_dirname(w->current);
        *ret = g_build_filename(dir, name, NULL);
        return 0;
}

/* Decides how to read the next file from what its parent recorded.
 * 1: read it; 0: it is raw, the chain ends. */
static int chain_next_format(ChainWalk *w, const Qcow2Header *h, const char *what, BwError *reterr) {
        if (!h->backing_format) {
                w->sniff = true;
                return 1;
        }
        if (g_str_equal(h->backing_format, "qcow2")) {
                w->sniff = false;
                return 1;
        }
        if (g_str_equal(h->backing_format, "raw"))
                return 0;
        return error_set(reterr, -EOPNOTSUPP, "%s: backing format '%s' is not supported (only qcow2 and raw)", what,
                         h->backing_format);
}

/* A raw backing file is never read, but what it is matters all the same:
 * it is labelled for the guest.  One that does not exist stays listed. */
static int chain_check_raw(ChainWalk *w, BwError *reterr) {
        g_autofree char *what = chain_what(w);
        _cleanup_close_ int fd = -1;
        struct stat st;

        int r = chain_inspect(w, what, true, &fd, &st, reterr);
        return r < 0 ? r : 0;
}

/* Reads one file of the chain.  1: continue with w->current; 0: done. */
static int chain_step(ChainWalk *w, BwError *reterr) {
        g_autofree char *what = chain_what(w);
        g_auto(Qcow2Header) h = {};
        _cleanup_close_ int fd = -1;
        int r;

        r = chain_open(w, what, w->backing->len > 0, &fd, reterr);
        if (r <= 0) {
                if (r == 0)
                        w->unresolved = g_strdup_printf("%s does not exist", what);
                return r;
        }
        if (w->sniff) {
                r = qcow2_fd_has_magic(fd);
                if (r <= 0)
                        return r < 0 ? error_set(reterr, r, "%s: cannot read: %m", what) : 0;
        }
        r = qcow2_header_read(fd, what, &h, reterr);
        if (r < 0)
                return r;
        if (!h.backing_file)
                return 0;
        if (w->backing->len >= QCOW2_CHAIN_DEPTH_MAX)
                return error_set(reterr, -ELOOP, "image '%s': backing chain longer than %d files", w->top,
                                 QCOW2_CHAIN_DEPTH_MAX);
        char *next = NULL;
        r = chain_backing_path(w, h.backing_file, what, &next, reterr);
        if (r < 0)
                return r;
        g_ptr_array_add(w->backing, next);
        g_free(w->current);
        w->current = g_strdup(next);
        r = chain_next_format(w, &h, what, reterr);
        if (r == 0)
                return chain_check_raw(w, reterr);
        return r;
}

int qcow2_chain_resolve(const char *image, bool sniff, Qcow2BlockDeviceListed listed, void *userdata,
                        Qcow2Chain *ret, BwError *reterr) {
        g_autoptr(GPtrArray) backing = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(FileId));
        ChainWalk w = {
                .top = image,
                .current = g_strdup(image),
                .sniff = sniff,
                .listed = listed,
                .userdata = userdata,
                .backing = backing,
                .seen = seen,
        };
        int r;

        while ((r = chain_step(&w, reterr)) > 0)
                ;
        g_free(w.current);
        if (r < 0) {
                g_free(w.unresolved);
                return r;
        }
        log_debug("image '%s': %u backing file(s)%s%s", image, backing->len, w.unresolved ? ", " : "",
                  w.unresolved ? w.unresolved : "");
        g_ptr_array_add(backing, NULL);
        ret->backing = (char **) g_ptr_array_steal(backing, NULL);
        ret->unresolved = w.unresolved;
        return 0;
}
