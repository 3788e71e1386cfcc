/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bw_manager_exec_prepare(): collects every plugin's exec attributes for a
 * running guest and prepares, in the parent, everything the child will
 * need (see exec.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "util/log.h"
#include "exec.h"
#include "guest-record.h"
#include "guest.h"
#include "journal.h"
#include "manager.h"
#include "plugin-loader.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BwExec, bw_exec_free)

#define EXEC_LSM_NAME_MAX 32

BwExec *exec_new(const char *guest) {
        BwExec *e = g_new0(BwExec, 1);
        e->guest = g_strdup(guest);
        e->cgroup_fd = e->cgroup_procs_fd = e->landlock_fd = -1;
        return e;
}

BW_PUBLIC void bw_exec_free(BwExec *e) {
        if (!e)
                return;
        close_fdp(&e->cgroup_fd);
        close_fdp(&e->cgroup_procs_fd);
        close_fdp(&e->landlock_fd);
        for (size_t i = 0; i < e->n_labels; i++) {
                g_free(e->labels[i].lsm);
                g_free(e->labels[i].plugin);
                g_free(e->labels[i].path);
                g_free(e->labels[i].label);
                g_free(e->labels[i].bytes);
        }
        g_free(e->groups);
        g_free(e->identity_plugin);
        g_free(e->cgroup);
        g_free(e->cgroup_plugin);
        g_free(e->landlock_plugin);
        g_free(e->guest);
        g_free(e);
}

BW_PUBLIC const char *bw_exec_cgroup(const BwExec *e) {
        return e ? e->cgroup : NULL;
}

/* ---- The sink one plugin writes to ------------------------------------- */

typedef struct ExecCollect {
        BwExecSink sink;           /* its userdata points back here */
        BwExec *exec;
        const char *plugin;        /* the plugin being asked */
        BwError conflict;          /* why a setter refused, naming both plugins */
} ExecCollect;

static ExecCollect *exec_collect_of(BwExecSink *sink) {
        return sink->userdata;
}

/* Refuses a second, different value; the message names both plugins. */
static int exec_conflict(ExecCollect *c, const char *what, const char *first, const char *old,
                         const char *new) {
        return error_set(&c->conflict, -EEXIST,
                         "guest '%s': exec: plugins '%s' and '%s' give different %s ('%s' and '%s')",
                         c->exec->guest, first, c->plugin, what, old, new);
}

static int exec_sink_set_cgroup(BwExecSink *sink, const char *path) {
        ExecCollect *c = exec_collect_of(sink);
        BwExec *e = c->exec;
        if (!path || path[0] != '/')
                return error_set(&c->conflict, -EINVAL, "guest '%s': exec: plugin '%s' gives cgroup '%s', not an absolute path",
                                 e->guest, c->plugin, path ? path : "(null)");
        if (e->cgroup)
                return strcmp(e->cgroup, path) == 0 ? 0 : exec_conflict(c, "cgroups", e->cgroup_plugin, e->cgroup, path);
        e->cgroup = g_strdup(path);
        e->cgroup_plugin = g_strdup(c->plugin);
        return 0;
}

static bool exec_same_identity(const BwExec *e, uid_t uid, gid_t gid, size_t n, const gid_t *groups) {
        return e->uid == uid && e->gid == gid && e->n_groups == n &&
               (n == 0 || memcmp(e->groups, groups, n * sizeof(gid_t)) == 0);
}

static char *exec_identity_string(uid_t uid, gid_t gid, size_t n, const gid_t *groups) {
        GString *s = g_string_new(NULL);
        g_string_printf(s, "%u:%u", (unsigned) uid, (unsigned) gid);
        for (size_t i = 0; i < n; i++)
                g_string_append_printf(s, "%s%u", i ? "," : " groups ", (unsigned) groups[i]);
        return g_string_free(s, FALSE);
}

/* The definition's identity is a preset: the first plugin may replace it
 * (to add groups, say); a second plugin must agree with the first. */
static int exec_sink_set_identity(BwExecSink *sink, uid_t uid, gid_t gid, size_t n_groups, const gid_t *groups) {
        ExecCollect *c = exec_collect_of(sink);
        BwExec *e = c->exec;
        if (n_groups > 0 && !groups)
                return -EINVAL;
        if (n_groups > (size_t) sysconf(_SC_NGROUPS_MAX))
                return error_set(&c->conflict, -EINVAL, "guest '%s': exec: plugin '%s' gives %zu groups, the kernel takes at most %ld",
                                 e->guest, c->plugin, n_groups, sysconf(_SC_NGROUPS_MAX));
        if (e->identity_plugin && !exec_same_identity(e, uid, gid, n_groups, groups)) {
                g_autofree char *old = exec_identity_string(e->uid, e->gid, e->n_groups, e->groups);
                g_autofree char *new = exec_identity_string(uid, gid, n_groups, groups);
                return exec_conflict(c, "identities", e->identity_plugin, old, new);
        }
        e->uid = uid;
        e->gid = gid;
        g_free(e->groups);
        e->groups = n_groups ? g_memdup2(groups, n_groups * sizeof(gid_t)) : NULL;
        e->n_groups = n_groups;
        g_free(e->identity_plugin);
        e->identity_plugin = g_strdup(c->plugin);
        return 0;
}

/* SELinux keeps its exec attribute at the top of attr/; the others have
 * their own directory (attr/apparmor/exec, attr/smack/exec). */
char *exec_label_path(const char *lsm) {
        if (strcmp(lsm, "selinux") == 0)
                return g_strdup("/proc/thread-self/attr/exec");
        return g_strdup_printf("/proc/thread-self/attr/%s/exec", lsm);
}

/* AppArmor's exec attribute takes a command, "exec <profile>" (what
 * aa_change_onexec() writes); SELinux and Smack take the label itself. */
char *exec_label_bytes(const char *lsm, const char *label) {
        if (strcmp(lsm, "apparmor") == 0)
                return g_strdup_printf("exec %s", label);
        return g_strdup(label);
}

bool exec_lsm_name_is_valid(const char *lsm) {
        size_t n = lsm ? strlen(lsm) : 0;
        return n > 0 && n <= EXEC_LSM_NAME_MAX && strspn(lsm, "abcdefghijklmnopqrstuvwxyz") == n;
}

static int exec_sink_set_lsm_label(BwExecSink *sink, const char *lsm, const char *label) {
        ExecCollect *c = exec_collect_of(sink);
        BwExec *e = c->exec;
        if (!exec_lsm_name_is_valid(lsm) || !label || !*label)
                return error_set(&c->conflict, -EINVAL, "guest '%s': exec: plugin '%s' gives an LSM label '%s' for LSM '%s': expected a non-empty label for an LSM name of a-z",
                                 e->guest, c->plugin, label ? label : "(null)", lsm ? lsm : "(null)");
        for (size_t i = 0; i < e->n_labels; i++) {
                ExecLabel *l = &e->labels[i];
                if (strcmp(l->lsm, lsm) != 0)
                        continue;
                if (strcmp(l->label, label) == 0)
                        return 0;
                g_autofree char *what = g_strdup_printf("%s exec labels", lsm);
                return exec_conflict(c, what, l->plugin, l->label, label);
        }
        if (e->n_labels == EXEC_LABELS_MAX)
                return error_set(&c->conflict, -E2BIG, "guest '%s': exec: plugin '%s': more than %d LSM exec labels",
                                 e->guest, c->plugin, EXEC_LABELS_MAX);
        ExecLabel *l = &e->labels[e->n_labels++];
        *l = (ExecLabel) {
                .lsm = g_strdup(lsm), .plugin = g_strdup(c->plugin), .path = exec_label_path(lsm),
                .label = g_strdup(label), .bytes = exec_label_bytes(lsm, label),
        };
        l->len = strlen(l->bytes);
        return 0;
}

/* A descriptor of anything else would make landlock_restrict_self() fail
 * in the child; say so here, naming the plugin. */
bool exec_fd_is_landlock_ruleset(int fd) {
        char link[64], target[64];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = '\0';
        return strcmp(target, "anon_inode:[landlock-ruleset]") == 0;
}

/* The guest's process is exec'd after restricting itself, and Landlock
 * logs (to audit, where it is enabled) only denials of the executable
 * that restricted itself unless told otherwise: from ABI 7 on, ask for
 * the denials of what it execs too. */
#define EXEC_LANDLOCK_CREATE_RULESET_VERSION (1u << 0)
#define EXEC_LANDLOCK_LOG_NEW_EXEC_ON (1u << 1)
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif

static unsigned exec_landlock_flags(void) {
        long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, EXEC_LANDLOCK_CREATE_RULESET_VERSION);
        return abi >= 7 ? EXEC_LANDLOCK_LOG_NEW_EXEC_ON : 0;
}

