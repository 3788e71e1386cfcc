#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl devices end to end, on a real test cgroup.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
require_root
require_devices
name="bulwark-test-ctl-$$"
cg="$root/$name"
scratch_new
mkdir "$cg"
trap 'cgroup_remove "$cg"; rm -rf "$scratch"' EXIT

# In the cgroup: run a shell command, print its stderr.
inside() { sh -c "echo \$\$ > $cg/cgroup.procs && $1" 2>&1; }
is_json() { "$@" | python3 -c 'import json,sys; json.load(sys.stdin)' ; }

check "probe reports a usable kernel" 0 "usable: *yes" "$ctl" devices probe
check "probe names the cgroup2 root" 0 "cgroup2 root: *$root" "$ctl" devices probe
if is_json "$ctl" --json devices probe; then ok "probe --json is JSON"; else not_ok "probe --json is JSON"; fi
check "list of a cgroup without our program" 0 "no bw_devices program" "$ctl" devices list "$name"
check "allow creates the program" 0 "allow c 1:3 rw (program" "$ctl" devices allow "$name" c 1:3 rw
check "allow takes the rule as one word, path absolute" 0 "allow c 1:\* r" "$ctl" devices allow "$cg" "c 1:* r"
check "deny" 0 "deny c 1:5 r" "$ctl" devices deny "$name" c 1:5 r
check "list shows exact rules with node names" 0 "^c *1:3 *rw *\/dev\/null" "$ctl" devices list "$name"
check "list shows a wildcard rule" 0 "^c *1:\* *r *-" "$ctl" devices list "$name"
if is_json "$ctl" --json devices list "$name"; then ok "list --json is JSON"; else not_ok "list --json is JSON"; fi
check "explain: exact entry allows" 0 "c 1:3 rw (/dev/null): allowed by entry c 1:3 rw (exact)" \
    "$ctl" devices explain "$name" c 1:3 rw
check "explain: wildcard entry decides" 0 "c 1:7 w (/dev/full): denied by entry c 1:\* r (major:\*)" \
    "$ctl" devices explain "$name" c 1:7 w
check "explain: no entry" 0 "b 1:3 r (-): denied: no entry" "$ctl" devices explain "$name" b 1:3 r
check "explain --json" 0 '"allowed":false' "$ctl" --json devices explain "$name" c 1:5 r
out=$(inside "cat /dev/null && echo null-read-ok; head -c1 /dev/zero >/dev/null || echo zero-denied; head -c1 /dev/full | wc -c")
case "$out" in *null-read-ok*zero-denied*1*) ok "the kernel enforces what list shows";;
    *) not_ok "the kernel enforces what list shows" "$out";; esac

before=$("$ctl" --json devices list "$name")
check "bad rule type" 1 "unknown type 'x'" "$ctl" devices allow "$name" x 1:3 r
check "bad rule numbers" 1 "bad device numbers '1'" "$ctl" devices allow "$name" c 1 r
check "bad rule access" 1 "bad access 'rx'" "$ctl" devices allow "$name" c 1:3 rx
check "number out of range" 1 "out of range" "$ctl" devices allow "$name" c 4294967296:0 r
check "empty rule" 1 "expected TYPE MAJOR:MINOR ACCESS" "$ctl" devices allow "$name" ""
check "cgroup with .." 1 "'..' components are not allowed" "$ctl" devices allow "$name/../x" c 1:3 r
check "cgroup outside the root" 1 "not below the cgroup2 root" "$ctl" devices allow /etc c 1:3 r
check "nonexistent cgroup" 1 "no such cgroup" "$ctl" devices allow "$name-missing" c 1:3 r
after=$("$ctl" --json devices list "$name")
if [ "$before" = "$after" ]; then ok "bad input changed nothing"; else not_ok "bad input changed nothing" "$before" "$after"; fi

inside "head -c1 /dev/zero; head -c1 /dev/zero; echo x > /dev/full" >/dev/null
check "denials names pid, comm, device, node, access and the deciding entry" 0 \
    "head *c 1:5 *\/dev\/zero *r *c 1:5 - (exact)" "$ctl" devices denials "$name"
