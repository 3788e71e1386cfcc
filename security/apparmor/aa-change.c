/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "aa-change.h"
#include "aa-profile.h"

static const char *const kinds[] = {
        [AA_CHANGE_RULES_ADD] = "profile-rules",
        [AA_CHANGE_RULES_REMOVE] = "profile-rules-remove",
        [AA_CHANGE_PROFILE] = "profile",
};

const char *aa_change_kind(AaChangeOp op) {
        return kinds[op];
}

char *aa_change_encode(const AaChange *c, size_t *ret_len) {
        char *s = g_strdup_printf("%s\n%s\n%s\n%s\n%s", kinds[c->op], c->dir, c->name, c->ref, c->rules);
        *ret_len = strlen(s);
        return s;
}

int aa_change_decode(const void *data, size_t len, AaChange *ret, BwError *reterr) {
        g_autofree char *text = g_strndup(data, len);
        g_auto(GStrv) f = g_strsplit(text, "\n", 5);

        memset(ret, 0, sizeof(*ret));
        if (memchr(data, '\0', len) || g_strv_length(f) != 5)
                return error_set(reterr, -EINVAL, "apparmor change: not a record of this plugin");
        size_t op = 0;
        while (op < G_N_ELEMENTS(kinds) && strcmp(kinds[op], f[0]) != 0)
                op++;
        if (op == G_N_ELEMENTS(kinds))
                return error_set(reterr, -EINVAL, "apparmor change: unknown operation '%s'", f[0]);
        if (!aa_profile_dir_is_valid(f[1]) || !aa_profile_name_is_valid(f[2]))
                return error_set(reterr, -EINVAL, "apparmor change: bad profile '%s/%s'", f[1], f[2]);
        *ret = (AaChange){ .op = (AaChangeOp) op, .dir = g_strdup(f[1]), .name = g_strdup(f[2]),
                           .ref = g_strdup(f[3]), .rules = g_strdup(f[4]) };
        return 0;
}

void aa_change_clear(AaChange *c) {
        g_clear_pointer(&c->dir, g_free);
        g_clear_pointer(&c->name, g_free);
        g_clear_pointer(&c->ref, g_free);
        g_clear_pointer(&c->rules, g_free);
}
