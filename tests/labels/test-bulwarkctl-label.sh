#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl label show, scan and restore, on a guest started with the dac
# and selinux plugins and on a record another boot left.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
require_root
require_python3
[ -f "$top/security/label/.libs/selinux.so" ] || skip_all "the selinux plugin is not built (no libselinux)"
scratch_new
printf '[bulwark]\nlock-timeout=0.3\n' > "$scratch/bulwark.conf"
lrun() { "$ctl" --config "$scratch/bulwark.conf" --plugin-dir "$top/security/label/.libs:$top/plugins/nop/.libs" \
         --plugins dac,selinux --state-dir "$scratch/state" --cgroup-root "$scratch" "$@"; }
img="$scratch/disk.img" old="$scratch/old.img"
echo data > "$img"; echo data > "$old"
chown 1:2 "$img" "$old"
printf '[guest]\nname=lbl\nuser=107\ngroup=107\n[disk:root]\npath=%s\n' "$img" > "$scratch/lbl.guest"

check "guest starts with dac and selinux" 0 "" lrun guest start "$scratch/lbl.guest"
check "show: owner and context of the file" 0 "owner 107:107, mode 0644, context system_u:object_r:svirt_image_t:s0:c" \
    lrun label show "$img"
check "show: the dac record names the running guest" 0 "dac: original 1:2, applied 107:107, .*(this boot), holders: .*(guest 'lbl', running)$" \
    lrun label show "$img"
check "show: the selinux record" 0 "selinux: original (none), applied system_u:object_r:svirt_image_t:s0:c" \
    lrun label show "$img"
out=$(lrun --json label show "$img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
f = d["files"][0]; r = {x["driver"]: x for x in d["records"]}
print(f["uid"], r["dac"]["record"]["original"], r["dac"]["record"]["holders"][0]["guest"], r["dac"]["record"]["holders"][0]["running"], r["selinux"]["stale"])')
if [ "$out" = "107 1:2 lbl True False" ]; then ok "show --json"; else not_ok "show --json" "$out"; fi
check "scan: nothing stale while the guest runs" 0 "dac: no stale record" lrun label scan "$scratch"
check "guest stops" 0 "" lrun guest stop lbl
check "show: original owner back, no record" 0 "dac: no record" lrun label show "$img"
check "show: owner 1:2 again" 0 "owner 1:2" lrun label show "$img"

# A record another boot left on a file still owned by its guest.
chown 107:107 "$old"
rec=$(printf 'bulwark-label-record 1\ndriver dac\nboot 00000000-1111-2222-3333-444444444444\noriginal 1:2\napplied 107:107\nholder 99999999-9999-9999-9999-999999999999\n' | od -An -tx1 | tr -d ' \n')
setfattr -n trusted.bulwark.dac -v "0x$rec" "$old"
check "scan finds the record of another boot" 0 "old.img: dac: .*(another boot).*\[stale\]" lrun label scan "$scratch"
n_stale=$(lrun --json label scan "$scratch" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["records"] if r["stale"]))')
if [ "$n_stale" = 1 ]; then ok "scan --json lists one stale record"; else not_ok "scan --json lists one stale record" "$n_stale"; fi
# Another process holds the file's lock (byte 1, as lockd and the local
# backend lock a file): restore waits for it, up to lock-timeout, and
# changes nothing.
python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX, 1, 1)
open(sys.argv[2], "w").close(); time.sleep(30)' "$old" "$scratch/held" &
holder=$!
for _ in $(seq 100); do [ -e "$scratch/held" ] && break; sleep 0.05; done
check "restore of a file another process has locked is refused after lock-timeout" 1 \
    "label restore: cannot lock the files: .*old.img" lrun label restore "$old"
owner=$(stat -c %u:%g "$old")
if [ "$owner" = 107:107 ]; then ok "the refused restore changed nothing"; else not_ok "the refused restore changed nothing" "$owner"; fi
kill "$holder"; wait "$holder" 2>/dev/null
check "restore puts the original back" 0 "old.img: dac: original restored, record removed" lrun label restore "$old"
owner=$(stat -c %u:%g "$old")
if [ "$owner" = 1:2 ]; then ok "restored owner is 1:2"; else not_ok "restored owner is 1:2" "$owner"; fi
if getfattr -m trusted.bulwark -d "$old" 2>/dev/null | grep -q bulwark; then not_ok "restore removed the record"; else ok "restore removed the record"; fi
check "restore of a file without a record" 0 "old.img: dac: no record" lrun label restore "$old"
check "unknown command" 2 "unknown label command 'bogus'" lrun label bogus "$old"
check "help" 0 "Usage: bulwarkctl \[--json\] label COMMAND" "$ctl" label --help
tap_done
