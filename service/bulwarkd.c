/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bulwarkd: the bulwark manager on the system bus (org.bulwark.Bulwark1). */
#include "config.h"

#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "denial-watch.h"
#include "service.h"
#include "util/log.h"
#include "util/settings-options.h"

#define DEFAULT_GROUP "bulwark"

static volatile sig_atomic_t arg_stop;

static void help(FILE *f) {
        fprintf(f,
                "Usage: bulwarkd [OPTIONS]\n"
                "\n"
                "The bulwark manager as a D-Bus service: owns org.bulwark.Bulwark1 on the system\n"
                "bus and answers org.bulwark.Manager1 at /org/bulwark/Bulwark1 (start, stop,\n"
                "attach, detach, list and explain guests, recover, exec attributes, device\n"
                "policy and denials, locks, plugin queries; signals for each guest started,\n"
                "stopped, attached, detached and refused a device).  It is the one reader of\n"
                "each running guest's denial log.  At start, before it takes the name, it\n"
                "adopts the guests the state directory knows (a crash or restart of\n"
                "bulwarkd leaves them running).\n"
                "Callers: root and members of GROUP; the bus policy\n"
                "(org.bulwark.Bulwark1.conf) says the same, and bulwarkd checks again.\n"
                "SIGTERM or SIGINT ends it; running guests stay as they are.\n"
                "\n"
                "Options:\n"
                "  --bus ADDRESS        the bus to use (default $DBUS_SYSTEM_BUS_ADDRESS, else\n"
                "                       the system bus)\n"
                "  --group GROUP        callers allowed besides root (default '%s'; none when\n"
                "                       no such group exists)\n"
                "  --config FILE        configuration file (default %s/bulwark.conf,\n"
                "                       or $BULWARK_CONFIG)\n"
                "  --plugin-dir DIRS    where plugins are found ($BULWARK_PLUGIN_DIR)\n"
                "  --plugins LIST       plugins to load, in order, overriding the configuration\n"
                "  --state-dir DIR      journal and guest state ($BULWARK_STATE_DIR)\n"
                "  --run-dir DIR        sockets and pid files ($BULWARK_RUN_DIR)\n"
                "  --cgroup-root DIR    cgroup2 mount to use ($BULWARK_CGROUP_ROOT)\n"
                "  -v, --verbose        log more (repeat for debug)\n"
                "  -h, --help           show this help\n"
                "  --version            print the version\n",
                DEFAULT_GROUP, BW_SYSCONFDIR);
}

static void on_stop_signal(int sig) {
        arg_stop = sig;
}

static DBusConnection *bus_connect(const char *address) {
        DBusError error = DBUS_ERROR_INIT;
        DBusConnection *bus;

        if (address) {
                bus = dbus_connection_open_private(address, &error);
                if (bus && !dbus_bus_register(bus, &error)) {
                        dbus_connection_close(bus);
                        dbus_connection_unref(bus);
                        bus = NULL;
                }
        } else
                bus = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error);
        if (!bus) {
                const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                log_error("bus '%s': cannot connect: %s", address ? address : env ? env : "system bus",
                          error.message);
                dbus_error_free(&error);
                return NULL;
        }
        dbus_connection_set_exit_on_disconnect(bus, FALSE);
        return bus;
}

