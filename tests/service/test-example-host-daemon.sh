#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/host-daemon, built by make check, run against the built
# libbulwark.so with the nop plugin: start, a confined process, a disk
# attached while it runs, stop; the state directory holds no journal
# after.  Needs no root.  Then, as root with QEMU installed, the same with
# QEMU as the guest's process and every plugin this host enforces: the
# disk hot-plugged by descriptor over QMP (--qmp), detached, its owner and
# context back.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
# The QEMU case's world (it sources ctl-test-lib.sh again: before any case).
. "$(dirname "$0")/../qemu/qemu-lib.sh"
. "$(dirname "$0")/../qemu/test-qemu-hotplug-lib.sh"
example="$top/examples/host-daemon"
[ -x "$example" ] || skip_all "$example not built"
scratch_new
echo raw >"$scratch/root.img"
echo raw >"$scratch/data.img"
printf '[guest]\nname=example\nuser=%s\ngroup=%s\n[disk:root]\npath=%s/root.img\n' "$(id -u)" "$(id -g)" "$scratch" \
    >"$scratch/example.guest"
printf '[disk:data]\npath=%s/data.img\n' "$scratch" >"$scratch/data.disk"
printf '[bulwark]\nplugins=nop\n' >"$scratch/bulwark.conf"
out=$(BULWARK_CONFIG="$scratch/bulwark.conf" BULWARK_PLUGIN_DIR="$top/plugins/nop/.libs" BULWARK_STATE_DIR="$scratch/state" \
      BULWARK_CGROUP_ROOT="$scratch" "$example" "$top/.libs/libbulwark.so" "$scratch/example.guest" "$scratch/data.disk" 2>&1)
st=$?
want="guest 'example': started
guest 'example': process N started confined
guest 'example': disk attached while it runs
guest 'example': process exited with status 0
guest 'example': stopped, every change undone"
got=$(printf '%s\n' "$out" | sed 's/process [0-9]* started/process N started/')
if [ "$st" = 0 ] && [ "$got" = "$want" ]; then ok "host-daemon: start, a confined process, a disk hot-plugged while it runs, stop"
else not_ok "host-daemon" "status $st, output:" "$out" "want:" "$want"; fi
absent "no journal left" "$scratch/state/guests/example.journal"

# The QEMU case, in a world of its own (tests/qemu/qemu-lib.sh and
# test-qemu-hotplug-lib.sh): the guest of examples/qemu.guest.  QEMU's
# stderr (a warning about the host CPU under KVM) is kept apart.
qemu_case() {
    qemu_hotplug_setup
    before=$(file_label "$S/images/data.raw")
    # shellcheck disable=SC2046 # the command line is split into words
    out=$(BULWARK_CONFIG="$S/bulwark.conf" "$example" "$top/.libs/libbulwark.so" "$S/qemu.guest" "$S/data.disk" \
          --qmp "$mon" -- $(qemu_hotplug_cmd) 2>"$S/host-daemon.err")
    st=$?
    want="guest 'qemu': started
guest 'qemu': QEMU N started confined
guest 'qemu': disk 'data' attached (labelled and allowed)
guest 'qemu': disk 'data' hot-plugged by descriptor as /dev/fdset/0
guest 'qemu': disk 'data' unplugged from QEMU
guest 'qemu': disk 'data' detached (owner and label back)
guest 'qemu': process exited with status 0
guest 'qemu': stopped, every change undone"
    got=$(printf '%s\n' "$out" | sed 's/QEMU [0-9]* started/QEMU N started/')
    if [ "$st" = 0 ] && [ "$got" = "$want" ]; then ok "host-daemon --qmp: QEMU confined, a disk hot-plugged by descriptor and unplugged, stop"
    else not_ok "host-daemon --qmp" "status $st, output:" "$out" "errors (QEMU's too):" "$(cat "$S/host-daemon.err")" \
        "want:" "$want"; fi
    after=$(file_label "$S/images/data.raw")
    if [ "$after" = "$before" ]; then ok "host-daemon --qmp: the disk's owner, mode and context are back ($after)"
    else not_ok "host-daemon --qmp: the disk's owner, mode and context are back" "before: $before" "after: $after"; fi
    absent "host-daemon --qmp: no journal left" "$S/state/guests/qemu.journal"
    absent "host-daemon --qmp: no guest cgroup left" "$cg/bulwark/qemu"
}
why=$(qemu_hotplug_unusable)
if [ -n "$why" ]; then
    echo "# the QEMU case is skipped: $why"
else
    rm -rf "$scratch"
    require_devices
    qemu_case
fi
tap_done
