/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock table across execve: what a re-executing daemon writes down
 * about each entry, and how the next image takes the entries over with
 * the descriptors it inherited. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock-table-internal.h"

static GVariant *hold_names(const LockHold *h) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
        g_variant_builder_add_value(&b, protocol_path_to_variant(h->name));
        for (size_t i = 0; h->aliases && i < h->aliases->len; i++)
                g_variant_builder_add_value(&b, protocol_path_to_variant(h->aliases->pdata[i]));
        return g_variant_builder_end(&b);
}

static GVariant *entry_save(const LockEntry *e) {
        GVariantBuilder holds;
        g_variant_builder_init(&holds, G_VARIANT_TYPE("a(uxxuaay)"));
        for (const LockHold *h = e->holds; h; h = h->entry_next) {
                g_variant_builder_add(&holds, "(uxxu@aay)", h->owner->id, h->since, h->since_mono,
                                      h->count | (h->raised ? LOCK_HOLD_RAISED_BIT : 0), hold_names(h));
        }
        return g_variant_new("(uttiu@aya(uxxuaay))", (uint32_t) e->kind, e->key.dev, e->key.ino, e->fd,
                             (uint32_t) e->mode | (e->read_lock ? 0x100u : 0u),
                             protocol_path_to_variant(e->name ? e->name : ""), &holds);
}

GVariant *lock_table_save(const LockTable *table) {
        GHashTable *tables[] = { table->by_key, table->by_name };
        GVariantBuilder b;
        GHashTableIter it;
        gpointer v;

        g_variant_builder_init(&b, G_VARIANT_TYPE(LOCK_TABLE_STATE_TYPE));
        for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
                g_hash_table_iter_init(&it, tables[i]);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        g_variant_builder_add_value(&b, entry_save(v));
        }
        return g_variant_builder_end(&b);
}

int lock_table_set_inherit(LockTable *table, bool inherit) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, table->by_key);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                LockEntry *e = v;
                if (e->fd < 0)
                        continue;  /* a lost lock */
                int flags = fcntl(e->fd, F_GETFD);
                if (flags < 0)
                        return -errno;
                flags = inherit ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
                if (fcntl(e->fd, F_SETFD, flags) < 0)
                        return -errno;
        }
        return 0;
}

static int entry_restore_fd(LockEntry *e, int fd, char **ret_message) {
        struct stat st;
        if (e->kind == LOCK_KIND_MISSING) {
                if (fd != -1) {
                        *ret_message = g_strdup_printf("name lock '%s' has descriptor %d", e->name, fd);
                        return -EINVAL;
                }
                return 0;
        }
        if (e->kind == LOCK_KIND_FILE && fd == -1) {
                /* Lost before the re-exec; why is not kept. */
                e->lost = true;
                e->lost_error = ENOLCK;
                return 0;
        }
        if (fd < 3 || fstat(fd, &st) < 0 || (uint64_t) st.st_dev != e->key.dev ||
            (uint64_t) st.st_ino != e->key.ino) {
                *ret_message = g_strdup_printf("lock on (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "): descriptor %d is not the saved file",
                                               e->key.dev, e->key.ino, fd);
                return -EBADF;
        }
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        e->fd = fd;
        return 0;
}

static int entry_restore_holds(LockTable *t, LockEntry *e, GVariant *holds, GHashTable *owners,
                               char **ret_message) {
        for (size_t i = 0; i < g_variant_n_children(holds); i++) {
                g_autoptr(GVariant) names = NULL;
                g_auto(LockdPaths) list = {};
                uint32_t owner_id, count;
                int64_t since, since_mono;

                g_variant_get_child(holds, i, "(uxxu@aay)", &owner_id, &since, &since_mono, &count, &names);
                bool raised = count & LOCK_HOLD_RAISED_BIT;
                count &= ~LOCK_HOLD_RAISED_BIT;
                LockOwner *o = g_hash_table_lookup(owners, GUINT_TO_POINTER(owner_id));
                if (!o || count == 0 || protocol_paths_decode(names, &list, ret_message) < 0 || list.n == 0 ||
                    lock_entry_find_hold(e, o)) {
                        if (!*ret_message)
                                *ret_message = g_strdup_printf("saved hold of client %u is inconsistent", owner_id);
                        return -EINVAL;
                }
                LockHold *h = lock_hold_new(t, e, o, list.paths[0], since, since_mono);
                h->count = count;
                h->raised = raised;
                e->n_raised += raised;
                for (size_t j = 1; j < list.n; j++)
                        lock_hold_add_name(h, list.paths[j]);
        }
        return 0;
}

