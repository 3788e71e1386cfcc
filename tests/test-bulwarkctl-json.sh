#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl --json guest check|explain and plugins: the library's JSON,
# read back with Python's json module, for a guest whose paths hold
# quotes, a backslash and (in a qcow2 backing name) bytes that are not
# UTF-8.  Prints TAP.
set -u
. "$(dirname "$0")/ctl-test-lib.sh"
require_python3
scratch_new
# json DESCRIPTION PYTHON-CHECK COMMAND...: the command's output is JSON
# (as d) for which every assert of PYTHON-CHECK holds.
json() {
    desc=$1 py=$2; shift 2
    out=$("$@" 2>&1); st=$?
    res=$(printf '%s\n' "$out" | python3 -c "
import json, os, re, sys
def raw(s):  # the writer's rule reversed: each \\xHH is the byte
    return re.sub(rb'\\\\x([0-9a-fA-F]{2})', lambda m: bytes([int(m[1], 16)]), s.encode())
d = json.load(sys.stdin)
$py" 2>&1)
    if [ "$st" = 0 ] && [ -z "$res" ]; then ok "$desc"; else not_ok "$desc" "status $st, output:" "$out" "$res"; fi
}

# A raw backing file whose name is not UTF-8, under a qcow2 (v2) image
# whose own name holds a quote and a backslash.
backing="$scratch/base$(printf '\377\376').img"
image="$scratch/top \"q\" \\b.qcow2"
echo raw >"$backing"
BACKING="$backing" IMAGE="$image" python3 -c '
import os, struct
name = os.environb[b"BACKING"]
header = struct.pack(">IIQIIQ", 0x514649fb, 2, 80, len(name), 16, 1 << 20)
with open(os.environb[b"IMAGE"], "wb") as f:
    f.write(header.ljust(80, b"\0") + name.ljust(4096 - 80, b"\0"))'
def="$scratch/odd.guest"
cat >"$def" <<EOT
[guest]
name=odd
user=0
group=0
[disk:root]
path=$scratch/top "q" \\\\b.qcow2
format=qcow2
[hostdev:gpu]
type=vfio-pci
address=0000:ff:1f.7
EOT
export BACKING="$backing" IMAGE="$image"
opts="--config /dev/null --plugins nop --state-dir $scratch --cgroup-root $scratch"

echo "1..5"
json "guest check --json: names, roles, the unresolved device" '
g = d["guest"]
assert g["name"] == "odd" and g["cgroup"] is None and g["cgroup_given"] is False, g
assert g["uid"] == 0 and g["hotplug_vfio"] is False, g
r = g["resources"][0]
assert (r["type"], r["id"], r["readonly"], r["shared"]) == ("disk", "root", False, False), r
assert [p["role"] for p in r["paths"]] == ["image", "backing"], r
assert g["resources"][1]["hostdev_type"] == "vfio-pci", g
assert len(d["unresolved"]) == 1 and "[hostdev:gpu]" in d["unresolved"][0], d' \
    "$ctl" --json guest check "$def"
json "guest check --json: quoted, backslashed and non-UTF-8 paths come back byte for byte" '
paths = d["guest"]["resources"][0]["paths"]
assert paths[0]["path"] == os.environ["IMAGE"], paths
assert raw(paths[1]["path"]) == os.environb[b"BACKING"], paths' \
    "$ctl" --json guest check "$def"
json "guest explain --json: the plan in apply order, keys kept" '
assert d["guest"] == "odd", d
c = d["changes"]
keys = {"plugin", "kind", "object", "detail", "lock", "resource", "flags"}
assert len(c) >= 2 and all(set(x) == keys for x in c), c
assert c[0]["plugin"] == "nop" and c[0]["object"] == os.environ["IMAGE"], c
assert c[0]["resource"] == "disk:root" and c[0]["flags"] == [], c
assert c[0]["lock"] is None and os.environ["IMAGE"] in c[0]["detail"], c' \
    "$ctl" --json $opts guest explain "$def"
json "guest explain FILE --json (option after the command) prints the same" '
assert d["guest"] == "odd" and d["changes"][0]["plugin"] == "nop", d' \
    "$ctl" $opts guest explain "$def" --json
json "plugins --json: name, ABI, flags by number and name, usable, reason, path" '
assert len(d) == 1, d
p = d[0]
assert p["name"] == "nop" and re.fullmatch(r"\d+\.\d+", p["abi"]), p
assert p["flags"] == 0 and p["flag_names"] == [] and p["usable"] is True, p
assert isinstance(p["reason"], str) and p["path"].endswith("/nop.so"), p' \
    "$ctl" --json $opts plugins
[ "$failed" -eq 0 ]
