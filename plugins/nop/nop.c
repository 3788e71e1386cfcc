/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nop plugin: plans one "note" change per guest resource and makes no
 * change on the host.  It lets the core, bulwarkctl and the conformance
 * suite be exercised without root. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bulwark/plugin.h>

typedef struct NopState {
        const BwHost *host;
        unsigned applied;          /* changes applied and not undone */
} NopState;

static int nop_probe(const BwHost *host, char *reason, size_t reason_size) {
        snprintf(reason, reason_size, "always usable: changes nothing");
        return 0;
}

static int nop_init(const BwHost *host, void **ret_state) {
        NopState *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
}

static void nop_fini(void *state) {
        free(state);
}

static int nop_emit(BwChangeSink *sink, const BwResource *res) {
        char detail[256], ref[128];
        snprintf(detail, sizeof(detail), "%s '%s' noted", res->path ? "path" : "resource",
                 res->path ? res->path : res->id);
        snprintf(ref, sizeof(ref), "%s:%s", bw_resource_type_name(res->type), res->id);
        BwChange change = {
                .size = sizeof(change),
                .resource = ref,
                .kind = "note",
                .object = res->path ? res->path : res->id,
                .detail = detail,
                .data = res->id,
                .data_len = strlen(res->id),
        };
        return sink->emit(sink, &change);
}

static int nop_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        for (size_t i = 0; i < guest->n_resources; i++) {
                int r = nop_emit(sink, guest->resources[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int nop_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                     const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        NopState *s = state;
        s->applied++;
        *ret_undo_len = 0;
        return 0;
}

static int nop_undo(void *state, const BwGuestInfo *guest, const BwChange *change,
                    const BwApplyContext *ctx, const void *undo, size_t undo_len) {
        NopState *s = state;
        if (s->applied > 0)
                s->applied--;
        return 0;
}

static int nop_release(void *state, const BwGuestInfo *guest) {
        return 0;
}

static int nop_attach(void *state, const BwGuestInfo *guest, const BwResource *resource,
                      BwChangeSink *sink) {
        return nop_emit(sink, resource);
}

static int nop_detach(void *state, const BwGuestInfo *guest, const BwResource *resource,
                      BwChangeSink *sink) {
        return nop_emit(sink, resource);
}

static int nop_adopt(void *state, const BwGuestInfo *guest) {
        return 0;
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = 0,
        .name = "nop",
        .record_max = 0,           /* BW_RECORD_DEFAULT: the data is a resource id */
        .config_keys = NULL,       /* [plugin:nop] takes only the core's keys */
        .probe = nop_probe,
        .init = nop_init,
        .fini = nop_fini,
        .plan = nop_plan,
        .apply = nop_apply,
        .undo = nop_undo,
        .release = nop_release,
        .attach = nop_attach,
        .detach = nop_detach,
        .adopt = nop_adopt,
};
