/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The data of one labelling change, as the journal keeps it: text,
 *     label-change 1\n<op>\n<role>\n<label, escaped>\n<resource for messages>\n
 * op: "label" (apply labels, undo gives back), "unlabel" (a detach: the
 * other way round), "skip" (under skip-paths=: nothing either way).  The
 * path is the change's lock_path. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include <bulwark/plugin.h>

typedef enum LabelChangeOp {
        LABEL_CHANGE_LABEL,
        LABEL_CHANGE_UNLABEL,
        LABEL_CHANGE_SKIP,
} LabelChangeOp;

typedef struct LabelChange {
        LabelChangeOp op;
        BwPathRole role;
        GBytes *label;
        char *what;                /* "disk 'root'" */
} LabelChange;

char *label_change_format(const LabelChange *c, size_t *ret_len);
/* -EBADMSG when the data is not a change this version wrote. */
int label_change_parse(const void *data, size_t len, LabelChange *ret);
void label_change_clear(LabelChange *c);
