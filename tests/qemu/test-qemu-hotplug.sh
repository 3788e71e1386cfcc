#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hot-plug by descriptor, as VMM managers do it under Landlock: QEMU runs
# under `bulwarkctl run` with every plugin this host enforces (cgroup-bpf,
# dac, selinux labels, landlock; TCG, no /dev/kvm); `bulwarkctl guest
# attach` labels a second disk, the host side (examples/qmp-tool) opens it
# and passes the descriptor over QMP (add-fd, SCM_RIGHTS), QEMU adds it
# from /dev/fdset/N and the SCSI disk shows in query-block; QEMU's own
# open of the same file by path is refused (Landlock: the domain cannot
# grow).  Detach reverses it and the disk's owner and context are back;
# QEMU quits cleanly, the guest stops, nothing is left.  As root; prints
# TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
qmp="$top/examples/qmp-tool"
require_root
require_python3
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (apt-get install qemu-utils)"
command -v getfattr >/dev/null || skip_all "getfattr not installed (apt-get install attr)"
[ -x "$qmp" ] || skip_all "$qmp not built"
require_devices
abi=$("$top/tests/landlock/ll-layers" true 2>&1; echo "rc=$?")
case $abi in *rc=77*) skip_all "Landlock unusable here: $abi" ;; esac

