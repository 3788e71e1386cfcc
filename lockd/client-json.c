/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock list as the one JSON document bulwark prints for it:
 * `bulwarkctl --json locks` in-process and bulwarkd's ListLocks both
 * come from here, so the two transports cannot drift apart. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "protocol.h"
#include "util/json-writer.h"

static const char *lock_kind(uint32_t flags) {
        if (flags & LOCKD_PATH_LEASE)
                return "lease";
        if (flags & LOCKD_PATH_MISSING)
                return "name";
        if (flags & LOCKD_PATH_TABLE_ONLY)
                return "table";
        return flags & LOCKD_PATH_READ_LOCK ? "read-lock" : "file";
}

static int lock_order(const void *a, const void *b) {
        const BwLockdLock *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        return c ? c : strcmp(x->owner, y->owner);
}

int bw_lockd_locks_to_json(BwLockdLock *locks, size_t n, bool truncated, char **ret_json) {
        g_autoptr(JsonWriter) w = json_writer_new();

        if (n > 1)
                qsort(locks, n, sizeof(*locks), lock_order);
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
                json_writer_member_string(w, "kind", lock_kind(l->flags));
                json_writer_member_string(w, "owner", l->owner);
                json_writer_member_uint(w, "pid", l->pid);
                json_writer_member_uint(w, "uid", l->uid);
                json_writer_member_int(w, "since_usec", l->since);
                json_writer_member_uint(w, "held_for_usec", l->held_for);
                json_writer_member_bool(w, "lost", l->flags & LOCKD_PATH_LOST);
                json_writer_member_bool(w, "lease", l->flags & LOCKD_PATH_LEASE);
                json_writer_object_end(w);
        }
        json_writer_array_end(w);
        json_writer_object_end(w);
        return json_writer_finish(w, ret_json);
}
