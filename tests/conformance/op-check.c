/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "op-check.h"

/* ---- query ------------------------------------------------------------- */

/* A sink that fails every write and counts the writes after the first. */
typedef struct FailingSink {
        BwQuerySink sink;          /* first: the sink is the FailingSink */
        unsigned writes;
} FailingSink;

static int failing_write(BwQuerySink *sink, const char *data, size_t len) {
        ((FailingSink *) sink)->writes++;
        return -EIO;
}

static int query_run(Plugin *p, const char *command, FailingSink *sink, BwError *err) {
        BwQuery q = { .size = sizeof(q), .command = command, .argc = 0, .argv = (const char *const[]) { NULL } };
        *sink = (FailingSink) { .sink = { .size = sizeof(BwQuerySink), .write = failing_write, .userdata = sink } };
        return plugin_query(p, &q, &sink->sink, err);
}

char *op_check_query_unknown(Plugin *p, char **ret_skip) {
        FailingSink sink;
        BwError err = {};

        if (!p->ops.query) {
                *ret_skip = g_strdup("the plugin has no query operation");
                return NULL;
        }
        int r = query_run(p, OP_CHECK_UNKNOWN_COMMAND, &sink, &err);
        if (r != -EOPNOTSUPP)
                return g_strdup_printf("command '%s' answered %d (%s), not -EOPNOTSUPP", OP_CHECK_UNKNOWN_COMMAND, r,
                                       r < 0 ? err.message : "success");
        return NULL;
}

/* The command names a plugin lists when it refuses an unknown one:
 * every word of [a-z0-9-] after the last ':' of its message. */
static char **query_listed_commands(Plugin *p) {
        FailingSink sink;
        BwError err = {};
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        (void) query_run(p, OP_CHECK_UNKNOWN_COMMAND, &sink, &err);
        const char *list = strrchr(err.message, ':');
        g_auto(GStrv) words = g_strsplit_set(list ? list + 1 : "", " ,;()'\"", -1);
        for (char **w = words; *w; w++)
                if (**w && strspn(*w, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(*w) &&
                    strcmp(*w, OP_CHECK_UNKNOWN_COMMAND) != 0)
                        g_ptr_array_add(out, g_strdup(*w));
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

char *op_check_query_sink_error(Plugin *p, char *const *commands, char **ret_skip) {
        g_auto(GStrv) listed = NULL;

        if (!p->ops.query) {
                *ret_skip = g_strdup("the plugin has no query operation");
                return NULL;
        }
        if (!commands)
                commands = listed = query_listed_commands(p);
        if (!commands[0]) {
                *ret_skip = g_strdup("the plugin names no command (give them with --query)");
                return NULL;
        }
        for (char *const *c = commands; *c; c++) {
                FailingSink sink;
                BwError err = {};
                int r = query_run(p, *c, &sink, &err);
                if (sink.writes > 1)
                        return g_strdup_printf("command '%s' wrote %u more time%s after the sink failed", *c,
                                               sink.writes - 1, sink.writes == 2 ? "" : "s");
                if (sink.writes == 1 && r >= 0)
                        return g_strdup_printf("command '%s' returned success although its write failed", *c);
        }
        return NULL;
}

/* ---- exec_attrs -------------------------------------------------------- */

typedef struct RecordingSink {
        BwExecSink sink;           /* first */
        unsigned calls;
        char *problem;             /* the first invalid value */
} RecordingSink;

static int recording_problem(RecordingSink *s, char *problem) {
        if (!s->problem)
                s->problem = problem;
        else
                g_free(problem);
        return -EINVAL;
}

static int rec_cgroup(BwExecSink *sink, const char *path) {
        RecordingSink *s = (RecordingSink *) sink;
        s->calls++;
        if (!path || path[0] != '/')
                return recording_problem(s, g_strdup_printf("set_cgroup('%s'): not an absolute path",
                                                            path ? path : "(null)"));
        return 0;
}

static int rec_identity(BwExecSink *sink, uid_t uid, gid_t gid, size_t n_groups, const gid_t *groups) {
        RecordingSink *s = (RecordingSink *) sink;
        s->calls++;
        if (n_groups > 0 && !groups)
                return recording_problem(s, g_strdup_printf("set_identity(): %zu groups but no array", n_groups));
        if (uid == (uid_t) -1 || gid == (gid_t) -1)
                return recording_problem(s, g_strdup("set_identity(): uid or gid -1"));
        return 0;
}

static int rec_lsm_label(BwExecSink *sink, const char *lsm, const char *label) {
        RecordingSink *s = (RecordingSink *) sink;
        s->calls++;
        if (!lsm || !label || !*label || (strcmp(lsm, "selinux") != 0 && strcmp(lsm, "apparmor") != 0))
                return recording_problem(s, g_strdup_printf("set_lsm_label('%s', '%s'): not an LSM and a label",
                                                            lsm ? lsm : "(null)", label ? label : "(null)"));
        return 0;
}

static int rec_landlock(BwExecSink *sink, int fd) {
        RecordingSink *s = (RecordingSink *) sink;
        s->calls++;
        if (fd < 0 || fcntl(fd, F_GETFD) < 0)
                return recording_problem(s, g_strdup_printf("set_landlock_ruleset(%d): not an open descriptor", fd));
        return 0;
}

char *op_check_exec_attrs(Plugin *p, const BwGuestInfo *guest, char **ret_skip) {
        RecordingSink s = {
                .sink = { .size = sizeof(BwExecSink), .set_cgroup = rec_cgroup, .set_identity = rec_identity,
                          .set_lsm_label = rec_lsm_label, .set_landlock_ruleset = rec_landlock },
        };
        BwError err = {};

        if (!p->ops.exec_attrs) {
                *ret_skip = g_strdup("the plugin has no exec_attrs operation");
                return NULL;
        }
        s.sink.userdata = &s;
        int r = plugin_exec_attrs(p, guest, &s.sink, &err);
        g_autofree char *problem = g_steal_pointer(&s.problem);
        if (problem)
                return g_strdup_printf("gave an invalid value: %s", problem);
        if (r < 0)
                return g_strdup_printf("failed on the test guest: %s", err.message);
        return NULL;
}
