# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (after ctl-test-lib.sh) by the tests that hot-plug a disk into a
# real QEMU by descriptor: test-qemu-hotplug.sh (bulwarkctl and qmp-tool)
# and the QEMU case of tests/service/test-example-host-daemon.sh (the same
# through libbulwark in C).  QEMU runs under TCG: the guest is given no
# /dev/kvm, so the machine's kvm group setup is not needed.
src=${BW_TOP_SRCDIR:-$top/..}
qmp="$top/examples/qmp-tool"

# Why this host cannot run the test (nothing when it can): root, QEMU,
# the device programs and Landlock are needed.
qemu_hotplug_unusable() {
    [ "$(id -u)" = 0 ] || { echo "needs root"; return; }
    command -v python3 >/dev/null || { echo "python3 not found"; return; }
    for tool in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils getfattr:attr; do
        command -v "${tool%:*}" >/dev/null || { echo "${tool%:*} not installed (apt-get install ${tool#*:})"; return; }
    done
    [ -x "$qmp" ] || { echo "$qmp not built"; return; }
    "$ctl" devices probe >/dev/null 2>&1 || { echo "device programs unusable here"; return; }
    abi=$("$top/tests/landlock/ll-layers" true 2>&1; echo "rc=$?")
    case $abi in *rc=77*) echo "Landlock unusable here: $abi" ;; esac
}
# Skips unless the host can run the test; sets $root, the cgroup2 root.
qemu_hotplug_require() {
    why=$(qemu_hotplug_unusable)
    [ -z "$why" ] || skip_all "$why"
    require_devices
}

# qemu_hotplug_world NAME: a scratch world $S for guest NAME, removed at
# exit with the guest's cgroup root $cg (QEMU killed first): a qcow2 disk
# on a raw backing file, a read-only ISO, a serial log, a per-guest socket
# directory the guest's uid (107) may create QEMU's monitor socket $mon in,
# $S/NAME.guest, and the second disk $S/data.raw (root's, not in the
# definition) with its resource text $S/data.disk; $S/bulwark.conf loads
# cgroup-bpf, dac, selinux and landlock with the policy of the source tree.
qemu_hotplug_world() {
    guest=$1
    S=$(mktemp -d)
    cg="$root/bulwark-test-$guest-$$"
    mon="$S/sock/monitor.sock"
    trap qemu_hotplug_cleanup EXIT
    mkdir "$cg"
    chmod 755 "$S"
    qemu-img create -q -f raw "$S/base.raw" 16M
    qemu-img create -q -f qcow2 -b "$S/base.raw" -F raw "$S/disk.qcow2"
    truncate -s 1M "$S/cd.iso"
    : > "$S/serial.log"
    install -d -o 107 -g 107 "$S/sock"
    qemu-img create -q -f raw "$S/data.raw" 16M
    chmod 600 "$S/data.raw"
    printf '[guest]\nname=%s\nuser=107\ngroup=107\n' "$guest" > "$S/$guest.guest"
    printf '[disk:root]\npath=%s/disk.qcow2\nformat=qcow2\n' "$S" >> "$S/$guest.guest"
    printf '[disk:cd]\npath=%s/cd.iso\nreadonly=true\nformat=raw\n' "$S" >> "$S/$guest.guest"
    printf '[chardev:serial]\ntype=file\npath=%s/serial.log\n' "$S" >> "$S/$guest.guest"
    printf '[chardev:monitor]\ntype=socket\npath=%s\n' "$mon" >> "$S/$guest.guest"
    printf '[disk:data]\npath=%s/data.raw\nformat=raw\n' "$S" > "$S/data.disk"
    cat > "$S/bulwark.conf" <<EOF
[bulwark]
plugins=dac,selinux,landlock,cgroup-bpf
plugin-dir=$top/plugins/cgroup-bpf/.libs:$top/security/label/.libs:$top/security/landlock/.libs
cgroup-root=$cg
state-dir=$S/state
run-dir=$S/run
[plugin:cgroup-bpf]
default-rules=$src/policy/devices/default.rules
[plugin:landlock]
base-rules=$src/policy/landlock/base.rules
EOF
}

# The guest's processes (QEMU) killed, the guest stopped if it still runs,
# its cgroup root and the scratch world removed.  A test that runs a
# process of its own in the background sets $bg_pid.
qemu_hotplug_cleanup() {
    [ -n "${bg_pid:-}" ] && kill "$bg_pid" 2>/dev/null
    for p in $(cat "$cg"/bulwark/*/cgroup.procs 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    [ -n "${bg_pid:-}" ] && wait "$bg_pid" 2>/dev/null
    command -v bus_stop >/dev/null && bus_stop
    [ -d "$S/state" ] && "$ctl" --direct --config "$S/bulwark.conf" guest stop "$guest" >/dev/null 2>&1
    [ -d "$cg" ] && cgroup_remove "$cg"
    rm -rf "$S"
}

# QEMU's command line for the world: TCG, the root disk and the CD by
# path (given at start), a virtio-scsi bus for the hot-plugged disk, the
# serial log, and the QMP monitor on $mon.
qemu_hotplug_cmd() {
    echo qemu-system-x86_64 -nodefaults -display none -machine q35,accel=tcg -m 64 \
        -drive "file=$S/disk.qcow2,if=virtio,format=qcow2" -drive "file=$S/cd.iso,media=cdrom,readonly=on,format=raw" \
        -device virtio-scsi-pci,id=scsi0 -serial "file:$S/serial.log" \
        -chardev "socket,id=mon0,path=$mon,server=on,wait=off" -mon chardev=mon0,mode=control
}

# owner:group mode and the SELinux label of a file (empty for none).
file_label() {
    printf '%s %s\n' "$(stat -c '%u:%g %a' "$1")" \
        "$(getfattr --absolute-names --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0' || true)"
}
# Every trusted.* attribute bulwark left on a file (its records); fails
# when there is none.
file_records() { getfattr --absolute-names -d -m '^trusted\.' "$1" 2>/dev/null | grep -v '^#' | grep .; }
