/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkctl monitor: bulwarkd's signals as they come, one a line. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "ctl-bus.h"
#include "ctl-transport.h"
#include "json-out.h"

/* The arguments' names, as policy/dbus/org.bulwark.Manager1.xml has them:
 * the JSON keys. */
static const struct {
        const char *signal;
        const char *args[6];
} monitor_signals[] = {
        { "GuestStarted", { "name" } },
        { "GuestStopped", { "name" } },
        { "ResourceAttached", { "name", "resource" } },
        { "ResourceDetached", { "name", "id" } },
        { "DeviceDenied", { "guest", "device", "access", "pid", "comm", "count" } },
};

static volatile sig_atomic_t monitor_stop;

static void monitor_on_signal(int sig) {
        monitor_stop = sig;
}

static void monitor_help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkctl [--json] [--bus ADDRESS] monitor\n"
                "\n"
                "Prints bulwarkd's signals as they come, one a line: the signal's name and\n"
                "its arguments (GuestStarted NAME, GuestStopped NAME, ResourceAttached NAME\n"
                "RESOURCE, ResourceDetached NAME ID, DeviceDenied GUEST DEVICE ACCESS PID\n"
                "COMM COUNT); with --json one object a line, {\"signal\": NAME, ...} keyed by\n"
                "the arguments' names in org.bulwark.Manager1.xml.  Runs until SIGINT or\n"
                "SIGTERM; says on stderr when it listens.  Needs bulwarkd's bus (not\n"
                "--direct).\n");
}

static const char *monitor_arg_name(const char *signal, int i) {
        for (size_t k = 0; k < G_N_ELEMENTS(monitor_signals); k++)
                if (strcmp(monitor_signals[k].signal, signal) == 0 && i < 6 && monitor_signals[k].args[i])
                        return monitor_signals[k].args[i];
        return NULL;
}

void ctl_monitor_print(const CtlContext *ctx, DBusMessage *m) {
        const char *member = dbus_message_get_member(m);
        DBusMessageIter it;
        int i = 0;

        if (ctx->json) {
                fputs("{\"signal\":", stdout);
                json_print_string(stdout, member);
        } else
                fputs(member, stdout);
        for (dbus_message_iter_init(m, &it); dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_INVALID;
             dbus_message_iter_next(&it), i++) {
                int type = dbus_message_iter_get_arg_type(&it);
                const char *s = NULL;
                dbus_uint64_t t = 0;
                dbus_uint32_t u = 0;
                if (type == DBUS_TYPE_STRING)
                        dbus_message_iter_get_basic(&it, &s);
                else if (type == DBUS_TYPE_UINT32) {
                        dbus_message_iter_get_basic(&it, &u);
                        t = u;
                } else if (type == DBUS_TYPE_UINT64)
                        dbus_message_iter_get_basic(&it, &t);
                else
                        continue;
                if (ctx->json) {
                        g_autofree char *fallback = g_strdup_printf("arg%d", i);
                        const char *key = monitor_arg_name(member, i);
                        putchar(',');
                        json_print_string(stdout, key ? key : fallback);
                        putchar(':');
                        if (s)
                                json_print_string(stdout, s);
                        else
                                printf("%llu", (unsigned long long) t);
                } else if (s)
                        printf(" %s", s);
                else
                        printf(" %llu", (unsigned long long) t);
        }
        fputs(ctx->json ? "}\n" : "\n", stdout);
        fflush(stdout);
}

int ctl_monitor_main(CtlContext *ctx, int argc, char **argv) {
        DBusError error = DBUS_ERROR_INIT;
        struct sigaction sa = { .sa_handler = monitor_on_signal };

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                monitor_help(stdout);
                return CTL_EXIT_OK;
        }
        if (argc > 1) {
                monitor_help(stderr);
                return CTL_EXIT_USAGE;
        }
        if (ctx->direct) {
                fprintf(stderr, "bulwarkctl: monitor: the signals are bulwarkd's: not with --direct\n");
                return CTL_EXIT_USAGE;
        }
        DBusConnection *bus = ctl_bus_open(ctx);
        if (!bus)
                return CTL_EXIT_FAILURE;
        dbus_bus_add_match(bus, "type='signal',sender='" CTL_BUS_NAME "',interface='" CTL_BUS_INTERFACE "'", &error);
        if (dbus_error_is_set(&error)) {
                int r = ctl_bus_fail(ctx, &error);
                dbus_error_free(&error);
                return ctl_exit_status(r);
        }
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        fprintf(stderr, "bulwarkctl: monitor: listening to %s on bus '%s'\n", CTL_BUS_NAME, ctl_bus_address(ctx));
        while (!monitor_stop) {
                if (!dbus_connection_read_write(bus, 250)) {
                        fprintf(stderr, "bulwarkctl: monitor: bus '%s': disconnected\n", ctl_bus_address(ctx));
                        return CTL_EXIT_FAILURE;
                }
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(bus))) {
                        if (dbus_message_is_signal(m, CTL_BUS_INTERFACE, dbus_message_get_member(m)))
                                ctl_monitor_print(ctx, m);
                        dbus_message_unref(m);
                }
                if (ferror(stdout))
                        break;
        }
        return CTL_EXIT_OK;
}