scratch=$(mktemp -d)
cg="$root/bulwark-test-qemu-hotplug-$$"
ctl_pid=
cleanup() {
    # QEMU (and bulwarkctl run waiting for it) first, then the guest, its
    # cgroup root and the scratch files.
    [ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null
    [ -d "$cg" ] && for p in $(cat "$cg"/bulwark/*/cgroup.procs 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    [ -n "$ctl_pid" ] && wait "$ctl_pid" 2>/dev/null
    [ -d "$scratch/state" ] && ctl_ guest stop qhot >/dev/null 2>&1
    [ -d "$cg" ] && cgroup_remove "$cg"
    rm -rf "$scratch"
}
trap cleanup EXIT
mkdir "$cg"
chmod 755 "$scratch"
S=$scratch

# The guest's files, as a VMM manager lays them out: a qcow2 disk on a raw
# backing file, a read-only ISO, a serial log, and a per-guest socket
# directory the guest's uid may create QEMU's monitor socket in.
qemu-img create -q -f raw "$S/base.raw" 16M
qemu-img create -q -f qcow2 -b "$S/base.raw" -F raw "$S/disk.qcow2"
truncate -s 1M "$S/cd.iso"
: > "$S/serial.log"
install -d -o 107 -g 107 "$S/sock"
# The disk hot-plugged later: root's, not in the definition.
qemu-img create -q -f raw "$S/data.raw" 16M
chmod 600 "$S/data.raw"
cat > "$S/qhot.guest" <<EOF
[guest]
name=qhot
user=107
group=107
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
path=$S/sock/monitor.sock
EOF
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
ctl_() { "$ctl" --direct --config "$S/bulwark.conf" "$@"; }
# owner:group mode and the SELinux label of a file ("-" for none).
file_label() {
    printf '%s %s\n' "$(stat -c '%u:%g %a' "$1")" \
        "$(getfattr --absolute-names --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0' || true)"
}
# Every trusted.* attribute bulwark left on a file (its records).
file_records() { getfattr --absolute-names -d -m '^trusted\.' "$1" 2>/dev/null | grep -v '^#' | grep .; }
data_before=$(file_label "$S/data.raw")

ctl_ run "$S/qhot.guest" -- qemu-system-x86_64 -nodefaults -display none -machine q35,accel=tcg -m 64 \
    -drive "file=$S/disk.qcow2,if=virtio,format=qcow2" -drive "file=$S/cd.iso,media=cdrom,readonly=on,format=raw" \
    -device virtio-scsi-pci,id=scsi0 -serial "file:$S/serial.log" \
    -chardev "socket,id=mon0,path=$S/sock/monitor.sock,server=on,wait=off" -mon chardev=mon0,mode=control \
    </dev/null >"$S/qemu.out" 2>&1 &
ctl_pid=$!
mon="$S/sock/monitor.sock"

check "QEMU under bulwark: QMP answers, VM status running" 0 "VM status: running" "$qmp" "$mon" hmp "info status"
check "the root disk and the CD are there" 0 "$S/cd.iso" "$qmp" "$mon" hmp "info block"

check "attach labels the second disk" 0 "guest 'qhot': attached" ctl_ guest attach qhot "$S/data.disk"
during=$(file_label "$S/data.raw")
case $during in
    "107:107 "*) ok "the second disk is the guest uid's while attached ($during)" ;;
    *) not_ok "the second disk is the guest uid's while attached" "$during" ;;
esac
case $during in
    *" "*:*_t:*) ok "the second disk has the guest's SELinux context while attached" ;;
    *) not_ok "the second disk has the guest's SELinux context while attached" "$during" ;;
esac
check "the path is refused to QEMU (Landlock: the domain cannot grow)" 1 \
    "blockdev-add: GenericError: Could not open '$S/data.raw': Permission denied" \
    "$qmp" "$mon" execute "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"bypath\",\"file\":{\"driver\":\"file\",\"filename\":\"$S/data.raw\"}}}"
check "hot-plug by descriptor (add-fd, blockdev-add, device_add)" 0 "disk 'data': .* by descriptor as /dev/fdset/[0-9]" \
    "$qmp" "$mon" hotplug-disk data "$S/data.raw" rw raw
check "info block shows it from /dev/fdset" 0 "^data: /dev/fdset/[0-9]* (raw)" "$qmp" "$mon" hmp "info block"
out=$("$qmp" "$mon" execute '{"execute":"query-block"}' 2>&1 |
      python3 -c 'import json,sys; print([b["qdev"] for b in json.load(sys.stdin) if b.get("inserted",{}).get("node-name") == "data"])' 2>&1)
if [ "$out" = "['data']" ]; then ok "query-block: the SCSI device 'data' holds the node"
else not_ok "query-block: the SCSI device 'data' holds the node" "$out"; fi
# 0x5a is 'Z': QEMU's write through the descriptor lands in the file.
check "QEMU writes to the disk (qemu-io)" 0 "" "$qmp" "$mon" hmp "qemu-io -d data \"write -P 0x5a 0 4k\""
if [ "$(head -c 4096 "$S/data.raw" | tr -d Z | wc -c)" = 0 ]; then ok "the bytes QEMU wrote are in the file"
else not_ok "the bytes QEMU wrote are in the file" "$(head -c 16 "$S/data.raw" | od -An -tx1)"; fi

check "unplug (device_del, DEVICE_DELETED, blockdev-del, remove-fd)" 0 "disk 'data': unplugged" "$qmp" "$mon" unplug-disk data
check "no fdset left in QEMU" 0 "^\[ *\]$" "$qmp" "$mon" execute '{"execute":"query-fdsets"}'
check "detach" 0 "guest 'qhot': detached \[disk:data\]" ctl_ guest detach qhot disk:data
after=$(file_label "$S/data.raw")
if [ "$after" = "$data_before" ]; then ok "the second disk's owner, mode and context are back ($after)"
else not_ok "the second disk's owner, mode and context are back" "before: $data_before" "after: $after"; fi
if recs=$(file_records "$S/data.raw"); then not_ok "no record left on the second disk" "$recs"; else ok "no record left on the second disk"; fi

check "QEMU quits" 0 "" "$qmp" "$mon" quit
wait "$ctl_pid"; st=$?
ctl_pid=
if [ "$st" = 0 ]; then ok "bulwarkctl run: QEMU exited 0, the guest stopped"
else not_ok "bulwarkctl run: QEMU exited 0, the guest stopped" "status $st" "$(cat "$S/qemu.out")"; fi
absent "no journal left" "$S/state/guests/qhot.journal"
absent "no guest cgroup left" "$cg/bulwark/qhot"
case $(file_label "$S/disk.qcow2") in
    "0:0 "*) ok "the root disk is root's again" ;;
    *) not_ok "the root disk is root's again" "$(file_label "$S/disk.qcow2")" ;;
esac
tap_done
