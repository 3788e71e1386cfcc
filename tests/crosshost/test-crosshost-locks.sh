#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Two hosts, each with its own bulwark-lockd, on one real GlusterFS volume:
# exclusion and shared locks across hosts, a waiting `bulwarkctl lock`,
# libvirt-style POSIX locks on byte 1 both ways, and a killed client or
# daemon freeing its locks for the other host (how fast is printed).
# Prints TAP.
set -u
. "$(dirname "$0")/crosshost-lib.sh"
byte1="$(cd "$(dirname "$0")" && pwd)/byte1.py"
cross_setup

on_host a sh -c "echo image >$vol_mnt/disk1 && echo image >$vol_mnt/disk2"
disk1="$vol_mnt/disk1" disk2="$vol_mnt/disk2"

hold_on a "$disk1"
check "host b: busy, naming another host" 75 "another host" lock_on b --timeout 0 "$disk1" -- true
check "host b: the other disk is free" 0 "" lock_on b --timeout 0 "$disk2" -- true
# A waits: it gets the lock once host a's holder lets go.
spawn_on b "$ctl" lock --socket "$scratch/b/lockd.sock" --timeout 20 "$disk1" -- sh -c "echo got >$scratch/b-got"
waiter=$!
sleep 0.5
absent "host b is still waiting while a holds it" "$scratch/b-got"
unhold
if wait "$waiter" && [ -e "$scratch/b-got" ]; then ok "host b gets the lock when host a releases it"
else not_ok "host b gets the lock when host a releases it"; fi

hold_on a --shared "$disk1"
check "shared locks coexist across hosts" 0 "" lock_on b --shared --timeout 0 "$disk1" -- true
check "exclusive against a shared lock of the other host" 75 "another host" lock_on b --timeout 0 "$disk1" -- true
unhold

# libvirt's metadata lock: a POSIX lock on byte 1, both ways.
spawn_on b python3 "$byte1" posix-hold "$disk1" "$scratch/posix-b"
posix=$!
wait_for "$scratch/posix-b"
check "a POSIX lock on host b blocks host a's lockd" 75 "another host" lock_on a --timeout 0 "$disk1" -- true
kill "$posix"; wait "$posix" 2>/dev/null
hold_on a "$disk1"
check "host a's lockd blocks a POSIX lock on host b" 3 "" on_host b python3 "$byte1" posix-probe "$disk1"
unhold

# Crashes: SIGKILL of the client, then of host a's lockd.  A prober on host
# b polls byte 1 meanwhile; it prints when it got the lock.
# killed_frees WHAT PID PATH: kills PID, checks host b gets PATH.
killed_frees() {
    rm -f "$scratch/polling"
    on_host b python3 "$byte1" ofd-wait "$3" 10 "$scratch/polling" >"$scratch/got" &
    prober=$!
    wait_for "$scratch/polling"
    t0=$(date +%s.%N)
    kill -KILL "$2"
    if wait "$prober"; then
        ok "SIGKILL of host a's $1 frees the lock for host b"
        echo "# freed for host b $(python3 -c "print('%.1f' % ((float('$(cat "$scratch/got")') - $t0) * 1000))") ms after SIGKILL of the $1"
    else not_ok "SIGKILL of host a's $1 frees the lock for host b"; fi
}
hold_on a "$disk1"
killed_frees client "$holder" "$disk1"
unhold
hold_on a "$disk2"
killed_frees lockd "$lockd_a" "$disk2"
unhold

tap_done
