/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 headers and backing chains.
 *
 * bulwark reads from a qcow2 header only what it says about other files:
 * the backing file name and, when recorded, the backing file's format.
 * The only content it ever inspects to tell formats apart is the 4-byte
 * qcow2 magic.
 *
 * A file of a chain is first looked at without being opened (an O_PATH
 * descriptor and fstat(): opening a device runs its driver, and opening
 * /dev/watchdog arms the watchdog; opening a FIFO blocks).  It must be a
 * regular file or a block device, and it is then opened read-only,
 * O_CLOEXEC and O_NONBLOCK, through that descriptor (/proc/self/fd), so
 * it cannot be swapped for another in between.  A name that comes from an
 * image header is trusted less than the image the caller names:
 *   - a block device is refused unless the caller says the guest
 *     definition lists it (the Qcow2BlockDeviceListed callback);
 *   - /dev/stdin, /dev/fd/N, /proc/self/..., /proc/<pid>/... are refused
 *     by name (guest_path_per_process(), after "." and ".." are folded),
 *     and /proc magic links are not followed at all where the kernel has
 *     openat2();
 *   - files of the kernel's own file systems (proc, sysfs, debugfs...)
 *     are refused: they are interfaces, not images;
 *   - a raw backing file is not read, but it is looked at the same way.
 *
 * Messages name the image that was asked for and, when the problem is
 * further down the chain, the backing file that has it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include <bulwark/bulwark.h>

/* Most backing files a chain may have below its top image. */
#define QCOW2_CHAIN_DEPTH_MAX 16

/* qemu never writes a longer backing name and refuses to read one. */
#define QCOW2_BACKING_NAME_MAX 1023

typedef struct Qcow2Header {
        uint32_t version;          /* 2 or 3 */
        uint32_t cluster_bits;
        uint32_t header_length;    /* 72 for version 2 */
        char *backing_file;        /* as written in the image; NULL when none */
        char *backing_format;      /* from the backing-format extension; NULL when absent */
} Qcow2Header;

void qcow2_header_done(Qcow2Header *header);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Qcow2Header, qcow2_header_done)

/* Parses a header from the first bytes of an image: `buf` holds the first
 * cluster, or the whole image when it is smaller; `file_size` is the
 * image's size.  `what` names the image in messages ("image '/a.qcow2'"). */
int qcow2_header_parse(const uint8_t *buf, size_t len, uint64_t file_size, const char *what,
                       Qcow2Header *ret, BwError *reterr);

/* Reads and parses the header of an open image. */
int qcow2_header_read(int fd, const char *what, Qcow2Header *ret, BwError *reterr);

/* 1 when the image starts with the qcow2 magic, 0 when not (shorter images
 * included), -errno when it cannot be read. */
int qcow2_fd_has_magic(int fd);

/* The backing files of one image, nearest first. */
typedef struct Qcow2Chain {
        char **backing;            /* NULL-terminated absolute paths; never NULL after success */
        char *unresolved;          /* why the chain may be incomplete (a file that does not
                                    * exist yet), NULL when it is complete */
} Qcow2Chain;

void qcow2_chain_done(Qcow2Chain *chain);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Qcow2Chain, qcow2_chain_done)

/* Whether the guest definition lists the block device `rdev`, which an
 * image header names as `path` (a backing file).  NULL: lists none. */
typedef bool (*Qcow2BlockDeviceListed)(const char *path, dev_t rdev, void *userdata);

/* Follows the backing chain of the image at the absolute path `image`.
 * `sniff`: decide from the magic whether the image is qcow2 (a non-qcow2
 * image has no chain); otherwise the image must be qcow2.  A backing file
 * is qcow2 when its header's format extension says so, raw when it says
 * raw (and is then not opened, only looked at), and otherwise decided by
 * its magic.
 *
 * A file of the chain that does not exist is not an error: the chain ends
 * there and `unresolved` says so (the missing backing file is listed).
 * Errors (-EINVAL unless said): malformed headers, backing names that are
 * not local files (json:, nbd:, http:...), files that are not regular
 * files or block devices (character devices, FIFOs, sockets, directories:
 * never opened), block devices named only by a header that `listed` does
 * not accept, per-process names (/dev/stdin, /proc/self/...), files of
 * proc, sysfs and the kernel's other own file systems, loops and
 * chains deeper than QCOW2_CHAIN_DEPTH_MAX (-ELOOP), and I/O errors.
 * Every message names `image`, and the backing file when it is the one
 * at fault. */
int qcow2_chain_resolve(const char *image, bool sniff, Qcow2BlockDeviceListed listed, void *userdata,
                        Qcow2Chain *ret, BwError *reterr);
