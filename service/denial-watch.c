/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "denial-watch.h"
#include "util/json-writer.h"
#include "util/log.h"

#define DENIAL_PLUGIN "cgroup-bpf"
#define DENIAL_QUERY "devices-denials"

typedef struct GuestDenials {
        GHashTable *pending;       /* "device\naccess\npid\ncomm" -> guint64 count */
        GQueue *recent;            /* the plugin's event objects, JSON text */
        guint64 seen, dropped, total;
        bool present;              /* listed by the last poll */
} GuestDenials;

struct DenialWatch {
        GHashTable *guests;        /* name -> GuestDenials */
        gint64 last_poll_us;
};

static void guest_denials_free(gpointer p) {
        GuestDenials *g = p;
        g_hash_table_unref(g->pending);
        g_queue_free_full(g->recent, g_free);
        g_free(g);
}

DenialWatch *denial_watch_new(void) {
        DenialWatch *w = g_new0(DenialWatch, 1);
        w->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, guest_denials_free);
        return w;
}

void denial_watch_free(DenialWatch *w) {
        if (!w)
                return;
        g_hash_table_unref(w->guests);
        g_free(w);
}

static GuestDenials *denial_guest(DenialWatch *w, const char *name) {
        GuestDenials *g = g_hash_table_lookup(w->guests, name);
        if (!g) {
                g = g_new0(GuestDenials, 1);
                g->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                g->recent = g_queue_new();
                g_hash_table_insert(w->guests, g_strdup(name), g);
        }
        return g;
}

static void denial_pending_add(GuestDenials *g, const char *device, const char *access, guint64 pid,
                               const char *comm, guint64 count) {
        g_autofree char *key = g_strdup_printf("%s\n%s\n%" G_GUINT64_FORMAT "\n%s", device, access, pid, comm);
        guint64 *n = g_hash_table_lookup(g->pending, key);
        if (!n) {
                n = g_new0(guint64, 1);
                g_hash_table_insert(g->pending, g_steal_pointer(&key), n);
        }
        *n += count;
}

static void denial_event(GuestDenials *g, JsonNode *node) {
        JsonObject *ev = json_node_get_object(node);
        const char *type = json_object_get_string_member_with_default(ev, "type", "?");
        const char *device = json_object_get_string_member_with_default(ev, "device", "?");
        g_autofree char *dev = g_strdup_printf("%s %s", type, device);
        denial_pending_add(g, dev, json_object_get_string_member_with_default(ev, "access", "?"),
                           (guint64) json_object_get_int_member_with_default(ev, "pid", 0),
                           json_object_get_string_member_with_default(ev, "comm", ""), 1);
        g_queue_push_tail(g->recent, json_to_string(node, FALSE));
        while (g_queue_get_length(g->recent) > DENIAL_RECENT_MAX)
                g_free(g_queue_pop_head(g->recent));
        g->seen++;
}

/* Consumes what the guest's log holds now.  A guest without a log (no
 * cgroup-bpf, or a program made without one) has nothing to read. */
static void denial_read(Service *s, GuestDenials *g, const char *name, const char *cgroup) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        BwError err = {};
        int r = service_query(s, DENIAL_PLUGIN, DENIAL_QUERY, 1, &cgroup, BW_QUERY_JSON, out, &err);
        if (r < 0) {
                log_debug("guest '%s': no denial log read: %s", name, err.message);
                return;
        }
        if (!json_parser_load_from_data(parser, out->str, (gssize) out->len, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
                log_warning("guest '%s': the denial log's answer does not parse", name);
                return;
        }
        JsonObject *doc = json_node_get_object(json_parser_get_root(parser));
        JsonArray *events = json_object_get_array_member(doc, "events");
        for (guint i = 0; events && i < json_array_get_length(events); i++)
                denial_event(g, json_array_get_element(events, i));
        guint64 dropped = (guint64) json_object_get_int_member_with_default(doc, "dropped", 0);
        if (dropped > 0)
                denial_pending_add(g, "-", "-", 0, "-", dropped);
        g->dropped += dropped;
        g->total = (guint64) json_object_get_int_member_with_default(doc, "total", (gint64) g->total);
}

