# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the QEMU tests (. "$(dirname "$0")/qemu-lib.sh"): Debian's
# qemu-system-x86_64 run by `bulwarkctl run` under every plugin this host
# enforces.  See tests/qemu/README.md for the whole interface; in short:
#
#   qemu_require          skips (TAP plan 1..0) unless root, QEMU, qemu-img,
#                         getfattr, python3 and device programs are here
#   qemu_setup            scratch world $S, cgroup root $cg, bulwark.conf,
#                         images, $S/qemu.guest; the cleanup trap
#   qemu_kvm_setup        /dev/kvm as udev would make it (root:kvm 0660, the
#                         kvm group created if absent: policy/kvm-node.sh),
#                         under a lock held until exit, restored exactly by
#                         the trap; sets $kvm_usable (yes/no)
#   qemu_start GUEST [QEMU-ARGS...]   QEMU in the background under
#                         bulwarkctl run; waits for its monitor socket
#   qemu_hmp CMD          one HMP command over the monitor socket: its output
#   qemu_wait             waits for bulwarkctl run (30 s at most, then 124):
#                         its status in $qemu_status, QEMU's output in
#                         $S/qemu.out
#   qemu_snapshot FILE    owners, modes, every xattr of the guest's files and
#                         the cgroup tree, to compare before and after
#
# QEMU gets -nodefaults -display none -m 64, no network and no guest OS
# (SeaBIOS finds nothing to boot and waits), so a run takes a second or two.
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
qemu_bin=qemu-system-x86_64
# The guest's identity, as in examples/qemu.guest.
guest_uid=107 guest_gid=107
# Another test, the demo or the bench may change /dev/kvm the same way at
# the same time (make -j): kvm-node.sh's lock keeps them apart.
. "$src/policy/kvm-node.sh"

qemu_require() {
    require_root
    command -v "$qemu_bin" >/dev/null || skip_all "$qemu_bin not installed (Debian package qemu-system-x86)"
    command -v qemu-img >/dev/null || skip_all "qemu-img not installed (Debian package qemu-utils)"
    command -v getfattr >/dev/null || skip_all "getfattr not installed (Debian package attr)"
    require_python3
    require_devices
}

# The plugins that enforce here; apparmor only generates profiles on a
# kernel without AppArmor, so it is left out.
qemu_plugins=cgroup-bpf,dac,selinux,landlock

qemu_setup() {
    S=$(mktemp -d /tmp/bulwark-qemu.XXXXXX)
    chmod 755 "$S"
    cg="$root/bulwark-test-qemu-$$"
    qemu_pid=
    trap qemu_cleanup EXIT
    # <cgroup root>/bulwark is the parent of every guest's default cgroup:
    # bulwark makes it at the first start and keeps it, so it is made here,
    # before any snapshot, and the snapshots compare the guests' cgroups.
    mkdir "$cg" "$cg/bulwark" "$S/images" "$S/log" "$S/state" "$S/run"
    # The per-guest directory QEMU creates its monitor socket in (VMM
    # managers make one per guest, owned by the guest's user).
    install -d -o "$guest_uid" -g "$guest_gid" "$S/sock"
    qemu-img create -q -f raw "$S/images/base.raw" 64M
    qemu-img create -q -f qcow2 -b "$S/images/base.raw" -F raw "$S/images/disk.qcow2"
    truncate -s 1M "$S/images/cd.iso"
    : > "$S/log/serial.log"
    # A file that is not the guest's: QEMU must never open it.
    qemu-img create -q -f raw "$S/images/other.raw" 1M
    cat > "$S/bulwark.conf" <<EOF
[bulwark]
plugins=$qemu_plugins
plugin-dir=$top/plugins/cgroup-bpf/.libs:$top/security/label/.libs:$top/security/landlock/.libs
cgroup-root=$cg
state-dir=$S/state
run-dir=$S/run
[plugin:cgroup-bpf]
default-rules=$src/policy/devices/default.rules
[plugin:landlock]
base-rules=$src/policy/landlock/base.rules
EOF
    qemu_guest_file < "$src/examples/qemu.guest" > "$S/guest.in"
    # A node this host lacks cannot be given (its numbers are unknown).
    for dev in kvm:/dev/kvm tun:/dev/net/tun; do
        [ -c "${dev#*:}" ] && continue
        echo "# ${dev#*:} does not exist here: the guest goes without [device:${dev%%:*}]"
        qemu_drop_group "device:${dev%%:*}" < "$S/guest.in" > "$S/guest.out" && mv "$S/guest.out" "$S/guest.in"
    done
    mv "$S/guest.in" "$S/qemu.guest"
}

