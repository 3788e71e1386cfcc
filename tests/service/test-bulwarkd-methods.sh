#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkd over a private system-like bus with the real policy file: every
# method of org.bulwark.Manager1 succeeding, each error name, the signals,
# Introspect against policy/dbus/org.bulwark.Manager1.xml, bad input (wrong
# types, empty definitions, unknown guests and plugins) after which the
# service still serves, and uid 65534 refused by the bus policy and, under
# a permissive policy, by bulwarkd itself.  The nop plugin: no root needed
# for the methods, root for setpriv.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
. "$(dirname "$0")/bus-test-lib.sh"
require_root
command -v setpriv >/dev/null || skip_all "setpriv not found"
scratch_new
trap 'bus_stop; rm -rf "$scratch"' EXIT
printf '[bulwark]\nlock-timeout=0.2\n[lockd]\nsocket=%s/no-lockd.sock\n' "$scratch" >"$scratch/bulwark.conf"
echo raw >"$scratch/demo.img"
echo raw >"$scratch/data.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/demo.img\n' "$scratch" >"$scratch/demo.guest"
demo=$(cat "$scratch/demo.guest")
bus_start
bulwarkd_start || { not_ok "bulwarkd starts"; tap_done; exit; }
ok "bulwarkd owns org.bulwark.Bulwark1 on a bus with the real policy"
dbus-monitor --address "$bus" "type='signal',interface='org.bulwark.Manager1'" >"$scratch/signals" 2>/dev/null &
monitor_pid=$!
trap 'kill $monitor_pid 2>/dev/null; bus_stop; rm -rf "$scratch"' EXIT

# The XML as served: dbus-send's literal string, its 3-space indent taken off.
dbus-send --bus="$bus" --print-reply=literal --dest=org.bulwark.Bulwark1 /org/bulwark/Bulwark1 \
    org.freedesktop.DBus.Introspectable.Introspect | sed '1s/^   //' >"$scratch/served.xml"
if cmp -s "$scratch/served.xml" "$src/policy/dbus/org.bulwark.Manager1.xml"; then
    ok "Introspect answers policy/dbus/org.bulwark.Manager1.xml byte for byte"
else not_ok "Introspect answers the XML file" "$(diff "$scratch/served.xml" "$src/policy/dbus/org.bulwark.Manager1.xml" | head -20)"; fi

check "StartGuest answers the name" 0 "demo" call StartGuest string:"$demo"
check "StartGuest again: GuestExists" 1 "org.bulwark.Error.GuestExists: guest 'demo'" call StartGuest string:"$demo"
check "ListGuests lists it" 0 "demo" call ListGuests
check "GetGuest: the library's JSON" 0 '"status":"running"' call GetGuest string:demo
check "DescribeGuests: an array of them" 0 '^ *\[{"name":"demo"' call DescribeGuests
check "Explain: the plan's JSON" 0 '"guest":"demo","changes":\[' call Explain string:"$demo"
check "ListPlugins: the plugins' JSON" 0 '"name":"nop"' call ListPlugins
printf '[disk:data]\npath=%s/data.img\n' "$scratch" >"$scratch/data.res"
check "AttachResource" 0 "" call AttachResource string:demo string:"$(cat "$scratch/data.res")"
check "AttachResource twice: GuestExists (the resource)" 1 "org.bulwark.Error.GuestExists: guest 'demo'" \
    call AttachResource string:demo string:"$(cat "$scratch/data.res")"
check "a resource text with two groups: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: guest 'demo'" \
    call AttachResource string:demo string:"[disk:a]
path=/x
[disk:b]
path=/y"
check "DetachResource" 0 "" call DetachResource string:demo string:disk:data
check "DetachResource of a resource it lacks: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: guest 'demo'" \
    call DetachResource string:demo string:disk:data
check "ExecAttributes: identity and a descriptor" 0 "uid" call ExecAttributes string:demo
check "Recover: a count" 0 "uint32 0" call Recover
check "RecoverGuest: a count" 0 "uint32 0" call RecoverGuest string:demo uint32:0
check "RecoverGuest with unknown flags: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: guest 'demo'" \
    call RecoverGuest string:demo uint32:8
check "Query of a plugin that has no such command: Unsupported" 1 "org.bulwark.Error.Unsupported: " \
    call Query string:nop string:no-such-command array:string: uint32:0
check "Query of an unknown plugin: InvalidArgument naming it" 1 "org.bulwark.Error.InvalidArgument: .*no-such-plugin" \
    call Query string:no-such-plugin string:x array:string: uint32:0
check "Query with an unknown flag: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: plugin 'nop'" \
    call Query string:nop string:x array:string: uint32:4

# Busy: another transaction holds the guest's lock (this shell, fd 9).
exec 9>"$scratch/state/guests/.demo.lock"
flock -x 9
check "StopGuest while another transaction runs: Busy" 1 "org.bulwark.Error.Busy: guest 'demo'" \
    call StopGuest string:demo boolean:false
