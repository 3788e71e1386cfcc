# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh) by demo.sh, tests/qemu/qemu-lib.sh, tests/service/test-demo.sh
# and bench/e2e/bench-e2e-qemu.sh: /dev/kvm as a distribution's udev rule
# leaves it (root:kvm 0660, VMM users in the kvm group) on a host without
# udev, where it is root:root 0600, and given back exactly afterwards.
# Every user holds one lock from its change to its restore, so tests, the
# demo and the bench running at once never undo each other's setup.
#   kvm_node_setup     takes the lock (descriptor 8), saves owner and mode in
#                      $kvm_saved ("UID:GID MODE"), creates the kvm group if
#                      absent, makes the node root:kvm 0660; sets $kvm_usable
#                      to yes when the kernel answers KVM_GET_API_VERSION
#                      through it, else no (and then restores at once)
#   kvm_node_restore   gives the owner and mode back, deletes the group if
#                      setup created it, releases the lock
#   kvm_node_at_rest   prints "UID:GID MODE" read under the lock, so never in
#                      the middle of another user's change
kvm_node_lock=/run/bulwark-test-kvm.lock
kvm_saved= kvm_created= kvm_usable=no

kvm_node_setup() {
    kvm_usable=no
    [ -c /dev/kvm ] || return 0
    exec 8>"$kvm_node_lock"
    flock 8
    kvm_saved=$(stat -c '%u:%g %a' /dev/kvm)
    if ! getent group kvm >/dev/null; then
        groupadd --system kvm && kvm_created=yes
    fi
    chown root:kvm /dev/kvm && chmod 0660 /dev/kvm
    # KVM_GET_API_VERSION (0xae00) answers 12 on every kernel with KVM.
    if python3 -c 'import fcntl, os; os._exit(0 if fcntl.ioctl(os.open("/dev/kvm", os.O_RDWR), 0xae00) == 12 else 1)' 2>/dev/null
    then kvm_usable=yes
    else kvm_node_restore
    fi
}

kvm_node_restore() {
    [ -n "$kvm_saved" ] || return 0
    chown "${kvm_saved% *}" /dev/kvm
    chmod "${kvm_saved#* }" /dev/kvm
    [ "$kvm_created" = yes ] && groupdel kvm
    kvm_saved= kvm_created=
    exec 8>&-
}

kvm_node_at_rest() {
    ( flock 9; stat -c '%u:%g %a' /dev/kvm 2>/dev/null ) 9>"$kvm_node_lock"
}
