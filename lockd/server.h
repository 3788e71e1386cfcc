/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event loop of bulwark-lockd: one thread, epoll over the listening
 * socket, a signalfd and every client; requests are answered at once and
 * nothing in the loop waits for a lock.
 *
 * Every connection is authenticated when it is accepted (SO_PEERCRED:
 * root, or a member of the configured group); others get one DENIED
 * reply and are disconnected.  A connection's locks are released when it
 * closes, whatever the reason. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "lock-table.h"

typedef struct Server Server;

typedef struct ServerConfig {
        bool has_group;
        gid_t group;               /* members may connect, besides root */
        const char *group_name;    /* for messages */
        unsigned max_clients;
        unsigned frame_timeout_ms; /* a frame left half-sent this long closes the connection */
        unsigned reassert_interval_ms; /* every held kernel lock is re-issued this often; 0: never */
} ServerConfig;

typedef enum ServerStop {
        SERVER_STOP_TERMINATE,     /* SIGTERM, SIGINT */
        SERVER_STOP_REEXEC,        /* SIGUSR1 */
} ServerStop;

/* Creates the loop; the signals in `signals` must already be blocked. */
int server_new(const ServerConfig *config, const sigset_t *signals, Server **ret);
/* Closes every client and releases every lock, the listener and the pid
 * file descriptor. */
void server_free(Server *s);

/* Hands the server its listening socket and pid file descriptor. */
int server_set_listener(Server *s, int listen_fd);
void server_set_pidfile(Server *s, int pidfile_fd);

/* Runs until a signal asks to stop. */
int server_run(Server *s, ServerStop *ret_stop);

/* Re-exec: the whole state, with descriptor numbers; magic is the pid,
 * started the monotonic time the re-exec began (for the log). */
#define SERVER_STATE_TYPE_V1 "(usuiiuxa(uiuuusubayay)" LOCK_TABLE_STATE_TYPE ")"
/* Version 2 adds the lease owners. */
#define SERVER_STATE_TYPE "(usuiiuxa(uiuuusubayay)" LOCK_TABLE_STATE_TYPE LOCK_TABLE_LEASES_STATE_TYPE ")"
#define SERVER_STATE_VERSION 2
GVariant *server_save(Server *s, const char *boot_id, int64_t started);
/* Clears (inherit) or sets FD_CLOEXEC on every descriptor to keep. */
int server_set_inherit(Server *s, bool inherit);
/* Rebuilds clients and locks from a state (SERVER_STATE_TYPE, or the
 * _V1 an older image wrote) the caller has checked is this process's
 * (magic == getpid(), same boot). */
int server_restore(Server *s, GVariant *state, int64_t *ret_started, char **ret_message);

unsigned server_n_clients(const Server *s);
size_t server_n_locks(const Server *s);
