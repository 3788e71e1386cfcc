#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl run end to end: exit statuses, the command's identity and
# cgroup as it reads them itself, signals, --keep, and failures that must
# never run the command; after every run the guest is stopped and its
# cgroup and journal are gone.  Real kernel, as root.  Prints TAP.
set -u
. "$(dirname "$0")/ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
require_root
require_devices
cg="$root/bulwark-test-run-$$"
guest_cg="$cg/bulwark/runner"
scratch_new
mkdir "$cg" "$scratch/out"
chmod 755 "$scratch"
chown 4321:5432 "$scratch/out"
trap 'cgroup_remove "$cg"; rm -rf "$scratch"' EXIT

cat > "$scratch/runner.guest" <<EOF
[guest]
name=runner
user=4321
group=5432
EOF
# $1: extra [plugin:exec-attrs] keys; plugins cgroup-bpf, then exec-attrs.
config() {
    printf '[bulwark]\nplugins=cgroup-bpf,exec-attrs\n[plugin:cgroup-bpf]\ndefault-rules=%s\n[plugin:exec-attrs]\n%s\n' \
        "$src/policy/devices/default.rules" "${1:-}" > "$scratch/bulwark.conf"
}
config
export BULWARK_PLUGIN_DIR="$top/plugins/cgroup-bpf/.libs:$top/tests/plugins/.libs"
run() { "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" --cgroup-root "$cg" run "$@"; }
# The same in the background, with $! bulwarkctl itself (not a subshell).
run_bg() { "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" --cgroup-root "$cg" run "$@" \
        >"$scratch/sig.out" 2>&1 & }

# The guest is stopped: no cgroup, no journal.
stopped() { [ ! -e "$guest_cg" ] && [ ! -e "$scratch/state/guests/runner.journal" ]; }
# check DESCRIPTION EXPECTED-STATUS PATTERN run-ARGS...: status, output, and the guest stopped.
check() {
    desc=$1 want=$2 pattern=$3; shift 3
    out=$(run "$@" 2>&1); st=$?
    if [ "$st" = "$want" ] && printf '%s\n' "$out" | grep -q -- "$pattern" && stopped; then ok "$desc"
    else not_ok "$desc" "status $st (want $want), stopped: $(stopped && echo yes || echo no), output:" "$out"; fi
}

check "exit status 0" 0 "" "$scratch/runner.guest" -- true
check "exit status 3" 3 "" "$scratch/runner.guest" -- sh -c 'exit 3'
check "killed by a signal: 128+N" 137 "" "$scratch/runner.guest" -- sh -c 'kill -9 $$'

