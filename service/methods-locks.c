/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bulwark.Manager1.ListLocks: what bulwark-lockd holds (its socket as
 * the library would use it), as the JSON `bulwarkctl --json locks` prints:
 * {"truncated", "locks": [{"path", "dev", "ino", "mode", "kind", "owner",
 * "pid", "uid", "since_usec", "held_for_usec", "lost"}]}, by path then owner. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "bus-reply.h"
#include "lockd/client.h"
#include "service.h"

static DBusMessage *method_list_locks(Service *s, DBusMessage *call) {
        g_autofree char *json = NULL;
        BwLockdClient *client = NULL;
        BwLockdLock *locks = NULL;
        char *socket_path = NULL;
        BwError err = {};
        bool truncated = false;
        size_t n = 0;

        int r = bw_config_lockd_socket(&s->options, &socket_path, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, false);
        r = bw_lockd_client_new(socket_path, "bulwarkd", &client);
        if (r < 0) {
                DBusMessage *reply = bus_error_replyf(call, BULWARK_ERROR_FAILED, "lockd socket '%s': not an absolute path",
                                                      socket_path);
                bw_free(socket_path);
                return reply;
        }
        bw_free(socket_path);
        r = bw_lockd_list(client, &locks, &n, &truncated, &err);
        bw_lockd_client_free(client);
        if (r < 0)
                return bus_error_replyf(call, BULWARK_ERROR_FAILED, "%s", err.message);
        r = bw_lockd_locks_to_json(locks, n, truncated, &json);
        bw_lockd_lock_list_free(locks, n);
        if (r < 0)
                return bus_error_reply(call, r, "lock list: cannot produce JSON", false);
        return bus_reply_string(call, json);
}

const ServiceMethod service_lock_methods[] = {
        { "ListLocks", "", method_list_locks },
        {}
};
