#!/bin/sh
# libbulwark.so exports exactly the functions the public headers declare,
# and every plugin module exports only its entry table.  TAP output.
set -u
top_src=${BW_TOP_SRCDIR:?}
top_build=${BW_TOP_BUILDDIR:?}
lib="$top_build/.libs/libbulwark.so"
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# Names without their symbol version (bw_x@@BULWARK_0.1) and without the
# version node itself.
exported() { nm -D --defined-only "$1" | awk '{print $3}' | sed 's/@.*//' | grep -vE '^BULWARK_' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)$' | sort -u; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"

grep -hoE 'BW_PUBLIC[^(]*\b(bw_[a-z0-9_]+)\(' "$top_src"/include/bulwark/*.h |
        sed -E 's/.*\b(bw_[a-z0-9_]+)\($/\1/' | sort -u >"$tmp/declared"
exported "$lib" >"$tmp/exported"
if [ -s "$tmp/declared" ] && cmp -s "$tmp/declared" "$tmp/exported"; then
        ok "libbulwark.so exports exactly the $(wc -l <"$tmp/declared") declared functions"
else
        not_ok "libbulwark.so exports differ from the public headers" \
                "$(diff "$tmp/declared" "$tmp/exported" | grep '^[<>]' | tr '\n' ' ')"
fi

bad=""
count=0
for so in "$top_build"/plugins/*/.libs/*.so "$top_build"/security/*/.libs/*.so; do
        [ -e "$so" ] || continue
        count=$((count + 1))
        syms=$(exported "$so" | tr '\n' ' ')
        [ "$syms" = "bw_plugin_entry " ] || bad="$bad $(basename "$so"): $syms;"
done
if [ "$count" -gt 0 ] && [ -z "$bad" ]; then
        ok "$count plugin module(s) export only bw_plugin_entry"
else
        not_ok "plugin exports" "found $count plugin(s);$bad"
fi
[ "$failed" -eq 0 ]
