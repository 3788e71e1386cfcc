# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the bulwarkctl shell tests (". "$(dirname "$0")/ctl-test-lib.sh"):
# where bulwarkctl is (skipping the test when it is not built), skips, a
# scratch world, and the TAP helpers.  A test ends with tap_done.
top=${BW_TOP_BUILDDIR:-$(pwd)}
ctl="$top/bulwarkctl"
n=0 failed=0

# skip_all REASON: the TAP plan of a test that cannot run here.
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
require_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
require_python3() { command -v python3 >/dev/null || skip_all "python3 not found"; }
# Skips unless the kernel runs device programs; sets root to the cgroup2 root.
require_devices() {
    "$ctl" devices probe >/dev/null 2>&1 ||
        skip_all "device programs unusable here: $("$ctl" devices probe 2>&1 | grep usable)"
    root=$("$ctl" --json devices probe | python3 -c 'import json,sys; print(json.load(sys.stdin)["cgroup_root"])')
}
[ -x "$ctl" ] || skip_all "$ctl not built"

# Makes $scratch, removed at exit (a test with more to clean sets its own
# trap); descriptor 9, a test's hold on a guest lock, is closed first.
scratch_new() {
    scratch=$(mktemp -d)
    trap 'exec 9>&-; rm -rf "$scratch"' EXIT
}
# cgroup_remove DIR: kills what runs in a test's cgroup and removes it,
# children first.
cgroup_remove() {
    for sub in "$1"/*/; do [ -d "$sub" ] && cgroup_remove "${sub%/}"; done
    echo 1 > "$1/cgroup.kill" 2>/dev/null
    rmdir "$1" 2>/dev/null
}
# run ARGS...: bulwarkctl on the scratch world: <scratch>/bulwark.conf, the
# build's nop and test plugins ($plugins, nop,fake-files unless set), state
# <scratch>/state, cgroup root <scratch>.
run() { "$ctl" --config "$scratch/bulwark.conf" --plugin-dir "$top/plugins/nop/.libs:$top/tests/plugins/.libs" \
        --plugins "${plugins:-nop,fake-files}" --state-dir "$scratch/state" --cgroup-root "$scratch" "$@"; }

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
# check DESCRIPTION EXPECTED-STATUS PATTERN COMMAND...: runs, checks status and output.
check() {
    desc=$1 want=$2 pattern=$3; shift 3
    out=$("$@" 2>&1); st=$?
    if [ "$st" = "$want" ] && printf '%s\n' "$out" | grep -q -- "$pattern"; then ok "$desc"
    else not_ok "$desc" "status $st (want $want), output:" "$out"; fi
}
exists() { if [ -e "$2" ]; then ok "$1"; else not_ok "$1" "$2 is missing"; fi; }
absent() { if [ -e "$2" ]; then not_ok "$1" "$2 is there"; else ok "$1"; fi; }
# The plan, last; the test's status.
tap_done() { echo "1..$n"; [ "$failed" = 0 ]; }
