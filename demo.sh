#!/usr/bin/env bash
# The end-to-end demo: builds bulwark, starts bulwark-lockd and bulwarkd on
# a private system-like D-Bus (the real bus policy), and runs a real
# virtual machine (Debian's QEMU, KVM where /dev/kvm is usable, else TCG)
# confined by bulwark, with bulwarkctl talking to bulwarkd over that bus:
# examples/qemu.guest, QEMU's monitor driven by examples/qmp-tool.
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
  mkdir -p "$build"
  [ -x "$top/configure" ] || (cd "$top" && ./autogen.sh) >"$build/autogen.out" 2>&1 || { cat "$build/autogen.out"; exit 1; }
  cd "$build"
  [ -f Makefile ] || "$top/configure" --enable-werror >configure.out 2>&1 || { tail -20 configure.out; exit 1; }
  make -j"$(nproc)" >make.out 2>&1 || { tail -40 make.out; exit 1; }
fi
cd "$build"

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
  echo "demo: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 qemu-utils, which .ci/deps.sh does)" >&2
  exit 1
fi
qmp=$build/examples/qmp-tool
scratch=$(mktemp -d /tmp/bulwark-demo.XXXXXX)
# The cgroup2 mount: unified at /sys/fs/cgroup, or hybrid at /sys/fs/cgroup/unified.
cgroot=/sys/fs/cgroup
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || cgroot=/sys/fs/cgroup/unified
# The demo's own cgroup root, so that it never meets a real installation's.
cgdemo="$cgroot/bulwark-demo-$$"
daemons=()
. "$top/policy/kvm-node.sh"
cleanup() {
  "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" guest stop --kill qemu >/dev/null 2>&1 || true
  for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${daemons[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
  for dir in "$cgdemo/bulwark/qemu" "$cgdemo/bulwark" "$cgdemo"; do
    [ -d "$dir" ] && { echo 1 >"$dir/cgroup.kill" 2>/dev/null; rmdir "$dir" 2>/dev/null; }
  done
  kvm_node_restore
  rm -rf "$scratch"
}
trap cleanup EXIT
echo "scratch directory: $scratch"

# The guest of examples/qemu.guest, its files in the scratch directory, made
# as a VMM manager makes them: a qcow2 disk on a raw backing file, an install
# ISO, the serial log, and a directory of the guest's own where QEMU creates
# its monitor socket.
mkdir -p "$scratch/images" "$scratch/log" "$scratch/qemu"
qemu-img create -q -f raw "$scratch/images/qemu-base.raw" 64M
qemu-img create -q -f qcow2 -b qemu-base.raw -F raw "$scratch/images/qemu.qcow2"
truncate -s 1M "$scratch/images/qemu-install.iso"
: >"$scratch/log/qemu-serial.log"
install -d -o 107 -g 107 "$scratch/qemu"
sed -e "s|/var/lib/bulwark/images/|$scratch/images/|g" -e "s|/var/log/bulwark/|$scratch/log/|g" \
    -e "s|/run/bulwark/qemu/|$scratch/qemu/|g" "$top/examples/qemu.guest" >"$scratch/qemu.guest"
mon=$scratch/qemu/monitor.sock
disk=$scratch/images/qemu.qcow2

# /dev/kvm: distributions' udev rules make it root:kvm 0660 and VMM users
# join the kvm group; it is shared by every VM and never relabelled.
accel=tcg
[ "$(id -u)" = 0 ] && kvm_node_setup
if [ "$kvm_usable" = yes ]; then
  echo "no udev on this host: /dev/kvm made root:kvm 0660 as udev's rule would (it was ${kvm_saved/ / mode }; restored at exit)"
  accel=kvm
else
  echo "no usable /dev/kvm: QEMU runs under TCG (emulation), and the guest is not given /dev/kvm"
  sed -i -e '/^groups=kvm$/d' -e '/^\[device:kvm\]$/,/^$/d' "$scratch/qemu.guest"
fi
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

step "The guest definition ($scratch/qemu.guest, from examples/qemu.guest)"
cat "$scratch/qemu.guest"

if [ "$(id -u)" != 0 ]; then
  step "Explain, in this process (not root: the rest starts daemons and changes the host)"
  run "$build/bulwarkctl" --direct --config "$scratch/bulwark.conf" guest explain "$scratch/qemu.guest"
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
ctl guest explain "$scratch/qemu.guest"

step "Watching bulwarkd's signals (bulwarkctl monitor)"
"$build/bulwarkctl" monitor >"$scratch/monitor.out" 2>"$scratch/monitor.err" &
daemons+=($!)
for _ in $(seq 100); do grep -qs listening "$scratch/monitor.err" && break; sleep 0.05; done

# Beside the guest's files: a file it was not given, a second disk for the
# hot-plug (root's, mode 0600: the guest gets it only by attach), and the
# host's /dev/loop0 recreated as a node everyone may open as far as file
# modes go (b 7:0): what refuses QEMU is bulwark's confinement.
echo "not the guest's" >"$scratch/images/other.img"
qemu-img create -q -f raw "$scratch/images/data.raw" 16M
chmod 600 "$scratch/images/data.raw"
printf '[disk:data]\npath=%s\nformat=raw\n' "$scratch/images/data.raw" >"$scratch/data.disk"
mknod -m 666 "$scratch/loop0" b 7 0
chmod 755 "$scratch" "$scratch/images"
state() {
  for f in "$@"; do
    stat -c '  %u:%g %A %n' "$f"
    getfattr -h -d -m - "$f" 2>/dev/null | grep -v '^#' | grep . | sed 's/^/    xattr /' || echo "    no xattr"
  done
}
step "Before: the disks as the host has them"
state "$disk" "$scratch/images/data.raw"

qemu_cmd=("$qemu" -name qemu -nodefaults -display none -machine q35 -accel "$accel" -m 128
  -drive "file=$disk,if=virtio,format=qcow2"
  -drive "file=$scratch/images/qemu-install.iso,media=cdrom,readonly=on,format=raw"
  -device virtio-scsi-pci,id=scsi0
  -serial "file:$scratch/log/qemu-serial.log"
  -chardev "socket,id=mon0,path=$mon,server=on,wait=off" -mon chardev=mon0,mode=control)
step "Run: bulwarkctl run starts the guest over the bus (StartGuest), takes its exec attributes (ExecAttributes), forks, confines and execs QEMU here; QEMU's end stops the guest"
printf '$ bulwarkctl run qemu.guest -- %s\n' "${qemu_cmd[*]}"
"$build/bulwarkctl" run "$scratch/qemu.guest" -- "${qemu_cmd[@]}" </dev/null >"$scratch/run.out" 2>&1 &
run_pid=$!
hmp() { printf '(qemu) %s\n' "$1"; { "$qmp" "$mon" hmp "$1" 2>&1 || true; } | sed 's/^/  /'; }
if ! "$qmp" "$mon" hmp "info status" >/dev/null; then
  echo "demo: QEMU did not answer on its monitor; its output:" >&2
  cat "$scratch/run.out" >&2
  exit 1
fi
step "QEMU's monitor: the accelerator, the VM's state, its disks"
hmp "info kvm"
hmp "info status"
hmp "info block"
qemu_pid=$(pgrep -f -n -- "-name qemu -nodefaults" || true)
[ -n "$qemu_pid" ] && echo "  (the host sees QEMU as pid $qemu_pid, uid $(awk '/^Uid:/{print $2}' "/proc/$qemu_pid/status"), supplementary groups $(awk '/^Groups:/{$1=""; print $0}' "/proc/$qemu_pid/status" | xargs) (kvm is $(getent group kvm | cut -d: -f3)), in cgroup $(sed -n 's/^0:://p' "/proc/$qemu_pid/cgroup"))"

step "While it runs: the disk is the guest's, and its images are leased by bulwark-lockd"
state "$disk"
echo "bulwark-lockd's locks now (read-write exclusive, read-only shared): no other host or daemon starts a guest on them:"
ctl locks
case ",$plugins," in *,apparmor,*)
  echo "The AppArmor profile written for it (compiled here, loaded where AppArmor runs):"
  ctl --direct --config "$scratch/bulwark.conf" profile "$scratch/qemu.guest" || true ;;
esac

step "QEMU asked to open what is not the guest's"
echo "A file beside the disk, by path (Landlock refuses it):"
hmp "drive_add 0 if=none,id=other,file=$scratch/images/other.img,format=raw"
echo "A block device node the guest was not given (the device program refuses it, and logs it):"
hmp "drive_add 0 if=none,id=loop,file=$scratch/loop0,format=raw"

step "Hot-plug the way VMM managers do it under Landlock: attach, then hand QEMU the descriptor"
ctl guest attach qemu "$scratch/data.disk"
state "$scratch/images/data.raw"
printf '$ qmp-tool %s hotplug-disk data %s rw raw\n' "$mon" "$scratch/images/data.raw"
"$qmp" "$mon" hotplug-disk data "$scratch/images/data.raw" rw raw | sed 's/^/  /'
hmp "info block data"
printf '$ qmp-tool %s unplug-disk data\n' "$mon"
"$qmp" "$mon" unplug-disk data | sed 's/^/  /'
ctl guest detach qemu disk:data
state "$scratch/images/data.raw"

step "The device denial log: nothing QEMU was given, only the node it was refused"
ctl devices denials "${cgdemo#"$cgroot"/}/bulwark/qemu" || true
for _ in $(seq 60); do grep -q DeviceDenied "$scratch/monitor.out" && break; sleep 0.05; done
echo "bulwarkctl monitor caught:"
sed 's/^/  /' "$scratch/monitor.out"

step "QEMU quits; the guest stops; every change is undone"
printf '$ qmp-tool %s quit\n' "$mon"
"$qmp" "$mon" quit
wait "$run_pid" && echo "bulwarkctl run: QEMU exited with status 0"
cg="$cgdemo/bulwark/qemu"
if [ -d "$cg" ]; then echo "cgroup $cg still exists"; exit 1; else echo "cgroup $cg: removed"; fi
step "After: the disks as they were, no record left"
state "$disk" "$scratch/images/data.raw"

step "Done: the daemons are stopped, /dev/kvm given back and the scratch directory removed on exit"