static bool holds_valid(GVariant *holds, GHashTable *owners) {
        size_t n = g_variant_n_children(holds);
        for (size_t i = 0; i < n; i++) {
                g_autoptr(GVariant) names = NULL;
                uint32_t owner_id, count;
                int64_t since, since_mono;
                g_variant_get_child(holds, i, "(uxxu@aay)", &owner_id, &since, &since_mono, &count, &names);
                if (!g_hash_table_contains(owners, GUINT_TO_POINTER(owner_id)) ||
                    (count & ~LOCK_HOLD_RAISED_BIT) == 0 ||
                    g_variant_n_children(names) == 0)
                        return false;
        }
        return n > 0;
}

static int entry_restore(LockTable *t, GVariant *v, GHashTable *owners, char **ret_message) {
        g_autoptr(GVariant) name = NULL, holds = NULL;
        uint32_t kind, mode;
        int32_t fd;
        LockEntry *e = g_new0(LockEntry, 1);

        e->fd = -1;
        g_variant_get(v, "(uttiu@ay@a(uxxuaay))", &kind, &e->key.dev, &e->key.ino, &fd, &mode, &name, &holds);
        e->kind = kind;
        e->mode = mode & 0xff;
        e->read_lock = mode & 0x100;
        e->name = g_variant_get_size(name) > 0 ? protocol_path_from_variant(name) : NULL;
        int r = -EINVAL;
        if (kind > LOCK_KIND_MISSING || e->mode > LOCKD_MODE_SHARED ||
            (kind == LOCK_KIND_MISSING) != (e->name != NULL) || !holds_valid(holds, owners))
                *ret_message = g_strdup("saved lock entry is inconsistent");
        else
                /* Only a consistent entry takes its descriptor over. */
                r = entry_restore_fd(e, fd, ret_message);
        if (r < 0) {
                g_free(e->name);
                g_free(e);
                return r;
        }
        /* From here on the entry belongs to the table (freed with it). */
        lock_table_insert_entry(t, e);
        return entry_restore_holds(t, e, holds, owners, ret_message);
}

int lock_table_restore(LockTable *table, GVariant *state, GHashTable *owners, char **ret_message) {
        *ret_message = NULL;
        for (size_t i = 0; i < g_variant_n_children(state); i++) {
                g_autoptr(GVariant) v = g_variant_get_child_value(state, i);
                int r = entry_restore(table, v, owners, ret_message);
                if (r < 0)
                        return r;
        }
        return 0;
}

GVariant *lock_table_save_leases(const LockTable *table) {
        GVariantBuilder b;
        GHashTableIter it;
        gpointer v;

        g_variant_builder_init(&b, G_VARIANT_TYPE(LOCK_TABLE_LEASES_STATE_TYPE));
        g_hash_table_iter_init(&it, table->leases);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                const LockOwner *o = v;
                g_variant_builder_add(&b, "(usuu)", o->id, o->lease_key, o->pid, o->uid);
        }
        return g_variant_builder_end(&b);
}

int lock_table_restore_leases(LockTable *table, GVariant *leases, GHashTable *owners, char **ret_message) {
        for (size_t i = 0; i < g_variant_n_children(leases); i++) {
                uint32_t id, pid, uid;
                const char *key;

                g_variant_get_child(leases, i, "(u&suu)", &id, &key, &pid, &uid);
                if (id < LOCK_LEASE_ID_BASE || !*key || g_hash_table_contains(owners, GUINT_TO_POINTER(id)) ||
                    g_hash_table_contains(table->leases, key)) {
                        *ret_message = g_strdup_printf("saved lease owner %u ('%s') is inconsistent", id, key);
                        return -EINVAL;
                }
                LockOwner *o = lock_table_lease_owner(table, key, pid, uid);
                o->id = id;
                table->next_lease_id = MAX(table->next_lease_id, id + 1);
                g_hash_table_insert(owners, GUINT_TO_POINTER(id), o);
        }
        return 0;
}
