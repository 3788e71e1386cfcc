/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rule table: the in-memory image of the kernel map bw_dev_rules, and
 * the compilation of last-rule-wins rules into map entries.
 *
 * Key: u64 major << 32 | minor; a wildcard half is 0xffffffff.
 * Value: u32; bits 0-2 block access (m=1, r=2, w=4), bit 3 "block entry
 * present", bits 8-10 char access, bit 11 "char entry present".
 *
 * Decision for (type, major, minor, access): look up major:minor, then
 * major:*, then *:minor, then *:*; the first entry present for the type
 * decides: allow iff the requested access is a subset of its bits.  No
 * entry: deny.
 *
 * rule_table_compile() turns one allow/deny rule into the entry writes
 * that give the table the meaning of the ordered rule list with that rule
 * appended (last rule wins, per access bit).  The writes come narrowest
 * first (exact, major:*, *:minor, *:*): applied in that order to a live
 * map, every device moves from its old decision to its new one in one
 * step.  The table itself is changed only by rule_table_commit(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device-rule.h"

#define RULE_VALUE_PRESENT 0x8u

enum {
        RULE_LEVEL_NONE = 0,       /* no entry decided: deny */
        RULE_LEVEL_EXACT = 1,      /* major:minor */
        RULE_LEVEL_MAJOR = 2,      /* major:* */
        RULE_LEVEL_MINOR = 3,      /* *:minor */
        RULE_LEVEL_ANY = 4,        /* *:* */
};

/* The level's name as explain and the denial log print it ("exact",
 * "major:*", "*:minor", "*:*"; "none" when no entry decided). */
const char *rule_level_to_string(unsigned level);

static inline uint64_t rule_key(uint32_t major, uint32_t minor) {
        return (uint64_t) major << 32 | minor;
}
static inline uint32_t rule_key_major(uint64_t key) {
        return (uint32_t) (key >> 32);
}
static inline uint32_t rule_key_minor(uint64_t key) {
        return (uint32_t) key;
}
static inline unsigned rule_key_level(uint64_t key) {
        bool wmaj = rule_key_major(key) == DEVICE_WILDCARD, wmin = rule_key_minor(key) == DEVICE_WILDCARD;
        return wmaj ? (wmin ? RULE_LEVEL_ANY : RULE_LEVEL_MINOR) : (wmin ? RULE_LEVEL_MAJOR : RULE_LEVEL_EXACT);
}

/* Value helpers; `type` is DEVICE_TYPE_BLOCK or DEVICE_TYPE_CHAR. */
static inline unsigned rule_value_shift(unsigned type) {
        return type == DEVICE_TYPE_CHAR ? 8 : 0;
}
static inline bool rule_value_has(uint32_t value, unsigned type) {
        return (value >> rule_value_shift(type)) & RULE_VALUE_PRESENT;
}
static inline unsigned rule_value_mask(uint32_t value, unsigned type) {
        return (value >> rule_value_shift(type)) & DEVICE_ACCESS_ALL;
}
static inline uint32_t rule_value_set(uint32_t value, unsigned type, unsigned mask) {
        unsigned s = rule_value_shift(type);
        value &= ~(0xfu << s);
        return value | (RULE_VALUE_PRESENT | (mask & DEVICE_ACCESS_ALL)) << s;
}
/* True when every bit outside the two type fields is clear. */
static inline bool rule_value_is_valid(uint32_t value) {
        return (value & ~0xf0fu) == 0 && (value & (RULE_VALUE_PRESENT | RULE_VALUE_PRESENT << 8)) != 0;
}

typedef struct RuleTable RuleTable;

int rule_table_new(RuleTable **ret);
void rule_table_free(RuleTable *table);
size_t rule_table_size(const RuleTable *table);
bool rule_table_get(const RuleTable *table, uint64_t key, uint32_t *ret_value);
int rule_table_put(RuleTable *table, uint64_t key, uint32_t value);
bool rule_table_remove(RuleTable *table, uint64_t key);
/* Iteration: start with *cursor = 0; returns false at the end.  The table
 * must not change during the walk. */
bool rule_table_next(const RuleTable *table, size_t *cursor, uint64_t *ret_key, uint32_t *ret_value);
/* All entries sorted by key (malloc'd arrays; NULL when empty). */
int rule_table_sorted(const RuleTable *table, uint64_t **ret_keys, uint32_t **ret_values, size_t *ret_n);

typedef struct RuleDecision {
        unsigned level;            /* RULE_LEVEL_* */
        uint64_t key;              /* the deciding entry (when level != NONE) */
        unsigned mask;             /* its access bits for the type */
} RuleDecision;

/* Which entry decides for a device of one type (BLOCK or CHAR). */
void rule_table_decide(const RuleTable *table, unsigned type, uint32_t major, uint32_t minor,
                       RuleDecision *ret);
static inline bool rule_decision_allows(const RuleDecision *d, unsigned access) {
        return d->level != RULE_LEVEL_NONE && (access & d->mask) == access;
}

/* One entry write. */
typedef struct RuleWrite {
        uint64_t key;
        bool existed;              /* the entry was there before: update it with BPF_EXIST */
        uint32_t old_value;
        uint32_t new_value;
} RuleWrite;

typedef struct RuleDelta {
        RuleWrite *writes;         /* narrowest key first */
        size_t n;
        size_t n_new;              /* writes that create an entry */
} RuleDelta;

void rule_delta_clear(RuleDelta *delta);

/* The writes that append `rule` to the policy.  Appends to *delta, which
 * must be empty.  Writes that change nothing are left out. */
int rule_table_compile(const RuleTable *table, const DeviceRule *rule, RuleDelta *delta);
/* The write that sets the exact entry of one device and type to `mask`
 * (present), or with RULE_MASK_ABSENT removes the type from it (the
 * entry goes when no type is left), leaving every other device alone.
 * A write whose new value is 0 deletes the entry. */
#define RULE_MASK_ABSENT 0x100u
int rule_table_compile_exact(const RuleTable *table, unsigned type, uint32_t major, uint32_t minor,
                             unsigned mask, RuleDelta *delta);
/* Makes the writes in the table. */
int rule_table_commit(RuleTable *table, const RuleDelta *delta);

/* Compiles and commits a list of rules in order (for building a fresh table). */
int rule_table_apply_rules(RuleTable *table, const DeviceRule *rules, size_t n);
