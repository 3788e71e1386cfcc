#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkd's device methods on a running guest (cgroup-bpf, real cgroups):
# AllowDevice, DenyDevice, ListDeviceRules, ExplainDevice; DeviceDenied
# signals, at most a few a guest a poll with the counts exact (1000
# denials of one process, and 12 processes one each); ListDenials, whose
# kernel total survives a kill -9 of bulwarkd.  Real kernel, as root.
# Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
. "$(dirname "$0")/bus-test-lib.sh"
require_root
require_devices
command -v python3 >/dev/null || skip_all "python3 not found"
scratch_new
cg="$root/bulwark-test-svcdev-$$"
guest_cg="$cg/bulwark/dev"
mkdir "$cg"
monitor_pid=
trap '[ -n "$monitor_pid" ] && kill $monitor_pid; bus_stop; cgroup_remove "$cg"; rm -rf "$scratch"' EXIT
printf '[bulwark]\nplugins=cgroup-bpf\n[plugin:cgroup-bpf]\ndefault-rules=%s\n' \
    "$src/policy/devices/default.rules" >"$scratch/bulwark.conf"
printf '[guest]\nname=dev\nuser=0\ngroup=0\n' >"$scratch/dev.guest"
plugin_dir="$top/plugins/cgroup-bpf/.libs" plugins=cgroup-bpf cgroot="$cg"
# The host's /dev/mem (c 1:1), made here: no rule gives it.
mknod "$scratch/mem" c 1 1
bus_start
bulwarkd_start || { not_ok "bulwarkd starts"; tap_done; exit; }
"$ctl" --bus "$bus" monitor >"$scratch/monitor.out" 2>"$scratch/monitor.err" &
monitor_pid=$!
i=0
while ! grep -qs listening "$scratch/monitor.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

check "StartGuest" 0 "dev" call StartGuest string:"$(cat "$scratch/dev.guest")"
check "ListDeviceRules: the plugin's JSON for the guest's cgroup" 0 '"1:3"' call ListDeviceRules string:dev
check "ExplainDevice c 1:1 r: denied" 0 '"allowed":false' call ExplainDevice string:dev string:c string:1:1 string:r
check "AllowDevice c 1:1 r" 0 "" call AllowDevice string:dev "string:c 1:1 r"
check "ExplainDevice c 1:1 r: now allowed" 0 '"allowed":true' call ExplainDevice string:dev string:c string:1:1 string:r
check "DenyDevice c 1:1 r" 0 "" call DenyDevice string:dev "string:c 1:1 r"
check "a malformed rule: InvalidArgument" 1 "org.bulwark.Error.InvalidArgument" call AllowDevice string:dev "string:q 1:1 z"
check "Query on a cgroup outside the cgroup root: InvalidArgument naming it" 1 \
    "org.bulwark.Error.InvalidArgument: .*cgroup '/etc': not below the cgroup2 root" \
    call Query string:cgroup-bpf string:devices-list array:string:/etc uint32:1
check "Query on a cgroup with '..': InvalidArgument" 1 "org.bulwark.Error.InvalidArgument: .*\.\." \
    call Query string:cgroup-bpf string:devices-list array:string:bulwark/../.. uint32:0
check "ListDeviceRules of an unknown guest: NoSuchGuest" 1 "org.bulwark.Error.NoSuchGuest" call ListDeviceRules string:ghost

# in_guest N: N opens of mem by one process in the guest's cgroup.
in_guest() {
    sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' x "$guest_cg" python3 -c "
import sys
for i in range(int(sys.argv[2])):
    try: open(sys.argv[1], 'rb')
    except PermissionError: pass
" "$scratch/mem" "$1"
}
in_guest 1000
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do in_guest 1; done
# The signals come within a few polls (half a second each).
i=0
sum() { awk '$1 == "DeviceDenied" && $2 == "dev" && $3 == "c" && $4 == "1:1" { n += $NF } END { print n + 0 }' "$scratch/monitor.out"; }
while [ "$(sum)" -lt 1012 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ "$(sum)" = 1012 ]; then ok "DeviceDenied: the counts add up to the 1012 denials exactly"
else not_ok "DeviceDenied counts" "sum $(sum), want 1012:" "$(cat "$scratch/monitor.out")"; fi
# Per process (pid): the sums, however the polls fell.
per_pid=$(awk '$1 == "DeviceDenied" && $4 == "1:1" { n[$6] += $NF } END { for (p in n) print n[p] }' "$scratch/monitor.out" | sort -n | uniq -c | awk '{ print $1 "x" $2 }' | paste -sd' ')
if [ "$per_pid" = "12x1 1x1000" ]; then ok "per process: 1000 for the one, 1 for each of the 12 others"
else not_ok "signals per process" "got '$per_pid'" "$(cat "$scratch/monitor.out")"; fi
check "ListDenials: the events and the kernel's total" 0 '"total":1012' call ListDenials string:dev
bulwarkd_kill KILL
bulwarkd_start || { not_ok "bulwarkd restarts"; tap_done; exit; }
check "after kill -9 and a restart, the total is kept" 0 '"total":1012' call ListDenials string:dev

# bulwarkctl devices denials over the bus: from bulwarkd, never the log itself.
check "devices denials over the bus: bulwarkd's events for the guest's cgroup" 0 \
    "guest 'dev': the last .* 1012 denied in all" "$ctl" --bus "$bus" devices denials bulwark/dev
check "devices denials --json over the bus: ListDenials' document" 0 '"total":1012' \
    "$ctl" --bus "$bus" --json devices denials "$guest_cg"
"$ctl" --bus "$bus" devices denials --follow bulwark/dev >"$scratch/follow.out" 2>"$scratch/follow.err" &
follow_pid=$!
i=0
while ! grep -qs following "$scratch/follow.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
in_guest 3
follow_sum() { awk '$1 == "DeviceDenied" { n += $NF } END { print n + 0 }' "$scratch/follow.out"; }
i=0
while [ "$(follow_sum)" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ "$(follow_sum)" = 3 ]; then ok "devices denials --follow over the bus: the guest's DeviceDenied signals"
else not_ok "denials --follow" "$(cat "$scratch/follow.out" "$scratch/follow.err")"; fi
# Refused just before the stop: StopGuest reads the log a last time.
in_guest 2
check "StopGuest" 0 "" call StopGuest string:dev boolean:true
i=0
while [ "$(sum)" -lt 1017 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ "$(sum)" = 1017 ]; then ok "denials just before StopGuest are signalled too (1012 + 3 + 2)"
else not_ok "denials before the stop" "sum $(sum), want 1017"; fi
i=0
while kill -0 "$follow_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill "$follow_pid" 2>/dev/null
wait "$follow_pid"; st=$?
if [ "$st" = 0 ] && grep -q "stopped following" "$scratch/follow.err"; then ok "the follow ends when the guest stops"
else not_ok "follow ends" "status $st" "$(cat "$scratch/follow.err")"; fi
absent "the guest's cgroup is gone" "$guest_cg"
tap_done
