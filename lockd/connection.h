/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One client connection of bulwark-lockd: its socket, its identity and
 * its buffers.  Reads and writes never block: bytes that do not fit the
 * socket wait in `out`, and a request split over several reads waits in
 * `in` until its frame is whole. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "lock-table.h"

typedef struct Connection {
        int fd;
        uint32_t peer_uid;
        uint32_t peer_gid;
        uint32_t peer_pid;
        LockOwner *owner;          /* holds this connection's locks */
        bool hello_done;
        GByteArray *in;            /* received bytes not yet consumed */
        GByteArray *out;           /* bytes to send, from out_sent on */
        size_t out_sent;
        int64_t partial_since;     /* monotonic µs since `in` held part of a frame; 0 */
        bool closing;              /* close as soon as `out` is sent */
        uint32_t events;           /* epoll events registered */
} Connection;

/* Takes ownership of fd. */
int connection_new(int fd, LockOwner *owner, Connection **ret);
/* Closes the socket and frees the owner, which must hold nothing. */
void connection_free(Connection *c);

/* Reads what the socket has into `in`.  Returns the byte count, 0 at end
 * of stream, -EAGAIN when nothing is there, or -errno. */
ssize_t connection_fill(Connection *c);
/* Drops `len` consumed bytes from the front of `in`. */
void connection_consume(Connection *c, size_t len);

/* Frames are queued by appending them to `out` (protocol-writer.h). */
/* Sends what is queued.  0 when everything went, -EAGAIN when some is
 * left, -errno when the peer is gone. */
int connection_flush(Connection *c);
bool connection_has_output(const Connection *c);
