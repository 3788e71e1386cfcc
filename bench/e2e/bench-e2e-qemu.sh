#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-e2e-qemu: QEMU started, its QMP monitor reached (greeting and
# capabilities), `quit`, QEMU's exit waited for: unconfined against under
# `bulwarkctl --bus ... run GUEST -- qemu-system-x86_64 ...` (bulwarkd on a
# private bus), median of 10 runs each, the two alternating, for each
# plugin alone (nop: the machinery with no plugin work) and all together,
# as bench-e2e.sh splits them.  The guest is a VMM's usual one: a qcow2
# disk on a raw backing file, a read-only ISO, a serial log and the
# monitor socket.  QEMU uses KVM where /dev/kvm is usable (the guest gets
# [device:kvm] and groups=kvm; this machine has no udev, so /dev/kvm is
# made root:kvm 0660 for the run, as udev's rule would, under the lock the
# QEMU tests take, and restored at exit), TCG otherwise or with
# BENCH_ACCEL=tcg; the first line says which.  As root, in a scratch
# cgroup root.  Target: <= 1.10x unconfined QEMU, or <= 50 ms added.
set -eu
build=${BUILD_DIR:-$(pwd)} src=${SRC_DIR:-$build/..}
. "$src/bench/dbus/private-bus.sh"
. "$src/bench/e2e/e2e-lib.sh"
. "$src/policy/kvm-node.sh"
runs=${BENCH_RUNS:-10}
qmp="$build/examples/qmp-tool"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed" >&2; exit 1; }
cgroot=/sys/fs/cgroup
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || cgroot=/sys/fs/cgroup/unified
S=$(mktemp -d)
cg="$cgroot/bulwark-bench-e2e-qemu-$$"
mkdir "$cg"
qemu_pid=
trap 'set +e; [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; bench_bus_stop
      for d in "$cg"/bulwark/* "$cg"/bulwark "$cg"; do [ -d "$d" ] && rmdir "$d"; done; rm -rf "$S"; kvm_node_restore' EXIT
chmod 755 "$S"

# KVM where /dev/kvm answers once it is root:kvm 0660, as a distribution's
# udev rule leaves it (policy/kvm-node.sh; given back at exit).
accel=${BENCH_ACCEL:-kvm}
if [ "$accel" = kvm ]; then
    kvm_node_setup
    if [ "$kvm_usable" = yes ]; then
        echo "no udev here: /dev/kvm made root:kvm 0660 as udev's rule would (was $kvm_saved), restored at exit"
    else
        echo "/dev/kvm does not answer: TCG"
        accel=tcg
    fi
fi

qemu-img create -q -f raw "$S/base.raw" 16M
qemu-img create -q -f qcow2 -b "$S/base.raw" -F raw "$S/disk.qcow2"
truncate -s 1M "$S/cd.iso"
: > "$S/serial.log"
# The guest's files are its uid's already, so QEMU can open them in every
# row, also without the dac plugin (which then changes no owner but still
# does its work: records and chown calls).
chown 107:107 "$S/base.raw" "$S/disk.qcow2" "$S/cd.iso" "$S/serial.log"
install -d -o 107 -g 107 "$S/sock"
mon="$S/sock/monitor.sock"
cat > "$S/bench.guest" <<EOF
[guest]
name=benchqemu
user=107
group=107
$([ "$accel" = kvm ] && printf 'groups=kvm\n[device:kvm]\npath=/dev/kvm\naccess=rw\n')
[disk:root]
path=$S/disk.qcow2
format=qcow2
[disk:cd]
path=$S/cd.iso
readonly=true
format=raw
[chardev:serial]
type=file
path=$S/serial.log
[chardev:monitor]
type=socket
path=$mon
EOF
qemu_cmd=(qemu-system-x86_64 -nodefaults -display none -machine "q35,accel=$accel" -m 64
          -drive "file=$S/disk.qcow2,if=virtio,format=qcow2" -drive "file=$S/cd.iso,media=cdrom,readonly=on,format=raw"
          -serial "file:$S/serial.log" -chardev "socket,id=mon0,path=$mon,server=on,wait=off"
          -mon chardev=mon0,mode=control)

e2e_configs
# time_qemu [LAUNCHER...]: ns from QEMU's start (through LAUNCHER) to its
# exit after `quit` over QMP; fails when QEMU (or the launcher) fails.
time_qemu() {
    rm -f "$mon"
    local t st
    t=$(ns)
    "$@" "${qemu_cmd[@]}" </dev/null >"$S/qemu.out" 2>&1 &
    qemu_pid=$!
    "$qmp" "$mon" quit || { cat "$S/qemu.out" "$S/bulwarkd.err" >&2; return 1; }
    wait "$qemu_pid" && st=0 || st=$?
    qemu_pid=
    [ "$st" = 0 ] || { echo "QEMU ($*) exited $st:" >&2; cat "$S/qemu.out" >&2; return 1; }
    echo $(( $(ns) - t ))
}

bench_bus_start "$S"
echo "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }'), ${accel^^}: start, QMP greeting, quit, exit"
printf '%-34s %12s %14s %12s %7s\n' "PLUGINS" "RUN (ms)" "UNCONFINED (ms)" "ADDED (ms)" "RATIO"
for plugins in $configs; do
    e2e_bulwarkd_start "$plugins" "$S" "$cg"
    run_ctl=("$build/bulwarkctl" --bus "$bus" run "$S/bench.guest" --)
    time_qemu "${run_ctl[@]}" >/dev/null # warm
    : > "$S/run.ns"; : > "$S/floor.ns"
    for _ in $(seq "$runs"); do
        time_qemu >>"$S/floor.ns"
        time_qemu "${run_ctl[@]}" >>"$S/run.ns"
    done
    run=$(median <"$S/run.ns") floor=$(median <"$S/floor.ns")
    awk -v p="$plugins" -v r="$run" -v f="$floor" \
        'BEGIN { printf "%-34s %12.2f %14.2f %12.2f %7.3f\n", p, r / 1e6, f / 1e6, (r - f) / 1e6, r / f }'
    bench_bulwarkd_stop
done
echo "median of $runs runs each, confined and unconfined alternating; ADDED = RUN - UNCONFINED,"
echo "RATIO = RUN / UNCONFINED (target <= 1.10, or <= 50 ms added); a plugin's own share is its row minus nop's"
