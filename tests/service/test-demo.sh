#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ./demo.sh, as the README's quick start runs it (without the install and
# build: DEMO_NO_BUILD=1 on this build): it ends with status 0, told the
# story of a real QEMU under bulwark (KVM or TCG, running, its disks; the
# guest's uid and groups; a file refused by Landlock and a device node by
# the device program, DeviceDenied seen by monitor and nothing else in the
# denial log; a disk hot-plugged by descriptor and detached; the guest
# stopped, the disks as before), and left nothing behind: no scratch
# directory, no cgroup, no daemon, /dev/kvm as it was.  Real kernel, as
# root.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
require_root
require_devices
command -v dbus-daemon >/dev/null || skip_all "dbus-daemon not found"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86 qemu-utils)"
command -v getfattr >/dev/null || skip_all "getfattr not installed (apt-get install attr)"
[ -x "$top/bulwarkd" ] || skip_all "bulwarkd not built"
[ -x "$top/examples/qmp-tool" ] || skip_all "examples/qmp-tool not built"
# /dev/kvm at rest: read under the lock the QEMU tests, the demo and the
# bench hold while they change it (policy/kvm-node.sh), never in the middle.
. "$src/policy/kvm-node.sh"
kvm_before=$(kvm_node_at_rest)
scratch_new
env -u BULWARKCTL_DIRECT DEMO_NO_BUILD=1 BUILD_DIR="$top" bash "$src/demo.sh" >"$scratch/demo.out" 2>&1
st=$?
# The step headers are bold: their escapes go, so lines start with "== ".
sed -i 's/\x1b\[[0-9;]*m//g' "$scratch/demo.out"
demo_out() { cat "$scratch/demo.out"; }
if [ "$st" = 0 ]; then ok "demo.sh exits 0"; else not_ok "demo.sh exits 0" "status $st" "$(tail -30 "$scratch/demo.out")"; fi
check "QEMU answers on its monitor: KVM enabled, or TCG said on screen" 0 "kvm support: enabled\|QEMU runs under TCG" demo_out
check "the VM runs" 0 "VM status: running" demo_out
check "info block shows the disk and its backing file" 0 "Backing file: .*/images/qemu-base.raw" demo_out
check "QEMU runs as the guest's uid, in the guest's cgroup" 0 "pid [0-9]*, uid 107, .*in cgroup /bulwark-demo-[0-9]*/bulwark/qemu)" demo_out
check "the disk is the guest's while it runs" 0 "^  107:107 .*/images/qemu.qcow2" demo_out
check "a file beside the disk is refused by Landlock" 0 "Could not open '.*/images/other.img': Permission denied" demo_out
check "a block node never given is refused by the device program" 0 "Could not open '.*/loop0': Operation not permitted" demo_out
check "a disk is hot-plugged by descriptor" 0 "disk 'data': .* hot-plugged by descriptor as /dev/fdset/[0-9]" demo_out
check "QEMU reads it from its fdset" 0 "data: /dev/fdset/[0-9]* (raw)" demo_out
check "and it is detached" 0 "guest 'qemu': detached \[disk:data\]" demo_out
check "monitor caught DeviceDenied naming qemu" 0 "DeviceDenied qemu b 7:0 r [0-9]* qemu-system-x86" demo_out
denials=$(sed -n '/^== The device denial log/,/^== /p' "$scratch/demo.out" | grep -E '^[0-9]{4}-')
others=$(printf '%s\n' "$denials" | grep -v ' b 7:0 ')
if printf '%s\n' "$denials" | grep -q 'qemu-system-x86 *b 7:0 ' && [ -z "$others" ]; then
  ok "the denial log names qemu for the node it was refused, and holds nothing QEMU was given"
else not_ok "the denial log names qemu for loop0 only" "$denials"; fi
check "QEMU exits 0" 0 "bulwarkctl run: QEMU exited with status 0" demo_out
check "the guest stopped, its cgroup removed" 0 "cgroup .*/bulwark/qemu: removed" demo_out
after=$(sed -n '/^== After:/,/^== Done/p' "$scratch/demo.out")
case $after in
  *"0:0 -rw-r--r-- "*/images/qemu.qcow2*"no xattr"*"0:0 -rw------- "*/images/data.raw*"no xattr"*)
    ok "after: both disks are root's again, with no xattr" ;;
  *) not_ok "after: both disks are root's again, with no xattr" "$after" ;;
esac
demo_scratch=$(sed -n 's/^scratch directory: //p' "$scratch/demo.out")
if [ -n "$demo_scratch" ] && [ ! -e "$demo_scratch" ]; then ok "its scratch directory is removed"
else not_ok "scratch directory removed" "'$demo_scratch'"; fi
# This demo's own cgroup root (another run of the suite may have its own).
demo_cg=$(sed -n 's|^cgroup \(.*/bulwark-demo-[0-9]*\)/bulwark/qemu: removed$|\1|p' "$scratch/demo.out")
if [ -n "$demo_cg" ] && [ ! -e "$demo_cg" ]; then ok "its cgroup root is removed"
else not_ok "cgroup root removed" "'$demo_cg'"; fi
procs=$(ps -eo pid,args | grep -F "$demo_scratch" | grep -v grep)
if [ -n "$demo_scratch" ] && [ -z "$procs" ]; then ok "no daemon or QEMU of it is left running"
else not_ok "daemons stopped" "$procs"; fi
kvm_after=$(kvm_node_at_rest)
if [ "$kvm_after" = "$kvm_before" ]; then ok "/dev/kvm is as it was ($kvm_after)"
else not_ok "/dev/kvm is as it was" "before: $kvm_before" "after: $kvm_after"; fi
tap_done
