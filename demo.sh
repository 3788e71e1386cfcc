#!/usr/bin/env bash
# The end-to-end demo: builds bulwark, then confines a demo guest for real.
#   ./demo.sh            (as root on Debian 12; installs what it needs)
# It works in a scratch directory and a scratch cgroup and removes both.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$top/build}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Installing dependencies and building (log: $build/make.out)"
"$top/.ci/deps.sh"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror >configure.out
make -j"$(nproc)" >make.out 2>&1 || { tail -40 make.out; exit 1; }

scratch=$(mktemp -d /tmp/bulwark-demo.XXXXXX)
cleanup() {
  "$build/bulwarkctl" --config "$scratch/bulwark.conf" guest stop demo >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# A guest whose disk is a qcow2 overlay on a raw base image, with a serial
# log, a kernel, and the host's /dev/net/tun-style extra device (here
# /dev/zero, so the demo needs no special hardware).
python3 - "$scratch" <<'PY'
import struct, sys, os
d = sys.argv[1]
open(os.path.join(d, "base.raw"), "wb").write(b"\0" * 4096)
name = b"base.raw"
hdr = bytearray(104)
struct.pack_into(">IIQI", hdr, 0, 0x514649FB, 3, 104, len(name))   # magic, version, backing offset/size
struct.pack_into(">I", hdr, 20, 16)                                 # cluster bits
struct.pack_into(">Q", hdr, 24, 1 << 30)                            # virtual size
struct.pack_into(">I", hdr, 96, 4)                                  # refcount order
struct.pack_into(">I", hdr, 100, 104)                               # header length
open(os.path.join(d, "demo.qcow2"), "wb").write(bytes(hdr) + name + b"\0" * 512)
open(os.path.join(d, "vmlinuz"), "wb").write(b"kernel")
PY
sed "s|@DIR@|$scratch|g" "$top/examples/demo.guest.in" >"$scratch/demo.guest"
cat >"$scratch/bulwark.conf" <<CONF
[bulwark]
plugins=cgroup-bpf
plugin-dir=$build/plugins/cgroup-bpf/.libs:$build/plugins/nop/.libs
state-dir=$scratch/state
run-dir=$scratch/run
[plugin:cgroup-bpf]
default-rules=$top/policy/devices/default.rules
CONF
ctl() { run "$build/bulwarkctl" --config "$scratch/bulwark.conf" "$@"; }

step "The guest definition"
cat "$scratch/demo.guest"

step "Plugins: what is loaded and whether it works on this host"
ctl plugins || true

step "Check: every host path the guest uses (the qcow2 backing chain is read from the image header)"
ctl guest check "$scratch/demo.guest"

step "Explain: every change a start would make, before anything is touched"
ctl guest explain "$scratch/demo.guest"

if [ "$(id -u)" != 0 ]; then
  echo "not root: stopping before changing the host (the rest needs root)"
  exit 0
fi
