/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base-rules.h"
#include "ll-abi.h"

#define BASE_RULES_MAX_BYTES (1u << 20)

static int base_rights_parse(const char *s, size_t len, uint64_t *ret) {
        uint64_t access = 0;
        for (size_t i = 0; i < len; i++) {
                uint64_t bit;
                switch (s[i]) {
                case 'r': bit = LL_FS_READ_FILE | LL_FS_READ_DIR; break;
                case 'w': bit = LL_FS_WRITE_FILE; break;
                case 'x': bit = LL_FS_EXECUTE; break;
                case 't': bit = LL_FS_TRUNCATE; break;
                case 'i': bit = LL_FS_IOCTL_DEV; break;
                default: return -EINVAL;
                }
                if (access & bit)
                        return -EINVAL;
                access |= bit;
        }
        *ret = access;
        return len > 0 ? 0 : -EINVAL;
}

/* A path as the guest definition takes one: absolute, no "." or ".."
 * component, no empty component but a trailing one. */
static const char *base_path_why_invalid(const char *p) {
        if (p[0] != '/')
                return "not an absolute path";
        for (const char *c = p + 1; *c;) {
                size_t n = strcspn(c, "/");
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return "a '.' or '..' component";
                if (n == 0 && c[1] != '\0')
                        return "an empty component";
                c += n + (c[n] == '/');
        }
        return NULL;
}

static int base_line_parse(char *line, const char *source, unsigned lineno, LlRuleList *out, PluginError *err) {
        char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#')
                return 0;
        size_t rights_len = strcspn(s, " \t");
        uint64_t access;
        if (base_rights_parse(s, rights_len, &access) < 0)
                return plugin_error_set(err, -EINVAL, "%s:%u: rights '%.*s': expected letters of r w x t i, each once",
                                    source, lineno, (int) rights_len, s);
        char *path = s + rights_len;
        path += strspn(path, " \t");
        if (*path == '\0')
                return plugin_error_set(err, -EINVAL, "%s:%u: rule '%s': no path after the rights", source, lineno, s);
        size_t path_len = strcspn(path, " \t");
        if (path[path_len + strspn(path + path_len, " \t")] != '\0')
                return plugin_error_set(err, -EINVAL, "%s:%u: rule '%s': text after the path (one RIGHTS PATH a line)",
                                    source, lineno, s);
        path[path_len] = '\0';
        const char *why = base_path_why_invalid(path);
        if (why)
                return plugin_error_set(err, -EINVAL, "%s:%u: path '%s': %s", source, lineno, path, why);
        int r = rule_list_add(out, path, access, "base", "base", true, lineno);
        return r < 0 ? plugin_error_set(err, r, "%s:%u: %m", source, lineno) : 0;
}

int base_rules_parse(const char *text, const char *source, LlRuleList *out, PluginError *err) {
        unsigned lineno = 0;
        for (const char *at = text; *at;) {
                size_t n = strcspn(at, "\n");
                char *line = strndup(at, n);
                if (!line)
                        return plugin_error_set(err, -ENOMEM, "%s: %m", source);
                int r = base_line_parse(line, source, ++lineno, out, err);
                free(line);
                if (r < 0)
                        return r;
                at += n + (at[n] == '\n');
        }
        return 0;
}

int base_rules_load(const char *file, LlRuleList *out, PluginError *err) {
        FILE *f = fopen(file, "re");
        if (!f)
                return plugin_error_set(err, -errno, "base rules '%s': cannot open: %m", file);
        char *text = malloc(BASE_RULES_MAX_BYTES + 1);
        size_t n = text ? fread(text, 1, BASE_RULES_MAX_BYTES + 1, f) : 0;
        int failed = ferror(f);
        fclose(f);
        if (!text)
                return plugin_error_set(err, -ENOMEM, "base rules '%s': %m", file);
        int r = 0;
        if (failed)
                r = plugin_error_set(err, -EIO, "base rules '%s': cannot read: %m", file);
        else if (n > BASE_RULES_MAX_BYTES)
                r = plugin_error_set(err, -EFBIG, "base rules '%s': larger than %u bytes", file, BASE_RULES_MAX_BYTES);
        else if (memchr(text, '\0', n))
                r = plugin_error_set(err, -EINVAL, "base rules '%s': a NUL byte in the file", file);
        else {
                text[n] = '\0';
                r = base_rules_parse(text, file, out, err);
        }
        free(text);
        return r;
}
