#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the built bulwark-conformance on the nop plugin, which must pass,
# and on each deliberately broken plugin in broken/, which must fail with
# the message that names its fault.  Every run gets a TMPDIR of its own,
# which must be empty afterwards, crash or not.  Prints TAP.
set -u

top_builddir=${BW_TOP_BUILDDIR:-.}
suite=$top_builddir/bulwark-conformance
broken=$top_builddir/tests/conformance/broken/.libs
nop=
for candidate in plugins/nop/.libs/nop.so .libs/nop.so; do
        if [ -f "$top_builddir/$candidate" ]; then
                nop=$top_builddir/$candidate
                break
        fi
done
if [ ! -x "$suite" ] || [ -z "$nop" ]; then
        echo "Bail out! bulwark-conformance or the nop plugin is not built under '$top_builddir'"
        exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-test-conformance-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
n=0

# expect DESCRIPTION STATUS PATTERN... -- ARGUMENTS...
# Runs the suite; every extended regular expression PATTERN must match a
# line of its output.
expect() {
        desc=$1
        status=$2
        shift 2
        patterns=
        while [ "$1" != "--" ]; do
                patterns="$patterns$1
"
                shift
        done
        shift

        mkdir -m 1777 "$work/tmp"
        TMPDIR=$work/tmp "$suite" "$@" >"$work/out" 2>&1
        rc=$?
        problems=
        [ "$rc" -eq "$status" ] || problems="$problems; exit status $rc, expected $status"
        printf '%s' "$patterns" >"$work/patterns"
        while IFS= read -r pattern; do
                grep -E -q -e "$pattern" "$work/out" || problems="$problems; no line matches /$pattern/"
        done <"$work/patterns"
        left=$(ls -A "$work/tmp")
        [ -z "$left" ] || problems="$problems; left in TMPDIR: $left"
        for made in $(sed -n -e 's/^# test host: .*; cgroup \(.*\) (made for this run)$/\1/p' \
                             -e 's/^# device nodes in \(.*\)$/\1/p' "$work/out"); do
                [ ! -e "$made" ] || problems="$problems; left behind: $made"
        done
        rm -rf "$work/tmp"

        n=$((n + 1))
        if [ -z "$problems" ]; then
                echo "ok $n - $desc"
        else
                echo "not ok $n - $desc${problems}"
                sed 's/^/#   /' "$work/out"
        fi
}

summary_pass='^[0-9]+ passed, 0 failed'
summary_fail='^[0-9]+ passed, [1-9][0-9]* failed'

expect "nop passes the conformance suite" 0 "$summary_pass" -- "$nop"
expect "nop passes with --verbose, which shows what apply changed" 0 \
        "$summary_pass" '^# apply changed: nothing$' '^#   1\. note ' -- --verbose "$nop"

cat >"$work/guest.conf" <<GUEST
[guest]
name=conformance-own-guest
user=107
group=107

[disk:only]
path=$work/own.img
GUEST
: >"$work/own.img"
expect "nop passes on a guest given with --guest" 0 "$summary_pass" "guest 'conformance-own-guest' with 1 resource" \
        -- --guest "$work/guest.conf" "$nop"

expect "--help prints the usage" 0 '^Usage: bulwark-conformance .*PLUGIN\.so' -- --help
expect "no plugin argument is a usage error" 2 'expected one PLUGIN\.so argument' --
expect "an unknown option is a usage error" 2 "Try 'bulwark-conformance --help'" -- --no-such-option "$nop"
expect "a missing plugin file is a usage error" 2 "plugin '.*/no-such-plugin\.so': No such file" \
        -- "$work/no-such-plugin.so"

expect "bad-table: the loader refuses unknown flags" 1 "$summary_fail" \
        "^not ok 1 - plugin loads through the loader: plugin '.*/bad-table\.so': unknown flags 0x80 \(known: 0x3\)" \
        -- "$broken/bad-table.so"
expect "no-reason: a probe without a reason fails" 1 "$summary_fail" \
        '^not ok [0-9]+ - probe answers with a reason: probe returned 0 \(usable\) and gave no reason$' \
        -- "$broken/no-reason.so"
expect "plan-side-effect: a plan that creates a file fails" 1 "$summary_fail" \
        '^not ok [0-9]+ - plan has no side effects: .*/plan-side-effect\.tmp appeared' \
        -- "$broken/plan-side-effect.so"
expect "no-restore: an undo that restores nothing fails" 1 "$summary_fail" \
        '^not ok [0-9]+ - apply\+undo restores the host: .* mode changed 0644 -> 0600' \
        '^not ok [0-9]+ - apply\+undo restores the host: .*\.applied appeared' \
        -- "$broken/no-restore.so"
expect "leaky-fd: a descriptor leaked per apply fails" 1 "$summary_fail" \
        '^not ok [0-9]+ - plan, apply, undo and release leak no descriptor: [0-9]+ descriptors? left open: [0-9]+ -> /dev/null' \
        -- "$broken/leaky-fd.so"
expect "undo-once: an undo that fails the second time fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - undo twice is harmless: second undo of change [0-9]+ \(touch '[^']*'\) failed: plugin 'undo-once': .*cannot remove the marker: No such file or directory" \
        -- "$broken/undo-once.so"
expect "bad-change: a relative lock path fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - plan emits valid changes: plan emitted 1 invalid change; change 1 \(touch '[^']*'\): lock_path 'relative/lock' is not absolute" \
        -- "$broken/bad-change.so"
expect "unstable-plan: a plan that differs the second time fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - plan is deterministic: change 1 \(touch '[^']*'\): detail 'touch \(plan call 1\)' became 'touch \(plan call 2\)'" \
        -- "$broken/unstable-plan.so"
expect "no-adopt: an adopt that finds nothing after apply fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - adopt after a simulated restart, then undo, restores the host: plugin 'no-adopt': cannot adopt the guest: guest '[^']*': found nothing to adopt" \
        -- "$broken/no-adopt.so"
expect "crash-apply: a crash fails the running check and the test host is still removed" 1 "$summary_fail" \
        '^not ok [0-9]+ - apply\+undo restores the host: the plugin crashed the suite: Segmentation fault \(signal 11\)' \
        -- "$broken/crash-apply.so"

# Without root there is no device node, no cgroup and no trusted.* xattr.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
n=$((n + 1))
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
        echo "ok $n - nop passes as an unprivileged user # SKIP needs root and setpriv to change user"
elif ! chmod 755 "$work" || ! $nobody test -x "$suite" -a -r "$nop"; then
        echo "ok $n - nop passes as an unprivileged user # SKIP the build tree is not readable by uid 65534"
else
        mkdir -m 1777 "$work/tmp"
        TMPDIR=$work/tmp $nobody "$suite" "$nop" >"$work/out" 2>&1
        rc=$?
        left=$(ls -A "$work/tmp")
        rm -rf "$work/tmp"
        if [ "$rc" -eq 0 ] && [ -z "$left" ] && grep -E -q "$summary_pass" "$work/out"; then
                echo "ok $n - nop passes as an unprivileged user"
        else
                echo "not ok $n - nop passes as an unprivileged user: exit status $rc${left:+, left in TMPDIR: $left}"
                sed 's/^/#   /' "$work/out"
        fi
fi

echo "1..$n"
