/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deliberately broken plugin tables, one per build flag, for the loader's
 * rejection tests:
 *   BAD_ABI      abi_major from the future
 *   BAD_FLAGS    a flag bit nobody defined
 *   BAD_SIZE     struct_size smaller than the fixed head
 *   BAD_NAME     a name with characters the loader refuses
 *   NO_ENTRY     the table is not exported
 *   OLD_MINOR    built against a shorter table: only up to plan() covered
 *   WRONG_NAME   declares a name other than its file name
 *   OLD_ABI      an ABI 1 plugin (abi_major 1)
 *   BIG_RECORD   record_max above BW_RECORD_LIMIT
 *   SMALL_RECORD record_max 64, but plan emits 100 bytes of data
 *   SMALL_CHANGE plan emits a BwChange whose size is that of ABI 1's
 *   LABELS_NO_LOCK  flagged LABELS_PATHS, plan emits a change without lock_path */
#include "config.h"

#include <stddef.h>

#include <bulwark/plugin.h>

static int bad_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        static const char data[100];
        BwChange c = { .size = sizeof(c), .kind = "note", .object = guest->name };
#ifdef SMALL_RECORD
        c.data = data;
        c.data_len = sizeof(data);
#endif
#ifdef SMALL_CHANGE
        c.size = offsetof(BwChange, resource); /* what an ABI 1 BwChange held, plus size */
#endif
        (void) data;
        return sink->emit(sink, &c);
}

/* Would succeed if the loader wrongly called it past struct_size. */
static int bad_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                     const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        return 0;
}

#ifdef NO_ENTRY
#define ENTRY_VISIBILITY __attribute__((visibility("hidden")))
#else
#define ENTRY_VISIBILITY BW_PLUGIN_EXPORT
#endif

ENTRY_VISIBILITY const BwPluginEntry bw_plugin_entry = {
#if defined(BAD_ABI)
        .abi_major = BW_PLUGIN_ABI_MAJOR + 98,
#elif defined(OLD_ABI)
        .abi_major = 1,
#else
        .abi_major = BW_PLUGIN_ABI_MAJOR,
#endif
        .abi_minor = BW_PLUGIN_ABI_MINOR,
#if defined(BAD_SIZE)
        .struct_size = 8,
#elif defined(OLD_MINOR)
        .struct_size = offsetof(BwPluginEntry, apply),
#else
        .struct_size = sizeof(BwPluginEntry),
#endif
#if defined(BAD_FLAGS)
        .flags = 1u << 30,
#elif defined(LABELS_NO_LOCK)
        .flags = BW_PLUGIN_FLAG_LABELS_PATHS,
#endif
#if defined(BIG_RECORD)
        .record_max = BW_RECORD_LIMIT + 1,
#elif defined(SMALL_RECORD)
        .record_max = 64,
#endif
#if defined(BAD_NAME)
        .name = "Bad Name!",
#elif defined(WRONG_NAME)
        .name = "someone-else",
#elif defined(OLD_MINOR)
        .name = "old-minor",
#else
        .name = "bad",
#endif
        .plan = bad_plan,
        .apply = bad_apply,
};
