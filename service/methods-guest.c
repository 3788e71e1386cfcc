/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bulwark.Manager1: the guests' lifecycle and what the state directory
 * knows of them.  Each method is one library call (one transaction at
 * most) and answers with the library's JSON where it returns a document. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "bus-error.h"
#include "bus-reply.h"
#include "denial-watch.h"
#include "service.h"

/* A definition longer than this is refused before it is parsed: the
 * largest real one is a few KiB. */
#define DEFINITION_MAX (256u * 1024u)

static const char *call_string(DBusMessage *call, int index) {
        DBusMessageIter it;
        const char *s = NULL;
        dbus_message_iter_init(call, &it);
        for (int i = 0; i < index; i++)
                dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        return s;
}

static DBusMessage *guest_parse(DBusMessage *call, const char *text, BwGuest **ret) {
        BwError err = {};
        size_t len = strlen(text);
        if (len == 0)
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT, "definition: empty");
        if (len > DEFINITION_MAX)
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "definition: %zu bytes, more than the %u a guest definition may have", len,
                                        DEFINITION_MAX);
        int r = bw_guest_load_data(text, len, "<dbus>", ret, &err);
        return r < 0 ? bus_error_reply(call, r, err.message, false) : NULL;
}

static DBusMessage *method_start_guest(Service *s, DBusMessage *call) {
        BwGuest *g = NULL;
        BwError err = {};
        DBusMessage *reply = guest_parse(call, call_string(call, 0), &g);
        if (reply)
                return reply;
        const char *name = bw_guest_info(g)->name;
        int r = bw_manager_start(s->manager, g, &err);
        if (r < 0)
                reply = bus_error_reply(call, r, err.message, false);
        else {
                reply = bus_reply_string(call, name);
                service_emit(s, "GuestStarted", DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        }
        bw_guest_free(g);
        return reply;
}

static DBusMessage *method_stop_guest(Service *s, DBusMessage *call) {
        const char *name = NULL;
        dbus_bool_t kill = FALSE;
        BwError err = {};
        dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_BOOLEAN, &kill, DBUS_TYPE_INVALID);
        denial_watch_flush(s, name);
        int r = bw_manager_stop_with_flags(s->manager, name, kill ? BW_STOP_KILL : 0, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, true);
        service_emit(s, "GuestStopped", DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        return bus_reply_empty(call);
}

/* NULL when the state directory knows the guest; NoSuchGuest (or why it
 * cannot tell) otherwise.  Detach's own -ENOENT is about the resource. */
static DBusMessage *guest_must_exist(Service *s, DBusMessage *call, const char *name) {
        BwGuestState *state = NULL;
        BwError err = {};
        int r = bw_manager_get_guest(s->manager, name, &state, &err);
        bw_guest_state_free(state);
        return r < 0 ? bus_error_reply(call, r, err.message, true) : NULL;
}

/* The resource by its group name, the text's first "[type:id]", as
 * DetachResource takes it back. */
static char *resource_group_name(const char *text) {
        size_t start = strcspn(text, "["), len = text[start] ? strcspn(text + start + 1, "]") : 0;
        g_autofree char *name = text[start] ? g_strndup(text + start + 1, len) : g_strdup(text);
        return bus_utf8(name);
}

static DBusMessage *method_attach_resource(Service *s, DBusMessage *call) {
        const char *name = call_string(call, 0), *text = call_string(call, 1);
        BwError err = {};
        if (strlen(text) > DEFINITION_MAX)
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "guest '%s': attach: resource text of %zu bytes, more than %u", name,
                                        strlen(text), DEFINITION_MAX);
        int r = bw_manager_attach(s->manager, name, text, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, true);
        g_autofree char *resource = resource_group_name(text);
        const char *arg = resource;
        service_emit(s, "ResourceAttached", DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID);
        return bus_reply_empty(call);
}