# examples/qemu.guest with its paths moved into $S (stdin to stdout).
qemu_guest_file() {
    sed -e "s|/var/lib/bulwark/images/qemu.qcow2|$S/images/disk.qcow2|" \
        -e "s|/var/lib/bulwark/images/qemu-install.iso|$S/images/cd.iso|" \
        -e "s|/var/log/bulwark/qemu-serial.log|$S/log/serial.log|" \
        -e "s|/run/bulwark/qemu/monitor.sock|$S/sock/monitor.sock|"
}

# qemu_drop_group TYPE:ID < GUEST > GUEST: the definition without that group.
qemu_drop_group() {
    awk -v g="[$1]" '/^\[/ { skip = ($0 == g) } !skip'
}

qemu_cleanup() {
    if [ -n "$qemu_pid" ]; then kill -TERM "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; fi
    "$ctl" --config "$S/bulwark.conf" guest stop --kill qemu >/dev/null 2>&1
    cgroup_remove "$cg"
    kvm_node_restore
    rm -rf "$S"
}

qemu_kvm_setup() {
    kvm_node_setup
    [ "$kvm_usable" = yes ] &&
        echo "# no udev here: /dev/kvm made root:kvm 0660 as udev's rule would (was ${kvm_saved}), restored at exit"
    return 0
}

# qemu_start GUEST [QEMU-ARGS...]: QEMU with the guest's disks, ISO, serial
# log and monitor socket (HMP; QEMU_MON_MODE=control makes it QMP), its
# stdout and stderr in $S/qemu.out, bulwarkctl's pid in $qemu_pid.
# Returns 0 once the socket is there, 1 when bulwarkctl exited first
# (then qemu_wait gives the status) or after 30 s.
qemu_start() {
    guest=$1; shift
    rm -f "$S/sock/monitor.sock"
    "$ctl" --config "$S/bulwark.conf" run "$guest" -- "$qemu_bin" -nodefaults -display none -m 64 \
        -machine q35 "$@" \
        -drive "file=$S/images/disk.qcow2,if=virtio,format=qcow2" \
        -drive "file=$S/images/cd.iso,media=cdrom,readonly=on,format=raw" \
        -serial "file:$S/log/serial.log" \
        -chardev "socket,id=mon0,path=$S/sock/monitor.sock,server=on,wait=off" \
        -mon "chardev=mon0${QEMU_MON_MODE:+,mode=$QEMU_MON_MODE}" \
        </dev/null >"$S/qemu.out" 2>&1 &
    qemu_pid=$!
    i=0
    while [ $i -lt 300 ]; do
        [ -S "$S/sock/monitor.sock" ] && return 0
        kill -0 "$qemu_pid" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# qemu_hmp CMD: sends one HMP command, prints what QEMU answered (the
# prompt and the echo left out).
qemu_hmp() {
    python3 - "$S/sock/monitor.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
if sys.argv[2] == "quit":
    # HMP reads its input a byte at a time: closing the connection before
    # QEMU has read all of it drops the rest, so wait for QEMU to close it.
    out = ""
    while s.recv(4096):
        pass
else:
    out = until_prompt()
# HMP echoes the line with terminal escapes; keep the lines after it.
lines = out.replace("\r", "").split("\n")[1:]
print("\n".join(l for l in lines if l != "(qemu) "))
EOF
}

# A QEMU still running after 30 s is killed (SIGKILL to bulwarkctl's
# command through SIGTERM to bulwarkctl) and the status is 124.
qemu_wait() {
    i=0
    while kill -0 "$qemu_pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$qemu_pid" 2>/dev/null; then
        echo "# QEMU still running after 30 s: stopped"
        kill -TERM "$qemu_pid"; wait "$qemu_pid"; qemu_status=124
    else wait "$qemu_pid"; qemu_status=$?; fi
    qemu_pid=
}

# qemu_snapshot FILE: every file the guest is given (and the file it is
# not), with owner, mode and every xattr (security.selinux, trusted.bulwark.*),
# /dev/kvm and /dev/net/tun, and the test's cgroup tree.
qemu_snapshot() {
    for f in "$S"/images/* "$S/log/serial.log" "$S/sock" /dev/kvm /dev/net/tun; do
        [ -e "$f" ] || continue
        stat -c '%n %u:%g %a' "$f"
        getfattr -h -d -m - -e hex "$f" 2>/dev/null | grep -v '^#'
    done
    (cd "$cg" && find . -type d | sort)
}
