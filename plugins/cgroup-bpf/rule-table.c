/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule-table.h"

/* Open addressing with linear probing over a power-of-two array; slots
 * are empty, used or deleted, so every u64 (all-ones included) is a key. */
enum { SLOT_EMPTY = 0, SLOT_USED, SLOT_DELETED };

struct RuleTable {
        uint64_t *keys;
        uint32_t *values;
        uint8_t *state;
        size_t capacity;           /* power of two */
        size_t size;               /* used slots */
        size_t filled;             /* used + deleted slots */
};

static uint64_t rule_table_hash(uint64_t x) {
        /* splitmix64 finaliser */
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x;
}

static int rule_table_alloc(RuleTable *t, size_t capacity) {
        t->keys = calloc(capacity, sizeof(*t->keys));
        t->values = calloc(capacity, sizeof(*t->values));
        t->state = calloc(capacity, sizeof(*t->state));
        if (!t->keys || !t->values || !t->state) {
                free(t->keys);
                free(t->values);
                free(t->state);
                return -ENOMEM;
        }
        t->capacity = capacity;
        t->size = t->filled = 0;
        return 0;
}

int rule_table_new(RuleTable **ret) {
        RuleTable *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        if (rule_table_alloc(t, 64) < 0) {
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void rule_table_free(RuleTable *table) {
        if (!table)
                return;
        free(table->keys);
        free(table->values);
        free(table->state);
        free(table);
}

size_t rule_table_size(const RuleTable *table) {
        return table->size;
}

/* The slot holding key, or (when absent) SIZE_MAX. */
static size_t rule_table_find(const RuleTable *t, uint64_t key) {
        size_t mask = t->capacity - 1;
        for (size_t i = rule_table_hash(key) & mask;; i = (i + 1) & mask) {
                if (t->state[i] == SLOT_EMPTY)
                        return SIZE_MAX;
                if (t->state[i] == SLOT_USED && t->keys[i] == key)
                        return i;
        }
}

bool rule_table_get(const RuleTable *table, uint64_t key, uint32_t *ret_value) {
        size_t i = rule_table_find(table, key);
        if (i == SIZE_MAX)
                return false;
        if (ret_value)
                *ret_value = table->values[i];
        return true;
}

static int rule_table_rehash(RuleTable *t, size_t capacity) {
        RuleTable old = *t;
        int r = rule_table_alloc(t, capacity);
        if (r < 0) {
                *t = old;
                return r;
        }
        for (size_t i = 0; i < old.capacity; i++)
                if (old.state[i] == SLOT_USED)
                        (void) rule_table_put(t, old.keys[i], old.values[i]);
        free(old.keys);
        free(old.values);
        free(old.state);
        return 0;
}

int rule_table_put(RuleTable *table, uint64_t key, uint32_t value) {
        size_t i = rule_table_find(table, key), mask;

        if (i != SIZE_MAX) {
                table->values[i] = value;
                return 0;
        }
        if ((table->filled + 1) * 2 > table->capacity) {
                /* Grow to a quarter full; a table of tombstones rehashes in place. */
                size_t cap = 64;
                while (cap < (table->size + 1) * 4)
                        cap *= 2;
                int r = rule_table_rehash(table, cap);
                if (r < 0)
                        return r;
        }
        mask = table->capacity - 1;
        for (i = rule_table_hash(key) & mask; table->state[i] == SLOT_USED; i = (i + 1) & mask)
                ;
        if (table->state[i] == SLOT_EMPTY)
                table->filled++;
        table->state[i] = SLOT_USED;
        table->keys[i] = key;
        table->values[i] = value;
        table->size++;
        return 0;
}

bool rule_table_remove(RuleTable *table, uint64_t key) {
        size_t i = rule_table_find(table, key);
        if (i == SIZE_MAX)
                return false;
        table->state[i] = SLOT_DELETED;
        table->size--;
        return true;
}

bool rule_table_next(const RuleTable *table, size_t *cursor, uint64_t *ret_key, uint32_t *ret_value) {
        for (size_t i = *cursor; i < table->capacity; i++)
                if (table->state[i] == SLOT_USED) {
                        *ret_key = table->keys[i];
                        *ret_value = table->values[i];
                        *cursor = i + 1;
                        return true;
                }
        *cursor = table->capacity;
        return false;
}

static int rule_key_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

int rule_table_sorted(const RuleTable *table, uint64_t **ret_keys, uint32_t **ret_values, size_t *ret_n) {
        size_t n = table->size, cursor = 0, j = 0;
        uint64_t *keys = NULL, key;
        uint32_t *values = NULL, value;

        if (n > 0) {
                keys = malloc(n * sizeof(*keys));
                values = malloc(n * sizeof(*values));
                if (!keys || !values) {
                        free(keys);
                        free(values);
                        return -ENOMEM;
                }
                while (rule_table_next(table, &cursor, &key, &value))
                        keys[j++] = key;
                qsort(keys, n, sizeof(*keys), rule_key_cmp);
                for (j = 0; j < n; j++)
                        (void) rule_table_get(table, keys[j], &values[j]);
        }
        *ret_keys = keys;
        *ret_values = values;
        *ret_n = n;
        return 0;
}

/* The first present entry, for `type`, among the keys that can decide
 * (major, minor), starting at level `from`. */
static void rule_table_decide_from(const RuleTable *t, unsigned type, uint32_t major, uint32_t minor,
                                   unsigned from, RuleDecision *ret) {
        const uint64_t keys[] = {
                rule_key(major, minor),
                rule_key(major, DEVICE_WILDCARD),
                rule_key(DEVICE_WILDCARD, minor),
                rule_key(DEVICE_WILDCARD, DEVICE_WILDCARD),
        };
        for (unsigned level = from; level <= RULE_LEVEL_ANY; level++) {
                uint32_t v;
                /* A wildcard half is only looked up through its own level. */
                if (level == RULE_LEVEL_EXACT && (major == DEVICE_WILDCARD || minor == DEVICE_WILDCARD))
                        continue;
                if (level == RULE_LEVEL_MAJOR && major == DEVICE_WILDCARD)
                        continue;
                if (level == RULE_LEVEL_MINOR && minor == DEVICE_WILDCARD)
                        continue;
                if (rule_table_get(t, keys[level - 1], &v) && rule_value_has(v, type)) {
                        *ret = (RuleDecision) { level, keys[level - 1], rule_value_mask(v, type) };
                        return;
                }
        }
        *ret = (RuleDecision) { RULE_LEVEL_NONE, 0, 0 };
}

void rule_table_decide(const RuleTable *table, unsigned type, uint32_t major, uint32_t minor,
                       RuleDecision *ret) {
        rule_table_decide_from(table, type, major, minor, RULE_LEVEL_EXACT, ret);
}

void rule_delta_clear(RuleDelta *delta) {
        free(delta->writes);
        *delta = (RuleDelta) {};
}

/* The compilation stages new values in a scratch table; "before" values
 * are always read from the real one. */
typedef struct Staging {
        const RuleTable *table;
        RuleTable *pending;
} Staging;

static uint32_t staging_current(const Staging *s, uint64_t key) {
        uint32_t v = 0;
        if (!rule_table_get(s->pending, key, &v))
                (void) rule_table_get(s->table, key, &v);
        return v;
}

static int staging_change(Staging *s, uint64_t key, unsigned type, const DeviceRule *rule) {
        uint32_t v = staging_current(s, key);
        unsigned mask = rule_value_mask(v, type);
        mask = rule->allow ? (mask | rule->access) : (mask & ~(unsigned) rule->access);
        return rule_table_put(s->pending, key, rule_value_set(v, type, mask));
}

/* Creates the entry for `key` and `type` (unless it exists) with the mask
 * of what decided it before, then applies the rule to it. */
static int staging_create_and_change(Staging *s, uint64_t key, unsigned type, const DeviceRule *rule) {
        uint32_t before = 0;
        if (!(rule_table_get(s->table, key, &before) && rule_value_has(before, type))) {
                RuleDecision d;
                uint32_t major = rule_key_major(key), minor = rule_key_minor(key);
                if (major != DEVICE_WILDCARD && minor != DEVICE_WILDCARD)
                        rule_table_decide_from(s->table, type, major, minor, RULE_LEVEL_MAJOR, &d);
                else if (major == DEVICE_WILDCARD && minor == DEVICE_WILDCARD)
                        d.mask = 0;
                else
                        rule_table_decide_from(s->table, type, major, minor, RULE_LEVEL_ANY, &d);
                int r = rule_table_put(s->pending, key, rule_value_set(staging_current(s, key), type, d.mask));
                if (r < 0)
                        return r;
        }
        return staging_change(s, key, type, rule);
}

static bool rule_key_covers(uint64_t k, uint64_t e) {
        uint32_t kmaj = rule_key_major(k), kmin = rule_key_minor(k);
        return (kmaj == DEVICE_WILDCARD || kmaj == rule_key_major(e)) &&
               (kmin == DEVICE_WILDCARD || kmin == rule_key_minor(e));
}

static int rule_table_compile_type(Staging *s, const DeviceRule *rule, unsigned type) {
        uint64_t k = rule_key(rule->major, rule->minor), e;
        unsigned level = rule_key_level(k);
        size_t cursor = 0;
        uint32_t v;
        int r;

        /* 1: the rule's own entry, created from what decided it before. */
        r = staging_create_and_change(s, k, type, rule);
        if (r < 0 || level == RULE_LEVEL_EXACT)
                return r;
        while (rule_table_next(s->table, &cursor, &e, &v)) {
                if (e == k || !rule_value_has(v, type))
                        continue;
                /* 2: every narrower entry the rule covers. */
                if (rule_key_covers(k, e))
                        r = staging_change(s, e, type, rule);
                /* 3: crossing wildcards get an exact entry for their intersection. */
                else if (level == RULE_LEVEL_MAJOR && rule_key_level(e) == RULE_LEVEL_MINOR)
                        r = staging_create_and_change(s, rule_key(rule->major, rule_key_minor(e)), type, rule);
                else if (level == RULE_LEVEL_MINOR && rule_key_level(e) == RULE_LEVEL_MAJOR)
                        r = staging_create_and_change(s, rule_key(rule_key_major(e), rule->minor), type, rule);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int rule_write_cmp(const void *a, const void *b) {
        const RuleWrite *x = a, *y = b;
        unsigned lx = rule_key_level(x->key), ly = rule_key_level(y->key);
        if (lx != ly)
                return lx < ly ? -1 : 1;
        return x->key < y->key ? -1 : x->key > y->key;
}

static int staging_to_delta(const Staging *s, RuleDelta *delta) {
        size_t cursor = 0, n = rule_table_size(s->pending);
        uint64_t key;
        uint32_t value;

        delta->writes = n ? calloc(n, sizeof(RuleWrite)) : NULL;
        if (n && !delta->writes)
                return -ENOMEM;
        delta->n = delta->n_new = 0;
        while (rule_table_next(s->pending, &cursor, &key, &value)) {
                RuleWrite w = { .key = key, .new_value = value };
                w.existed = rule_table_get(s->table, key, &w.old_value);
                if (w.existed && w.old_value == w.new_value)
                        continue;
                if (!w.existed)
                        delta->n_new++;
                delta->writes[delta->n++] = w;
        }
        qsort(delta->writes, delta->n, sizeof(RuleWrite), rule_write_cmp);
        return 0;
}

int rule_table_compile(const RuleTable *table, const DeviceRule *rule, RuleDelta *delta) {
        Staging s = { .table = table };
        int r;

        if (rule->access == 0 || (rule->access & ~DEVICE_ACCESS_ALL) || rule->types == 0 ||
            (rule->types & ~DEVICE_TYPE_ALL))
                return -EINVAL;
        r = rule_table_new(&s.pending);
        if (r < 0)
                return r;
        for (unsigned type = DEVICE_TYPE_BLOCK; type <= DEVICE_TYPE_CHAR && r >= 0; type <<= 1)
                if (rule->types & type)
                        r = rule_table_compile_type(&s, rule, type);
        if (r >= 0)
                r = staging_to_delta(&s, delta);
        rule_table_free(s.pending);
        return r;
}

int rule_table_compile_exact(const RuleTable *table, unsigned type, uint32_t major, uint32_t minor,
                             unsigned mask, RuleDelta *delta) {
        uint64_t key = rule_key(major, minor);
        RuleWrite w = { .key = key };

        if ((type != DEVICE_TYPE_BLOCK && type != DEVICE_TYPE_CHAR) || major == DEVICE_WILDCARD ||
            minor == DEVICE_WILDCARD || (mask != RULE_MASK_ABSENT && (mask & ~DEVICE_ACCESS_ALL)))
                return -EINVAL;
        w.existed = rule_table_get(table, key, &w.old_value);
        if (mask == RULE_MASK_ABSENT)
                w.new_value = w.old_value & ~(0xfu << rule_value_shift(type));
        else
                w.new_value = rule_value_set(w.old_value, type, mask);
        *delta = (RuleDelta) {};
        if ((w.existed && w.old_value == w.new_value) || (!w.existed && w.new_value == 0))
                return 0;
        delta->writes = malloc(sizeof(RuleWrite));
        if (!delta->writes)
                return -ENOMEM;
        delta->writes[0] = w;
        delta->n = 1;
        delta->n_new = !w.existed;
        return 0;
}

int rule_table_commit(RuleTable *table, const RuleDelta *delta) {
        for (size_t i = 0; i < delta->n; i++) {
                if (delta->writes[i].new_value == 0) {
                        (void) rule_table_remove(table, delta->writes[i].key);
                        continue;
                }
                int r = rule_table_put(table, delta->writes[i].key, delta->writes[i].new_value);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rule_table_apply_rules(RuleTable *table, const DeviceRule *rules, size_t n) {
        for (size_t i = 0; i < n; i++) {
                RuleDelta delta = {};
                int r = rule_table_compile(table, &rules[i], &delta);
                if (r >= 0)
                        r = rule_table_commit(table, &delta);
                rule_delta_clear(&delta);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *rule_level_to_string(unsigned level) {
        switch (level) {
        case RULE_LEVEL_EXACT: return "exact";
        case RULE_LEVEL_MAJOR: return "major:*";
        case RULE_LEVEL_MINOR: return "*:minor";
        case RULE_LEVEL_ANY: return "*:*";
        default: return "none";
        }
}
