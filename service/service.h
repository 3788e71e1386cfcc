/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkd: the state of the service and the shape of a method.  One
 * thread runs the bus: a method runs to its end before the next message
 * is read (see README.md). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <dbus/dbus.h>
#include <glib.h>

#include <bulwark/bulwark.h>

#define BULWARK_BUS_NAME "org.bulwark.Bulwark1"
#define BULWARK_OBJECT_PATH "/org/bulwark/Bulwark1"
#define BULWARK_MANAGER_INTERFACE "org.bulwark.Manager1"

typedef struct DenialWatch DenialWatch;

typedef struct Service {
        DBusConnection *bus;
        BwManager *manager;
        BwOptions options;         /* as given: ListLocks finds lockd with them */
        DenialWatch *denials;      /* denial-watch.c */
        bool have_group;           /* callers in `group` are allowed besides root */
        gid_t group;
        GHashTable *caller_uids;   /* unique bus name -> uid + 1 (0: absent) */
} Service;

/* A method: returns the reply (a method return or an error), never NULL. */
typedef DBusMessage *(*ServiceMethodFn)(Service *s, DBusMessage *call);

typedef struct ServiceMethod {
        const char *name;
        const char *in_signature;
        ServiceMethodFn fn;
} ServiceMethod;

/* The methods of org.bulwark.Manager1, one table per file. */
extern const ServiceMethod service_guest_methods[];
extern const ServiceMethod service_exec_methods[];
extern const ServiceMethod service_query_methods[];
extern const ServiceMethod service_device_methods[];
extern const ServiceMethod service_lock_methods[];

/* bw_manager_query() with the answer collected in `out` (at most 8 MiB;
 * -EFBIG past it).  Following queries end at their first idle beat. */
int service_query(Service *s, const char *plugin, const char *command, size_t argc, const char *const *argv,
                  unsigned flags, GString *out, BwError *reterr);

/* The cgroup a running guest was started in (its journal's record), or
 * NULL with the NoSuchGuest/InvalidArgument error reply in *ret_reply. */
char *service_guest_cgroup(Service *s, DBusMessage *call, const char *name, DBusMessage **ret_reply);

/* Registers /org/bulwark/Bulwark1. */
int service_object_register(Service *s);

/* Emits a signal of org.bulwark.Manager1 with string arguments
 * (DBUS_TYPE_STRING pointers, DBUS_TYPE_INVALID at the end). */
void service_emit(Service *s, const char *signal, int first_type, ...);