static DBusMessage *method_detach_resource(Service *s, DBusMessage *call) {
        const char *name = call_string(call, 0), *id = call_string(call, 1);
        BwError err = {};
        DBusMessage *reply = guest_must_exist(s, call, name);
        if (reply)
                return reply;
        int r = bw_manager_detach(s->manager, name, id, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, false);
        service_emit(s, "ResourceDetached", DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &id, DBUS_TYPE_INVALID);
        return bus_reply_empty(call);
}

static DBusMessage *method_list_guests(Service *s, DBusMessage *call) {
        char **names = NULL;
        BwError err = {};
        int r = bw_manager_list_guests(s->manager, &names, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, false);
        DBusMessage *reply = bus_reply_strv(call, names);
        bw_strv_free(names);
        return reply;
}

/* A document the library made, or the error why it could not. */
static DBusMessage *reply_json(DBusMessage *call, int r, char *json, const BwError *err) {
        if (r < 0)
                return bus_error_reply(call, r, err ? err->message : NULL, false);
        DBusMessage *reply = bus_reply_string(call, json);
        bw_free(json);
        return reply;
}

static DBusMessage *method_get_guest(Service *s, DBusMessage *call) {
        BwGuestState *state = NULL;
        BwError err = {};
        char *json = NULL;
        int r = bw_manager_get_guest(s->manager, call_string(call, 0), &state, &err);
        if (r < 0)
                return bus_error_reply(call, r, err.message, true);
        r = bw_guest_state_to_json(state, &json);
        bw_guest_state_free(state);
        return reply_json(call, r, json, NULL);
}

static DBusMessage *method_describe_guests(Service *s, DBusMessage *call) {
        BwError err = {};
        char *json = NULL;
        int r = bw_manager_guests_to_json(s->manager, &json, &err);
        return reply_json(call, r, json, &err);
}

static DBusMessage *method_explain(Service *s, DBusMessage *call) {
        BwGuest *g = NULL;
        BwPlan *plan = NULL;
        BwError err = {};
        char *json = NULL;
        DBusMessage *reply = guest_parse(call, call_string(call, 0), &g);
        if (reply)
                return reply;
        int r = bw_manager_plan(s->manager, g, &plan, &err);
        if (r >= 0)
                r = bw_plan_to_json(plan, g, &json);
        reply = reply_json(call, r, json, &err);
        bw_plan_free(plan);
        bw_guest_free(g);
        return reply;
}

static DBusMessage *method_recover(Service *s, DBusMessage *call) {
        BwError err = {};
        int r = bw_manager_recover(s->manager, &err);
        return r < 0 ? bus_error_reply(call, r, err.message, false) : bus_reply_uint32(call, (dbus_uint32_t) r);
}

static DBusMessage *method_recover_guest(Service *s, DBusMessage *call) {
        const char *name = NULL;
        dbus_uint32_t flags = 0;
        BwError err = {};
        dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_UINT32, &flags, DBUS_TYPE_INVALID);
        if (flags & ~(dbus_uint32_t) BW_RECOVER_FORCE)
                return bus_error_replyf(call, BULWARK_ERROR_INVALID_ARGUMENT,
                                        "guest '%s': recover: unknown flags 0x%x", name, flags);
        int r = bw_manager_recover_guest(s->manager, name, flags, &err);
        return r < 0 ? bus_error_reply(call, r, err.message, true) : bus_reply_uint32(call, (dbus_uint32_t) r);
}

static DBusMessage *method_list_plugins(Service *s, DBusMessage *call) {
        char *json = NULL;
        int r = bw_manager_plugins_to_json(s->manager, &json);
        return reply_json(call, r, json, NULL);
}

const ServiceMethod service_guest_methods[] = {
        { "StartGuest", "s", method_start_guest },
        { "StopGuest", "sb", method_stop_guest },
        { "AttachResource", "ss", method_attach_resource },
        { "DetachResource", "ss", method_detach_resource },
        { "ListGuests", "", method_list_guests },
        { "GetGuest", "s", method_get_guest },
        { "DescribeGuests", "", method_describe_guests },
        { "Explain", "s", method_explain },
        { "Recover", "", method_recover },
        { "RecoverGuest", "su", method_recover_guest },
        { "ListPlugins", "", method_list_plugins },
        {}
};