/* Callers that left the bus are forgotten (their unique name never comes back). */
static DBusHandlerResult on_name_owner_changed(DBusConnection *bus, DBusMessage *m, void *userdata) {
        const char *name, *old_owner, *new_owner;
        (void) bus;
        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
            dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &old_owner, DBUS_TYPE_STRING,
                                  &new_owner, DBUS_TYPE_INVALID) &&
            name[0] == ':' && !*new_owner)
                caller_forget(userdata, name);
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static int bus_take_name(Service *s) {
        DBusError error = DBUS_ERROR_INIT;
        dbus_bus_add_match(s->bus, "type='signal',sender='" DBUS_SERVICE_DBUS "',member='NameOwnerChanged'", NULL);
        if (!dbus_connection_add_filter(s->bus, on_name_owner_changed, s, NULL))
                return log_error_errno(-ENOMEM, "bulwarkd: out of memory");
        int r = dbus_bus_request_name(s->bus, BULWARK_BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);
        if (r == DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                return 0;
        if (r < 0)
                log_error("bus name '%s': cannot own it: %s", BULWARK_BUS_NAME, error.message);
        else
                log_error("bus name '%s': another process owns it", BULWARK_BUS_NAME);
        dbus_error_free(&error);
        return -EEXIST;
}

/* Running guests left by an earlier bulwarkd are taken over, each as the
 * report says; a guest that was not adopted is logged and left alone. */
static int adopt_guests(Service *s) {
        BwAdoptReport *report = NULL;
        BwError err = {};
        int r = bw_manager_adopt_all(s->manager, &report, &err);
        if (r < 0)
                return log_error_errno(r, "state directory '%s': cannot adopt the running guests: %s",
                                       bw_manager_state_dir(s->manager), err.message);
        for (size_t i = 0; i < bw_adopt_report_count(report); i++) {
                BwAdoptGuest g;
                if (bw_adopt_report_guest(report, i, &g) < 0)
                        continue;
                if (g.outcome == BW_ADOPT_ADOPTED)
                        log_info("guest '%s': adopted", g.name);
                else
                        log_warning("guest '%s': %s: %s", g.name, bw_adopt_outcome_to_string(g.outcome), g.message);
        }
        bw_adopt_report_free(report);
        return r;
}

static void service_group(Service *s, const char *name) {
        struct group *gr = getgrnam(name);
        if (!gr) {
                log_info("group '%s': no such group; only root may call", name);
                return;
        }
        s->have_group = true;
        s->group = gr->gr_gid;
}

static int service_run(Service *s) {
        struct sigaction sa = { .sa_handler = on_stop_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* The timeout lets a signal end the loop within a quarter second,
         * and the denial logs be read between calls. */
        while (!arg_stop) {
                if (!dbus_connection_read_write_dispatch(s->bus, 250)) {
                        log_error("bus: disconnected");
                        return -ECONNRESET;
                }
                denial_watch_poll(s);
        }
        log_info("signal %d: stopping; running guests stay as they are", (int) arg_stop);
        return 0;
}

int main(int argc, char **argv) {
        enum { OPT_BUS = 0x100, OPT_GROUP, OPT_VERSION };
        static const struct option options[] = {
                { "bus", required_argument, NULL, OPT_BUS },
                { "group", required_argument, NULL, OPT_GROUP },
                SETTINGS_LONG_OPTIONS,
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        const char *address = NULL, *group = DEFAULT_GROUP;
        BwOptions opts = {};
        Service s = {};
        BwError err = {};
        int c, verbose = 0, r;

        log_set_program("bulwarkd");
        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_BUS: address = optarg; break;
                case OPT_GROUP: group = optarg; break;
                case 'v': verbose++; break;
                case 'h': help(stdout); return EXIT_SUCCESS;
                case OPT_VERSION: printf("bulwarkd %s\n", PACKAGE_VERSION); return EXIT_SUCCESS;
                default:
                        if (settings_option_set(&opts, c, optarg))
                                break;
                        help(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "bulwarkd: unexpected argument '%s'; see 'bulwarkd --help'\n", argv[optind]);
                return 2;
        }
        if (verbose)
                log_set_max_level(verbose > 1 ? BW_LOG_DEBUG : BW_LOG_INFO);
        s.options = opts;
        if (bw_manager_new(&opts, &s.manager, &err) < 0) {
                log_error("%s", err.message);
                return EXIT_FAILURE;
        }
        service_group(&s, group);
        s.caller_uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        s.denials = denial_watch_new();
        r = adopt_guests(&s);
        if (r >= 0 && (s.bus = bus_connect(address)) == NULL)
                r = -ECONNREFUSED;
        if (r >= 0)
                r = service_object_register(&s);
        if (r >= 0)
                r = bus_take_name(&s);
        if (r >= 0) {
                log_info("ready: %s on %s", BULWARK_BUS_NAME, dbus_bus_get_unique_name(s.bus));
                r = service_run(&s);
        }
        if (s.bus) {
                dbus_connection_close(s.bus);
                dbus_connection_unref(s.bus);
        }
        g_hash_table_unref(s.caller_uids);
        denial_watch_free(s.denials);
        bw_manager_free(s.manager);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
