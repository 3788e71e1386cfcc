#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl over the bus against bulwarkctl --direct on the same state:
# the same output (tables and --json) and exit status for plugins, guest
# start|list|show|explain|attach|detach|stop and recover; errors of the
# service printed as the library's; a 1 MiB definition refused while the
# service keeps serving; no bulwarkd, or no bus, named in the error.  The
# nop plugin; root (for the bus policy).  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
. "$(dirname "$0")/bus-test-lib.sh"
require_root
plugins=nop
scratch_new
lockd_pid=
trap 'bus_stop; [ -n "$lockd_pid" ] && kill $lockd_pid; rm -rf "$scratch"' EXIT
printf '[bulwark]\nlock-timeout=0.2\n[lockd]\nsocket=%s/lockd.sock\n' "$scratch" >"$scratch/bulwark.conf"
echo raw >"$scratch/demo.img"
echo raw >"$scratch/data.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/demo.img\n' "$scratch" >"$scratch/demo.guest"
printf '[disk:data]\npath=%s/data.img\n' "$scratch" >"$scratch/data.res"
bus_start
bulwarkd_start || { not_ok "bulwarkd starts"; tap_done; exit; }
direct() { BULWARKCTL_DIRECT=1 run "$@"; }
viabus() { "$ctl" --bus "$bus" "$@"; }
# same DESCRIPTION ARGS...: the same output and status both ways.
same() {
    desc=$1; shift
    a=$(direct "$@" 2>&1); sa=$?
    b=$(viabus "$@" 2>&1); sb=$?
    if [ "$a" = "$b" ] && [ "$sa" = "$sb" ] && [ -n "$a" ]; then ok "$desc"
    else not_ok "$desc" "direct (status $sa):" "$a" "bus (status $sb):" "$b"; fi
}

check "guest start over the bus" 0 "guest 'demo': started" viabus guest start "$scratch/demo.guest"
check "the service's refusal, as the library words it" 1 "^bulwarkctl: guest 'demo': .*already" \
    viabus guest start "$scratch/demo.guest"
same "plugins: the same table" plugins
same "plugins --json: the same document" --json plugins
same "guest list: the same table" guest list
same "guest list --json: the same document" guest list --json
same "guest show: the same text" guest show demo
same "guest show --json: the same document" guest show --json demo
same "guest explain: the same table" guest explain "$scratch/demo.guest"
same "guest explain --json: the same document" --json guest explain "$scratch/demo.guest"
same "guest show of an unknown guest: the same error" guest show ghost
same "recover: the same answer" recover
check "guest attach over the bus" 0 "guest 'demo': attached" viabus guest attach demo "$scratch/data.res"
check "guest show lists the attached disk" 0 "data.img" viabus guest show demo
check "guest detach over the bus" 0 "guest 'demo': detached \[disk:data\]" viabus guest detach demo disk:data
exec 9>"$scratch/state/guests/.demo.lock"
flock -x 9
check "guest stop while the guest is busy: exit 75" 75 "guest 'demo'" viabus guest stop demo
exec 9>&-
check "guest stop over the bus" 0 "guest 'demo': stopped" viabus guest stop demo
check "guest stop of an unknown guest: the library's message" 1 "^bulwarkctl: guest 'ghost'" viabus guest stop ghost
check "devices goes through Query: the plugin's error" 1 "cgroup-bpf" viabus devices list nowhere

# Locks: bulwarkd asks the lockd of its configuration ([lockd] socket=).
"$top/bulwark-lockd" --foreground --socket "$scratch/lockd.sock" --state-dir "$scratch/lockd" \
    --pidfile "$scratch/lockd.pid" 2>"$scratch/lockd.err" &
lockd_pid=$!
i=0
while [ ! -S "$scratch/lockd.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
# Both listings taken while `lock` holds demo.img, compared without the
# time held (it grows between them).
"$ctl" --direct lock --socket "$scratch/lockd.sock" "$scratch/demo.img" -- sh -c "
    '$ctl' --bus '$bus' --json locks > '$scratch/locks.bus'; '$ctl' --bus '$bus' locks > '$scratch/locks.table'
    '$ctl' --direct --json locks --socket '$scratch/lockd.sock' > '$scratch/locks.direct'"
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [l.pop("held_for_usec") for l in d["locks"]]; print(json.dumps(d, sort_keys=True))' "$1"; }
if [ "$(strip "$scratch/locks.bus")" = "$(strip "$scratch/locks.direct")" ] && grep -q demo.img "$scratch/locks.bus"; then
    ok "locks --json over the bus (ListLocks): the same document as from lockd directly"
else not_ok "locks over the bus" "$(cat "$scratch/locks.bus" "$scratch/locks.direct")"; fi
check "locks over the bus: the table" 0 "exclusive .*demo.img" cat "$scratch/locks.table"

# A definition of 1 MiB: refused by the service, which goes on serving.
{ printf '[guest]\nname=big\nuser=0\ngroup=0\n'; head -c 1048576 /dev/zero | tr '\0' '#'; echo; } >"$scratch/big.guest"
check "a 1 MiB definition: InvalidArgument, its size named" 1 "definition: 104[0-9]* bytes, more than" \
    viabus guest start "$scratch/big.guest"
check "after it, bulwarkd still serves" 0 "NAME" viabus guest list

# Nobody there.
bulwarkd_kill
check "no bulwarkd on the bus: the bus address and --direct named" 1 \
    "bus '$bus': bulwarkd is not running.*--direct" viabus guest list
check "no bus at all: the address named" 1 "bus 'unix:path=$scratch/nothing': cannot connect" \
    "$ctl" --bus "unix:path=$scratch/nothing" plugins
check "DBUS_SYSTEM_BUS_ADDRESS is the default bus" 1 "bus 'unix:path=$scratch/nothing2'" \
    env -u BULWARKCTL_DIRECT DBUS_SYSTEM_BUS_ADDRESS="unix:path=$scratch/nothing2" "$ctl" plugins
check "monitor refuses --direct" 2 "not with --direct" "$ctl" --direct monitor
tap_done
