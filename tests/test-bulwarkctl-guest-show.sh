#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl guest list and guest show with the nop and fake-files plugins
# (no root): the table and text forms show status, start time, changes and
# cgroup, guest check the supplementary groups; --json prints the library's
# JSON (read back with python3), and show's document is list's entry for
# the guest.  Prints TAP.
set -u
. "$(dirname "$0")/ctl-test-lib.sh"
require_python3
scratch_new
mkdir "$scratch/markers"
printf '[plugin:fake-files]\ndir=%s/markers\n' "$scratch" >"$scratch/bulwark.conf"
echo raw >"$scratch/a.img"
echo raw >"$scratch/b.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/a.img\n[disk:data]\npath=%s/b.img\n' \
    "$scratch" "$scratch" >"$scratch/demo.guest"

# Runs python3 code on a command's output; the code asserts.
check_json() {
    desc=$1 code=$2; shift 2
    out=$("$@" 2>&1); st=$?
    if [ "$st" = 0 ] && err=$(printf '%s' "$out" | python3 -c "import json,re,sys
d = json.load(sys.stdin)
$code" 2>&1); then ok "$desc"
    else not_ok "$desc" "status $st, output:" "$out" "${err:-}"; fi
}

check "guest --help documents show" 0 "show NAME" "$ctl" guest --help
check "start" 0 "guest 'demo': started" run guest start "$scratch/demo.guest"
check "list: status, RFC 3339 start time, 4 changes, cgroup" 0 \
    "^demo  *running  *[0-9-]*T[0-9:]*\.[0-9]\{6\}Z  *4  *$scratch/bulwark/demo" run guest list
check_json "list --json: the library's guest state, per plugin" '
g = d[0]
assert len(d) == 1 and g["name"] == "demo" and g["status"] == "running", g
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", g["started"]), g["started"]
assert isinstance(g["started_us"], int) and g["started"][20:26] == "%06d" % (g["started_us"] % 1000000)
assert [p["name"] for p in g["plugins"]] == ["nop", "fake-files"], g["plugins"]
ff = g["plugins"][1]["changes"]
assert [c["resource"] for c in ff] == ["disk:root", "disk:data"], ff
assert ff[0]["lock"] == ff[0]["object"] and ff[0]["object"].endswith("/markers/root") and ff[0]["done"]
assert g["guest"]["resources"][1]["path"].endswith("/b.img")' run --json guest list
check "show: text" 0 "plugin fake-files" run guest show demo
check "show: text names the marker and its resource" 0 "touch  *$scratch/markers/data  *disk:data" run guest show demo
BW_LIST_JSON=$(run --json guest list); export BW_LIST_JSON
check_json "show --json is list's entry for the guest" '
import os
assert d == json.loads(os.environ["BW_LIST_JSON"])[0]' run guest show demo --json
check_json "show --json before the name too" '
assert d["name"] == "demo" and d["plugins"][0]["changes"][0]["kind"] == "note"' run guest show --json demo
check "show of a guest that is not started" 1 "guest 'absent': not started" run guest show absent
check "stop" 0 "stopped" run guest stop demo
check_json "list --json after stop: empty" 'assert d == []' run --json guest list
printf '[guest]\nname=grouped\nuser=0\ngroup=0\ngroups=0;65534\n' >"$scratch/grouped.guest"
check "guest check prints the supplementary groups" 0 "^guest grouped .* uid 0 gid 0 groups 0,65534$" \
    run guest check "$scratch/grouped.guest"

tap_done
