#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lost locks: host a holds a lock through its lockd, then its network to
# the server is cut.  The server frees the lock after the volume's ping
# timeout without telling host a; host a's lockd, re-asserting its locks
# every second, must find it lost within the window the README states
# (reassert interval + ping timeout, plus 4 s of margin here), log it,
# list it as LOST, refuse it to new requests, and tell its holder.
# Prints TAP.
set -u
. "$(dirname "$0")/crosshost-lib.sh"
byte1="$(cd "$(dirname "$0")" && pwd)/byte1.py"
interval_s=1
lockd_conf="reassert-interval-ms=$((interval_s * 1000))"
cross_setup
window=$((interval_s + ping_timeout + 4))

on_host a sh -c "echo image >$vol_mnt/disk1"
disk1="$vol_mnt/disk1"
locks_a() { ctl_on a locks --socket "$scratch/a/lockd.sock"; }

hold_on a "$disk1"
check "host a holds the lock" 0 "exclusive file .* $disk1" locks_a
t0=$(date +%s.%N)
host_cut a
# lockd's loop waits in the re-asserted lock while the network is down, so
# a listing may take up to the ping timeout.
lost=""
while [ "$(python3 -c "print(int($(date +%s.%N) - $t0))")" -lt 30 ]; do
    if locks_a 2>/dev/null | grep -q "LOST .* $disk1"; then lost=$(date +%s.%N); break; fi
    sleep 0.2
done
if [ -n "$lost" ]; then
    took=$(python3 -c "print('%.1f' % ($lost - $t0))")
    echo "# host a's lockd listed the lock LOST $took s after the cut"
    if python3 -c "import sys; sys.exit(0 if $took <= $window else 1)"; then
        ok "the loss is found within ${window} s"
    else not_ok "the loss is found within ${window} s" "found after $took s"; fi
else not_ok "the loss is found within ${window} s" "$(locks_a 2>&1)"; fi
check "lockd logs it" 0 "lock on byte 1 lost" cat "$scratch/a/lockd.log"

# The server frees it for host b meanwhile (after its own timeout).
if got=$(on_host b python3 "$byte1" ofd-wait "$disk1" 60); then
    ok "host b gets the lock host a lost"
    echo "# host b got it $(python3 -c "print('%.1f' % ($got - $t0))") s after the cut"
else not_ok "host b gets the lock host a lost"; fi

# Back on the network, host a still never trusts it again.
ip -n "bwx$id-a" link set "bwx${id}a" up
for _ in $(seq 100); do on_host a cat "$disk1" >/dev/null 2>&1 && break; sleep 0.2; done
check "host a still lists it LOST once reconnected" 0 "LOST .* $disk1" locks_a
check "host a's lockd refuses it to a new request" 75 "was lost" lock_on a --timeout 0 "$disk1" -- true
# The holder is told when its command ends.
kill -TERM "$holder_cmd"
wait "$holder"
check "the holder is told the lock was lost" 0 "path '$disk1': the lock was lost" cat "$scratch/holder.out"

tap_done
