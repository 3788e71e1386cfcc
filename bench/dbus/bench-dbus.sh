#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-dbus on a private bus with bulwarkd (nop plugin, scratch state):
# ListGuests against Peer.Ping.  As root (the bus policy).
set -eu
build=${BUILD_DIR:-$(pwd)} src=${SRC_DIR:-$build/..}
. "$src/bench/dbus/private-bus.sh"
scratch=$(mktemp -d)
trap 'bench_bus_stop; rm -rf "$scratch"' EXIT
printf '[bulwark]\nplugins=nop\n' >"$scratch/bulwark.conf"
bench_bus_start "$scratch"
bench_bulwarkd_start --config "$scratch/bulwark.conf" --plugin-dir "$build/plugins/nop/.libs" \
    --state-dir "$scratch/state" --cgroup-root "$scratch"
"$build/bench/dbus/bench-dbus" "$bus"
