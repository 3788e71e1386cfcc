/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lost locks: re-issuing each held kernel lock to learn whether the
 * shared filesystem still grants it (see lock-table.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lock-table-internal.h"

void lock_table_set_lost_handler(LockTable *table, LockLostFn fn, void *userdata) {
        table->on_lost = fn;
        table->on_lost_userdata = userdata;
}

static const char *entry_path(const LockEntry *e) {
        return e->holds ? e->holds->name : e->name ? e->name : "";
}

void lock_entry_mark_lost(LockTable *t, LockEntry *e, int error) {
        if (e->lost)
                return;
        e->lost = true;
        e->lost_error = error;
        /* The descriptor proves nothing any more: after a reconnect
         * GlusterFS may even grant the lock on it again, silently. */
        if (e->fd >= 0)
                close(e->fd);
        e->fd = -1;
        if (t->on_lost)
                t->on_lost(entry_path(e), e->key.dev, e->key.ino, error, t->on_lost_userdata);
}

bool lock_entry_reassert(LockTable *t, LockEntry *e) {
        if (e->kind != LOCK_KIND_FILE)
                return true;
        if (e->lost)
                return false;
        short type = e->mode == LOCKD_MODE_EXCLUSIVE && !e->read_lock ? F_WRLCK : F_RDLCK;
        struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = LOCK_BYTE, .l_len = 1 };
        if (fcntl(e->fd, F_OFD_SETLK, &fl) == 0)
                return true;
        /* Whatever the error: EAGAIN (another host has it), ENOTCONN,
         * EBADFD (the lock manager is out of reach), EIO (an NFSv4 lock
         * the client could not reclaim). */
        lock_entry_mark_lost(t, e, errno);
        return false;
}

size_t lock_table_reassert(LockTable *table) {
        GHashTableIter it;
        gpointer v;
        size_t lost = 0;

        g_hash_table_iter_init(&it, table->by_key);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                LockEntry *e = v;
                if (e->kind == LOCK_KIND_FILE && !e->lost && !lock_entry_reassert(table, e))
                        lost++;
        }
        return lost;
}

size_t lock_table_check_keys(LockTable *table, const LockOwner *owner, const LockdFileKey *keys, size_t n,
                             void (*lost)(const char *path, int error, void *userdata), void *userdata) {
        size_t n_lost = 0;

        for (size_t i = 0; i < n; i++) {
                LockKey key = { .dev = keys[i].dev, .ino = keys[i].ino };
                LockEntry *e = g_hash_table_lookup(table->by_key, &key);
                LockHold *h = e ? lock_entry_find_hold(e, owner) : NULL;
                if (!h) {
                        g_autofree char *name = g_strdup_printf("(%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ")",
                                                                key.dev, key.ino);
                        lost(name, ENOLCK, userdata);
                        n_lost++;
                } else if (!lock_entry_reassert(table, e)) {
                        lost(h->name, e->lost_error, userdata);
                        n_lost++;
                }
        }
        return n_lost;
}
