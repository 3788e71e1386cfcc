#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-lockd's cross-host mode on a real GlusterFS volume: builds the two
# hosts of tests/crosshost/ and runs `bench-lockd --cross-host` on host a,
# its files on the volume (lockd and the raw F_OFD_SETLK floor both lock
# there).  Run from the build directory (`make bench-lockd-crosshost`);
# extra arguments go to bench-lockd.  Root; says why when it cannot run.
set -u
crosshost_dir="$(cd "$(dirname "$0")/../../tests/crosshost" && pwd)"
. "$crosshost_dir/crosshost-lib.sh"
bench="$top/bench/lockd/bench-lockd"
[ -x "$bench" ] || skip_all "$bench not built"
cross_setup
on_host a "$bench" --daemon "$lockd" --cross-host "$vol_mnt" "$@"
