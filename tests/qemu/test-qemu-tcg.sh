#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/qemu.guest without [device:kvm]: /dev/kvm is hidden from the
# guest by its device policy (the shipped default rules do not list it),
# so QEMU asked for `-accel kvm -accel tcg` is refused KVM and falls back
# to TCG; it starts, runs, shows its disk and quits as under KVM, and
# `info kvm` says disabled.  As root; prints TAP.
set -u
. "$(dirname "$0")/qemu-lib.sh"
qemu_require
qemu_setup
# The guest still joins the kvm group: only the device policy hides the node.
qemu_kvm_setup
qemu_drop_group device:kvm < "$S/qemu.guest" > "$S/tcg.guest"
qemu_snapshot > "$S/before"

if qemu_start "$S/tcg.guest" -accel kvm -accel tcg; then ok "QEMU starts with -accel kvm -accel tcg"
else not_ok "QEMU starts with -accel kvm -accel tcg" "$(cat "$S/qemu.out")"; fi
check "info kvm: kvm support: disabled" 0 "kvm support: disabled" qemu_hmp "info kvm"
check "info status: running" 0 "VM status: running" qemu_hmp "info status"
check "info block: the disk with its backing file" 0 "Backing file: *$S/images/base.raw" qemu_hmp "info block"
qemu_hmp quit >/dev/null
qemu_wait
if [ "$qemu_status" = 0 ]; then ok "quit: exit 0"; else not_ok "quit: exit 0" "status $qemu_status" "$(cat "$S/qemu.out")"; fi
if [ ! -c /dev/kvm ] || grep -q "Operation not permitted" "$S/qemu.out"; then
    ok "QEMU was refused /dev/kvm by the device program"
else not_ok "QEMU was refused /dev/kvm by the device program" "$(cat "$S/qemu.out")"; fi
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" >"$S/diff"; then ok "after it, every owner, mode, xattr and cgroup is as before"
else not_ok "after it, every owner, mode, xattr and cgroup is as before" "$(cat "$S/diff")"; fi
tap_done
