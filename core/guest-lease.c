/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "util/error.h"
#include "util/log.h"
#include "guest-lease.h"

/* Whether a path of this role is leased, and how. */
static bool role_leased(const BwResource *res, BwPathRole role, bool *ret_shared) {
        switch (role) {
        case BW_PATH_IMAGE:
        case BW_PATH_NVRAM:
                *ret_shared = res->readonly || res->shared;
                return true;
        case BW_PATH_IMAGE_READONLY:
        case BW_PATH_BACKING:
        case BW_PATH_KERNEL:
                *ret_shared = true;
                return true;
        default:
                return false;
        }
}

static bool resource_uses(const BwResource *res, const char *path) {
        for (size_t k = 0; k < res->n_paths; k++)
                if (strcmp(res->paths[k], path) == 0)
                        return true;
        return false;
}

/* The leased paths of `only` (NULL: every resource), exclusive and shared
 * apart; a path leased both ways is leased exclusively. */
/* Each path once, exclusive when any role asks for it; sets, since a
 * search of the arrays per path was quadratic in the guest's paths. */
static void lease_paths(const BwGuestInfo *info, const BwResource *only, GPtrArray *exclusive, GPtrArray *shared) {
        g_autoptr(GHashTable) seen_exclusive = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) seen_shared = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; i < info->n_resources; i++) {
                const BwResource *res = info->resources[i];
                if (only && res != only)
                        continue;
                for (size_t k = 0; k < res->n_paths; k++) {
                        bool is_shared;
                        const char *p = res->paths[k];
                        if (!role_leased(res, res->roles[k], &is_shared))
                                continue;
                        if (g_hash_table_add(is_shared ? seen_shared : seen_exclusive, (gpointer) p))
                                g_ptr_array_add(is_shared ? shared : exclusive, (gpointer) p);
                }
        }
        for (guint i = shared->len; i-- > 0;)
                if (g_hash_table_contains(seen_exclusive, shared->pdata[i]))
                        g_ptr_array_remove_index(shared, i);
}

int guest_lease_take(PathLocker *locker, const BwGuestInfo *info, const BwResource *only, unsigned timeout_ms,
                     BwError *reterr) {
        g_autoptr(GPtrArray) exclusive = g_ptr_array_new(), shared = g_ptr_array_new();
        BwError err = {};

        lease_paths(info, only, exclusive, shared);
        int r = path_locker_lease(locker, info->uuid, (const char *const *) exclusive->pdata, exclusive->len,
                                  PATH_LOCK_EXCLUSIVE, timeout_ms, &err);
        if (r >= 0)
                r = path_locker_lease(locker, info->uuid, (const char *const *) shared->pdata, shared->len,
                                      PATH_LOCK_SHARED, timeout_ms, &err);
        if (r == -EOPNOTSUPP) {
                /* A lockd from before leases, not yet re-executed into
                 * this version: the guest runs as it did then, its images
                 * locked only for each transaction. */
                log_warning("guest '%s': %s; its images are not leased", info->name, err.message);
                return 0;
        }
        if (r < 0) {
                guest_lease_release(locker, info, only);
                return error_propagate(reterr, &err);
        }
        return 0;
}

void guest_lease_release(PathLocker *locker, const BwGuestInfo *info, const BwResource *only) {
        g_autoptr(GPtrArray) paths = g_ptr_array_new(), shared = g_ptr_array_new();
        BwError err = {};

        if (only) {
                lease_paths(info, only, paths, shared);
                g_ptr_array_extend_and_steal(paths, g_steal_pointer(&shared));
                /* A backing file two disks share stays leased for the other. */
                for (guint i = paths->len; i-- > 0;)
                        for (size_t k = 0; k < info->n_resources; k++)
                                if (info->resources[k] != only && resource_uses(info->resources[k], paths->pdata[i])) {
                                        g_ptr_array_remove_index(paths, i);
                                        break;
                                }
                if (paths->len == 0)
                        return;
        }
        int r = path_locker_release_leases(locker, info->uuid, (const char *const *) paths->pdata, paths->len, &err);
        if (r < 0)
                log_warning("guest '%s': cannot release the leases on its images: %s", info->name, err.message);
}
