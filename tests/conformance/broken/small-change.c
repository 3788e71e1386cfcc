/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Breaks the sized-struct rule: emits changes without setting
 * BwChange.size, as a plugin written against ABI 1 would.  The core
 * cannot tell which fields such a change has. */
#include "config.h"

#include "broken.h"

static int small_change_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        BwChange change = { .kind = "touch", .object = guest->name, .detail = "touch" };
        return sink->emit(sink, &change);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "small-change",
        .probe = broken_probe,
        .init = broken_init,
        .fini = broken_fini,
        .apply = broken_apply,
        .undo = broken_undo,
        .adopt = broken_adopt,
        .plan = small_change_plan,
};
