/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rule map bw_dev_rules in the kernel: BPF_MAP_TYPE_HASH, u64 key,
 * u32 value (layout in rule-table.h), preallocated, fixed size. */
#pragma once

#include <stdint.h>

#include "dev-error.h"

#include "rule-table.h"

#define DEV_MAP_NAME "bw_dev_rules"
#define DEV_MAP_MIN_ENTRIES 64u
#define DEV_MAP_MAX_ENTRIES (1u << 24)

/* A new, empty rule map; returns its fd. */
int dev_map_create(uint32_t max_entries, DevError *reterr);

/* Reads every entry into `table` (which must be empty), walking the keys
 * from a NULL start so no key (0:0 included) is skipped. */
int dev_map_read(int map_fd, RuleTable *table, DevError *reterr);

/* Makes the writes of `delta` in order: BPF_EXIST for entries that
 * existed, BPF_NOEXIST for new ones, so a count kept beside the map stays
 * exact.  Returns -E2BIG when the map is full. */
int dev_map_write(int map_fd, const RuleDelta *delta, DevError *reterr);

/* Copies every entry of `table` into an empty map. */
int dev_map_fill(int map_fd, const RuleTable *table, DevError *reterr);

/* The smallest size (a power of two, at least DEV_MAP_MIN_ENTRIES and at
 * least `current`) that holds `needed` entries. */
uint32_t dev_map_size_for(uint32_t current, size_t needed);
