# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced after qemu-lib.sh by the tests that hot-plug a disk into a real
# QEMU by descriptor: test-qemu-hotplug.sh (bulwarkctl and qmp-tool, in
# this process or over the bus) and the QEMU case of
# tests/service/test-example-host-daemon.sh (the same through libbulwark
# in C).  QEMU's monitor is QMP here (qmp-tool), not HMP.
qmp="$top/examples/qmp-tool"

# Why this host cannot run the test (nothing when it can): what
# qemu_require checks, without ending the test (the host-daemon test has
# run cases before).
qemu_hotplug_unusable() {
    [ "$(id -u)" = 0 ] || { echo "needs root"; return; }
    command -v python3 >/dev/null || { echo "python3 not found"; return; }
    for tool in "$qemu_bin":qemu-system-x86 qemu-img:qemu-utils getfattr:attr; do
        command -v "${tool%:*}" >/dev/null || { echo "${tool%:*} not installed (apt-get install ${tool#*:})"; return; }
    done
    [ -x "$qmp" ] || { echo "$qmp not built"; return; }
    "$ctl" devices probe >/dev/null 2>&1 || echo "device programs unusable here"
}

# qemu_setup and qemu_kvm_setup, then: the second disk $S/images/data.raw
# (root's, mode 0600, not in the definition) and its resource text
# $S/data.disk; $mon, QEMU's QMP socket; $qemu_accel, QEMU's -accel
# argument (kvm when /dev/kvm answers, else tcg, and then $S/qemu.guest
# loses [device:kvm] and groups=kvm).
qemu_hotplug_setup() {
    qemu_setup
    qemu_kvm_setup
    mon="$S/sock/monitor.sock"
    qemu-img create -q -f raw "$S/images/data.raw" 16M
    chmod 600 "$S/images/data.raw"
    printf '[disk:data]\npath=%s/images/data.raw\nformat=raw\n' "$S" > "$S/data.disk"
    if [ "$kvm_usable" = yes ]; then
        qemu_accel=kvm
    else
        qemu_accel=tcg
        qemu_drop_group device:kvm < "$S/qemu.guest" | sed '/^groups=kvm$/d' > "$S/tcg.guest"
        mv "$S/tcg.guest" "$S/qemu.guest"
    fi
    echo "# QEMU runs with -accel $qemu_accel"
}

# QEMU's extra arguments for qemu_start: the accelerator, a virtio-scsi bus
# for the hot-plugged disk (its unplug needs no guest OS).
qemu_hotplug_args() { echo -accel "$qemu_accel" -device virtio-scsi-pci,id=scsi0; }

# QEMU's whole command line as qemu_start gives it, with the QMP monitor,
# for a host daemon that starts QEMU itself.
qemu_hotplug_cmd() {
    echo "$qemu_bin" -nodefaults -display none -m 64 -machine q35 $(qemu_hotplug_args) \
        -drive "file=$S/images/disk.qcow2,if=virtio,format=qcow2" \
        -drive "file=$S/images/cd.iso,media=cdrom,readonly=on,format=raw" \
        -serial "file:$S/log/serial.log" \
        -chardev "socket,id=mon0,path=$mon,server=on,wait=off" -mon chardev=mon0,mode=control
}

# owner:group mode and the SELinux label of a file (empty for none).
file_label() {
    printf '%s %s\n' "$(stat -c '%u:%g %a' "$1")" \
        "$(getfattr --absolute-names --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0' || true)"
}
