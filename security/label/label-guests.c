/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holder uuids to guest names, and running guests (see label-guests.h). */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "label-guests.h"
#include "label-record.h"

static char *label_guests_file(const char *state_dir, const char *uuid) {
        g_autofree char *lower = g_ascii_strdown(uuid, -1);
        return g_build_filename(state_dir, "label", "guests", lower, NULL);
}

int label_guests_remember(const char *state_dir, const char *uuid, const char *name) {
        if (!state_dir || !label_uuid_is_valid(uuid))
                return 0;
        g_autofree char *file = label_guests_file(state_dir, uuid);
        g_autofree char *known = NULL;
        if (g_file_get_contents(file, &known, NULL, NULL) && strcmp(known, name) == 0)
                return 0;
        g_autofree char *dir = g_path_get_dirname(file);
        if (g_mkdir_with_parents(dir, 0700) < 0)
                return -errno;
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents_full(file, name, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
                return -EIO;
        return 0;
}

void label_guests_forget(const char *state_dir, const char *uuid) {
        if (!state_dir || !label_uuid_is_valid(uuid))
                return;
        g_autofree char *file = label_guests_file(state_dir, uuid);
        (void) g_unlink(file);
}

char *label_guests_name(const char *state_dir, const char *uuid) {
        if (!state_dir || !label_uuid_is_valid(uuid))
                return NULL;
        g_autofree char *file = label_guests_file(state_dir, uuid);
        char *name = NULL;
        if (!g_file_get_contents(file, &name, NULL, NULL))
                return NULL;
        /* A name the core would accept: no path games with the journal name. */
        if (!name[0] || strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name) ||
            strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                g_free(name);
                return NULL;
        }
        return name;
}

bool label_guests_running(const char *state_dir, const char *uuid, char **ret_name) {
        g_autofree char *name = label_guests_name(state_dir, uuid);
        if (!name)
                return false;
        g_autofree char *file = g_strdup_printf("%s.journal", name);
        g_autofree char *journal = g_build_filename(state_dir, "guests", file, NULL);
        bool running = access(journal, F_OK) == 0;
        if (running && ret_name)
                *ret_name = g_steal_pointer(&name);
        return running;
}
