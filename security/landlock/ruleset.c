/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll-abi.h"
#include "ruleset.h"

uint64_t ruleset_rule_access(uint64_t wanted, int abi, bool is_dir) {
        return wanted & ll_abi_fs_access(abi) & (is_dir ? ~0ull : LL_FS_FILE_RIGHTS);
}

static int ruleset_add(const char *guest, int ruleset_fd, const LlRule *rule, int abi, PluginError *err) {
        int fd = open(rule->path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT && rule->optional)
                        return 0;
                return plugin_error_set(err, -errno, "guest '%s': %s: '%s': cannot open for a Landlock rule: %m", guest,
                                    rule->source, rule->path);
        }
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        uint64_t access = r < 0 ? 0 : ruleset_rule_access(rule->access, abi, S_ISDIR(st.st_mode));
        if (r == 0 && access != 0)
                r = ll_ruleset_add_path(ruleset_fd, fd, access);
        close(fd);
        if (r < 0)
                return plugin_error_set(err, r, "guest '%s': %s: '%s': the kernel refused the Landlock rule: %m", guest,
                                    rule->source, rule->path);
        return 0;
}

int ruleset_build(const char *guest, const LlRuleList *rules, int abi, int *ret_fd, PluginError *err) {
        int fd = ll_ruleset_create(ll_abi_fs_access(abi), ll_abi_scoped(abi));
        if (fd < 0)
                return plugin_error_set(err, fd, "guest '%s': cannot create a Landlock ruleset (ABI %d): %m", guest, abi);
        for (size_t i = 0; i < rules->n; i++) {
                int r = ruleset_add(guest, fd, &rules->rules[i], abi, err);
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        *ret_fd = fd;
        return 0;
}
