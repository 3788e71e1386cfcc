/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The remember record: what one driver changed on one file, kept in ONE
 * xattr `trusted.bulwark.<driver>` (or the fallback journal, label-journal.h)
 * and always written whole, so a crash never leaves half of it.
 *
 * The encoding is text, one "key value" per line, versioned by its first
 * line:
 *     bulwark-label-record 1
 *     driver dac
 *     boot 1b9f...-...       (/proc/sys/kernel/random/boot_id when written)
 *     original 0:0           (the label before the first holder; empty: none)
 *     applied 107:107        (the label the holders share)
 *     holder <uuid>          (one line per guest holding the file, at least one)
 * Labels are escaped (\xHH for bytes outside '!'..'~' and for '\'), so
 * any byte string comes back exactly.  A record that is not exactly this
 * (another version, an unknown or repeated key, a bad uuid, a label the
 * driver calls invalid, more than LABEL_RECORD_HOLDERS_MAX holders) is
 * refused by label_record_parse() with a reason: never trusted. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define LABEL_RECORD_VERSION 1
#define LABEL_RECORD_SIZE_MAX 4096
#define LABEL_RECORD_HOLDERS_MAX 64
#define LABEL_LABEL_MAX 1024
#define LABEL_UUID_LEN 36

typedef struct LabelRecord {
        char *driver;
        char boot[LABEL_UUID_LEN + 1];
        GBytes *original;          /* empty: the file had no label (no security.selinux) */
        GBytes *applied;
        GPtrArray *holders;        /* of char *, guest uuids, no duplicates */
} LabelRecord;

/* Is this a label the driver can hold?  Set by the driver for parsing. */
typedef bool (*LabelValidFn)(const void *label, size_t len);

LabelRecord *label_record_new(const char *driver, const char *boot, GBytes *original, GBytes *applied);
void label_record_free(LabelRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LabelRecord, label_record_free)

/* The text of a record. */
char *label_record_format(const LabelRecord *record, size_t *ret_len);

/* Parses and validates; -EBADMSG with *ret_why set when the text is not a
 * valid record of `driver`. */
int label_record_parse(const char *driver, LabelValidFn valid, const char *text, size_t len,
                       LabelRecord **ret, char **ret_why);

/* Holders: add is idempotent (false: was already there), remove too. */
bool label_record_add_holder(LabelRecord *record, const char *uuid);
bool label_record_remove_holder(LabelRecord *record, const char *uuid);
bool label_record_has_holder(const LabelRecord *record, const char *uuid);

bool label_uuid_is_valid(const char *s);

/* A label as the record writes it, and back (-EINVAL on a bad escape). */
char *label_escape(const void *label, size_t len);
int label_unescape(const char *text, GBytes **ret);
/* A label for people: escaped, without the NUL a context is stored with;
 * "(none)" for no label. */
char *label_display(GBytes *label);
