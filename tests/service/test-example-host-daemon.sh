#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/host-daemon, built by make check, run against the built
# libbulwark.so with the nop plugin: start, a confined process, a disk
# attached while it runs, stop; the state directory holds no journal
# after.  Needs no root.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
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
tap_done
