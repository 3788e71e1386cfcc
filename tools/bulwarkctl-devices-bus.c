/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl devices denials over the bus, for a running guest's cgroup.
 * bulwarkd is the one reader of a running guest's denial log (it turns the
 * events into DeviceDenied signals), so a client must not consume the log
 * itself: the events come from bulwarkd's ListDenials, and --follow prints
 * the guest's DeviceDenied signals (the lines of `bulwarkctl monitor`) until
 * the guest stops or SIGINT/SIGTERM.  A cgroup that is no running guest's
 * has no other reader: the plugin's query serves it as in-process. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bulwarkctl-devices.h"
#include "ctl-bus.h"
#include "ctl-transport.h"
#include "json-in.h"

/* The running guest whose cgroup CGROUP names (absolute, or relative to
 * the cgroup root as the plugin takes it) in *ret (NULL when none); -errno
 * when bulwarkd cannot be asked (said already). */
static int denials_guest_of(const CtlContext *ctx, const char *cgroup, char **ret) {
        char *json = NULL, *name = NULL;
        int r = ctl_guests_json(ctx, &json);
        if (r < 0)
                return r;
        JsonNode *doc = json_in_parse(json);
        bw_free(json);
        JsonArray *guests = doc && JSON_NODE_HOLDS_ARRAY(doc) ? json_node_get_array(doc) : NULL;
        g_autofree char *suffix = g_strconcat("/", cgroup, NULL);
        for (guint i = 0; guests && !name && i < json_array_get_length(guests); i++) {
                JsonObject *g = json_in_element(guests, i);
                const char *cg = json_in_string(g, "cgroup");
                if (cg && g_strcmp0(json_in_string(g, "status"), "running") == 0 &&
                    (strcmp(cg, cgroup) == 0 || (cgroup[0] != '/' && g_str_has_suffix(cg, suffix))))
                        name = g_strdup(json_in_string(g, "name"));
        }
        if (doc)
                json_node_unref(doc);
        *ret = name;
        return 0;
}

static void denials_print_table(JsonObject *d) {
        JsonArray *events = json_in_array(d, "events");
        guint n = events ? json_array_get_length(events) : 0;
        printf("%-23s %-7s %-6s %-15s %-12s %-18s %-6s %s\n", "TIME", "PID", "UID", "COMM", "DEVICE", "NODE", "ACCESS",
               "DECIDED BY");
        for (guint i = 0; i < n; i++) {
                JsonObject *e = json_in_element(events, i);
                const char *node = json_in_string(e, "node");
                g_autofree char *device = g_strdup_printf("%s %s", json_in_string(e, "type"), json_in_string(e, "device"));
                printf("%-23s %-7u %-6u %-15s %-12s %-18s %-6s %s\n", json_in_string(e, "time"),
                       (unsigned) json_in_int(e, "pid"), (unsigned) json_in_int(e, "uid"), json_in_string(e, "comm"),
                       device, node ? node : "-", json_in_string(e, "access"), json_in_string(e, "decided_by"));
        }
        printf("guest '%s': the last %u event%s bulwarkd read; %" G_GINT64_FORMAT " dropped (ring full); %" G_GINT64_FORMAT " denied in all\n",
               json_in_string(d, "guest"), n, n == 1 ? "" : "s", json_in_int(d, "dropped"), json_in_int(d, "total"));
}

static int denials_list(const CtlContext *ctx, const char *guest) {
        DBusMessage *reply = NULL;
        const char *json = NULL;
        int r = ctl_bus_call(ctx, "ListDenials", &reply, DBUS_TYPE_STRING, &guest, DBUS_TYPE_INVALID);
        if (r < 0)
                return ctl_exit_status(r);
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &json, DBUS_TYPE_INVALID)) {
                dbus_message_unref(reply);
                return CTL_EXIT_FAILURE;
        }
        JsonNode *doc = ctx->json ? NULL : json_in_parse(json);
        if (ctx->json)
                printf("%s\n", json);
        else if (doc && JSON_NODE_HOLDS_OBJECT(doc))
                denials_print_table(json_node_get_object(doc));
        if (doc)
                json_node_unref(doc);
        dbus_message_unref(reply);
        return CTL_EXIT_OK;
}

/* SIGINT and SIGTERM are blocked by the caller while following: pending
 * means stop. */
static bool denials_stop_pending(void) {
        sigset_t pending;
        sigpending(&pending);
        return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
}

static int denials_follow(const CtlContext *ctx, const char *guest) {
        DBusError error = DBUS_ERROR_INIT;
        DBusConnection *bus = ctl_bus_open(ctx);
        if (!bus)
                return CTL_EXIT_FAILURE;
        g_autofree char *rule = g_strdup_printf("type='signal',sender='%s',interface='%s',arg0='%s'", CTL_BUS_NAME,
                                                CTL_BUS_INTERFACE, guest);
        dbus_bus_add_match(bus, rule, &error);
        if (dbus_error_is_set(&error)) {
                int r = ctl_bus_fail(ctx, &error);
                dbus_error_free(&error);
                return ctl_exit_status(r);
        }
        fprintf(stderr, "bulwarkctl: guest '%s': following its denials (bulwarkd's DeviceDenied signals)\n", guest);
        for (bool stopped = false; !stopped && !denials_stop_pending() && !ferror(stdout);) {
                if (!dbus_connection_read_write(bus, 250)) {
                        fprintf(stderr, "bulwarkctl: bus '%s': disconnected\n", ctl_bus_address(ctx));
                        return CTL_EXIT_FAILURE;
                }
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(bus))) {
                        if (dbus_message_is_signal(m, CTL_BUS_INTERFACE, "DeviceDenied"))
                                ctl_monitor_print(ctx, m);
                        else if (dbus_message_is_signal(m, CTL_BUS_INTERFACE, "GuestStopped")) {
                                fprintf(stderr, "bulwarkctl: guest '%s': stopped; stopped following\n", guest);
                                stopped = true;
                        }
                        dbus_message_unref(m);
                }
        }
        return CTL_EXIT_OK;
}

int devices_denials_bus(CtlContext *ctx, const char *cgroup, bool follow) {
        g_autofree char *guest = NULL;
        if (denials_guest_of(ctx, cgroup, &guest) < 0)
                return CTL_EXIT_FAILURE;
        if (!guest)
                return -ENOENT;
        return follow ? denials_follow(ctx, guest) : denials_list(ctx, guest);
}
