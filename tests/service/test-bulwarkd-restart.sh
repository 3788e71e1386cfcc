#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkd killed with SIGKILL while two guests run (cgroup-bpf, real
# cgroups and device programs; dac and selinux labelling a disk each): a
# new bulwarkd adopts both (their device programs found again), lists
# them, and StopGuest restores everything: owners and contexts as they
# were, no trusted.bulwark.* record, cgroups, programs and journals gone.
# Real kernel, as root.  Prints TAP.
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
plugin_dir="$top/plugins/cgroup-bpf/.libs:$top/tests/plugins/.libs:$top/security/label/.libs"
plugins=dac,cgroup-bpf,fake-files cgroot="$cg"
[ -e "$top/security/label/.libs/selinux.so" ] && plugins=dac,selinux,cgroup-bpf,fake-files
for g in alpha beta; do
    : >"$scratch/$g.img"
    printf '[guest]\nname=%s\nuser=107\ngroup=107\n[device:null-%s]\npath=/dev/null\naccess=rw\n[disk:disk-%s]\npath=%s\nformat=raw\n' \
        "$g" "$g" "$g" "$scratch/$g.img" >"$scratch/$g.guest"
done
records() { n=$(getfattr -h -d -m '^trusted\.bulwark\.' "$scratch/alpha.img" "$scratch/beta.img" 2>/dev/null | grep -c '^trusted'); echo "$n"; }
contexts() { n=$(getfattr -h -n security.selinux "$scratch/alpha.img" "$scratch/beta.img" 2>/dev/null | grep -c selinux); echo "$n"; }
# Our program's rules in a guest's cgroup, as the plugin reads them back.
rules() { "$ctl" --cgroup-root "$cg" devices list "bulwark/$1" 2>&1; }

bus_start
bulwarkd_start -v || { not_ok "bulwarkd starts"; tap_done; exit; }
check "StartGuest alpha" 0 "alpha" call StartGuest string:"$(cat "$scratch/alpha.guest")"
check "StartGuest beta" 0 "beta" call StartGuest string:"$(cat "$scratch/beta.guest")"
before=$(rules alpha)
check "the plugins changed the host (fake-files' files)" 0 "^4$" sh -c "ls '$scratch/fake' | wc -l"
check "dac gave alpha's disk to the guest's user" 0 "^107:107$" stat -c %u:%g "$scratch/alpha.img"
check "dac left /dev/null, shared by both guests, as it was" 0 "^0:0$" stat -c %u:%g /dev/null
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
check "alpha's disk has its owner back" 0 "^0:0$" stat -c %u:%g "$scratch/alpha.img"
check "beta's disk has its owner back" 0 "^0:0$" stat -c %u:%g "$scratch/beta.img"
check "no trusted.bulwark.* record is left on the disks" 0 "^0$" records
check "no SELinux context is left where none was" 0 "^0$" contexts
absent "beta's cgroup is gone" "$cg/bulwark/beta"
absent "alpha's journal is gone" "$scratch/state/guests/alpha.journal"
absent "beta's journal is gone" "$scratch/state/guests/beta.journal"
tap_done
