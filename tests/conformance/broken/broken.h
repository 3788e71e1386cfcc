/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the deliberately broken plugins share.  Each of them breaks one
 * rule of include/bulwark/plugin.h and is otherwise a well-behaved plugin
 * that plans one "touch" change per guest path and changes nothing, so
 * the conformance suite must fail it for that one rule.
 *
 * Everything here is static inline: every plugin uses a different subset. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bulwark/plugin.h>

typedef struct BrokenState {
        const BwHost *host;
        unsigned plans;            /* plan() calls so far */
} BrokenState;

static inline void broken_log(BrokenState *s, int level, const char *format, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, format);
        vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);
        s->host->log(s->host, level, msg);
}

static inline int broken_probe(const BwHost *host, char *reason, size_t reason_size) {
        snprintf(reason, reason_size, "a test plugin: usable everywhere");
        return 0;
}

static inline int broken_init(const BwHost *host, void **ret_state) {
        BrokenState *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
}

static inline void broken_fini(void *state) {
        free(state);
}

/* The path a change made by broken_plan() is about (its data). */
static inline int broken_change_path(const BwChange *change, char *buf, size_t size) {
        if (!change->data || change->data_len == 0 || change->data_len >= size)
                return -EINVAL;
        memcpy(buf, change->data, change->data_len);
        buf[change->data_len] = 0;
        return 0;
}

/* One change per path of every resource; `lock_path` overrides the lock
 * (NULL: none), `detail` the description (NULL: "touch"). */
static inline int broken_plan_with(const BwGuestInfo *guest, BwChangeSink *sink, const char *lock_path,
                                   const char *detail) {
        for (size_t i = 0; i < guest->n_resources; i++) {
                const BwResource *res = guest->resources[i];
                for (size_t j = 0; j < res->n_paths; j++) {
                        BwChange change = {
                                .size = sizeof(change),
                                .kind = "touch",
                                .object = res->paths[j],
                                .detail = detail ? detail : "touch",
                                .lock_path = lock_path,
                                .data = res->paths[j],
                                .data_len = strlen(res->paths[j]),
                        };
                        int r = sink->emit(sink, &change);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static inline int broken_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        return broken_plan_with(guest, sink, NULL, NULL);
}

static inline int broken_apply(void *state, const BwGuestInfo *guest, const BwChange *change,
                               const BwApplyContext *ctx, void *undo, size_t undo_size, size_t *ret_undo_len) {
        *ret_undo_len = 0;
        return 0;
}

static inline int broken_undo(void *state, const BwGuestInfo *guest, const BwChange *change,
                              const BwApplyContext *ctx, const void *undo, size_t undo_len) {
        return 0;
}

static inline int broken_adopt(void *state, const BwGuestInfo *guest) {
        return 0;
}
