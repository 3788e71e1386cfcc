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
#include "lockd/protocol.h"
#include "service.h"
#include "util/json-writer.h"

static const char *locks_kind(uint32_t flags) {
        if (flags & LOCKD_PATH_MISSING)
                return "name";
        if (flags & LOCKD_PATH_TABLE_ONLY)
                return "table";
        return flags & LOCKD_PATH_READ_LOCK ? "read-lock" : "file";
}

static int locks_order(const void *a, const void *b) {
        const BwLockdLock *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        return c ? c : strcmp(x->owner, y->owner);
}

static int locks_json(const BwLockdLock *locks, size_t n, bool truncated, char **ret) {
        g_autoptr(JsonWriter) w = json_writer_new();
        json_writer_object_begin(w);
        json_writer_member_bool(w, "truncated", truncated);
        json_writer_key(w, "locks");
        json_writer_array_begin(w);
        for (size_t i = 0; i < n; i++) {
                const BwLockdLock *l = &locks[i];
                json_writer_object_begin(w);
                json_writer_member_string(w, "path", l->path);
                json_writer_member_uint(w, "dev", l->dev);
                json_writer_member_uint(w, "ino", l->ino);
                json_writer_member_string(w, "mode", l->shared ? "shared" : "exclusive");
                json_writer_member_string(w, "kind", locks_kind(l->flags));
                json_writer_member_string(w, "owner", l->owner);
                json_writer_member_uint(w, "pid", l->pid);
                json_writer_member_uint(w, "uid", l->uid);
                json_writer_member_int(w, "since_usec", l->since);
                json_writer_member_uint(w, "held_for_usec", l->held_for);
                json_writer_member_bool(w, "lost", l->flags & LOCKD_PATH_LOST);
                json_writer_object_end(w);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
        return json_writer_finish(w, ret);
}

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
        if (n > 1)
                qsort(locks, n, sizeof(*locks), locks_order);
        r = locks_json(locks, n, truncated, &json);
        bw_lockd_lock_list_free(locks, n);
        if (r < 0)
                return bus_error_reply(call, r, "lock list: cannot produce JSON", false);
        return bus_reply_string(call, json);
}

const ServiceMethod service_lock_methods[] = {
        { "ListLocks", "", method_list_locks },
        {}
};
