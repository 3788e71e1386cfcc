#!/usr/bin/env bash
# The end-to-end demo: builds bulwark, starts bulwark-lockd and bulwarkd on
# a private system-like D-Bus (the real bus policy), and confines a demo
# guest for real with bulwarkctl talking to bulwarkd over that bus.
#   ./demo.sh            (as root on Debian 12; installs what it needs)
# Plugins dac, selinux, apparmor and landlock take part when the build has
# them.  It works in a scratch directory and a scratch cgroup, stops the
# daemons and removes everything it made.  DEMO_NO_BUILD=1 skips the
# package install and the build (the test suite runs it that way).
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$top/build}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if [ "${DEMO_NO_BUILD:-}" != 1 ]; then
  step "Installing dependencies and building (log: $build/make.out)"
  "$top/.ci/deps.sh"
  [ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
  mkdir -p "$build"
  cd "$build"
  [ -f Makefile ] || "$top/configure" --enable-werror >configure.out
  make -j"$(nproc)" >make.out 2>&1 || { tail -40 make.out; exit 1; }
fi
cd "$build"

scratch=$(mktemp -d /tmp/bulwark-demo.XXXXXX)
# The cgroup2 mount: unified at /sys/fs/cgroup, or hybrid at /sys/fs/cgroup/unified.
cgroot=/sys/fs/cgroup
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || cgroot=/sys/fs/cgroup/unified
# The demo's own cgroup root, so that it never meets a real installation's.
cgdemo="$cgroot/bulwark-demo-$$"
daemons=()
cleanup() {
  "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" guest stop --kill demo >/dev/null 2>&1 || true
  for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${daemons[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
  for dir in "$cgdemo/bulwark/demo" "$cgdemo/bulwark" "$cgdemo"; do
    [ -d "$dir" ] && { echo 1 >"$dir/cgroup.kill" 2>/dev/null; rmdir "$dir" 2>/dev/null; }
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
echo "scratch directory: $scratch"

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
# The serial log exists before the start, as a VMM manager creates it:
# Landlock and the labels grant access to existing files only.
: >"$scratch/log/demo-serial.log"
sed -e "s|/var/lib/bulwark/|$scratch/|g" -e "s|/var/log/bulwark/|$scratch/log/|g" \
    -e "s|/usr/share/OVMF/|$scratch/ovmf/|g" "$top/examples/demo.guest" >"$scratch/demo.guest"
# The plugins: cgroup-bpf always; dac, selinux, apparmor and landlock when
# this build has them.
plugins= plugin_dirs=$build/plugins/cgroup-bpf/.libs
for p in dac selinux apparmor landlock; do
  so=$(find "$build" -path '*/.libs/*' -name "$p.so" 2>/dev/null | head -n1)
  if [ -n "$so" ]; then plugins="$plugins$p," plugin_dirs="$plugin_dirs:$(dirname "$so")"
  else echo "plugin $p: not in this build; the demo goes on without it"; fi
done
plugins="${plugins}cgroup-bpf"
cat >"$scratch/bulwark.conf" <<CONF
[bulwark]
plugins=$plugins
plugin-dir=$plugin_dirs
cgroup-root=$cgdemo
state-dir=$scratch/state
run-dir=$scratch/run
lock-backend=lockd
[lockd]
socket=$scratch/run/lockd.sock
[plugin:cgroup-bpf]
default-rules=$top/policy/devices/default.rules
CONF
# The plugins' policy files, from the source tree.
. "$top/policy/source-tree-conf.sh"
source_tree_conf "$plugins" "$top" "$scratch" >>"$scratch/bulwark.conf"
# bulwarkctl talks to bulwarkd over the bus ($DBUS_SYSTEM_BUS_ADDRESS, below).
ctl() { run "$build/bulwarkctl" "$@"; }

step "The guest definition ($scratch/demo.guest)"
cat "$scratch/demo.guest"

if [ "$(id -u)" != 0 ]; then
  step "Explain, in this process (not root: the rest starts daemons and changes the host)"
  run "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" guest explain "$scratch/demo.guest"
  exit 0
fi

mkdir "$cgdemo"
step "Starting bulwark-lockd and bulwarkd on a private system bus with bulwark's real bus policy"
mkdir -p "$scratch/run"
"$build/bulwark-lockd" --foreground --socket "$scratch/run/lockd.sock" --state-dir "$scratch/run/lockd" \
  --pidfile "$scratch/run/lockd.pid" 2>"$scratch/run/lockd.log" &
daemons+=($!)
sed -e "s|@LISTEN@|$scratch/run/system_bus_socket|" -e "s|@POLICY@|$top/policy/dbus/org.bulwark.Bulwark1.conf|" \
  "$top/policy/dbus/private-system-bus.conf.in" >"$scratch/run/bus.conf"
dbus-daemon --config-file="$scratch/run/bus.conf" --fork --nopidfile --print-pid=3 --print-address=4 \
  3>"$scratch/run/bus.pid" 4>"$scratch/run/bus.address" 2>/dev/null
daemons+=("$(cat "$scratch/run/bus.pid")")
DBUS_SYSTEM_BUS_ADDRESS=$(head -n1 "$scratch/run/bus.address")
export DBUS_SYSTEM_BUS_ADDRESS
"$build/bulwarkd" --config "$scratch/bulwark.conf" 2>"$scratch/run/bulwarkd.log" &
daemons+=($!)
owned=false
for _ in $(seq 100); do
  if dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
    string:org.bulwark.Bulwark1 2>/dev/null | grep -q true; then owned=true; break; fi
  sleep 0.05
done
if ! $owned; then
  echo "demo: bulwarkd did not take org.bulwark.Bulwark1; its log:" >&2
  cat "$scratch/run/bulwarkd.log" >&2
  exit 1
fi
echo "bus $DBUS_SYSTEM_BUS_ADDRESS: bulwarkd owns org.bulwark.Bulwark1"

step "Plugins: what bulwarkd loaded and whether each works on this host"
ctl plugins || true

step "Explain: every change a start would make, before anything is touched"
ctl guest explain "$scratch/demo.guest"

step "Watching bulwarkd's signals (bulwarkctl monitor)"
"$build/bulwarkctl" monitor >"$scratch/monitor.out" 2>"$scratch/monitor.err" &
daemons+=($!)
for _ in $(seq 100); do grep -qs listening "$scratch/monitor.err" && break; sleep 0.05; done
cat "$scratch/monitor.err"

disk=$scratch/images/demo.qcow2
# The host's /dev/mem, recreated in the scratch directory (c 1:1), and a
# file beside the disk that the guest was not given.
# Both are open to everyone as far as file modes go: what refuses the
# guest is bulwark's confinement.
mknod -m 666 "$scratch/mem" c 1 1
echo "not the guest's" >"$scratch/images/other.img"
chmod 755 "$scratch" "$scratch/images"
state() { stat -c '  %u:%g %A %n' "$disk"; command -v getfattr >/dev/null &&
          { getfattr -h -d -m - "$disk" 2>/dev/null | grep -v '^#' | grep . | sed 's/^/  xattr /' || echo "  no xattr"; }; }
step "Before: the disk as the host has it"
state

# What the guest's process checks for itself, as it runs.
guest_script='
echo "  I am $(id -u):$(id -g), pid $$"
try() { if err=$( (eval "$2") 2>&1 ); then echo "  $1: ok"; else echo "  $1: ${err##*: }"; fi; }
try "open the disk for writing" ": >> $0"
try "open /dev/null" "exec 3</dev/null"
try "open mem (c 1:1, never given)" "exec 3<$1"
try "read other.img beside the disk (Landlock refuses it when the landlock plugin runs)" "cat $2 >/dev/null"
echo "  checks done; waiting for the demo"
read _; exit 0'
step "Run: bulwarkctl run starts the guest over the bus (StartGuest), takes its exec attributes (ExecAttributes), forks, confines and execs the command here, then stops the guest"
mkfifo "$scratch/hold"
printf '$ bulwarkctl run demo.guest -- sh -c SCRIPT\n'
"$build/bulwarkctl" run "$scratch/demo.guest" -- sh -c "$guest_script" "$disk" "$scratch/mem" "$scratch/images/other.img" \
  <"$scratch/hold" >"$scratch/run.out" 2>&1 &
run_pid=$!
exec 6>"$scratch/hold"
for _ in $(seq 200); do grep -q "checks done" "$scratch/run.out" && break; sleep 0.05; done
cat "$scratch/run.out"
# Its cgroup, read by the host: Landlock keeps the guest out of /proc.
guest_pid=$(sed -n 's/^  I am [0-9:]*, pid //p' "$scratch/run.out")
[ -n "$guest_pid" ] && echo "  (the host sees pid $guest_pid in cgroup $(sed -n 's/^0:://p' "/proc/$guest_pid/cgroup"))"

step "While it runs: the disk, the locks bulwark-lockd holds for it, and what the guest was refused"
state
echo "bulwark-lockd's locks now: the guest's images are leased for as long as it runs (read-write exclusive, read-only shared), so no other host or daemon starts a guest on them:"
ctl locks
case ",$plugins," in *,apparmor,*)
  echo "The AppArmor profile written for it (compiled here, loaded where AppArmor runs):"
  ctl --direct --config "$scratch/bulwark.conf" profile "$scratch/demo.guest" || true ;;
esac
for _ in $(seq 60); do grep -q DeviceDenied "$scratch/monitor.out" && break; sleep 0.05; done
echo "bulwarkctl monitor caught:"
sed 's/^/  /' "$scratch/monitor.out"

step "The command ends; the guest stops; every change is undone"
exec 6>&-
wait "$run_pid" && echo "bulwarkctl run: exit status 0"
cg="$cgdemo/bulwark/demo"
if [ -d "$cg" ]; then echo "cgroup $cg still exists"; exit 1; else echo "cgroup $cg: removed"; fi
step "After: the disk as it was, no xattr left"
state
sleep 0.1
echo "bulwarkctl monitor caught:"
sed 's/^/  /' "$scratch/monitor.out"

step "Done: the daemons are stopped and the scratch directory removed on exit"