exec 9>&-
check "StopGuest" 0 "" call StopGuest string:demo boolean:false
check "ListGuests is empty again" 0 "^ *array \[ *\]$" sh -c "dbus-send --bus=$bus --print-reply=literal --dest=org.bulwark.Bulwark1 /org/bulwark/Bulwark1 org.bulwark.Manager1.ListGuests | tr -d '\n'"

# Unknown guests, on every method that names one.
check "StopGuest of an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest: guest 'ghost'" \
    call StopGuest string:ghost boolean:true
check "GetGuest of an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest: guest 'ghost'" call GetGuest string:ghost
check "AttachResource to an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest: guest 'ghost'" \
    call AttachResource string:ghost string:"$(cat "$scratch/data.res")"
check "DetachResource from an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest: guest 'ghost'" \
    call DetachResource string:ghost string:disk:data
check "ExecAttributes of an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest: guest 'ghost'" \
    call ExecAttributes string:ghost

# Bad input.
check "wrong argument types: InvalidArgument naming both signatures" 1 \
    "org.bulwark.Error.InvalidArgument: StartGuest: arguments of type 'i', expected 's'" call StartGuest int32:7
check "a missing argument: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: StopGuest: arguments of type 's', expected 'sb'" \
    call StopGuest string:demo
check "an empty definition: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: definition: empty" call StartGuest string:
check "a definition that does not parse: InvalidArgument with its place" 1 "org.bulwark.Error.InvalidArgument: <dbus>" \
    call StartGuest string:"[guest]
name=bad name"
check "a guest name that is a path: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: guest '../x'" \
    call GetGuest string:../x
check "a guest whose cgroup leaves the cgroup root: PermissionDenied" 1 "org.bulwark.Error.PermissionDenied: guest 'far'" \
    call StartGuest string:"[guest]
name=far
user=0
group=0
cgroup=/elsewhere/far"
check "ListLocks with no bulwark-lockd: Failed, naming its socket" 1 \
    "org.bulwark.Error.Failed: lockd socket '$scratch/no-lockd.sock'" call ListLocks
check "an unknown method: UnknownMethod" 1 "org.freedesktop.DBus.Error.UnknownMethod" call NoSuchMethod
bad=$(printf 'name=\377\376')
out=$(call StartGuest string:"[guest]
$bad" 2>&1); st=$?
if [ "$st" != 0 ] && ! printf '%s' "$out" | grep -q "^ *demo"; then ok "invalid UTF-8 is refused before it reaches the service"
else not_ok "invalid UTF-8 refused" "$out"; fi
if kill -0 "$bulwarkd_pid" && call ListGuests >/dev/null; then ok "after all of it, bulwarkd still serves"
else not_ok "bulwarkd still serves" "$(cat "$scratch/bulwarkd.err")"; fi

# Who may call.
check "uid 65534: refused by the bus policy" 1 "org.freedesktop.DBus.Error.AccessDenied" call_as 65534 ListGuests
check "uid 65534 may not own the name" 1 "AccessDenied" setpriv --reuid=65534 --regid=65534 --clear-groups \
    dbus-send --bus="$bus" --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.RequestName string:org.bulwark.Bulwark1 uint32:4

# The signals, in order.
sleep 0.2
want="GuestStarted demo|ResourceAttached demo disk:data|ResourceDetached demo disk:data|GuestStopped demo"
got=$(awk '/^[a-z]/ { if (m) print m; m = "" }
           /^signal .*member=/ { sub(/.*member=/, ""); m = $1 }
           /^   string / { gsub(/"/, "", $2); m = m " " $2 }
           END { if (m) print m }' "$scratch/signals" | grep -E "^(Guest|Resource)" | paste -sd'|')
if [ "$got" = "$want" ]; then ok "signals GuestStarted, ResourceAttached, ResourceDetached, GuestStopped"
else not_ok "signals" "got:  $got" "want: $want"; fi

# The service's own check, under a policy that lets anyone through.
bus_stop
bus_start permissive
bulwarkd_start || { not_ok "bulwarkd restarts"; tap_done; exit; }
check "uid 65534 under a permissive policy: PermissionDenied from bulwarkd, naming the uid" 1 \
    "org.bulwark.Error.PermissionDenied: caller ':.*' (uid 65534): only root" call_as 65534 ListGuests
check "uid 65534 cannot start a guest either" 1 "org.bulwark.Error.PermissionDenied" call_as 65534 StartGuest string:"$demo"
check "root still may" 0 "array" call ListGuests
# A member of the --group group may call (nobody's own group, nogroup).
if getent group nogroup >/dev/null && [ "$(id -gn 65534 2>/dev/null)" = nogroup ]; then
    bulwarkd_kill
    bulwarkd_start --group nogroup || { not_ok "bulwarkd restarts with --group"; tap_done; exit; }
    check "uid 65534 in the --group group (nogroup) may call" 0 "array" call_as 65534 ListGuests
else
    ok "# SKIP no nogroup group that uid 65534 belongs to"
fi
tap_done
