#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Whole guest starts across hosts: one guest definition with a disk on the
# volume, started through the core with lock-backend=lockd on each host
# (its own lockd, state and cgroup root).  Host a's start leases the disk
# in its lockd for as long as the guest runs: host b's start of the same
# definition is refused busy, naming the path, while host a's guest runs
# (its lease is the byte-1 lock host b's lockd meets on the volume), and
# succeeds once host a stopped it.  The fake-files test plugin locks the
# disk for every change, which the guest's own lease grants.  A re-exec
# of host a's lockd meanwhile keeps the lease.  Prints TAP.
set -u
. "$(dirname "$0")/crosshost-lib.sh"
cross_setup

on_host a sh -c "echo image >$vol_mnt/demo.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/demo.img\n' "$vol_mnt" >"$scratch/demo.guest"
for h in a b; do
    mkdir -p "$scratch/$h/markers" "$scratch/$h/cgroup"
    printf '[bulwark]\nlock-backend=lockd\nlock-timeout=0.5\n[lockd]\nsocket=%s/%s/lockd.sock\n[plugin:fake-files]\ndir=%s/%s/markers\nlock=%s/demo.img\n' \
        "$scratch" "$h" "$scratch" "$h" "$vol_mnt" >"$scratch/$h/bulwark.conf"
done
# guest_on a|b ARGS...: bulwarkctl guest on a host, in-process, with its own state.
guest_on() {
    h=$1; shift
    ctl_on "$h" --config "$scratch/$h/bulwark.conf" --plugin-dir "$top/plugins/nop/.libs:$top/tests/plugins/.libs" \
        --plugins nop,fake-files --state-dir "$scratch/$h/state" --cgroup-root "$scratch/$h/cgroup" guest "$@"
}

check "host a starts the guest through its lockd" 0 "guest 'demo': started" guest_on a start "$scratch/demo.guest"
check "host a's lockd leases the disk to the guest while it runs" 0 "lease .*$vol_mnt/demo.img" \
    ctl_on a locks --socket "$scratch/a/lockd.sock"
check "host b's start is refused busy while host a's guest runs" 75 "$vol_mnt/demo.img.*another host" \
    guest_on b start "$scratch/demo.guest"
absent "nothing was applied on host b" "$scratch/b/markers/root"
# The lease lives in host a's lockd, which re-executes keeping it.
kill -USR1 "$lockd_a"
for _ in $(seq 100); do grep -q "re-executed in" "$scratch/a/lockd.log" && break; sleep 0.05; done
check "host a's lockd re-executed" 0 "re-executed in" cat "$scratch/a/lockd.log"
check "host a's lockd still leases the disk to the guest" 0 "lease .*$vol_mnt/demo.img" \
    ctl_on a locks --socket "$scratch/a/lockd.sock"
check "host b's start is still refused" 75 "$vol_mnt/demo.img.*another host" guest_on b start "$scratch/demo.guest"
check "host a stops its guest" 0 "stopped" guest_on a stop demo
check "host b starts it once host a's guest stopped" 0 "guest 'demo': started" guest_on b start "$scratch/demo.guest"
exists "host b applied it" "$scratch/b/markers/root"
check "host a's start is refused busy in turn" 75 "$vol_mnt/demo.img.*another host" \
    guest_on a start "$scratch/demo.guest"
check "host b stops it" 0 "stopped" guest_on b stop demo

tap_done
