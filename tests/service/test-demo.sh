#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ./demo.sh, as the README's quick start runs it (without the install and
# build: DEMO_NO_BUILD=1 on this build): it ends with status 0, told the
# story (the guest's uid, the device program's refusal, DeviceDenied seen
# by monitor, the guest stopped), and left nothing behind: no scratch
# directory, no cgroup, no daemon.  Real kernel, as root.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
require_root
require_devices
command -v dbus-daemon >/dev/null || skip_all "dbus-daemon not found"
[ -x "$top/bulwarkd" ] || skip_all "bulwarkd not built"
scratch_new
env -u BULWARKCTL_DIRECT DEMO_NO_BUILD=1 BUILD_DIR="$top" bash "$src/demo.sh" >"$scratch/demo.out" 2>&1
st=$?
if [ "$st" = 0 ]; then ok "demo.sh exits 0"; else not_ok "demo.sh exits 0" "status $st" "$(tail -30 "$scratch/demo.out")"; fi
check "the command ran as the guest's user" 0 "I am 107:107, pid [0-9]*" cat "$scratch/demo.out"
check "the command ran in the guest's cgroup" 0 "in cgroup /bulwark-demo-[0-9]*/bulwark/demo)" cat "$scratch/demo.out"
check "a file beside the disk was refused by Landlock" 0 "read other.img beside the disk.*: Permission denied" cat "$scratch/demo.out"
check "mem was refused by the device program" 0 "open mem (c 1:1, never given): Operation not permitted" cat "$scratch/demo.out"
check "monitor caught DeviceDenied" 0 "DeviceDenied demo c 1:1 r [0-9]* sh 1" cat "$scratch/demo.out"
check "the guest stopped, its cgroup removed" 0 "cgroup .*/bulwark/demo: removed" cat "$scratch/demo.out"
demo_scratch=$(sed -n 's/^scratch directory: //p' "$scratch/demo.out")
if [ -n "$demo_scratch" ] && [ ! -e "$demo_scratch" ]; then ok "its scratch directory is removed"
else not_ok "scratch directory removed" "'$demo_scratch'"; fi
# This demo's own cgroup root (another run of the suite may have its own).
demo_cg=$(sed -n 's|^cgroup \(.*/bulwark-demo-[0-9]*\)/bulwark/demo: removed$|\1|p' "$scratch/demo.out")
if [ -n "$demo_cg" ] && [ ! -e "$demo_cg" ]; then ok "its cgroup root is removed"
else not_ok "cgroup root removed" "'$demo_cg'"; fi
procs=$(ps -eo pid,args | grep -F "$demo_scratch" | grep -v grep)
if [ -n "$demo_scratch" ] && [ -z "$procs" ]; then ok "no daemon of it is left running"
else not_ok "daemons stopped" "$procs"; fi
tap_done
