/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MCS pair reservations in the state directory (see selinux-mcs.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/fd-util.h"

#include "label-guests.h"
#include "label-record.h"
#include "selinux-mcs.h"

#define SELINUX_MCS_PAIRS (SELINUX_MCS_CATEGORIES * (SELINUX_MCS_CATEGORIES - 1) / 2)

static char *selinux_mcs_dir(const char *state_dir) {
        return g_build_filename(state_dir, "selinux", "mcs", NULL);
}

static char *selinux_mcs_file(const char *state_dir, unsigned a, unsigned b) {
        g_autofree char *name = g_strdup_printf("c%u,c%u", a, b);
        return g_build_filename(state_dir, "selinux", "mcs", name, NULL);
}

/* The uuid a reservation file holds, or NULL. */
static char *selinux_mcs_holder(const char *file) {
        g_autofree char *text = NULL;
        if (!g_file_get_contents(file, &text, NULL, NULL))
                return NULL;
        g_strchomp(text);
        return label_uuid_is_valid(text) ? g_ascii_strdown(text, -1) : NULL;
}

static void selinux_mcs_pair(unsigned index, unsigned *ret_a, unsigned *ret_b) {
        unsigned a = 0;
        while (index >= SELINUX_MCS_CATEGORIES - 1 - a) {
                index -= SELINUX_MCS_CATEGORIES - 1 - a;
                a++;
        }
        *ret_a = a;
        *ret_b = a + 1 + index;
}

static bool selinux_mcs_parse_name(const char *name, unsigned *ret_a, unsigned *ret_b) {
        unsigned a, b;
        char tail;
        if (sscanf(name, "c%u,c%u%c", &a, &b, &tail) != 2 || a >= b || b >= SELINUX_MCS_CATEGORIES)
                return false;
        *ret_a = a;
        *ret_b = b;
        return true;
}

/* The guest's existing reservation. */
static bool selinux_mcs_lookup(const char *state_dir, const char *uuid, unsigned *ret_a, unsigned *ret_b) {
        g_autofree char *dir = selinux_mcs_dir(state_dir);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
                unsigned a, b;
                if (!selinux_mcs_parse_name(name, &a, &b))
                        continue;
                g_autofree char *file = g_build_filename(dir, name, NULL);
                g_autofree char *holder = selinux_mcs_holder(file);
                if (holder && g_ascii_strcasecmp(holder, uuid) == 0) {
                        *ret_a = a;
                        *ret_b = b;
                        return true;
                }
        }
        return false;
}

bool selinux_mcs_reserved(const char *state_dir, const char *uuid) {
        unsigned a, b;
        return state_dir && selinux_mcs_lookup(state_dir, uuid, &a, &b);
}

/* Free for this guest: no file, or one of a guest that no longer runs. */
static bool selinux_mcs_free(const char *state_dir, const char *uuid, unsigned a, unsigned b) {
        g_autofree char *file = selinux_mcs_file(state_dir, a, b);
        g_autofree char *holder = selinux_mcs_holder(file);
        if (!holder)
                return access(file, F_OK) < 0;
        return g_ascii_strcasecmp(holder, uuid) == 0 || !label_guests_running(state_dir, holder, NULL);
}

int selinux_mcs_find(const char *state_dir, const char *uuid, unsigned *ret_a, unsigned *ret_b) {
        if (state_dir && selinux_mcs_lookup(state_dir, uuid, ret_a, ret_b))
                return 0;
        /* FNV-1a of the uuid: the same start for the same guest. */
        uint32_t h = 2166136261u;
        for (const char *p = uuid; *p; p++)
                h = (h ^ (uint8_t) g_ascii_tolower(*p)) * 16777619u;
        for (unsigned i = 0; i < SELINUX_MCS_PAIRS; i++) {
                unsigned a, b;
                selinux_mcs_pair((h + i) % SELINUX_MCS_PAIRS, &a, &b);
                if (!state_dir || selinux_mcs_free(state_dir, uuid, a, b)) {
                        *ret_a = a;
                        *ret_b = b;
                        return 0;
                }
        }
        return -ENOSPC;
}

int selinux_mcs_reserve(const char *state_dir, const char *uuid, unsigned a, unsigned b) {
        if (!state_dir)
                return 0;
        g_autofree char *dir = selinux_mcs_dir(state_dir);
        if (g_mkdir_with_parents(dir, 0700) < 0)
                return -errno;
        g_autofree char *file = selinux_mcs_file(state_dir, a, b);
        g_autofree char *text = g_strdup_printf("%s\n", uuid);
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
                if (write(fd, text, strlen(text)) != (ssize_t) strlen(text) || fsync(fd) < 0) {
                        int r = -errno;
                        (void) unlink(file);
                        return r ? r : -EIO;
                }
                return 0;
        }
        if (errno != EEXIST)
                return -errno;
        g_autofree char *holder = selinux_mcs_holder(file);
        if (holder && g_ascii_strcasecmp(holder, uuid) == 0)
                return 0;
        if (holder && label_guests_running(state_dir, holder, NULL))
                return -EBUSY;
        /* A guest that stopped without releasing it (a crash): taken over. */
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents_full(file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
                return -EIO;
        return 0;
}

void selinux_mcs_release(const char *state_dir, const char *uuid) {
        unsigned a, b;
        while (state_dir && selinux_mcs_lookup(state_dir, uuid, &a, &b)) {
                g_autofree char *file = selinux_mcs_file(state_dir, a, b);
                if (g_unlink(file) < 0)
                        return;
        }
}
