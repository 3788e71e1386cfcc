/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journaled data of the plugin's changes.  It holds everything apply
 * and undo need, so a change is undone by another process after a crash
 * from the journal alone: the operation, the profile directory and name,
 * the section and its rule lines. */
#pragma once

#include <stddef.h>

#include "util/error.h"

typedef enum AaChangeOp {
        AA_CHANGE_RULES_ADD,       /* "profile-rules": set a resource's section */
        AA_CHANGE_RULES_REMOVE,    /* "profile-rules-remove": detach drops it */
        AA_CHANGE_PROFILE,         /* "profile": the profile itself, guest-wide rules */
} AaChangeOp;

typedef struct AaChange {
        AaChangeOp op;
        char *dir;
        char *name;
        char *ref;                 /* the section */
        char *rules;               /* its rule lines */
} AaChange;

/* The change kind people see for an operation. */
const char *aa_change_kind(AaChangeOp op);

/* "<op>\n<dir>\n<name>\n<ref>\n<rules>": rule lines never hold a raw
 * newline of a path (aa_path_quote() escapes it).  g_free() the result. */
char *aa_change_encode(const AaChange *c, size_t *ret_len);
/* -EINVAL, naming the change, for data this plugin never wrote. */
int aa_change_decode(const void *data, size_t len, AaChange *ret, BwError *reterr);
void aa_change_clear(AaChange *c);
