# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the bus benchmarks: bench_bus_start SCRATCH starts a private
# system-like bus with bulwark's real policy in SCRATCH ($bus, $bus_pid);
# bench_bulwarkd_start ARGS... starts bulwarkd on it ($bulwarkd_pid) and
# waits for its name; bench_bus_stop ends both.
bench_bus_start() {
    sed -e "s|@LISTEN@|$1/bus.sock|" -e "s|@POLICY@|$src/policy/dbus/org.bulwark.Bulwark1.conf|" \
        "$src/policy/dbus/private-system-bus.conf.in" >"$1/bus.conf"
    dbus-daemon --config-file="$1/bus.conf" --fork --nopidfile --print-pid=3 --print-address=4 \
        3>"$1/bus.pid" 4>"$1/bus.address" 2>/dev/null || { echo "dbus-daemon cannot start" >&2; exit 1; }
    bus_pid=$(cat "$1/bus.pid")
    bus=$(head -n1 "$1/bus.address")
}
bench_bulwarkd_start() {
    "$build/bulwarkd" --bus "$bus" "$@" &
    bulwarkd_pid=$!
    for _ in $(seq 100); do
        dbus-send --bus="$bus" --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
            string:org.bulwark.Bulwark1 2>/dev/null | grep -q true && return 0
        kill -0 "$bulwarkd_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bulwarkd did not come up" >&2
    exit 1
}
bench_bulwarkd_stop() {
    [ -n "${bulwarkd_pid:-}" ] && kill "$bulwarkd_pid" 2>/dev/null && wait "$bulwarkd_pid" 2>/dev/null
    bulwarkd_pid=
}
bench_bus_stop() {
    bench_bulwarkd_stop
    [ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
    bus_pid=
}
