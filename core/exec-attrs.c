/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A BwExec taken apart (the accessors a daemon uses to hand a client what
 * bw_manager_exec_prepare() collected) and made again from those parts
 * (bw_exec_new_from_attrs(), in the client). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "exec.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwExec, bw_exec_free)

BW_PUBLIC const char *bw_exec_guest(const BwExec *e) {
        return e ? e->guest : NULL;
}

BW_PUBLIC void bw_exec_identity(const BwExec *e, uid_t *ret_uid, gid_t *ret_gid, size_t *ret_n_groups,
                                const gid_t **ret_groups) {
        if (ret_uid)
                *ret_uid = e->uid;
        if (ret_gid)
                *ret_gid = e->gid;
        if (ret_n_groups)
                *ret_n_groups = e->n_groups;
        if (ret_groups)
                *ret_groups = e->groups;
}

BW_PUBLIC size_t bw_exec_label_count(const BwExec *e) {
        return e ? e->n_labels : 0;
}

BW_PUBLIC int bw_exec_label(const BwExec *e, size_t index, BwExecLabelAttr *ret_label) {
        if (!e || !ret_label)
                return -EINVAL;
        if (index >= e->n_labels)
                return -ENOENT;
        *ret_label = (BwExecLabelAttr) { .lsm = e->labels[index].lsm, .label = e->labels[index].label };
        return 0;
}

BW_PUBLIC int bw_exec_landlock_fd(const BwExec *e) {
        return e ? e->landlock_fd : -1;
}

static int exec_attrs_add_label(BwExec *e, const BwExecLabelAttr *a, BwError *reterr) {
        if (!exec_lsm_name_is_valid(a->lsm) || !a->label || !*a->label)
                return error_set(reterr, -EINVAL, "guest '%s': exec attributes: label '%s' for LSM '%s': expected a non-empty label for an LSM name of a-z",
                                 e->guest, a->label ? a->label : "(null)", a->lsm ? a->lsm : "(null)");
        for (size_t i = 0; i < e->n_labels; i++)
                if (strcmp(e->labels[i].lsm, a->lsm) == 0)
                        return error_set(reterr, -EINVAL, "guest '%s': exec attributes: two labels for LSM '%s'", e->guest,
                                         a->lsm);
        if (e->n_labels == EXEC_LABELS_MAX)
                return error_set(reterr, -E2BIG, "guest '%s': exec attributes: more than %d LSM exec labels", e->guest,
                                 EXEC_LABELS_MAX);
        ExecLabel *l = &e->labels[e->n_labels++];
        *l = (ExecLabel) {
                .lsm = g_strdup(a->lsm), .plugin = g_strdup("attributes"), .path = exec_label_path(a->lsm),
                .label = g_strdup(a->label), .bytes = exec_label_bytes(a->lsm, a->label),
        };
        l->len = strlen(l->bytes);
        return 0;
}

static int exec_attrs_set_landlock(BwExec *e, int fd, BwError *reterr) {
        if (fd < 0)
                return 0;
        if (!exec_fd_is_landlock_ruleset(fd))
                return error_set(reterr, -EBADF, "guest '%s': exec attributes: descriptor %d is not a Landlock ruleset",
                                 e->guest, fd);
        e->landlock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (e->landlock_fd < 0)
                return error_set(reterr, -errno, "guest '%s': exec attributes: cannot duplicate the Landlock ruleset: %m",
                                 e->guest);
        e->landlock_plugin = g_strdup("attributes");
        return 0;
}

BW_PUBLIC int bw_exec_new_from_attrs(const BwExecAttrs *a, BwExec **ret, BwError *reterr) {
        if (!a || !a->guest || !ret || (a->n_groups > 0 && !a->groups) || (a->n_labels > 0 && !a->labels))
                return error_set(reterr, -EINVAL, "bw_exec_new_from_attrs: missing argument");
        if (a->n_groups > (size_t) sysconf(_SC_NGROUPS_MAX))
                return error_set(reterr, -EINVAL, "guest '%s': exec attributes: %zu groups, the kernel takes at most %ld",
                                 a->guest, a->n_groups, sysconf(_SC_NGROUPS_MAX));
        g_autoptr(BwExec) e = exec_new(a->guest);
        e->uid = a->uid;
        e->gid = a->gid;
        e->n_groups = a->n_groups;
        e->groups = a->n_groups ? g_memdup2(a->groups, a->n_groups * sizeof(gid_t)) : NULL;
        if (a->cgroup) {
                if (a->cgroup[0] != '/')
                        return error_set(reterr, -EINVAL, "guest '%s': exec attributes: cgroup '%s' is not an absolute path",
                                         a->guest, a->cgroup);
                e->cgroup = g_strdup(a->cgroup);
                e->cgroup_plugin = g_strdup("attributes");
        }
        for (size_t i = 0; i < a->n_labels; i++) {
                int r = exec_attrs_add_label(e, &a->labels[i], reterr);
                if (r < 0)
                        return r;
        }
        int r = exec_attrs_set_landlock(e, a->landlock_fd, reterr);
        if (r < 0)
                return r;
        r = exec_open_cgroup(e, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&e);
        return 0;
}
