/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "protocol.h"

/* Bytes read per call; a request rarely needs more than one. */
#define CONNECTION_READ_CHUNK (64u * 1024u)

int connection_new(int fd, LockOwner *owner, Connection **ret) {
        Connection *c = g_new0(Connection, 1);
        c->fd = fd;
        c->owner = owner;
        c->in = g_byte_array_sized_new(4096);
        c->out = g_byte_array_sized_new(4096);
        *ret = c;
        return 0;
}

void connection_free(Connection *c) {
        if (!c)
                return;
        if (c->fd >= 0)
                close(c->fd);
        lock_owner_free(c->owner);
        g_byte_array_unref(c->in);
        g_byte_array_unref(c->out);
        g_free(c);
}

ssize_t connection_fill(Connection *c) {
        size_t old = c->in->len;
        g_byte_array_set_size(c->in, old + CONNECTION_READ_CHUNK);
        ssize_t n = recv(c->fd, c->in->data + old, CONNECTION_READ_CHUNK, MSG_DONTWAIT);
        int saved = errno;
        g_byte_array_set_size(c->in, old + (n > 0 ? (size_t) n : 0));
        if (n < 0)
                return saved == EWOULDBLOCK ? -EAGAIN : -saved;
        return n;
}

void connection_consume(Connection *c, size_t len) {
        if (len > 0)
                g_byte_array_remove_range(c->in, 0, (guint) len);
}

bool connection_has_output(const Connection *c) {
        return c->out_sent < c->out->len;
}

int connection_flush(Connection *c) {
        while (c->out_sent < c->out->len) {
                ssize_t n = send(c->fd, c->out->data + c->out_sent, c->out->len - c->out_sent,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
                }
                c->out_sent += (size_t) n;
        }
        g_byte_array_set_size(c->out, 0);
        c->out_sent = 0;
        return 0;
}