static int exec_sink_set_landlock_ruleset(BwExecSink *sink, int ruleset_fd) {
        ExecCollect *c = exec_collect_of(sink);
        BwExec *e = c->exec;
        if (e->landlock_fd >= 0) {
                /* Two rulesets cannot be compared: any second one conflicts. */
                return error_set(&c->conflict, -EEXIST,
                                 "guest '%s': exec: plugins '%s' and '%s' both give a Landlock ruleset",
                                 e->guest, e->landlock_plugin, c->plugin);
        }
        if (ruleset_fd < 0 || !exec_fd_is_landlock_ruleset(ruleset_fd))
                return error_set(&c->conflict, -EBADF, "guest '%s': exec: plugin '%s' gives descriptor %d, not a Landlock ruleset",
                                 e->guest, c->plugin, ruleset_fd);
        int fd = fcntl(ruleset_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return error_set(&c->conflict, -errno, "guest '%s': exec: cannot duplicate the Landlock ruleset of plugin '%s': %m",
                                 e->guest, c->plugin);
        e->landlock_fd = fd;
        e->landlock_plugin = g_strdup(c->plugin);
        e->landlock_flags = exec_landlock_flags();
        return 0;
}

/* ---- The running guest ------------------------------------------------- */

/* The running guest as it was started: the journal's record of the
 * resolved guest (cgroup, paths, identity), never a re-parse against
 * today's host or settings.  Reads the journal without opening it for
 * writing. */
static int exec_load_guest(BwManager *m, const char *name, BwGuest **ret, BwError *reterr) {
        g_autoptr(JournalState) state = NULL;
        g_autoptr(GuestRecord) record = NULL;

        if (!guest_name_is_valid(name))
                return error_set(reterr, -EINVAL, "guest '%s': not a valid guest name", name);
        g_autofree char *path = journal_file(m->settings->state_dir, name);
        /* journal_read() reports any failure to read as -EIO. */
        int r = access(path, F_OK) < 0 && errno == ENOENT ? -ENOENT : journal_read(path, &state, reterr);
        if (r == -ENOENT || r == -ENODATA)
                return error_set(reterr, -ENOENT, "guest '%s': not running (no journal '%s')", name, path);
        if (r < 0)
                return r;
        if (state->last_op == JOURNAL_OP_STOP || !state->last_committed)
                return error_set(reterr, -ESRCH,
                                 "guest '%s': not running: its last transaction (%s) did not complete; 'bulwarkctl recover' rolls it back",
                                 name, journal_op_to_string(state->last_op));
        if (!state->guest_record)
                return error_set(reterr, -EBADMSG, "journal '%s': no record of the guest as it was started",
                                 path);
        r = guest_record_load(state->guest_record, state->guest_text, path, &record, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&record->guest);
        return 0;
}

/* A plugin that cannot run here adds nothing to the process: that is a
 * decision of the configuration (allow-unsupported=true), as for start. */
static int exec_check_plugin(BwManager *m, const char *guest, Plugin *p, BwError *reterr) {
        if (p->probe_result >= 0)
                return 0;
        const char *v = settings_plugin_value(m->settings, p->name, "allow-unsupported");
        if (v && strcmp(v, "true") == 0)
                return 0;
        return error_set(reterr, p->probe_result, "guest '%s': exec: plugin '%s': not usable on this host: %s", guest,
                         p->name, p->probe_reason[0] ? p->probe_reason : g_strerror(-p->probe_result));
}

static int exec_collect(BwManager *m, const BwGuestInfo *info, BwExec *e, BwError *reterr) {
        g_autoptr(GMutexLocker) locked = g_mutex_locker_new(&m->plugin_lock);
        for (guint i = 0; i < m->plugins->len; i++) {
                Plugin *p = m->plugins->pdata[i];
                ExecCollect c = {
                        .sink = {
                                .size = sizeof(BwExecSink),
                                .set_cgroup = exec_sink_set_cgroup,
                                .set_identity = exec_sink_set_identity,
                                .set_lsm_label = exec_sink_set_lsm_label,
                                .set_landlock_ruleset = exec_sink_set_landlock_ruleset,
                        },
                        .exec = e,
                        .plugin = p->name,
                };
                c.sink.userdata = &c;
                int r = exec_check_plugin(m, info->name, p, reterr);
                if (r < 0)
                        return r;
                BwError err = {};
                r = plugin_exec_attrs(p, info, &c.sink, &err);
                /* A refused value fails the exec even when the plugin went
                 * on regardless, and the sink's reason says more than the
                 * plugin's echo of it. */
                if (c.conflict.code < 0)
                        return error_propagate(reterr, &c.conflict);
                if (r < 0)
                        return error_propagate(reterr, &err);
        }
        return 0;
}

/* ---- What the child needs, made ready ---------------------------------- */

int exec_open_cgroup(BwExec *e, BwError *reterr) {
        struct statfs sfs;
        if (!e->cgroup)
                return 0;
        e->cgroup_fd = open(e->cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (e->cgroup_fd < 0)
                return error_set(reterr, -errno, "guest '%s': exec: cannot open cgroup '%s': %m", e->guest, e->cgroup);
        if (fstatfs(e->cgroup_fd, &sfs) < 0 || (unsigned long) sfs.f_type != CGROUP2_SUPER_MAGIC)
                return error_set(reterr, -ENOTDIR, "guest '%s': exec: cgroup '%s' (from plugin '%s'): not a cgroup2 directory",
                                 e->guest, e->cgroup, e->cgroup_plugin);
        e->cgroup_procs_fd = openat(e->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (e->cgroup_procs_fd < 0)
                return error_set(reterr, -errno, "guest '%s': exec: cannot open '%s/cgroup.procs': %m", e->guest,
                                 e->cgroup);
        return 0;
}

BW_PUBLIC int bw_manager_exec_prepare(BwManager *m, const char *name, BwExec **ret, BwError *reterr) {
        g_autoptr(BwGuest) g = NULL;

        if (!m || !name || !ret)
                return error_set(reterr, -EINVAL, "bw_manager_exec_prepare: missing argument");
        int r = exec_load_guest(m, name, &g, reterr);
        if (r < 0)
                return r;
        const BwGuestInfo *info = bw_guest_info(g);
        g_autoptr(BwExec) e = exec_new(info->name);
        e->uid = info->uid;
        e->gid = info->gid;
        e->n_groups = info->n_groups;
        e->groups = info->n_groups ? g_memdup2(info->groups, info->n_groups * sizeof(gid_t)) : NULL;
        r = exec_collect(m, info, e, reterr);
        if (r < 0)
                return r;
        r = exec_open_cgroup(e, reterr);
        if (r < 0)
                return r;
        log_debug("guest '%s': exec prepared: cgroup %s, uid %u gid %u, %zu group(s), %zu label(s), Landlock %s",
                  e->guest, e->cgroup ? e->cgroup : "(none)", (unsigned) e->uid, (unsigned) e->gid, e->n_groups,
                  e->n_labels, e->landlock_fd >= 0 ? "yes" : "no");
        *ret = g_steal_pointer(&e);
        return 0;
}
