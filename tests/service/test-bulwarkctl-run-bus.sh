#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl run over the bus (StartGuest, ExecAttributes, fork +
# bw_exec_apply + exec here, StopGuest) with cgroup-bpf and the exec-attrs
# test plugin's Landlock ruleset: the exit status passed through, a
# command killed by a signal still leaves the guest stopped, the command
# runs in the guest's cgroup as its user under Landlock; bulwarkctl
# monitor --json sees GuestStarted and GuestStopped.  Real kernel, as
# root.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
. "$(dirname "$0")/bus-test-lib.sh"
require_root
require_devices
scratch_new
cg="$root/bulwark-test-svcrun-$$"
guest_cg="$cg/bulwark/runner"
mkdir "$cg"
monitor_pid=
trap '[ -n "$monitor_pid" ] && kill $monitor_pid; bus_stop; cgroup_remove "$cg"; rm -rf "$scratch"' EXIT
mkdir "$scratch/out" "$scratch/open"
chown 4321:5432 "$scratch/out"
chmod 777 "$scratch/open"
printf '[bulwark]\nplugins=cgroup-bpf,exec-attrs\n[plugin:cgroup-bpf]\ndefault-rules=%s\n[plugin:exec-attrs]\nlandlock-write=%s\n' \
    "$src/policy/devices/default.rules" "$scratch/out" >"$scratch/bulwark.conf"
printf '[guest]\nname=runner\nuser=4321\ngroup=5432\n' >"$scratch/runner.guest"
plugin_dir="$top/plugins/cgroup-bpf/.libs:$top/tests/plugins/.libs" plugins=cgroup-bpf,exec-attrs cgroot="$cg"
bus_start
bulwarkd_start || { not_ok "bulwarkd starts"; tap_done; exit; }

"$ctl" --bus "$bus" --json monitor >"$scratch/monitor.out" 2>"$scratch/monitor.err" &
monitor_pid=$!
i=0
while ! grep -qs listening "$scratch/monitor.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

stopped() { [ ! -e "$guest_cg" ] && [ ! -e "$scratch/state/guests/runner.journal" ]; }
busrun() { "$ctl" --bus "$bus" run "$scratch/runner.guest" -- "$@"; }
# runs DESCRIPTION STATUS ARGS...: the status, and the guest stopped after.
runs() {
    desc=$1 want=$2; shift 2
    out=$(busrun "$@" 2>&1); st=$?
    if [ "$st" = "$want" ] && stopped; then ok "$desc"
    else not_ok "$desc" "status $st (want $want), stopped: $(stopped && echo yes || echo no)" "$out"; fi
}
runs "exit status 0 passed through" 0 true
runs "exit status 3 passed through" 3 sh -c 'exit 3'
runs "killed by a signal: 128+9, and the guest still stopped" 137 sh -c 'kill -9 $$'
runs "not found: 127, guest stopped" 127 /nonexistent/command

out=$(busrun sh -c "cat /proc/self/status /proc/self/cgroup > $scratch/out/status; echo no > $scratch/open/landlock" 2>&1); st=$?
status=$(cat "$scratch/out/status" 2>/dev/null)
rel=${guest_cg#"$root"}
if printf '%s\n' "$status" | grep -q "^Uid:	4321	4321	4321	4321$" &&
   printf '%s\n' "$status" | grep -q "^Gid:	5432	5432	5432	5432$" &&
   printf '%s\n' "$status" | grep -q "^NoNewPrivs:	1$" &&
   printf '%s\n' "$status" | grep -q "^0::$rel$"; then
    ok "the command ran as the guest's user and group, in the guest's cgroup"
else not_ok "identity and cgroup" "status $st" "$out" "$status"; fi
if [ "$st" != 0 ] && [ ! -e "$scratch/open/landlock" ]; then ok "a write outside the Landlock ruleset was refused"
else not_ok "Landlock" "status $st; $(ls -l "$scratch/open")"; fi
if stopped; then ok "the guest is stopped after it"; else not_ok "stopped after the identity run"; fi

kill "$monitor_pid"; wait "$monitor_pid" 2>/dev/null; monitor_pid=
starts=$(grep -c '^{"signal":"GuestStarted","name":"runner"}$' "$scratch/monitor.out")
stops=$(grep -c '^{"signal":"GuestStopped","name":"runner"}$' "$scratch/monitor.out")
if [ "$starts" = 4 ] && [ "$stops" = 4 ]; then ok "monitor --json: one GuestStarted and one GuestStopped for each of the 4 runs that started, one object a line"
else not_ok "monitor --json" "started $starts, stopped $stops (want 4 each: a command not found starts no guest):" "$(cat "$scratch/monitor.out" "$scratch/monitor.err")"; fi

# [guest] groups= reach the command over the bus too (ExecAttributes "groups").
printf '[guest]\nname=runner\nuser=4321\ngroup=5432\ngroups=7654;6543\n' >"$scratch/groups.guest"
out=$("$ctl" --bus "$bus" run "$scratch/groups.guest" -- sh -c "cat /proc/self/status > $scratch/out/status" 2>&1); st=$?
status=$(cat "$scratch/out/status" 2>/dev/null)
if [ "$st" = 0 ] && printf '%s\n' "$status" | grep -q "^Groups:[[:space:]]*6543 7654[[:space:]]*$" && stopped; then
    ok "[guest] groups= are the command's supplementary groups over the bus"
else not_ok "groups over the bus" "status $st" "$out" "$status"; fi

# Over the bus as in this process: a stop refused because the cgroup
# still holds a process exits 75 (busy), and --kill ends it.
out=$("$ctl" --bus "$bus" run --keep "$scratch/runner.guest" -- sh -c "sleep 60 <&- >$scratch/out/sleep.log 2>&1 &" 2>&1); st=$?
if [ "$st" = 0 ] && grep -q . "$guest_cg/cgroup.procs" 2>/dev/null; then ok "--keep over the bus with a process left in the cgroup"
else not_ok "--keep over the bus with a process left in the cgroup" "status $st: $out"; fi
check "StopGuest while the cgroup holds a process: 75 (busy)" 75 "still holds processes" \
    "$ctl" --bus "$bus" guest stop runner
"$ctl" --bus "$bus" guest stop --kill runner >/dev/null 2>&1
if stopped; then ok "stop --kill over the bus ends it"; else not_ok "stop --kill over the bus ends it"; fi
tap_done
