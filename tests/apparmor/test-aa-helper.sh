#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwark-aa-helper and `bulwarkctl profile` end to end: dry run, create,
# create again (refused), add-resource, a refused path, remove, usage, and
# a helper killed mid-write (inside apparmor_parser, after the new text
# went to a temporary file) leaving the previous profile intact.  TAP.
set -u
top=${BW_TOP_BUILDDIR:?}
src=${BW_TOP_SRCDIR:?}
helper="$top/bulwark-aa-helper"
ctl="$top/bulwarkctl"
parser=$(command -v apparmor_parser || echo /sbin/apparmor_parser)
if [ ! -x "$parser" ]; then echo "1..0 # SKIP apparmor_parser is not installed (Debian package apparmor)"; exit 0; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/bw-aa-helper-$$-XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/prof"
conf="$dir/bulwark.conf"
printf '[bulwark]\nstate-dir=%s/state\n[plugin:apparmor]\nprofile-dir=%s/prof\ntemplate=%s/policy/apparmor/TEMPLATE.guest\ninclude-dir=%s/policy/apparmor\nparser=%s\n' \
    "$dir" "$dir" "$src" "$src" "$parser" > "$conf"
touch "$dir/root.img" "$dir/data [1].img"
cat > "$dir/g.guest" <<EOT
[guest]
name=helper-$$
uuid=5d2b6c1e-3a4f-4b8c-9d0e-1f2a3b4c5d6e
user=107
group=107
[disk:root]
path=$dir/root.img
[tpm]
state=$dir/tpm
EOT
profile="$dir/prof/bulwark-5d2b6c1e-3a4f-4b8c-9d0e-1f2a3b4c5d6e"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/# /'; }
check() { desc=$1; shift; if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "$out"; fi; }
helper() { "$helper" --config "$conf" "$@"; }

out=$(helper --dry-run --guest "$dir/g.guest" 2>&1)
if printf '%s\n' "$out" | grep -q "\"$dir/root.img\" rwk," && [ ! -e "$profile" ]; then ok "dry run prints the rules and writes nothing"; else not_ok "dry run" "$out"; fi
check "create writes the profile" helper --create --guest "$dir/g.guest"
if [ -f "$profile" ] && [ -f "$profile.files" ]; then ok "profile and include exist"; else not_ok "profile and include exist"; fi
check "the written profile compiles" "$parser" -Q -K -M /usr/share/apparmor-features/features -I "$src/policy/apparmor" "$profile"
out=$(helper --create --guest "$dir/g.guest" 2>&1)
if [ $? = 1 ] && printf '%s\n' "$out" | grep -q "exists already"; then ok "create again is refused"; else not_ok "create again" "$out"; fi

printf '[disk:data]\npath=%s/data [1].img\nreadonly=true\n' "$dir" >> "$dir/g.guest"
check "add-resource adds one section" helper --add-resource disk:data --guest "$dir/g.guest"
if grep -q '^  "'"$dir"'/data\\040\\1331\\135.img" rk,$' "$profile.files"; then ok "the added path is quoted exactly"; else not_ok "added path" "$(cat "$profile.files")"; fi

cp "$profile" "$dir/before"; cp "$profile.files" "$dir/before.files"
printf '[disk:etc]\npath=/etc/passwd\n' > "$dir/bad.guest.part"
cat "$dir/g.guest" "$dir/bad.guest.part" > "$dir/bad.guest"
out=$(helper --replace --guest "$dir/bad.guest" 2>&1)
if [ $? = 1 ] && printf '%s\n' "$out" | grep -q "path '/etc/passwd': refused: '/etc' is never writable" &&
   cmp -s "$profile.files" "$dir/before.files"; then ok "a restricted path is refused and changes nothing"; else not_ok "restricted path" "$out"; fi

# Killed mid-write: the parser run on the new text kills the helper.
cat > "$dir/killer" <<'EOT'
#!/bin/sh
kill -KILL "$PPID"
sleep 5
EOT
chmod +x "$dir/killer"
sed "s|^parser=.*|parser=$dir/killer|" "$conf" > "$dir/kill.conf"
printf '[disk:more]\npath=%s/more.img\n' "$dir" >> "$dir/g.guest"
"$helper" --config "$dir/kill.conf" --replace --guest "$dir/g.guest" >/dev/null 2>&1
status=$?
if [ "$status" = 137 ] && cmp -s "$profile" "$dir/before" && cmp -s "$profile.files" "$dir/before.files"; then
    ok "a helper killed mid-write leaves the previous profile intact"
else
    not_ok "killed mid-write (status $status)" "$(diff "$dir/before.files" "$profile.files")"
fi
check "the previous profile still compiles" "$parser" -Q -K -M /usr/share/apparmor-features/features -I "$src/policy/apparmor" "$profile"
check "replace after the kill succeeds" helper --replace --guest "$dir/g.guest"
if grep -q "more.img" "$profile.files"; then ok "replace wrote the new resource"; else not_ok "replace wrote the new resource"; fi

out=$("$ctl" --config "$conf" profile "$dir/g.guest" 2>&1)
if printf '%s\n' "$out" | grep -q "^profile bulwark-5d2b6c1e-3a4f-4b8c-9d0e-1f2a3b4c5d6e flags=(attach_disconnected) {"; then
    ok "bulwarkctl profile prints the profile"; else not_ok "bulwarkctl profile" "$out"; fi
out=$("$ctl" --json --config "$conf" profile "$dir/g.guest" 2>&1)
if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["profile"].startswith("bulwark-") and "rwk," in d["files_text"]' 2>/dev/null; then
    ok "bulwarkctl --json profile"; else not_ok "bulwarkctl --json profile" "$out"; fi

check "remove" helper --remove --guest "$dir/g.guest"
if [ ! -e "$profile" ] && [ ! -e "$profile.files" ]; then ok "remove leaves no profile file"; else not_ok "remove leaves no profile file" "$(ls -a "$dir/prof")"; fi
out=$("$helper" --guest "$dir/g.guest" 2>&1)
if [ $? = 2 ] && printf '%s\n' "$out" | grep -q "an action is required"; then ok "no action is a usage error"; else not_ok "usage" "$out"; fi
out=$("$helper" --help 2>&1)
if [ $? = 0 ] && printf '%s\n' "$out" | grep -q -- "--add-resource TYPE:ID"; then ok "--help"; else not_ok "--help" "$out"; fi
echo "1..$n"
[ "$failed" = 0 ]
