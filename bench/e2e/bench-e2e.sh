#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-e2e: `bulwarkctl run GUEST -- /bin/true` over the bus (bulwarkd on a
# private bus) for a guest with 10 disks and 5 device nodes, against
# /bin/true alone: the time run adds, median of 20, for each plugin alone
# (nop: the machinery with no plugin work) and all of them together.  The
# plugins are cgroup-bpf and those of dac, selinux, apparmor and landlock
# this build has.  As root, in a scratch cgroup root; target <= 50 ms.
set -eu
build=${BUILD_DIR:-$(pwd)} src=${SRC_DIR:-$build/..}
. "$src/bench/dbus/private-bus.sh"
. "$src/bench/e2e/e2e-lib.sh"
runs=${BENCH_RUNS:-20}
cgroot=/sys/fs/cgroup
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || cgroot=/sys/fs/cgroup/unified
scratch=$(mktemp -d)
cg="$cgroot/bulwark-bench-e2e-$$"
mkdir "$cg"
trap 'bench_bus_stop; for d in "$cg"/bulwark/* "$cg"/bulwark "$cg"; do [ -d "$d" ] && rmdir "$d"; done; rm -rf "$scratch"' EXIT
chmod 755 "$scratch"

{
    printf '[guest]\nname=bench\nuser=107\ngroup=107\n'
    for i in $(seq 10); do
        head -c 4096 /dev/zero >"$scratch/disk$i.img"
        printf '[disk:d%s]\npath=%s/disk%s.img\nformat=raw\n' "$i" "$scratch" "$i"
    done
    for dev in null zero full random urandom; do printf '[device:%s]\npath=/dev/%s\naccess=rw\n' "$dev" "$dev"; done
} >"$scratch/bench.guest"

e2e_configs
time_true() { for _ in $(seq "$runs"); do t=$(ns); /bin/true; echo $(( $(ns) - t )); done | median; }

bench_bus_start "$scratch"
printf '%-34s %12s %12s %12s\n' "PLUGINS" "RUN (ms)" "TRUE (ms)" "ADDED (ms)"
for plugins in $configs; do
    e2e_bulwarkd_start "$plugins" "$scratch" "$cg"
    "$build/bulwarkctl" --bus "$bus" run "$scratch/bench.guest" -- /bin/true # warm
    run=$(for _ in $(seq "$runs"); do
              t=$(ns); "$build/bulwarkctl" --bus "$bus" run "$scratch/bench.guest" -- /bin/true; echo $(( $(ns) - t ))
          done | median)
    floor=$(time_true)
    awk -v p="$plugins" -v r="$run" -v f="$floor" \
        'BEGIN { printf "%-34s %12.2f %12.2f %12.2f\n", p, r / 1e6, f / 1e6, (r - f) / 1e6 }'
    bench_bulwarkd_stop
done
echo "median of $runs runs each; ADDED = RUN - TRUE (target <= 50 ms); a plugin's own share is its row minus nop's"
