/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the record-size declaration: declares records of at most 64
 * bytes, then emits a change with 100 bytes of data. */
#include "config.h"

#include "broken.h"

#define BIG_RECORD_MAX 64

static int big_record_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        static const char data[BIG_RECORD_MAX + 36];
        BwChange change = { .size = sizeof(change), .kind = "touch", .object = guest->name, .detail = "touch",
                            .data = data, .data_len = sizeof(data) };
        return sink->emit(sink, &change);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "big-record",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .record_max = BIG_RECORD_MAX,
        .plan = big_record_plan,
};
