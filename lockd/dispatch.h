/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests to replies: decodes one whole frame from a client, runs it
 * against the lock table and queues exactly one reply on the connection.
 * A frame that cannot be decoded gets an error reply; the connection
 * stays usable (framing errors are the server's business). */
#pragma once

#include "connection.h"
#include "lock-table.h"
#include "protocol.h"

typedef struct DispatchContext {
        LockTable *table;
        unsigned n_clients;
        uint32_t generation;       /* re-execs so far */
} DispatchContext;

void dispatch_frame(const DispatchContext *ctx, Connection *c, const LockdHeader *header,
                    const uint8_t *payload);

/* Queues an error reply with a formatted message. */
void dispatch_reply_error(Connection *c, uint32_t serial, LockdStatus status, int error,
                          const char *format, ...) __attribute__((format(printf, 5, 6)));
