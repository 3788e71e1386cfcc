#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The plugin conformance suite on the landlock plugin: with the ABI the
# kernel reports, and masked to ABI 1 (max-abi=1), with the shipped base
# set from the source tree.
set -u
top=${BW_TOP_BUILDDIR:-$(pwd)}
src=${BW_TOP_SRCDIR:-$(dirname "$0")/../..}
suite="$top/bulwark-conformance"
plugin="$top/security/landlock/.libs/landlock.so"
if [ ! -x "$suite" ] || [ ! -f "$plugin" ]; then echo "1..0 # SKIP conformance suite or plugin not built"; exit 0; fi
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT

n=0 failed=0
run() {
    desc=$1 extra=$2
    printf '[plugin:landlock]\nbase-rules=%s/policy/landlock/base.rules\n%s\n' "$src" "$extra" > "$conf"
    n=$((n + 1))
    if out=$("$suite" --config "$conf" "$plugin" 2>&1) && printf '%s\n' "$out" | grep -q ' 0 failed'; then
        echo "ok $n - $desc: $(printf '%s\n' "$out" | tail -1)"
    else
        failed=$((failed + 1)); echo "not ok $n - $desc"; printf '%s\n' "$out" | sed 's/^/# /'
    fi
}
run "conformance, the kernel's ABI" ""
run "conformance, ABI 1" "max-abi=1"
echo "1..$n"
[ "$failed" = 0 ]
