#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian's QEMU confined by bulwark end to end: examples/qemu.guest under
# `bulwarkctl run` with cgroup-bpf, dac, selinux and landlock and the
# shipped policy.  QEMU starts (KVM where /dev/kvm is usable, else TCG, as
# said), its monitor says running and shows the disk with its backing
# file and the ISO, the device program refused nothing, the disk is the
# guest's (owner and SELinux context) while it runs, QEMU quits with 0,
# and afterwards every owner, mode, xattr and cgroup is as before.  As
# root; prints TAP.
set -u
. "$(dirname "$0")/qemu-lib.sh"
qemu_require
qemu_setup
qemu_kvm_setup
if [ "$kvm_usable" = yes ]; then accel=kvm want_kvm=enabled
else accel=tcg want_kvm=disabled; echo "# /dev/kvm is not usable here: the guest runs under TCG"
    qemu_drop_group device:kvm < "$S/qemu.guest" > "$S/tcg.guest" && mv "$S/tcg.guest" "$S/qemu.guest"
fi
qemu_snapshot > "$S/before"

if qemu_start "$S/qemu.guest" -accel "$accel"; then ok "QEMU starts under bulwarkctl run ($accel)"
else not_ok "QEMU starts under bulwarkctl run ($accel)" "$(cat "$S/qemu.out")"; fi
out=$(qemu_hmp "info kvm")
check "info kvm: kvm support: $want_kvm" 0 "kvm support: $want_kvm" printf '%s\n' "$out"
check "info status: running" 0 "VM status: running" qemu_hmp "info status"
out=$(qemu_hmp "info block")
if printf '%s\n' "$out" | grep -q "$S/images/disk.qcow2 (qcow2)" &&
   printf '%s\n' "$out" | grep -q "Backing file: *$S/images/base.raw" &&
   printf '%s\n' "$out" | grep -q "$S/images/cd.iso (raw, read-only)"; then
    ok "info block: the disk with its backing file, and the ISO read-only"
else not_ok "info block: the disk with its backing file, and the ISO read-only" "$out"; fi

owners=$(stat -c '%u:%g' "$S/images/disk.qcow2" "$S/images/base.raw" "$S/images/cd.iso" | sort -u)
if [ "$owners" = "$guest_uid:$guest_gid" ]; then ok "while it runs, the disk, its backing file and the ISO are the guest's"
else not_ok "while it runs, the disk, its backing file and the ISO are the guest's" "$owners"; fi
ctx=$(getfattr -h --absolute-names --only-values -n security.selinux "$S/images/disk.qcow2" 2>&1)
case $ctx in *:svirt_image_t:s0:c*) ok "while it runs, the disk has the guest's SELinux context ($ctx)" ;;
*) not_ok "while it runs, the disk has the guest's SELinux context" "$ctx" ;; esac
denied=$("$ctl" --config "$S/bulwark.conf" devices denials "$cg/bulwark/qemu" 2>&1)
case $denied in *"0 events;"*) ok "the device program refused QEMU nothing" ;;
*) not_ok "the device program refused QEMU nothing" "$denied" ;; esac

qemu_hmp quit >/dev/null
qemu_wait
if [ "$qemu_status" = 0 ]; then ok "quit: QEMU and bulwarkctl run exit 0"
else not_ok "quit: QEMU and bulwarkctl run exit 0" "status $qemu_status" "$(cat "$S/qemu.out")"; fi
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" >"$S/diff"; then ok "after it, every owner, mode, xattr and cgroup is as before"
else not_ok "after it, every owner, mode, xattr and cgroup is as before" "$(cat "$S/diff")"; fi
absent "no journal left" "$S/state/guests/qemu.journal"
tap_done
