/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp: a small client of QEMU's machine protocol (QMP) over its UNIX
 * socket, for a VMM manager to copy.  It needs glib and json-glib only.
 *
 * QEMU must be started with the socket as a QMP monitor:
 *   -chardev socket,id=mon0,path=SOCKET,server=on,wait=off
 *   -mon chardev=mon0,mode=control
 *
 * Rules: a fallible function returns 0 or -errno and, when `error` is not
 * NULL, sets a message that names the socket, the command and QEMU's error
 * class and description ("QMP '/run/x.sock': blockdev-add: GenericError:
 * Could not open '/img/a.raw': Permission denied").  What a function
 * returns through ret_... belongs to the caller.  One client is used by
 * one thread at a time.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct QmpClient QmpClient;

/* Connects to the QMP socket at `socket_path` (waiting up to `timeout_ms`
 * for QEMU to create it), reads the greeting and leaves the capabilities
 * negotiation mode (qmp_capabilities), so commands can be executed. */
int qmp_client_connect(const char *socket_path, int timeout_ms, QmpClient **ret_client, GError **error);
void qmp_client_free(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* Executes `command` with `arguments` (NULL for none; not consumed) and
 * waits for its answer; events that come first are kept for
 * qmp_client_wait_event().  When `fd` is not -1 it is passed along with
 * the command (SCM_RIGHTS), as add-fd and getfd expect; the caller keeps
 * its own copy.  *ret_return (may be NULL) gets the "return" member. */
int qmp_client_execute(QmpClient *client, const char *command, JsonObject *arguments, int fd,
                       JsonNode **ret_return, GError **error);

/* The same with the whole command given as JSON text
 * ('{"execute": "query-block"}'), as a user types it. */
int qmp_client_execute_text(QmpClient *client, const char *json_text, int fd, JsonNode **ret_return,
                            GError **error);

/* Runs an HMP (human monitor) command line, "info block", through
 * human-monitor-command; *ret_output gets what HMP printed. */
int qmp_client_hmp(QmpClient *client, const char *command_line, char **ret_output, GError **error);

/* Waits up to `timeout_ms` for the event named `event` whose data member
 * "device" is `device` (any device when NULL), looking first at those
 * already received.  -ETIMEDOUT when it does not come. */
int qmp_client_wait_event(QmpClient *client, const char *event, const char *device, int timeout_ms,
                          GError **error);

/* Waits up to `timeout_ms` for QEMU to close the connection, as it does
 * when it exits (after "quit"); what it sends until then is dropped. */
int qmp_client_wait_closed(QmpClient *client, int timeout_ms, GError **error);
