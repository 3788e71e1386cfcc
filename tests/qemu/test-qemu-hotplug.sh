#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hot-plug by descriptor, as VMM managers do it under Landlock: QEMU runs
# under `bulwarkctl run` with every plugin this host enforces (cgroup-bpf,
# dac, selinux labels, landlock; KVM when /dev/kvm answers, else TCG);
# `bulwarkctl guest attach` labels a second disk, the host side
# (examples/qmp-tool) opens it and passes the descriptor over QMP (add-fd,
# SCM_RIGHTS), QEMU adds it from /dev/fdset/N and the SCSI disk shows in
# query-block; QEMU's own open of the same file by path is refused
# (Landlock: the domain cannot grow).  A qcow2 disk on a raw backing file
# is passed file by file (the top image alone is refused: QEMU would open
# its backing file by path).  Detach reverses it and every owner,
# mode and xattr is back; QEMU quits cleanly, the guest stops, nothing is
# left.  In this process (--direct), or over the bus with --bus
# (test-qemu-hotplug-bus.sh).  As root; prints TAP.
set -u
. "$(dirname "$0")/qemu-lib.sh"
. "$(dirname "$0")/test-qemu-hotplug-lib.sh"
qemu_require
why=$(qemu_hotplug_unusable)
[ -z "$why" ] || skip_all "$why"
qemu_hotplug_setup
bus_pid= bulwarkd_pid=
if [ "${1:-}" = --bus ]; then
    # bulwarkd on a private system-like bus starts, attaches, detaches and
    # stops; bulwarkctl forks and confines QEMU here (ExecAttributes).
    . "$(dirname "$0")/../service/bus-test-lib.sh"
    scratch=$S plugins=$qemu_plugins cgroot=$cg
    plugin_dir="$top/plugins/cgroup-bpf/.libs:$top/security/label/.libs:$top/security/landlock/.libs"
    # Over the bus until the end; the cleanup stops bulwarkd, then undoes
    # what is left in this process.
    trap 'if [ -n "$qemu_pid" ]; then kill "$qemu_pid"; wait "$qemu_pid"; fi; bus_stop; BULWARKCTL_DIRECT=1 qemu_cleanup' EXIT
    bus_start
    bulwarkd_start || { not_ok "bulwarkd starts"; tap_done; exit; }
    unset BULWARKCTL_DIRECT
    ctl_() { "$ctl" --bus "$bus" "$@"; }
else
    ctl_() { "$ctl" --direct --config "$S/bulwark.conf" "$@"; }
fi
data="$S/images/data.raw"
data_before=$(file_label "$data")
# A qcow2 disk on a raw backing file (0x42, 'B', in its first 4 KiB): a
# chain QEMU must get by descriptor file by file.
chain="$S/images/chain.qcow2" chain_base="$S/images/chain-base.raw"
qemu-img create -q -f raw "$chain_base" 16M
qemu-io -f raw -c "write -P 0x42 0 4k" "$chain_base" >/dev/null
qemu-img create -q -f qcow2 -b chain-base.raw -F raw "$chain"
chmod 600 "$chain" "$chain_base"
printf '[disk:chain]\npath=%s\nformat=qcow2\n' "$chain" > "$S/chain.disk"
chain_before="$(file_label "$chain") $(file_label "$chain_base")"
qemu_snapshot > "$S/before"

check "qmp-tool --help lists the hot-plug pair" 0 "unplug-disk ID" "$qmp" --help
check "qmp-tool: an unknown command is a usage error" 2 "Usage: qmp-tool" "$qmp" "$mon" frobnicate
check "qmp-tool: no QEMU at the socket, named" 1 "QMP '$S/none.sock': cannot connect: No such file or directory" \
    "$qmp" --timeout 50 "$S/none.sock" hmp "info status"

# shellcheck disable=SC2046 # the arguments are split into words
if QEMU_MON_MODE=control qemu_start "$S/qemu.guest" $(qemu_hotplug_args); then ok "QEMU starts under bulwark"
else qemu_wait; not_ok "QEMU starts under bulwark" "status $qemu_status" "$(cat "$S/qemu.out")"; tap_done; exit; fi
check "QMP answers, VM status running" 0 "VM status: running" "$qmp" "$mon" hmp "info status"
check "QEMU's error class and description are shown" 1 "QMP '$mon': no-such-command: CommandNotFound: " \
    "$qmp" "$mon" execute '{"execute":"no-such-command"}'
check "the root disk and the CD are there" 0 "$S/images/cd.iso" "$qmp" "$mon" hmp "info block"

check "attach labels the second disk" 0 "guest 'qemu': attached" ctl_ guest attach qemu "$S/data.disk"
during=$(file_label "$data")
case $during in
    "107:107 "*) ok "the second disk is the guest uid's while attached ($during)" ;;
    *) not_ok "the second disk is the guest uid's while attached" "$during" ;;
esac
case $during in
    *" "*:*_t:*) ok "the second disk has the guest's SELinux context while attached" ;;
    *) not_ok "the second disk has the guest's SELinux context while attached" "$during" ;;
esac
check "the path is refused to QEMU (Landlock: the domain cannot grow)" 1 \
    "blockdev-add: GenericError: Could not open '$data': Permission denied" \
    "$qmp" "$mon" execute "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"bypath\",\"file\":{\"driver\":\"file\",\"filename\":\"$data\"}}}"