static void denial_emit(Service *s, GuestDenials *g, const char *name, unsigned max) {
        GHashTableIter it;
        gpointer key, value;
        unsigned sent = 0;
        g_hash_table_iter_init(&it, g->pending);
        while (sent < max && g_hash_table_iter_next(&it, &key, &value)) {
                g_auto(GStrv) f = g_strsplit(key, "\n", 4);
                dbus_uint32_t pid = (dbus_uint32_t) g_ascii_strtoull(f[2], NULL, 10);
                dbus_uint64_t count = *(guint64 *) value;
                g_autofree char *comm = g_utf8_make_valid(f[3], -1);
                const char *device = f[0], *access = f[1], *comm_arg = comm;
                service_emit(s, "DeviceDenied", DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &device, DBUS_TYPE_STRING,
                             &access, DBUS_TYPE_UINT32, &pid, DBUS_TYPE_STRING, &comm_arg, DBUS_TYPE_UINT64, &count,
                             DBUS_TYPE_INVALID);
                g_hash_table_iter_remove(&it);
                sent++;
        }
}

/* Reads the guest's log and emits at most `max` signals. */
static void denial_poll_guest(Service *s, const char *name, unsigned max) {
        BwGuestState *state = NULL;
        if (bw_manager_get_guest(s->manager, name, &state, NULL) < 0)
                return;
        const char *cgroup = bw_guest_state_cgroup(state);
        if (bw_guest_state_status(state) == BW_GUEST_RUNNING && cgroup) {
                GuestDenials *g = denial_guest(s->denials, name);
                g->present = true;
                denial_read(s, g, name, cgroup);
                denial_emit(s, g, name, max);
        }
        bw_guest_state_free(state);
}

void denial_watch_poll(Service *s) {
        DenialWatch *w = s->denials;
        gint64 now = g_get_monotonic_time();
        char **names = NULL;
        GHashTableIter it;
        gpointer value;

        if (now - w->last_poll_us < DENIAL_POLL_MS * 1000)
                return;
        w->last_poll_us = now;
        if (bw_manager_list_guests(s->manager, &names, NULL) < 0)
                return;
        g_hash_table_iter_init(&it, w->guests);
        while (g_hash_table_iter_next(&it, NULL, &value))
                ((GuestDenials *) value)->present = false;
        for (size_t i = 0; names[i]; i++)
                denial_poll_guest(s, names[i], DENIAL_SIGNALS_PER_POLL);
        bw_strv_free(names);
        /* A guest that stopped took its log with it. */
        g_hash_table_iter_init(&it, w->guests);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (!((GuestDenials *) value)->present)
                        g_hash_table_iter_remove(&it);
}

void denial_watch_flush(Service *s, const char *guest) {
        denial_poll_guest(s, guest, UINT_MAX);
}

char *denial_watch_json(Service *s, const char *guest, const char *cgroup) {
        denial_poll_guest(s, guest, 0);
        GuestDenials *g = denial_guest(s->denials, guest);
        GString *out = g_string_new("{\"guest\":");
        json_append_string(out, guest);
        g_string_append(out, ",\"cgroup\":");
        json_append_string(out, cgroup);
        g_string_append(out, ",\"events\":[");
        for (GList *l = g->recent->head; l; l = l->next)
                g_string_append_printf(out, "%s%s", l == g->recent->head ? "" : ",", (const char *) l->data);
        g_string_append_printf(out, "],\"seen\":%" G_GUINT64_FORMAT ",\"dropped\":%" G_GUINT64_FORMAT
                               ",\"total\":%" G_GUINT64_FORMAT "}",
                               g->seen, g->dropped, g->total);
        return g_string_free(out, FALSE);
}
