/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fd-util.h"
#include "state-file.h"
#include "util/strv-util.h"

/* "BWLKST" and the format's version, two digits: 01 before leases, 02. */
static const char state_magic[6] = { 'B', 'W', 'L', 'K', 'S', 'T' };
#define STATE_HEADER_SIZE 8
#define STATE_FILE_MAX (256u * 1024u * 1024u)

int state_file_write(const char *path, unsigned version, GVariant *state) {
        char header[STATE_HEADER_SIZE + 1];
        g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
        _cleanup_close_ int fd = -1;
        int r;

        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        snprintf(header, sizeof(header), "%.6s%02u", state_magic, version % 100);
        r = write_all(fd, header, STATE_HEADER_SIZE);
        if (r == 0)
                r = write_all(fd, g_variant_get_data(state), g_variant_get_size(state));
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int state_file_read(const char *path, const GVariantType *const *types, unsigned n_types, GVariant **ret,
                    char **ret_message) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
                *ret_message = g_strdup("not a regular file private to this user");
                return -EINVAL;
        }
        if (st.st_size < (off_t) STATE_HEADER_SIZE || (uint64_t) st.st_size > STATE_FILE_MAX) {
                *ret_message = g_strdup_printf("size %lld is out of range", (long long) st.st_size);
                return -EINVAL;
        }
        size_t size = (size_t) st.st_size;
        g_autofree char *data = g_malloc(size);
        for (size_t got = 0; got < size;) {
                ssize_t n = read(fd, data + got, size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        *ret_message = g_strdup("short read");
                        return n < 0 ? -errno : -EINVAL;
                }
                got += (size_t) n;
        }
        unsigned version = g_ascii_isdigit(data[6]) && g_ascii_isdigit(data[7])
                                   ? (unsigned) (data[6] - '0') * 10 + (unsigned) (data[7] - '0') : 0;
        if (memcmp(data, state_magic, sizeof(state_magic)) != 0 || version == 0 || version > n_types) {
                *ret_message = g_strdup("bad magic");
                return -EINVAL;
        }
        const GVariantType *type = types[version - 1];
        g_autoptr(GBytes) bytes = g_bytes_new(data + STATE_HEADER_SIZE, size - STATE_HEADER_SIZE);
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(type, bytes, FALSE));
        if (!g_variant_is_normal_form(v)) {
                *ret_message = g_strdup("content is damaged");
                return -EINVAL;
        }
        *ret = g_steal_pointer(&v);
        return 0;
}
