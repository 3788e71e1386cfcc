#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The plugin conformance suite on the apparmor plugin, its profile
# directory a scratch one watched as part of the host.
set -u
top=${BW_TOP_BUILDDIR:-$(pwd)}
src=${BW_TOP_SRCDIR:-$(dirname "$0")/../..}
suite="$top/bulwark-conformance"
plugin="$top/security/apparmor/.libs/apparmor.so"
if [ ! -x "$suite" ] || [ ! -f "$plugin" ]; then echo "1..0 # SKIP conformance suite or plugin not built"; exit 0; fi
parser=$(command -v apparmor_parser || echo /sbin/apparmor_parser)
if [ ! -x "$parser" ]; then echo "1..0 # SKIP apparmor_parser is not installed (Debian package apparmor)"; exit 0; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/bw-aa-conformance-$$-XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/profiles"
printf '[plugin:apparmor]\nprofile-dir=%s/profiles\ntemplate=%s/policy/apparmor/TEMPLATE.guest\ninclude-dir=%s/policy/apparmor\nparser=%s\n' \
    "$dir" "$src" "$src" "$parser" > "$dir/bulwark.conf"

if out=$("$suite" --config "$dir/bulwark.conf" --watch "$dir/profiles" "$plugin" 2>&1) && printf '%s\n' "$out" | grep -q ' 0 failed'; then
    echo "ok 1 - conformance: $(printf '%s\n' "$out" | tail -1)"
    echo "1..1"
else
    echo "not ok 1 - conformance"; printf '%s\n' "$out" | sed 's/^/# /'
    echo "1..1"
    exit 1
fi