out=$(run "$scratch/runner.guest" -- sh -c "cat /proc/self/status /proc/self/cgroup > $scratch/out/status" 2>&1); st=$?
status=$(cat "$scratch/out/status" 2>/dev/null)
rel=${guest_cg#"$root"}
if [ "$st" = 0 ] && printf '%s\n' "$status" | grep -q "^Uid:	4321	4321	4321	4321$" &&
   printf '%s\n' "$status" | grep -q "^Gid:	5432	5432	5432	5432$" &&
   printf '%s\n' "$status" | grep -q "^Groups:[[:space:]]*$" &&
   printf '%s\n' "$status" | grep -q "^NoNewPrivs:	1$" &&
   printf '%s\n' "$status" | grep -q "^0::$rel$" && stopped; then
    ok "the command runs as the guest's user and group, no groups, in the guest's cgroup"
else not_ok "the command runs as the guest's user and group, no groups, in the guest's cgroup" "status $st: $out" "$status"; fi

# [guest] groups= are the command's supplementary groups, and nothing more.
printf '[guest]\nname=runner\nuser=4321\ngroup=5432\ngroups=7654;6543\n' > "$scratch/groups.guest"
out=$(run "$scratch/groups.guest" -- sh -c "cat /proc/self/status > $scratch/out/status" 2>&1); st=$?
status=$(cat "$scratch/out/status" 2>/dev/null)
if [ "$st" = 0 ] && printf '%s\n' "$status" | grep -q "^Groups:[[:space:]]*6543 7654[[:space:]]*$" &&
   printf '%s\n' "$status" | grep -q "^Gid:	5432	5432	5432	5432$" && stopped; then
    ok "[guest] groups= are the command's supplementary groups"
else not_ok "[guest] groups= are the command's supplementary groups" "status $st: $out" "$status"; fi

# The command is where the device program is: a node the default rules do
# not list (c 240:7) is refused.
mknod "$scratch/c240" c 240 7 && chmod 666 "$scratch/c240"
out=$(run "$scratch/runner.guest" -- sh -c "cat $scratch/c240" 2>&1); st=$?
if [ "$st" != 0 ] && printf '%s\n' "$out" | grep -q "Operation not permitted" && stopped; then
    ok "the device program confines the command"
else not_ok "the device program confines the command" "status $st: $out"; fi

# Signals to bulwarkctl reach the command; the guest is stopped after it exits.
# The command tells its pid through a fifo; head gives up after 30 s if
# it never does, so a broken run fails instead of hanging.
fifo="$scratch/out/fifo"
mkfifo -m 666 "$fifo"
# (Not SIGINT: a background job of a script starts with SIGINT ignored,
# and so does the command it runs.)
for pair in TERM:15 HUP:1; do
    sig=${pair%:*}
    run_bg "$scratch/runner.guest" -- sh -c "echo \$\$ > $fifo; exec sleep 30"
    ctlpid=$!
    cmdpid=$(timeout 30 head -n1 "$fifo")
    kill -s "$sig" "$ctlpid"
    wait "$ctlpid"; st=$?
    want=$((128 + ${pair#*:}))
    if [ "$st" = "$want" ] && ! kill -0 "$cmdpid" 2>/dev/null && stopped; then ok "SIG$sig to bulwarkctl: passed on, $want, guest stopped"
    else not_ok "SIG$sig to bulwarkctl: passed on, $want, guest stopped" "status $st" "$(cat "$scratch/sig.out")"; fi
done

# SIGKILL of the command from outside.
run_bg "$scratch/runner.guest" -- sh -c "echo \$\$ > $fifo; exec sleep 30"
ctlpid=$!
cmdpid=$(timeout 30 head -n1 "$fifo")
kill -KILL "$cmdpid"
wait "$ctlpid"; st=$?
if [ "$st" = 137 ] && stopped; then ok "SIGKILL of the command: 137, guest stopped"
else not_ok "SIGKILL of the command: 137, guest stopped" "status $st" "$(cat "$scratch/sig.out")"; fi

# What the command leaves running in the guest's cgroup goes with the guest.
out=$(run "$scratch/runner.guest" -- sh -c "sleep 60 >/dev/null 2>&1 & echo \$! > $scratch/out/left; exit 0" 2>&1); st=$?
left=$(cat "$scratch/out/left" 2>/dev/null)
# (Gone, or a zombie its new parent has not reaped yet.)
state=$(ps -o stat= -p "$left" 2>/dev/null)
if [ "$st" = 0 ] && [ -n "$left" ] && { [ -z "$state" ] || [ "${state#Z}" != "$state" ]; } && stopped; then
    ok "a process the command left behind is killed, the guest stopped"
else not_ok "a process the command left behind is killed, the guest stopped" "status $st, left $left ($state): $out"; fi

check "command not found: 127, guest never started" 127 "'no-such-command-here': command not found" \
    "$scratch/runner.guest" -- no-such-command-here
printf 'not a program\n' > "$scratch/noexec" && chmod 644 "$scratch/noexec"
check "command not executable: 126" 126 "cannot exec '$scratch/noexec'" "$scratch/runner.guest" -- "$scratch/noexec"

# Confinement failures: the command would create out/ran.
config "identity=4294967295:5432"
check "a uid the kernel does not set: 125" 125 "guest 'runner': exec: cannot set user id 4294967295" \
    "$scratch/runner.guest" -- touch "$scratch/out/ran"
if [ ! -e "$scratch/out/ran" ]; then ok "... and the command never ran"; else not_ok "... and the command never ran"; fi
config "lsm=apparmor
label=bulwark-runner"
check "an LSM label that cannot be written: 125" 125 "cannot write LSM exec label 'bulwark-runner'" \
    "$scratch/runner.guest" -- touch "$scratch/out/ran"
if [ ! -e "$scratch/out/ran" ]; then ok "... and the command never ran"; else not_ok "... and the command never ran"; fi
config "cgroup=$cg/elsewhere"
check "plugins that disagree: 125, both named" 125 "plugins 'cgroup-bpf' and 'exec-attrs' give different cgroups" \
    "$scratch/runner.guest" -- touch "$scratch/out/ran"
if [ ! -e "$scratch/out/ran" ]; then ok "... and the command never ran"; else not_ok "... and the command never ran"; fi
config

# --keep leaves the guest running; guest stop finishes it.
out=$(run --keep "$scratch/runner.guest" -- true 2>&1); st=$?
if [ "$st" = 0 ] && [ -d "$guest_cg" ] && [ -e "$scratch/state/guests/runner.journal" ]; then ok "--keep leaves the guest running"
else not_ok "--keep leaves the guest running" "status $st: $out"; fi
"$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" --cgroup-root "$cg" guest stop runner >/dev/null 2>&1
if stopped; then ok "guest stop after --keep"; else not_ok "guest stop after --keep"; fi

# A process the command left running keeps the guest's cgroup busy: stop
# is refused with 75 (busy), changing nothing, until --kill.
out=$(run --keep "$scratch/runner.guest" -- sh -c "sleep 60 <&- >$scratch/out/sleep.log 2>&1 &" 2>&1); st=$?
if [ "$st" = 0 ] && grep -q . "$guest_cg/cgroup.procs" 2>/dev/null; then ok "--keep with a process left in the guest's cgroup"
else not_ok "--keep with a process left in the guest's cgroup" "status $st: $out"; fi
out=$("$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" --cgroup-root "$cg" guest stop runner 2>&1); st=$?
if [ "$st" = 75 ] && printf '%s\n' "$out" | grep -q "still holds processes" && [ -e "$scratch/state/guests/runner.journal" ]
then ok "guest stop while the cgroup holds a process: 75 (busy), the guest still runs"
else not_ok "guest stop while the cgroup holds a process: 75 (busy)" "status $st: $out"; fi
"$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" --cgroup-root "$cg" guest stop --kill runner >/dev/null 2>&1
if stopped; then ok "guest stop --kill ends it"; else not_ok "guest stop --kill ends it"; fi

check "usage: no command" 2 "Usage" "$scratch/runner.guest"
check "usage: no file" 2 "Usage" -- true
check "--help" 0 "125  CMD could not be confined" --help
check "a definition that does not load: 1" 1 "missing.guest" "$scratch/missing.guest" -- true

tap_done
