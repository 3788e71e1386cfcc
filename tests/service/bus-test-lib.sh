# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the bulwarkd tests after tests/ctl-test-lib.sh: a private
# system-like bus with the project's real policy file, bulwarkd on it, and
# calls with dbus-send.  Everything lives in $scratch; the daemons are
# killed by their pids at exit.
src=${BW_TOP_SRCDIR:-$top/..}
bulwarkd="$top/bulwarkd"
[ -x "$bulwarkd" ] || skip_all "$bulwarkd not built"
command -v dbus-daemon >/dev/null || skip_all "dbus-daemon not found"
command -v dbus-send >/dev/null || skip_all "dbus-send not found"
bus_pid= bulwarkd_pid=

# bus_start [permissive]: a system-like bus (deny by default, the real
# org.bulwark.Bulwark1.conf included); "permissive" adds a mandatory policy
# that lets anyone call bulwarkd, so that only its own check refuses.
bus_start() {
    chmod 755 "$scratch"
    mandatory='</busconfig>'
    [ "${1:-}" = permissive ] &&
        mandatory='<policy context="mandatory"><allow send_destination="org.bulwark.Bulwark1"/></policy></busconfig>'
    sed -e "s|@LISTEN@|$scratch/bus.sock|" -e "s|@POLICY@|$src/policy/dbus/org.bulwark.Bulwark1.conf|" \
        -e "s|^</busconfig>|$mandatory|" "$src/policy/dbus/private-system-bus.conf.in" > "$scratch/bus.conf"
    dbus-daemon --config-file="$scratch/bus.conf" --fork --nopidfile --print-pid=3 --print-address=4 \
        3>"$scratch/bus.pid" 4>"$scratch/bus.address" 2>"$scratch/bus.err" ||
        skip_all "dbus-daemon cannot start: $(cat "$scratch/bus.err")"
    bus_pid=$(cat "$scratch/bus.pid")
    bus=$(head -n1 "$scratch/bus.address")
    export DBUS_SYSTEM_BUS_ADDRESS="$bus"
}

# bulwarkd_start ARGS...: bulwarkd on the bus, on the scratch world (the
# same options as ctl-test-lib's run), until it owns its name.
bulwarkd_start() {
    "$bulwarkd" --bus "$bus" --config "$scratch/bulwark.conf" \
        --plugin-dir "${plugin_dir:-$top/plugins/nop/.libs:$top/tests/plugins/.libs}" \
        --plugins "${plugins:-nop}" --state-dir "$scratch/state" --cgroup-root "${cgroot:-$scratch}" \
        "$@" 2>>"$scratch/bulwarkd.err" &
    bulwarkd_pid=$!
    i=0
    while [ $i -lt 100 ]; do
        call_bus NameHasOwner string:org.bulwark.Bulwark1 2>/dev/null | grep -q true && return 0
        kill -0 "$bulwarkd_pid" 2>/dev/null || break
        sleep 0.05; i=$((i + 1))
    done
    echo "# bulwarkd did not come up:"; sed 's/^/# /' "$scratch/bulwarkd.err"
    return 1
}

# bulwarkd_kill [SIGNAL]: ends bulwarkd, waits for it.
bulwarkd_kill() {
    [ -n "$bulwarkd_pid" ] || return 0
    kill "-${1:-TERM}" "$bulwarkd_pid" 2>/dev/null
    wait "$bulwarkd_pid" 2>/dev/null
    bulwarkd_pid=
}

bus_stop() {
    bulwarkd_kill
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
    bus_pid=
}

# call_bus METHOD ARGS...: a method of the bus itself.
call_bus() {
    dbus-send --bus="$bus" --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        "org.freedesktop.DBus.$@"
}
# call METHOD ARGS...: a method of org.bulwark.Manager1 (dbus-send's argument syntax).
call() {
    dbus-send --bus="$bus" --print-reply=literal --dest=org.bulwark.Bulwark1 /org/bulwark/Bulwark1 \
        "org.bulwark.Manager1.$@"
}
# call_as UID METHOD ARGS...: the same as another user.
call_as() {
    u=$1; shift
    setpriv --reuid="$u" --regid="$u" --clear-groups dbus-send --bus="$bus" --print-reply=literal \
        --dest=org.bulwark.Bulwark1 /org/bulwark/Bulwark1 "org.bulwark.Manager1.$@"
}
