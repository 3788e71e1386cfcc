/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include "cgroup-owner.h"
#include "guest-record.h"
#include "guest.h"
#include "journal.h"

/* The components of an absolute path; NULL for a relative one or one
 * with "." or ".." components. */
static char **path_components(const char *path) {
        if (!path || path[0] != '/')
                return NULL;
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        for (char **p = parts; *p; p++) {
                if (!**p)
                        continue;
                if (strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
                        return NULL;
                g_ptr_array_add(out, g_strdup(*p));
        }
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* Is `a` equal to `b` or one of its ancestors, by components? */
static bool components_cover(char *const *a, char *const *b) {
        for (; *a; a++, b++)
                if (!*b || strcmp(*a, *b) != 0)
                        return false;
        return true;
}

int cgroup_owner_check_path(const char *guest, const char *cgroup, const char *root, BwError *reterr) {
        g_auto(GStrv) c = path_components(cgroup);
        g_auto(GStrv) r = path_components(root);

        if (!c)
                return error_set(reterr, -EINVAL,
                                 "guest '%s': cgroup '%s': not an absolute path without '.' or '..' components",
                                 guest, cgroup ? cgroup : "");
        if (!r)
                return error_set(reterr, -EINVAL, "guest '%s': cgroup '%s': no usable cgroup root is configured",
                                 guest, cgroup);
        if (!components_cover(r, c))
                return error_set(reterr, -EPERM, "guest '%s': cgroup '%s' is outside the cgroup root '%s'", guest,
                                 cgroup, root);
        if (g_strv_length(c) == g_strv_length(r))
                return error_set(reterr, -EPERM,
                                 "guest '%s': cgroup '%s' is the cgroup root itself, which a guest cannot own",
                                 guest, cgroup);
        return 0;
}

/* The cgroup the journal of guest `other` records, or NULL. */
static char *owner_cgroup_of(const char *state_dir, const char *other) {
        g_autofree char *path = journal_file(state_dir, other);
        g_autoptr(JournalState) s = NULL;
        g_autoptr(GuestRecord) rec = NULL;
        BwError err = {};

        if (journal_read_salvage(path, &s, &err) < 0 || !s->guest_record) {
                log_debug("guest '%s': no readable guest record in '%s' to check cgroup ownership against",
                          other, path);
                return NULL;
        }
        if (guest_record_load(s->guest_record, s->guest_text, path, &rec, &err) < 0)
                return NULL;
        const char *cg = bw_guest_info(rec->guest)->cgroup;
        return g_strdup(cg);
}

int cgroup_owner_check_free(const char *state_dir, const char *guest, const char *cgroup, BwError *reterr) {
        g_autofree char *dir = journal_dir(state_dir);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_auto(GStrv) mine = path_components(cgroup);

        if (!d || !mine)
                return 0;
        for (const char *f; (f = g_dir_read_name(d));) {
                if (!g_str_has_suffix(f, ".journal"))
                        continue;
                g_autofree char *other = g_strndup(f, strlen(f) - strlen(".journal"));
                if (!guest_name_is_valid(other) || strcmp(other, guest) == 0)
                        continue;
                g_autofree char *theirs = owner_cgroup_of(state_dir, other);
                g_auto(GStrv) t = path_components(theirs);
                if (!t)
                        continue;
                if (components_cover(t, mine) && g_strv_length(t) == g_strv_length(mine))
                        return error_set(reterr, -EBUSY, "guest '%s': cgroup '%s' belongs to running guest '%s'",
                                         guest, cgroup, other);
                if (components_cover(t, mine) || components_cover(mine, t))
                        return error_set(reterr, -EBUSY,
                                         "guest '%s': cgroup '%s' is nested with cgroup '%s' of running guest '%s'",
                                         guest, cgroup, theirs, other);
        }
        return 0;
}