check "denials footer" 0 "0 events; 0 dropped since the last read" "$ctl" devices denials "$name"
# One /dev/zero read was refused earlier, when enforcement was checked.
check "denials --summary counts without consuming" 0 "^3 *c *1:5 *r *\/dev\/zero" "$ctl" devices denials --summary "$name"
check "denials --summary total" 0 "total: 4 denied" "$ctl" devices denials --summary "$name"
if is_json "$ctl" --json devices denials --summary "$name"; then ok "denials --summary --json is JSON"; else not_ok "denials --summary --json is JSON"; fi
check "denials of a nonexistent cgroup" 1 "no such cgroup" "$ctl" devices denials "$name-missing"

# denials --follow ends by itself: when the reader goes away (head), and
# when the cgroup goes (a guest stop), with a line saying why.
if timeout 10 sh -c '"$@" | head -n 1 >/dev/null' sh "$ctl" devices denials --follow "$name"; then
    ok "denials --follow ends when its reader goes away"
else not_ok "denials --follow ends when its reader goes away" "status $?"; fi
mkdir "$cg/gone"
"$ctl" devices allow "$name/gone" c 1:3 rw >/dev/null
mkfifo "$scratch/follow"
"$ctl" devices denials --follow "$name/gone" >"$scratch/follow" 2>&1 &
follower=$!
exec 3<"$scratch/follow"
read -r first <&3
rmdir "$cg/gone"
# cat ends when the follower closes the fifo, that is when it ends.
if rest=$(timeout 10 cat <&3); then wait "$follower"; st=$?
else kill -9 "$follower"; wait "$follower"; st="still running after 10 s"; fi
exec 3<&-
if [ "$st" = 0 ] && printf '%s\n' "$rest" | grep -q "the cgroup was removed; stopped following"; then
    ok "denials --follow ends when the cgroup is removed"
else not_ok "denials --follow ends when the cgroup is removed" "status $st" "$first" "$rest"; fi

# The configured cgroup root counts, from bulwark.conf too: CGROUP names
# resolve below it, and anything outside it is refused naming both.
mkdir "$cg/inner"
printf '[bulwark]\ncgroup-root=%s\n' "$cg" >"$scratch/bulwark.conf"
check "probe shows the configured root" 0 "cgroup2 root: *$cg (configured)" "$ctl" --config "$scratch/bulwark.conf" devices probe
check "CGROUP resolves below the configured root" 0 "cgroup $cg/inner: no bw_devices program" \
    "$ctl" --config "$scratch/bulwark.conf" devices list inner
check "a CGROUP outside the configured root is refused" 1 "cgroup '$root': not below the cgroup2 root '$cg'" \
    "$ctl" --config "$scratch/bulwark.conf" devices allow "$root" c 1:3 r
check "--cgroup-root counts" 1 "cgroup '$root': not below the cgroup2 root '$cg/inner'" \
    "$ctl" --cgroup-root "$cg/inner" devices list "$root"
check "BULWARK_CGROUP_ROOT counts" 1 "cgroup '$root': not below the cgroup2 root '$cg/inner'" \
    env BULWARK_CGROUP_ROOT="$cg/inner" "$ctl" devices list "$root"
rmdir "$cg/inner"
# The commands work whatever the configured plugin list says.
check "devices work when cgroup-bpf is not configured" 0 "^c *1:3 *rw *\/dev\/null" \
    "$ctl" --plugins nop --plugin-dir "$top/plugins/nop/.libs:$top/plugins/cgroup-bpf/.libs" devices list "$name"
check "an unknown devices command" 2 "unknown devices command 'frob'" "$ctl" devices frob "$name"

check "remove detaches our program" 0 "1 bw_devices program detached" "$ctl" devices remove "$name"
check "after remove nothing is restricted" 0 "no bw_devices program" "$ctl" devices list "$name"
check "denials without a program" 1 "no bw_devices program, so no denial log" "$ctl" devices denials "$name"
check "usage error" 2 "Usage" "$ctl" devices explain "$name"

tap_done
