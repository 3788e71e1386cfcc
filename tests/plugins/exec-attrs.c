/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec-attrs: a test plugin that only gives exec attributes, each from a
 * key of its configuration group ([plugin:exec-attrs]):
 *   cgroup=PATH                   set_cgroup(PATH)
 *   identity=UID:GID[:G1,G2...]   set_identity()
 *   lsm=NAME  label=TEXT          set_lsm_label(NAME, TEXT)
 *   landlock-write=DIR            a Landlock ruleset handling file writes
 *                                 and regular-file creation, allowing
 *                                 them only beneath DIR
 * Built twice, as exec-attrs and exec-attrs-b (EXEC_ATTRS_NAME), so two
 * plugins can give conflicting values.  Minimal on purpose: no plan, no
 * apply, nothing on the host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bulwark/plugin.h>

#ifndef EXEC_ATTRS_NAME
#define EXEC_ATTRS_NAME "exec-attrs"
#endif

/* Landlock by value: Debian 12's linux/landlock.h is the 6.1 UAPI.  Only
 * ABI 1 access rights are used, and the ruleset attribute is passed with
 * the size the running ABI knows. */
#define LL_CREATE_RULESET 444
#define LL_ADD_RULE 445
#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_ACCESS_FS_WRITE_FILE (1ull << 1)
#define LL_ACCESS_FS_MAKE_REG (1ull << 8)

typedef struct LlRulesetAttr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;   /* ABI 4 */
        uint64_t scoped;               /* ABI 6 */
} LlRulesetAttr;

typedef struct __attribute__((packed)) LlPathBeneath {
        uint64_t allowed_access;
        int32_t parent_fd;
} LlPathBeneath;

typedef struct State {
        const BwHost *host;
} State;

static const char *ea_config(const State *s, const char *key) {
        const char *v = s->host->config(s->host, key);
        return v && *v ? v : NULL;
}

static int ea_init(const BwHost *host, void **ret_state) {
        State *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
}

static void ea_fini(void *state) {
        free(state);
}

static int ea_landlock_ruleset(const char *dir) {
        long abi = syscall(LL_CREATE_RULESET, NULL, 0, LL_CREATE_RULESET_VERSION);
        if (abi < 1)
                return -EOPNOTSUPP;
        LlRulesetAttr attr = { .handled_access_fs = LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_MAKE_REG };
        size_t size = abi >= 6 ? sizeof(attr) : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
        int ruleset = (int) syscall(LL_CREATE_RULESET, &attr, size, 0);
        if (ruleset < 0)
                return -errno;
        LlPathBeneath rule = { .allowed_access = attr.handled_access_fs, .parent_fd = open(dir, O_PATH | O_CLOEXEC) };
        if (rule.parent_fd < 0 || syscall(LL_ADD_RULE, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) < 0) {
                int r = -errno;
                if (rule.parent_fd >= 0)
                        close(rule.parent_fd);
                close(ruleset);
                return r;
        }
        close(rule.parent_fd);
        return ruleset;
}

/* "UID:GID[:G1,G2...]" */
static int ea_identity(const char *v, BwExecSink *sink) {
        gid_t groups[16];
        size_t n = 0;
        char *end;
        unsigned long uid = strtoul(v, &end, 10), gid;
        if (*end != ':')
                return -EINVAL;
        gid = strtoul(end + 1, &end, 10);
        while (*end == ':' || (*end == ',' && n > 0)) {
                if (n == 16)
                        return -E2BIG;
                groups[n++] = (gid_t) strtoul(end + 1, &end, 10);
        }
        if (*end)
                return -EINVAL;
        return sink->set_identity(sink, (uid_t) uid, (gid_t) gid, n, groups);
}

static int ea_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        const State *s = state;
        const char *v;
        int r = 0;
        (void) guest;

        if ((v = ea_config(s, "cgroup")))
                r = sink->set_cgroup(sink, v);
        if (r >= 0 && (v = ea_config(s, "identity")))
                r = ea_identity(v, sink);
        if (r >= 0 && (v = ea_config(s, "lsm")))
                r = sink->set_lsm_label(sink, v, ea_config(s, "label"));
        if (r >= 0 && (v = ea_config(s, "landlock-write"))) {
                int fd = ea_landlock_ruleset(v);
                if (fd < 0)
                        return fd;
                r = sink->set_landlock_ruleset(sink, fd);
                close(fd); /* the core keeps its own duplicate */
        }
        return r;
}

static const char *const ea_config_keys[] = { "cgroup", "identity", "lsm", "label", "landlock-write", NULL };

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = EXEC_ATTRS_NAME,
        .config_keys = ea_config_keys,
        .init = ea_init,
        .fini = ea_fini,
        .exec_attrs = ea_exec_attrs,
};
