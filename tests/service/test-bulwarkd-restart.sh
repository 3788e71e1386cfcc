#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkd killed with SIGKILL while two guests run (cgroup-bpf, real
# cgroups and device programs): a new bulwarkd adopts both (their device
# programs found again), lists them, and StopGuest restores everything:
# cgroups, programs and journals gone.  Real kernel, as root.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
. "$(dirname "$0")/bus-test-lib.sh"
require_root
require_devices
scratch_new
cg="$root/bulwark-test-svc-$$"
mkdir "$cg"
trap 'bus_stop; cgroup_remove "$cg"; rm -rf "$scratch"' EXIT
# fake-files stands for a plugin that changes host files: one file per
# resource in $scratch/fake, removed by the undo.
mkdir "$scratch/fake"
printf '[bulwark]\n[plugin:cgroup-bpf]\ndefault-rules=%s\n[plugin:fake-files]\ndir=%s/fake\n' \
    "$src/policy/devices/default.rules" "$scratch" >"$scratch/bulwark.conf"
plugin_dir="$top/plugins/cgroup-bpf/.libs:$top/tests/plugins/.libs" plugins=cgroup-bpf,fake-files cgroot="$cg"
for g in alpha beta; do
    printf '[guest]\nname=%s\nuser=0\ngroup=0\n[device:null-%s]\npath=/dev/null\naccess=rw\n' "$g" "$g" >"$scratch/$g.guest"
done
# Our program's rules in a guest's cgroup, as the plugin reads them back.
rules() { "$ctl" --cgroup-root "$cg" devices list "bulwark/$1" 2>&1; }

bus_start
bulwarkd_start -v || { not_ok "bulwarkd starts"; tap_done; exit; }
check "StartGuest alpha" 0 "alpha" call StartGuest string:"$(cat "$scratch/alpha.guest")"
check "StartGuest beta" 0 "beta" call StartGuest string:"$(cat "$scratch/beta.guest")"
before=$(rules alpha)
check "the plugins changed the host (fake-files' files)" 0 "^2$" sh -c "ls '$scratch/fake' | wc -l"
bulwarkd_kill KILL
exists "alpha's cgroup outlives bulwarkd" "$cg/bulwark/alpha"
bulwarkd_start -v || { not_ok "bulwarkd restarts"; tap_done; exit; }
check "after the restart, ListGuests lists both" 0 "beta" sh -c "dbus-send --bus=$bus --print-reply=literal --dest=org.bulwark.Bulwark1 /org/bulwark/Bulwark1 org.bulwark.Manager1.ListGuests | tr -d '\n' | grep alpha"
check "bulwarkd adopted alpha" 0 "guest 'alpha': adopted" cat "$scratch/bulwarkd.err"
check "bulwarkd adopted beta" 0 "guest 'beta': adopted" cat "$scratch/bulwarkd.err"
after=$(rules alpha)
if [ -n "$before" ] && [ "$before" = "$after" ] && printf '%s\n' "$after" | grep -q "1:3"; then
    ok "alpha's device program is the same, its rules intact"
else not_ok "alpha's device program kept" "before:" "$before" "after:" "$after"; fi
check "GetGuest alpha: running" 0 '"status":"running"' call GetGuest string:alpha
check "StopGuest alpha" 0 "" call StopGuest string:alpha boolean:false
check "StopGuest beta" 0 "" call StopGuest string:beta boolean:false
absent "alpha's cgroup is gone" "$cg/bulwark/alpha"
check "every host file a plugin made is removed" 0 "^0$" sh -c "ls '$scratch/fake' | wc -l"
absent "beta's cgroup is gone" "$cg/bulwark/beta"
absent "alpha's journal is gone" "$scratch/state/guests/alpha.journal"
absent "beta's journal is gone" "$scratch/state/guests/beta.journal"
tap_done
