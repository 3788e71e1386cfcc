#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl guest start|stop|list and recover with the nop plugin (no
# root): the guest lock makes stop time out (exit 75) and recover skip, a
# corrupt journal makes recover exit 1 and stay byte for byte, recover
# --force undoes what it can and keeps a copy.  Prints TAP.
set -u
. "$(dirname "$0")/ctl-test-lib.sh"
plugins=nop
scratch_new
printf '[bulwark]\nlock-timeout=0.2\n' >"$scratch/bulwark.conf"
echo raw >"$scratch/demo.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/demo.img\n' "$scratch" >"$scratch/demo.guest"
journal="$scratch/state/guests/demo.journal"

check "guest --help documents stop --kill" 0 "stop \[--kill\] NAME" "$ctl" guest --help
check "recover --help documents --force" 0 "\-\-force GUEST" "$ctl" recover --help
check "start" 0 "guest 'demo': started" run guest start "$scratch/demo.guest"
check "list shows it running" 0 "^demo  *running" run guest list
if run guest list --json | python3 -c 'import json,sys; assert json.load(sys.stdin)[0]["status"] == "running"'; then
    ok "list --json"; else not_ok "list --json"; fi
check "a second start is refused" 1 "already started" run guest start "$scratch/demo.guest"

# Another transaction holds the guest's lock (this shell, through fd 9).
exec 9>"$scratch/state/guests/.demo.lock"
flock -x 9
check "stop waits for the guest lock, then exits 75" 75 "guest 'demo': another transaction" run guest stop demo
check "recover skips the locked guest" 0 "guest 'demo': skipped" run recover
check "recover of the locked guest says busy" 75 "guest 'demo'" run recover demo
exec 9>&-

# Flip a byte in the payload of record 1 (of BEGIN GUEST INTENT DONE COMMIT):
# --force then re-parses BEGIN's definition and can undo everything.
python3 - "$journal" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
off = 0
for _ in range(1):
    off += 16 + struct.unpack_from('<I', b, off + 8)[0]
b[off + 16] ^= 0x40
open(p, 'wb').write(b)
PY
cp "$journal" "$scratch/damaged"
check "recover refuses a corrupt journal, exit 1" 1 "demo.journal': corrupt record at offset" run recover
if cmp -s "$journal" "$scratch/damaged"; then ok "the corrupt journal is left as it is"
else not_ok "the corrupt journal is left as it is"; fi
check "stop refuses it too" 1 "recover --force demo" run guest stop demo
check "list says corrupt" 0 "^demo  *corrupt" run guest list
check "recover --force undoes what it can" 0 "guest 'demo': recovered" run recover --force demo
if [ ! -e "$journal" ] && cmp -s "$scratch/damaged" "$scratch"/state/guests/demo.journal.corrupt-*; then
    ok "the journal is gone and a copy of the damaged one kept"
else not_ok "the journal is gone and a copy of the damaged one kept" "$(ls -a "$scratch/state/guests")"; fi
check "stop --kill of a guest that is not started" 1 "guest 'demo': not started" run guest stop --kill demo

tap_done
