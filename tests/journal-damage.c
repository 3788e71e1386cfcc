/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "journal-damage.h"
#include "test-util.h"

static GBytes *journal_bytes(const char *path) {
        g_autofree char *data = NULL;
        gsize len = 0;
        assert_true(g_file_get_contents(path, &data, &len, NULL));
        return g_bytes_new(data, len);
}

static size_t record_offset(GBytes *bytes, unsigned index) {
        gsize len = 0;
        const uint8_t *p = g_bytes_get_data(bytes, &len);
        size_t off = 0;
        for (unsigned i = 0; i < index; i++) {
                uint32_t n;
                assert_true(off + 16 <= len);
                memcpy(&n, p + off + 8, 4);
                off += 16 + n;
        }
        return off;
}

size_t journal_record_offset(const char *path, unsigned index) {
        g_autoptr(GBytes) b = journal_bytes(path);
        return record_offset(b, index);
}

unsigned journal_record_count(const char *path) {
        g_autoptr(GBytes) b = journal_bytes(path);
        unsigned n = 0;
        while (record_offset(b, n) < g_bytes_get_size(b))
                n++;
        return n;
}

size_t journal_flip_record(const char *path, unsigned index) {
        size_t off = journal_record_offset(path, index);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        uint8_t c;
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &c, 1, (off_t) off + 16), 1);
        c ^= 0x40;
        assert_int_equal(pwrite(fd, &c, 1, (off_t) off + 16), 1);
        close(fd);
        return off;
}