check "hot-plug by descriptor (add-fd, blockdev-add, device_add)" 0 "disk 'data': .* by descriptor as /dev/fdset/[0-9]" \
    "$qmp" "$mon" hotplug-disk data "$data" rw raw
check "info block shows it from /dev/fdset" 0 "^data: /dev/fdset/[0-9]* (raw)" "$qmp" "$mon" hmp "info block"
out=$("$qmp" "$mon" execute '{"execute":"query-block"}' 2>&1 |
      python3 -c 'import json,sys; print([b["qdev"] for b in json.load(sys.stdin) if b.get("inserted",{}).get("node-name") == "data"])' 2>&1)
if [ "$out" = "['data']" ]; then ok "query-block: the SCSI device 'data' holds the node"
else not_ok "query-block: the SCSI device 'data' holds the node" "$out"; fi
# 0x5a is 'Z': QEMU's write through the descriptor lands in the file.
check "QEMU writes to the disk (qemu-io)" 0 "" "$qmp" "$mon" hmp "qemu-io -d data \"write -P 0x5a 0 4k\""
if [ "$(head -c 4096 "$data" | tr -d Z | wc -c)" = 0 ]; then ok "the bytes QEMU wrote are in the file"
else not_ok "the bytes QEMU wrote are in the file" "$(head -c 16 "$data" | od -An -tx1)"; fi

check "unplug (device_del, DEVICE_DELETED, blockdev-del, remove-fd)" 0 "disk 'data': unplugged" "$qmp" "$mon" unplug-disk data
check "no fdset left in QEMU" 0 "^\[ *\]$" "$qmp" "$mon" execute '{"execute":"query-fdsets"}'
check "detach" 0 "guest 'qemu': detached \[disk:data\]" ctl_ guest detach qemu disk:data
after=$(file_label "$data")
if [ "$after" = "$data_before" ]; then ok "the second disk's owner, mode and context are back ($after)"
else not_ok "the second disk's owner, mode and context are back" "before: $data_before" "after: $after"; fi
if xattrs=$(getfattr -h -d -m - "$data" 2>/dev/null | grep -v '^#' | grep .); then
    not_ok "no context or record left on the second disk" "$xattrs"
else ok "no context or record left on the second disk"; fi

# The qcow2 chain: attach labels both files; the top alone by descriptor
# is not enough (QEMU opens the backing file by path: refused), the chain
# file by file is.
check "attach labels the qcow2 disk and its backing file" 0 "guest 'qemu': attached" ctl_ guest attach qemu "$S/chain.disk"
case $(file_label "$chain_base") in
    "107:107 "*) ok "the backing file is the guest uid's while attached" ;;
    *) not_ok "the backing file is the guest uid's while attached" "$(file_label "$chain_base")" ;;
esac
check "the top image alone by descriptor: QEMU cannot open its backing file" 1 \
    "blockdev-add: GenericError: Could not open backing file" \
    "$qmp" "$mon" hotplug-disk chain "$chain" rw qcow2
check "... and what it added is removed again" 0 "^\[ *\]$" "$qmp" "$mon" execute '{"execute":"query-fdsets"}'
check "hot-plug of the chain, file by file by descriptor" 0 "disk 'chain': .*, its backing chain by descriptor too" \
    "$qmp" "$mon" hotplug-disk chain "$chain" rw qcow2 "$chain_base"
check "info block: the overlay and its backing file, both from /dev/fdset" 0 "Backing file: *\/dev\/fdset\/[0-9]" \
    "$qmp" "$mon" hmp "info block chain"
# 0x43 is 'C': a write through the chain lands in the overlay, and the
# backing file, opened read-only, keeps its 'B's.
check "QEMU writes to the chain (qemu-io)" 0 "" "$qmp" "$mon" hmp "qemu-io -d chain \"write -P 0x43 0 4k\""
if grep -q CCCCCCCC "$chain" && [ "$(head -c 4096 "$chain_base" | tr -d B | wc -c)" = 0 ]; then
    ok "the write is in the overlay, the backing file unchanged"
else not_ok "the write is in the overlay, the backing file unchanged" "$(head -c 16 "$chain_base" | od -An -tx1)"; fi
check "unplug of the chain" 0 "disk 'chain': unplugged" "$qmp" "$mon" unplug-disk chain
check "no fdset left in QEMU after the chain" 0 "^\[ *\]$" "$qmp" "$mon" execute '{"execute":"query-fdsets"}'
check "detach of the chain" 0 "guest 'qemu': detached \[disk:chain\]" ctl_ guest detach qemu disk:chain
chain_after="$(file_label "$chain") $(file_label "$chain_base")"
if [ "$chain_after" = "$chain_before" ]; then ok "both files of the chain are as before ($chain_after)"
else not_ok "both files of the chain are as before" "before: $chain_before" "after: $chain_after"; fi

check "QEMU quits" 0 "" "$qmp" "$mon" quit
qemu_wait
if [ "$qemu_status" = 0 ]; then ok "bulwarkctl run: QEMU exited 0, the guest stopped"
else not_ok "bulwarkctl run: QEMU exited 0, the guest stopped" "status $qemu_status" "$(cat "$S/qemu.out")"; fi
absent "no journal left" "$S/state/guests/qemu.journal"
qemu_snapshot > "$S/after"
if diff "$S/before" "$S/after" > "$S/diff"; then ok "every owner, mode, xattr and cgroup is as before"
else not_ok "every owner, mode, xattr and cgroup is as before" "$(cat "$S/diff")"; fi
tap_done
