#!/usr/bin/env bash
# Builds bulwark and runs its whole test suite (as root, the real-kernel
# tests run too; otherwise they skip with their reason).
#   ./test.sh                   install dependencies, build in ./build, make check
#   BUILD_DIR=DIR ./test.sh     build elsewhere
#   CONFIGURE_FLAGS=... ./test.sh   extra configure flags (e.g. --enable-sanitizers)
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$top/build}

"$top/.ci/deps.sh"
mkdir -p "$build"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh) >"$build/autogen.out" 2>&1 || { cat "$build/autogen.out"; exit 1; }
cd "$build"
if [ ! -f Makefile ] || [ "${RECONFIGURE:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  "$top/configure" --enable-werror ${CONFIGURE_FLAGS:-} >configure.out 2>&1 || { cat configure.out; exit 1; }
fi
make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; exit 1; }

status=0
make -j"$(nproc)" check >check.out 2>&1 || status=$?
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):' check.out || true
# Show the log of every failing test.
for log in $(grep -lE '^(not ok|ERROR)' $(find . -name '*.log' -path '*tests*') 2>/dev/null); do
  echo "---- $log"; tail -40 "$log"
done
[ "$status" -eq 0 ] || tail -30 check.out
# Count from the drivers' result files: parallel tests can interleave lines
# of check.out, the .trs files are written one per test binary.
results=$(find . -name '*.trs' -exec grep -h '^:test-result:' {} + || true)
pass=$(grep -cE '^:test-result: (PASS|XFAIL)' <<<"$results" || true)
fail=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' <<<"$results" || true)
skip=$(grep -cE '^:test-result: SKIP' <<<"$results" || true)
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$status" -eq 0 ] && [ "$fail" -eq 0 ]
