/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device rules in the cgroup v1 syntax people know: "c 1:3 rw",
 * "b 8:* r", "a *:* m".  A rule allows or denies; a list of rules has
 * last-rule-wins meaning per access bit (see rule-table.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bulwark/plugin.h>

#include "dev-error.h"

/* Device types, the kernel's BPF_DEVCG_DEV_* values; 'a' is both. */
enum {
        DEVICE_TYPE_BLOCK = 1u << 0,
        DEVICE_TYPE_CHAR = 1u << 1,
        DEVICE_TYPE_ALL = DEVICE_TYPE_BLOCK | DEVICE_TYPE_CHAR,
};

/* Access bits are BW_ACCESS_MKNOD/READ/WRITE (the kernel's BPF_DEVCG_ACC_*). */
#define DEVICE_ACCESS_ALL (BW_ACCESS_MKNOD | BW_ACCESS_READ | BW_ACCESS_WRITE)

/* A major or minor of '*'.  Real numbers are below it. */
#define DEVICE_WILDCARD UINT32_MAX

typedef struct DeviceRule {
        bool allow;
        uint8_t types;             /* DEVICE_TYPE_* bits, never 0 */
        uint8_t access;            /* BW_ACCESS_* bits, never 0 */
        uint32_t major;            /* DEVICE_WILDCARD for '*' */
        uint32_t minor;
} DeviceRule;

/* Longest text device_rule_format() writes, NUL included
 * ("deny c 4294967294:4294967294 rwm"). */
#define DEVICE_RULE_TEXT_MAX 40

/* Parses "TYPE MAJOR:MINOR ACCESS", e.g. "c 1:3 rw".  `allow` gives the
 * rule's sense.  Returns 0 or -EINVAL with a message quoting the text. */
int device_rule_parse(const char *text, bool allow, DeviceRule *ret, DevError *reterr);

/* Parses one line of a rules file: "[allow|deny] TYPE MAJOR:MINOR ACCESS",
 * allow when the verb is absent.  Returns 1 and the rule, 0 for a blank or
 * comment-only line ('#' starts a comment), -EINVAL for anything else. */
int device_rule_parse_line(const char *line, DeviceRule *ret, DevError *reterr);

/* Reads a rules file.  *ret_rules is malloc'd (free() it); messages name
 * the file and the line. */
int device_rule_parse_file(const char *path, DeviceRule **ret_rules, size_t *ret_n,
                           DevError *reterr);

/* "c 1:3 rw" (with_verb: "allow c 1:3 rw").  Returns buf. */
char *device_rule_format(const DeviceRule *rule, bool with_verb, char buf[static DEVICE_RULE_TEXT_MAX]);

/* "rwm" order, "-" for none.  buf holds at least 4 bytes. */
char *device_access_format(unsigned access, char buf[static 4]);
/* 'b', 'c' or 'a'. */
char device_type_char(unsigned types);
/* "1:3", "8:*", "*:*" into buf of at least 24 bytes. */
char *device_numbers_format(uint32_t major, uint32_t minor, char buf[static 24]);

/* Parses "TYPE" ("b"/"c"/"a"), "MAJ:MIN" and "ACCESS" ("rwm" subset, at
 * least one letter) on their own, for command lines. */
int device_type_parse(const char *s, unsigned *ret_types);
int device_numbers_parse(const char *s, uint32_t *ret_major, uint32_t *ret_minor);
int device_access_parse(const char *s, unsigned *ret_access);
