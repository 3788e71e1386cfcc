#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The plugin conformance suite on the cgroup-bpf plugin: with a cgroup
# named by the guest, and with the default one the plugin creates.
set -u
top=${BW_TOP_BUILDDIR:-$(pwd)}
src=${BW_TOP_SRCDIR:-$(dirname "$0")/../..}
suite="$top/bulwark-conformance"
plugin="$top/plugins/cgroup-bpf/.libs/cgroup-bpf.so"
if [ ! -x "$suite" ] || [ ! -f "$plugin" ]; then echo "1..0 # SKIP conformance suite or plugin not built"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root (the plugin applies changes as root)"; exit 0; fi
root=$("$top/bulwarkctl" --json devices probe 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["cgroup_root"] if d["usable"] else "")' 2>/dev/null)
if [ -z "$root" ]; then echo "1..0 # SKIP device programs unusable here"; exit 0; fi
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf '[plugin:cgroup-bpf]\ndefault-rules=%s/policy/devices/default.rules\nlog-ring-size=16384\n' "$src" > "$conf"

n=0 failed=0
run() {
    desc=$1; shift
    n=$((n + 1))
    if out=$("$suite" --config "$conf" "$@" "$plugin" 2>&1) && printf '%s\n' "$out" | grep -q ' 0 failed'; then
        echo "ok $n - $desc: $(printf '%s\n' "$out" | tail -1)"
    else
        failed=$((failed + 1)); echo "not ok $n - $desc"; printf '%s\n' "$out" | sed 's/^/# /'
    fi
}
run "conformance, cgroup named by the guest"
run "conformance, default cgroup created by the plugin" --cgroup-root "$root"
echo "1..$n"
[ "$failed" = 0 ]
