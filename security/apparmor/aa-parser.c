/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "aa-parser.h"

const char *aa_parser_features(const char *configured) {
        if (configured)
                return configured;
        if (access(AA_KERNEL_FEATURES, R_OK) == 0)
                return NULL;
        return access(AA_SHIPPED_FEATURES, R_OK) == 0 ? AA_SHIPPED_FEATURES : NULL;
}

static GPtrArray *parser_argv_new(const AaParser *p, const char *mode) {
        GPtrArray *a = g_ptr_array_new();
        g_ptr_array_add(a, g_strdup(p->parser));
        g_ptr_array_add(a, g_strdup(mode));
        return a;
}

static char **parser_argv_end(GPtrArray *a, const AaParser *p, const char *profile) {
        if (p->include_dir) {
                g_ptr_array_add(a, g_strdup("-I"));
                g_ptr_array_add(a, g_strdup(p->include_dir));
        }
        g_ptr_array_add(a, g_strdup(profile));
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

char **aa_parser_argv_check(const AaParser *p, const char *profile) {
        GPtrArray *a = parser_argv_new(p, "-Q");
        g_ptr_array_add(a, g_strdup("-K"));
        if (p->features) {
                g_ptr_array_add(a, g_strdup("-M"));
                g_ptr_array_add(a, g_strdup(p->features));
        }
        return parser_argv_end(a, p, profile);
}

char **aa_parser_argv_replace(const AaParser *p, const char *profile) {
        return parser_argv_end(parser_argv_new(p, "-r"), p, profile);
}

char **aa_parser_argv_remove(const AaParser *p, const char *profile) {
        return parser_argv_end(parser_argv_new(p, "-R"), p, profile);
}

bool aa_parser_profile_listed(const char *profiles, const char *name) {
        g_autofree char *line = g_strdup_printf("%s (", name);
        size_t n = strlen(line);
        for (const char *p = profiles; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, n) == 0)
                        return true;
        return false;
}

int aa_parser_run(char **argv, const char *what, BwError *reterr) {
        g_autoptr(GError) gerr = NULL;
        g_autofree char *err_text = NULL;
        int status;

        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CLOEXEC_PIPES, NULL, NULL, NULL,
                          &err_text, &status, &gerr))
                return error_set(reterr, -ENOENT, "%s: cannot run '%s': %s", what, argv[0], gerr->message);
        if (!g_spawn_check_wait_status(status, NULL)) {
                g_strstrip(err_text);
                return error_set(reterr, -EINVAL, "%s: %s %s failed: %s", what, argv[0], argv[1],
                                 err_text[0] ? err_text : "no message");
        }
        return 0;
}
