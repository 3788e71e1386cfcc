#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Re-exec across hosts: host a's lockd holds locks on the volume and is
# told to re-execute itself (SIGUSR1) while host b tries to take them
# without pause.  Host b never gets one; host a still holds them all
# afterwards, from the new image.  Prints TAP.
set -u
. "$(dirname "$0")/crosshost-lib.sh"
byte1="$(cd "$(dirname "$0")" && pwd)/byte1.py"
cross_setup

on_host a sh -c "for i in 1 2 3; do echo image >$vol_mnt/disk\$i; done"
hold_on a "$vol_mnt/disk1" "$vol_mnt/disk2" "$vol_mnt/disk3"
# A prober on host b, trying disk2 for 4 s.
on_host b python3 "$byte1" ofd-never "$vol_mnt/disk2" 4 "$scratch/trying" &
prober=$!
wait_for "$scratch/trying"
before=$(ctl_on a --json locks --socket "$scratch/a/lockd.sock")
kill -USR1 "$lockd_a"
# The new image answers once it has rebuilt its state.
for _ in $(seq 100); do grep -q "re-executed in" "$scratch/a/lockd.log" && break; sleep 0.05; done
check "host a's lockd re-executed" 0 "re-executed in" cat "$scratch/a/lockd.log"
if wait "$prober"; then ok "host b never got the lock during the re-exec"
else not_ok "host b never got the lock during the re-exec"; fi
after=$(ctl_on a --json locks --socket "$scratch/a/lockd.sock")
if [ "$(printf '%s' "$before" | python3 -c 'import json,sys; print(sorted(l["path"] for l in json.load(sys.stdin)["locks"] if not l["lost"]))')" = \
     "$(printf '%s' "$after" | python3 -c 'import json,sys; print(sorted(l["path"] for l in json.load(sys.stdin)["locks"] if not l["lost"]))')" ] &&
   [ "$(printf '%s' "$after" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["locks"]))')" = 3 ]; then
    ok "host a holds the same 3 locks after the re-exec"
else not_ok "host a holds the same 3 locks after the re-exec" "before: $before" "after: $after"; fi
check "host b is still refused" 75 "another host" lock_on b --timeout 0 "$vol_mnt/disk3" -- true
unhold
check "host b gets them once host a releases" 0 "" lock_on b --timeout 5 "$vol_mnt/disk1" "$vol_mnt/disk2" -- true

tap_done
