#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# What examples/qemu.guest does not give, QEMU cannot open, and says so:
# a disk outside the definition (Landlock: QEMU fails to start naming the
# file, Permission denied); a block device node the definition does not
# list (b 7:0, loop0: the device program refuses, Operation not
# permitted, and its denial log names qemu and the device); a file that is
# not the guest's added through the monitor's drive_add in a running QEMU
# (refused, QEMU's message shown).  Nothing is left behind.  As root;
# prints TAP.
set -u
. "$(dirname "$0")/qemu-lib.sh"
qemu_require
qemu_setup
qemu_kvm_setup
accel=tcg
[ "$kvm_usable" = yes ] && accel=kvm
qemu_snapshot > "$S/before"
run_keep() { "$ctl" --config "$S/bulwark.conf" "$@"; }

# Writable by anyone: only Landlock keeps the guest's process out.
chmod 666 "$S/images/other.raw"
qemu_start "$S/qemu.guest" -accel "$accel" -drive "file=$S/images/other.raw,if=virtio,format=raw"
qemu_wait
if [ "$qemu_status" != 0 ] && grep -q "$S/images/other.raw.*Permission denied" "$S/qemu.out"; then
    ok "a disk outside the definition: QEMU does not start, its message names the file"
else not_ok "a disk outside the definition: QEMU does not start, its message names the file" "status $qemu_status" "$(cat "$S/qemu.out")"; fi
chmod 644 "$S/images/other.raw"
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" >"$S/diff"; then ok "... and nothing is left behind"
else not_ok "... and nothing is left behind" "$(cat "$S/diff")"; fi

# loop0's numbers in a node the guest's user may open (DAC lets it through
# to the device program; /dev/loop0 itself stays untouched).  --keep, so
# the denial log can be read from the guest's cgroup afterwards.
mknod "$S/images/loop0" b 7 0 && chown "$guest_uid" "$S/images/loop0"
"$ctl" --config "$S/bulwark.conf" run --keep "$S/qemu.guest" -- "$qemu_bin" -nodefaults -display none -m 64 \
    -machine q35 -accel "$accel" -drive "file=$S/images/loop0,if=virtio,format=raw" >"$S/qemu.out" 2>&1; st=$?
if [ "$st" != 0 ] && grep -q "$S/images/loop0.*Operation not permitted" "$S/qemu.out"; then
    ok "a device node the definition does not give: Operation not permitted from the device program"
else not_ok "a device node the definition does not give: Operation not permitted from the device program" "status $st" "$(cat "$S/qemu.out")"; fi
denied=$(run_keep devices denials "$cg/bulwark/qemu" 2>&1)
if printf '%s\n' "$denied" | grep -q "qemu.* b 7:0 .*no entry"; then ok "the denial log names qemu and b 7:0"
else not_ok "the denial log names qemu and b 7:0" "$denied"; fi
run_keep guest stop qemu >/dev/null 2>&1
rm -f "$S/images/loop0"
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" >"$S/diff"; then ok "... and nothing is left behind after the stop"
else not_ok "... and nothing is left behind after the stop" "$(cat "$S/diff")"; fi

# The monitor asked to open a file that is not the guest's.
chmod 666 "$S/images/other.raw"
if qemu_start "$S/qemu.guest" -accel "$accel"; then
    out=$(qemu_hmp "drive_add 0 file=$S/images/other.raw,if=none,id=stolen,format=raw")
    if printf '%s\n' "$out" | grep -q "$S/images/other.raw.*Permission denied"; then
        ok "drive_add of a file that is not the guest's: refused ($(printf '%s' "$out" | head -n1))"
    else not_ok "drive_add of a file that is not the guest's: refused" "$out"; fi
    check "... and the guest runs on" 0 "VM status: running" qemu_hmp "info status"
    qemu_hmp quit >/dev/null
else not_ok "QEMU starts for drive_add" "$(cat "$S/qemu.out")"; fi
qemu_wait
chmod 644 "$S/images/other.raw"
if [ "$qemu_status" = 0 ]; then ok "QEMU quits with 0"; else not_ok "QEMU quits with 0" "$(cat "$S/qemu.out")"; fi
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" >"$S/diff"; then ok "... and nothing is left behind"
else not_ok "... and nothing is left behind" "$(cat "$S/diff")"; fi
tap_done
