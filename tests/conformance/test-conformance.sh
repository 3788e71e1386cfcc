#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the built bulwark-conformance on the nop plugin, which must pass,
# and on each deliberately broken plugin in broken/, which must fail with
# the message that names its fault.  Every run gets a TMPDIR of its own,
# which must be empty afterwards, crash or not.  Prints TAP.
set -u

top_builddir=${BW_TOP_BUILDDIR:-.}
top_srcdir=${BW_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
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
runner=

skip() {
        n=$((n + 1))
        echo "ok $n - $1 # SKIP $2"
}

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
        TMPDIR=$work/tmp $runner "$suite" "$@" >"$work/out" 2>&1
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
expect "small-change: a BwChange without its size fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - plan emits valid changes: plan emitted 1 invalid change; change 1 \(touch '[^']*'\): size 0 is smaller than a BwChange of ABI 2\.0" \
        -- "$broken/small-change.so"
expect "big-record: data larger than the declared record_max fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - plan emits valid changes: plan emitted 1 invalid change; change 1 \(touch '[^']*'\): data of 100 bytes is larger than the plugin's record_max of 64 bytes" \
        -- "$broken/big-record.so"
expect "undo-overflow: an undo record past record_max fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - apply\+undo restores the host: apply of change 1 \(touch '[^']*'\) wrote past the undo buffer of record_max 1024 bytes" \
        -- "$broken/undo-overflow.so"
expect "labels-no-lock: a LABELS_PATHS change without a lock path fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - plan emits valid changes: plan emitted 1 invalid change; change 1 \(touch '[^']*'\): no lock_path, but the plugin is flagged LABELS_PATHS" \
        -- "$broken/labels-no-lock.so"
expect "query-unknown-ok: success for an unknown command fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - query answers an unknown command with -EOPNOTSUPP: command 'bulwark-conformance-no-such-command' answered 0 \(success\), not -EOPNOTSUPP" \
        -- "$broken/query-unknown-ok.so"
expect "query-ignores-sink: writing on after the sink failed fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - query stops writing at the sink's first error: command 'status' wrote 2 more times after the sink failed" \
        -- "$broken/query-ignores-sink.so"
expect "exec-changes-host: an exec_attrs that changes the host fails" 1 "$summary_fail" \
        "^not ok [0-9]+ - exec_attrs only calls setters, succeeds and leaves the host unchanged: exec_attrs changed the host: .*/exec-changes-host\.tmp appeared" \
        -- "$broken/exec-changes-host.so"
expect "nop skips the query and exec_attrs checks it has no operation for" 0 "$summary_pass" \
        "^ok [0-9]+ - query answers an unknown command with -EOPNOTSUPP # SKIP the plugin has no query operation" \
        -- "$nop"
# Every other plugin the build made must pass too, with the settings an
# uninstalled tree needs ([plugin:NAME] groups are read by NAME only).
cat >"$work/plugins.conf" <<CONF
[plugin:cgroup-bpf]
default-rules=$top_srcdir/policy/devices/default.rules
[plugin:landlock]
base-rules=$top_srcdir/policy/landlock/base.rules
CONF
for plugin in "$top_builddir"/.libs/*.so "$top_builddir"/plugins/*/.libs/*.so "$top_builddir"/security/*/.libs/*.so; do
        name=$(basename "$plugin" .so)
        case $name in
        "*" | lib* | nop) continue ;;
        esac
        expect "$name passes the conformance suite" 0 "$summary_pass" -- --config "$work/plugins.conf" "$plugin"
done

# A sanitizer build would turn the crash into an exit status: let it through.
runner="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0 UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}handle_segv=0"
expect "crash-apply: a crash fails the running check and the test host is still removed" 1 "$summary_fail" \
        '^not ok [0-9]+ - apply\+undo restores the host: the plugin crashed the suite: Segmentation fault \(signal 11\)' \
        -- "$broken/crash-apply.so"
runner=

expect "never-usable: an unusable plugin passes, its checks skipped with the probe's reason" 0 \
        '^# skipped: plugin not usable on this host: a test plugin that is never usable$' \
        '^ok 5 - init succeeds # SKIP plugin not usable on this host: a test plugin that is never usable$' \
        '^[0-9]+ passed, 0 failed, [1-9][0-9]* skipped$' \
        -- "$broken/never-usable.so"
expect "needs-root: a plugin that needs root passes as root" 0 "$summary_pass" \
        '^ok [0-9]+ - apply\+undo restores the host$' -- "$broken/needs-root.so"

# Without root there is no device node, no cgroup and no trusted.* xattr.
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
unprivileged="nop passes as an unprivileged user"
unprivileged_root="needs-root: as an unprivileged user the checks that apply changes are skipped"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
        skip "$unprivileged" "needs root and setpriv to change user"
        skip "$unprivileged_root" "needs root and setpriv to change user"
elif ! chmod 755 "$work" || ! $nobody test -x "$suite" -a -r "$nop"; then
        skip "$unprivileged" "the build tree is not readable by uid 65534"
        skip "$unprivileged_root" "the build tree is not readable by uid 65534"
else
        runner=$nobody
        expect "$unprivileged" 0 "$summary_pass" -- "$nop"
        expect "$unprivileged_root" 0 '^[0-9]+ passed, 0 failed, [1-9][0-9]* skipped$' \
                '^ok [0-9]+ - apply\+undo restores the host # SKIP the plugin needs root to apply changes, and this is uid 65534$' \
                -- "$broken/needs-root.so"
        runner=
fi

echo "1..$n"
