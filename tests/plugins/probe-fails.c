/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A test plugin whose probe always fails.  Every other operation appends
 * its name to the file named by $BW_PROBE_FAILS_LOG (when set) and
 * succeeds: the core must never call one of them, since init never ran
 * (allow-unsupported=true leaves the plugin out). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bulwark/plugin.h>

static int called(const char *op) {
        const char *path = getenv("BW_PROBE_FAILS_LOG");
        FILE *f = path ? fopen(path, "ae") : NULL;
        if (f) {
                fprintf(f, "%s\n", op);
                fclose(f);
        }
        return 0;
}

static int pf_probe(const BwHost *host, char *reason, size_t reason_size) {
        snprintf(reason, reason_size, "a test plugin that is never usable");
        return -ENODEV;
}

static int pf_init(const BwHost *host, void **ret_state) {
        return called("init");
}

static void pf_fini(void *state) {
        called("fini");
}

static int pf_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        return called("plan");
}

static int pf_apply(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                    void *undo, size_t undo_size, size_t *ret_undo_len) {
        return called("apply");
}

static int pf_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                   const void *undo, size_t undo_len) {
        return called("undo");
}

static int pf_release(void *state, const BwGuestInfo *guest) {
        return called("release");
}

static int pf_attach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        return called("attach");
}

static int pf_detach(void *state, const BwGuestInfo *guest, const BwResource *res, BwChangeSink *sink) {
        return called("detach");
}

static int pf_adopt(void *state, const BwGuestInfo *guest) {
        return called("adopt");
}

static int pf_query(void *state, const BwQuery *query, BwQuerySink *sink) {
        return called("query");
}

static int pf_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        return called("exec_attrs");
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .name = "probe-fails",
        .probe = pf_probe,
        .init = pf_init,
        .fini = pf_fini,
        .plan = pf_plan,
        .apply = pf_apply,
        .undo = pf_undo,
        .release = pf_release,
        .attach = pf_attach,
        .detach = pf_detach,
        .adopt = pf_adopt,
        .query = pf_query,
        .exec_attrs = pf_exec_attrs,
};
