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
# The cgroup2 mount: unified at /sys/fs/cgroup, or hybrid at /sys/fs/cgroup/unified.
cgroot=/sys/fs/cgroup
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || cgroot=/sys/fs/cgroup/unified
cleanup() {
  "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" guest stop demo >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# The demo guest of examples/demo.guest, with its files moved into the
# scratch directory: a qcow2 disk on a raw backing file (the chain is read
# from the image header), an install ISO, firmware, a TPM state directory, a
# serial log and the host's /dev/net/tun.
mkdir -p "$scratch/images" "$scratch/nvram" "$scratch/swtpm/demo" "$scratch/log" "$scratch/ovmf"
python3 - "$scratch/images" <<'PY'
import struct, sys, os
d = sys.argv[1]
open(os.path.join(d, "demo-base.raw"), "wb").write(b"\0" * 65536)
name = b"demo-base.raw"
hdr = bytearray(104)
struct.pack_into(">IIQI", hdr, 0, 0x514649FB, 3, 104, len(name))  # magic, version, backing offset, size
struct.pack_into(">I", hdr, 20, 16)                                # cluster bits
struct.pack_into(">Q", hdr, 24, 1 << 30)                           # virtual size
struct.pack_into(">I", hdr, 96, 4)                                 # refcount order
struct.pack_into(">I", hdr, 100, 104)                              # header length
open(os.path.join(d, "demo.qcow2"), "wb").write(bytes(hdr) + name + b"\0" * 65536)
open(os.path.join(d, "debian-12-netinst.iso"), "wb").write(b"\0" * 4096)
PY
: >"$scratch/ovmf/OVMF_CODE_4M.fd"
: >"$scratch/nvram/demo_VARS.fd"
sed -e "s|/var/lib/bulwark/|$scratch/|g" -e "s|/var/log/bulwark/|$scratch/log/|g" \
    -e "s|/usr/share/OVMF/|$scratch/ovmf/|g" "$top/examples/demo.guest" >"$scratch/demo.guest"
cat >"$scratch/bulwark.conf" <<CONF
[bulwark]
plugins=cgroup-bpf
plugin-dir=$build/plugins/cgroup-bpf/.libs
cgroup-root=$cgroot
state-dir=$scratch/state
run-dir=$scratch/run
[plugin:cgroup-bpf]
default-rules=$top/policy/devices/default.rules
CONF
ctl() { run "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" "$@"; }

step "The guest definition ($scratch/demo.guest)"
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

cg="$cgroot/bulwark/demo"
step "Start: lock the paths, apply every change (journaled), commit"
ctl guest start "$scratch/demo.guest"

step "What bulwark remembers: the guest as resolved at start, and per plugin every change in place"
ctl guest show demo

step "The device policy now on the guest's cgroup, read back from the kernel"
ctl devices list "$cg"

# The host's /dev/mem, recreated in the scratch directory (c 1:1): the
# device cgroup decides before any driver is reached.
mknod "$scratch/mem" c 1 1
step "A process in the guest's cgroup: /dev/null and /dev/net/tun were given; mem (c 1:1) and /dev/loop0 were not"
sh -c 'echo $$ >"$1/cgroup.procs"; shift
       for dev in "$@"; do
         if err=$( (exec 3<"$dev") 2>&1 ); then echo "  open $dev: ok"; else echo "  open $dev: ${err##*: }"; fi
       done' demo-guest "$cg" /dev/null /dev/net/tun "$scratch/mem" /dev/loop0

step "Why did the guest get EPERM? The denial log answers: who, what, and which rule decided"
ctl devices denials "$cg"
ctl devices denials --summary "$cg"
ctl devices explain "$cg" c 1:1 r

step "Hotplug: attach /dev/kmsg (read-only) to the running guest, then detach it again"
printf '[device:kmsg]\npath=/dev/kmsg\naccess=r\n' >"$scratch/kmsg.resource"
cat "$scratch/kmsg.resource"
ctl guest attach demo "$scratch/kmsg.resource"
ctl devices explain "$cg" c 1:11 r
ctl guest detach demo device:kmsg
ctl devices explain "$cg" c 1:11 r

step "Stop: every change undone, newest first; the guest's cgroup is gone"
ctl guest stop demo
if [ -d "$cg" ]; then echo "cgroup $cg still exists"; exit 1; else echo "cgroup $cg: removed"; fi

step "Run: start the guest, run a command as its process (its cgroup, user and group, no_new_privs), stop when it exits"
ctl run "$scratch/demo.guest" -- sh -c 'grep -E "^(Uid|Gid|Groups|NoNewPrivs)" /proc/self/status; grep "^0::" /proc/self/cgroup'
if [ -d "$cg" ]; then echo "cgroup $cg still exists"; exit 1; else echo "cgroup $cg: removed after the run"; fi

step "Done: the demo's scratch directory is removed on exit"
