/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journaled data of a labelling change (see label-change.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "label-change.h"
#include "label-record.h"

static const char *const label_change_ops[] = {
        [LABEL_CHANGE_LABEL] = "label", [LABEL_CHANGE_UNLABEL] = "unlabel", [LABEL_CHANGE_SKIP] = "skip",
};

char *label_change_format(const LabelChange *c, size_t *ret_len) {
        g_autofree char *label = label_escape(g_bytes_get_data(c->label, NULL), g_bytes_get_size(c->label));
        char *s = g_strdup_printf("label-change 1\n%s\n%d\n%s\n%s\n", label_change_ops[c->op], (int) c->role, label,
                                  c->what);
        *ret_len = strlen(s);
        return s;
}

int label_change_parse(const void *data, size_t len, LabelChange *ret) {
        if (!data || len == 0 || len > 65536 || memchr(data, '\0', len) || ((const char *) data)[len - 1] != '\n')
                return -EBADMSG;
        g_autofree char *text = g_strndup(data, len - 1);
        g_auto(GStrv) f = g_strsplit(text, "\n", -1);
        if (g_strv_length(f) != 5 || strcmp(f[0], "label-change 1") != 0)
                return -EBADMSG;
        LabelChange c = {};
        size_t i;
        for (i = 0; i < G_N_ELEMENTS(label_change_ops); i++)
                if (strcmp(f[1], label_change_ops[i]) == 0)
                        break;
        if (i == G_N_ELEMENTS(label_change_ops))
                return -EBADMSG;
        c.op = (LabelChangeOp) i;
        char *end;
        long role = strtol(f[2], &end, 10);
        if (*end || role < BW_PATH_IMAGE || role > BW_PATH_MEMORY)
                return -EBADMSG;
        c.role = (BwPathRole) role;
        if (label_unescape(f[3], &c.label) < 0)
                return -EBADMSG;
        c.what = g_strdup(f[4]);
        *ret = c;
        return 0;
}

void label_change_clear(LabelChange *c) {
        g_clear_pointer(&c->label, g_bytes_unref);
        g_clear_pointer(&c->what, g_free);
}
