/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-dbus: bulwarkd's ListGuests round trip against the cheapest call
 * the same service answers, org.freedesktop.DBus.Peer.Ping (libdbus
 * answers it without reaching bulwarkd's code), on the same connection,
 * interleaved in rounds so that both see the same machine.  Prints the
 * medians per call and their ratio (the target: at most 2). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dbus/dbus.h>

#define ROUNDS 15
#define CALLS_PER_ROUND 500

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* One round of calls; the mean µs per call. */
static double round_us(DBusConnection *bus, const char *iface, const char *method) {
        double start = now_us();
        for (int i = 0; i < CALLS_PER_ROUND; i++) {
                DBusError error = DBUS_ERROR_INIT;
                DBusMessage *m = dbus_message_new_method_call("org.bulwark.Bulwark1", "/org/bulwark/Bulwark1", iface,
                                                              method);
                DBusMessage *reply = dbus_connection_send_with_reply_and_block(bus, m, -1, &error);
                dbus_message_unref(m);
                if (!reply) {
                        fprintf(stderr, "bench-dbus: %s.%s: %s\n", iface, method, error.message);
                        exit(1);
                }
                dbus_message_unref(reply);
        }
        return (now_us() - start) / CALLS_PER_ROUND;
}

int main(int argc, char **argv) {
        DBusError error = DBUS_ERROR_INIT;
        double ping[ROUNDS], list[ROUNDS];
        const char *address = argc > 1 ? argv[1] : getenv("DBUS_SYSTEM_BUS_ADDRESS");

        if (!address || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
                fprintf(stderr, "Usage: bench-dbus BUS-ADDRESS (bulwarkd must own org.bulwark.Bulwark1 there)\n");
                return 2;
        }
        DBusConnection *bus = dbus_connection_open_private(address, &error);
        if (!bus || !dbus_bus_register(bus, &error)) {
                fprintf(stderr, "bench-dbus: bus '%s': %s\n", address, error.message);
                return 1;
        }
        round_us(bus, "org.bulwark.Manager1", "ListGuests"); /* warm: the caller check's cache */
        for (int r = 0; r < ROUNDS; r++) {
                ping[r] = round_us(bus, "org.freedesktop.DBus.Peer", "Ping");
                list[r] = round_us(bus, "org.bulwark.Manager1", "ListGuests");
        }
        qsort(ping, ROUNDS, sizeof(double), compare);
        qsort(list, ROUNDS, sizeof(double), compare);
        printf("Peer.Ping round trip:   %7.1f us (median of %d rounds of %d calls)\n", ping[ROUNDS / 2], ROUNDS,
               CALLS_PER_ROUND);
        printf("ListGuests round trip:  %7.1f us\n", list[ROUNDS / 2]);
        printf("ratio ListGuests/Ping:  %7.2f (target <= 2)\n", list[ROUNDS / 2] / ping[ROUNDS / 2]);
        dbus_connection_close(bus);
        dbus_connection_unref(bus);
        return 0;
}
