/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of the guest-definition parser share (not for other
 * parts of core/):
 *
 *   guest-parse-keyfile.c     pass 1 (the text index), messages, values
 *   guest-parse.c             entry points, [guest], dispatch to the types,
 *                             adding and removing one resource group
 *   guest-parse-disk.c        [disk:<id>] and qcow2 backing chains
 *   guest-parse-hostdev.c     [hostdev:<id>]
 *   guest-parse-device.c      [device:<id>]
 *   guest-parse-chardev.c     [chardev:<id>]
 *   guest-parse-singletons.c  [kernel], [firmware], [tpm], [memory]
 *
 * Every function here is prefixed gp_ (they are global within the
 * library, which other files of core/ share). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "guest-parse.h"

/* Every valid group has a handful of keys; the cap keeps the duplicate
 * check linear on hostile input. */
#define GP_GROUP_KEYS_MAX 64
/* How much of a value a message quotes. */
#define GP_QUOTE_MAX 96
/* Far above any valid group ("hostdev:" and a 64-byte id) or key name;
 * longer ones would crowd the rest of every message out. */
#define GP_GROUP_NAME_MAX 128
#define GP_KEY_NAME_MAX 64

typedef struct GpKeyLine {
        const char *name;
        unsigned line;
} GpKeyLine;

typedef struct GpGroupLine {
        const char *name;
        unsigned line;
        guint first_key;           /* index into Parser.keys: a group's keys are contiguous */
        guint n_keys;
} GpGroupLine;

/* A qcow2 chain to follow once every group is parsed: whether a block
 * device a header names is allowed depends on every path the definition
 * lists, later groups included. */
typedef struct GpPendingChain {
        guint resource;            /* index of the disk among the guest's resources */
        guint group;               /* index of its group in Parser.groups */
        const char *path;          /* interned in the guest */
        bool sniff;
} GpPendingChain;

typedef struct Parser {
        const char *source;
        const GuestParseOptions *options;
        BwError *reterr;
        /* Lines from `extra_first_line` on come from another text (the
         * resource text of guest_parse_with_resource()): messages locate
         * them there, as `extra_source`:<line in that text>. */
        unsigned extra_first_line; /* 0: one text */
        const char *extra_source;
        GStringChunk *names;
        GArray *groups;            /* GpGroupLine, in text order */
        GArray *keys;              /* GpKeyLine */
        GHashTable *group_index;   /* group name -> index in groups + 1 */
        GKeyFile *keyfile;
        BwGuest *guest;
        const GpGroupLine *group;  /* the group being checked */
        guint resource;            /* index of the resource being parsed */
        GArray *pending_chains;    /* GpPendingChain */
        GArray *listed_block_devices; /* dev_t; built on first need, see guest-parse-disk.c */
} Parser;

/* Sets up an empty parser; `source` NULL means "<data>", `options` NULL
 * the defaults.  gp_done() frees what it holds, the guest being built
 * included (guest-parse.c creates it and steals it on success). */
void gp_init(Parser *p, const char *source, const GuestParseOptions *options, BwError *reterr);
void gp_done(Parser *p);

/* ---- Messages (guest-parse-keyfile.c) ---------------------------------- */

/* A value as messages quote it: shortened, control characters escaped. */
char *gp_quote(const char *s);

/* "<source>:<line>" for a line of the text (just the source for line 0),
 * mapping lines of the extra text to it. */
char *gp_where(const Parser *p, unsigned line);

/* "<where>: [<group>] key '<key>': <message>", leaving out what is not
 * known (line 0, no current group, no key).  Return `code`. */
int gp_fail_line(Parser *p, unsigned line, int code, const char *format, ...) G_GNUC_PRINTF(4, 5);
int gp_fail_group(Parser *p, const char *format, ...) G_GNUC_PRINTF(2, 3);
int gp_fail_key_code(Parser *p, const char *key, int code, const char *format, ...) G_GNUC_PRINTF(4, 5);
#define gp_fail_key(p, key, ...) gp_fail_key_code((p), (key), -EINVAL, __VA_ARGS__)

/* The key's line in the current group, or NULL when it is absent. */
const GpKeyLine *gp_group_key(const Parser *p, const char *key);
/* The key's line, or the group's when it is absent. */
unsigned gp_key_line(const Parser *p, const char *key);

/* ---- Pass 1: the text index (guest-parse-keyfile.c) -------------------- */

int gp_scan_text(Parser *p, const char *text, size_t len);

/* ---- Values (guest-parse-keyfile.c) ------------------------------------ */

/* The unescaped value of a key of the current group.  An empty value
 * counts as absent, so "initrd=" means no initrd. */
int gp_value_get(Parser *p, const char *key, bool required, char **ret);
int gp_value_bool(Parser *p, const char *key, bool *ret);
int gp_value_uint(Parser *p, const char *key, unsigned min, unsigned max, unsigned *ret);
/* The value's index in a NULL-terminated table; `def` when absent (a
 * negative `def` makes the key required). */
int gp_value_enum(Parser *p, const char *key, const char *const *names, int def, int *ret);
/* An absolute path without "." or ".." components and not one that names
 * no host file (guest_path_per_process()), normalized and interned in the
 * guest; NULL when absent and optional. */
int gp_value_path(Parser *p, const char *key, bool required, const char **ret);
/* The items of a ';'-separated list (a trailing ';' allowed, an empty
 * item refused naming `what`); NULL when the key is absent. */
int gp_value_list(Parser *p, const char *key, const char *what, char ***ret);
/* A ';'-separated list of paths, each as gp_value_path() takes it,
 * added to the guest's hotplug-dirs. */
int gp_value_path_list(Parser *p, const char *key);
/* A required path under /dev. */
int gp_value_dev_path(Parser *p, const char *key, const char **ret);
int gp_value_identity(Parser *p, const char *key, bool is_group, uint32_t *ret);
/* The message for guest_identity_lookup()'s result `r` about value `s`
 * (0 for 0). */
int gp_fail_identity(Parser *p, const char *key, bool is_group, const char *s, int r);

/* Refuses a key of the current group that `allowed` (NULL-terminated)
 * does not hold, with the reason when it is refused on purpose. */
int gp_group_check_keys(Parser *p, const char *kind, const char *const *allowed);

/* ---- Resource types (one file each, the singletons together) ----------- */

int gp_disk_parse(Parser *p, BwResource *res);
/* Follows the chains gp_disk_parse() left pending, in resource order. */
int gp_disk_resolve_chains(Parser *p);
int gp_hostdev_parse(Parser *p, BwResource *res);
int gp_device_parse(Parser *p, BwResource *res);
int gp_chardev_parse(Parser *p, BwResource *res);
int gp_kernel_parse(Parser *p, BwResource *res);
int gp_firmware_parse(Parser *p, BwResource *res);
int gp_tpm_parse(Parser *p, BwResource *res);
int gp_memory_parse(Parser *p, BwResource *res);
