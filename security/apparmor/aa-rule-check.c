/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "aa-path.h"
#include "aa-rule-check.h"
#include "aa-rules.h"

/* The bytes a quoted name stands for: "\ooo" escapes decoded, any other
 * backslash refused (aa_path_quote() writes no other). */
static char *check_unquote(const char *q, size_t n) {
        GString *out = g_string_new(NULL);
        for (size_t i = 0; i < n; i++) {
                if (q[i] != '\\') {
                        g_string_append_c(out, q[i]);
                        continue;
                }
                if (i + 3 >= n + 0 || !g_ascii_isdigit(q[i + 1]) || q[i + 1] > '3' || q[i + 2] < '0' ||
                    q[i + 2] > '7' || q[i + 3] < '0' || q[i + 3] > '7') {
                        g_string_free(out, TRUE);
                        return NULL;
                }
                g_string_append_c(out, (char) ((q[i + 1] - '0') * 64 + (q[i + 2] - '0') * 8 + (q[i + 3] - '0')));
                i += 3;
        }
        return g_string_free(out, FALSE);
}

/* One line: what aa-rules.c would have written for its path and perms. */
static bool check_line(const char *line) {
        static const char *const perms_known[] = { "r", "rk", "rw", "rwk" };
        size_t len = strlen(line);

        if (!g_str_has_prefix(line, "  \"") || len < 7 || line[len - 1] != ',')
                return false;
        const char *close = strrchr(line, '"');
        if (close <= line + 3 || close[1] != ' ')
                return false;
        g_autofree char *perms = g_strndup(close + 2, (size_t) (line + len - 1 - (close + 2)));
        bool known = false;
        for (size_t i = 0; i < G_N_ELEMENTS(perms_known); i++)
                known |= strcmp(perms, perms_known[i]) == 0;
        g_autofree char *raw = g_strndup(line + 2, (size_t) (close + 1 - (line + 2)));
        g_autofree char *path = check_unquote(line + 3, (size_t) (close - (line + 3)));
        if (!known || !path)
                return false;
        AaAccess access = strchr(perms, 'w') ? AA_ACCESS_WRITE : AA_ACCESS_READ;
        bool tree = g_str_has_suffix(raw, "/**\"") && strlen(path) > 3;
        bool dir = !tree && g_str_has_suffix(path, "/") && strlen(path) > 1;
        if (tree)
                path[strlen(path) - (strcmp(path, "/**") == 0 ? 2 : 3)] = '\0';
        g_autofree char *norm = NULL;
        if (aa_path_check(path, strlen(path), access, &norm, NULL) < 0)
                return false;
        g_autofree char *dirpath = dir ? g_strconcat(norm, "/", NULL) : NULL;
        g_autofree char *again = tree ? aa_path_quote_tree(norm) : aa_path_quote(dir ? dirpath : norm);
        return strcmp(again, raw) == 0 && (!dir || strcmp(perms, "r") == 0);
}

static bool check_ref(const char *ref) {
        const char *colon = strchr(ref, ':');
        if (strcmp(ref, AA_SECTION_GUEST) == 0)
                return true;
        return colon && colon > ref && colon[1] &&
               strspn(ref, "abcdefghijklmnopqrstuvwxyz") == (size_t) (colon - ref) &&
               strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                       strlen(colon + 1);
}

int aa_rule_check_section(const char *ref, const char *rules, BwError *reterr) {
        if (!check_ref(ref))
                return error_set(reterr, -EINVAL, "section '%s': not a resource name", ref);
        g_auto(GStrv) lines = g_strsplit(rules, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (**l == '\0' && !l[1])
                        break;     /* the text ends with a newline */
                if (!check_line(*l)) {
                        g_autofree char *shown = g_strescape(*l, NULL);
                        return error_set(reterr, -EPERM, "section '%s': rule '%s' refused: not a rule bulwark writes",
                                         ref, shown);
                }
        }
        return 0;
}
