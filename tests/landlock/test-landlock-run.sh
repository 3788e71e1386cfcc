#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The landlock plugin enforced for real: `bulwarkctl run` of guests whose
# command (tests/landlock/ll-open) opens files inside the guest's Landlock
# domain and reports what the kernel said.  A guest with a read-write disk,
# a read-only ISO, /dev/null and /dev/net/tun; a path under a symlinked
# directory; a TPM state tree; hotplug-dirs; a missing file refused at
# plan; ABIs 1 and 3 (max-abi=) still confining; a ruleset the kernel
# refuses (ll-layers: no Landlock layer left) failing before CMD runs.
# Only the landlock plugin is configured.  As root; prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
require_root
helper="$top/tests/landlock/ll-open"
layers="$top/tests/landlock/ll-layers"
[ -x "$helper" ] && [ -x "$layers" ] || skip_all "tests/landlock helpers not built"
abi=$("$layers" true 2>&1; echo "rc=$?")
case $abi in *rc=77*) skip_all "Landlock unusable here: $abi" ;; esac
scratch_new
chmod 755 "$scratch"
export BULWARK_PLUGIN_DIR="$top/security/landlock/.libs"

# The shipped base set, and the helper the guest runs.
{ cat "$src/policy/landlock/base.rules"; echo "rx $helper"; } > "$scratch/base.rules"
# $1: extra [plugin:landlock] keys.
config() {
    printf '[bulwark]\nplugins=landlock\n[plugin:landlock]\nbase-rules=%s\n%s\n' "$scratch/base.rules" "${1:-}" \
        > "$scratch/bulwark.conf"
}
config
run() { "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" run "$@"; }
ctl_() { "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" "$@"; }

img="$scratch/images"
mkdir -p "$img/real" "$scratch/tpm/sub" "$scratch/other" "$scratch/hot"
: > "$img/disk.img"; : > "$img/beside.img"; : > "$img/install.iso"; : > "$img/real/linked.img"
: > "$scratch/tpm/sub/state"; : > "$scratch/other/secret"; : > "$scratch/hot/later.img"
ln -s real "$img/link"
tun=
[ -c /dev/net/tun ] && tun=/dev/net/tun

guest() { # NAME [EXTRA-GROUPS]
    printf '[guest]\nname=%s\nuser=0\ngroup=0\n%s\n[disk:root]\npath=%s\nformat=raw\n[disk:install]\npath=%s\nreadonly=true\nformat=raw\n[device:null]\npath=/dev/null\n' \
        "$1" "${3:-}" "$img/disk.img" "$img/install.iso"
    [ -n "$tun" ] && printf '[device:tun]\npath=%s\naccess=rw\n' "$tun"
    printf '%s\n' "${2:-}"
}
guest vm > "$scratch/vm.guest"

# expect DESCRIPTION GUEST-FILE MODE PATH EXPECT...: run ll-open in the guest.
expect() {
    desc=$1 file=$2; shift 2
    out=$(run "$file" -- "$helper" "$@" 2>&1); st=$?
    if [ "$st" = 0 ] && [ ! -e "$scratch/state/guests/$(basename "$file" .guest).journal" ]; then ok "$desc"
    else not_ok "$desc" "status $st, output:" "$out"; fi
}

expect "the read-write disk opens read-write" "$scratch/vm.guest" rw "$img/disk.img" ok t "$img/disk.img" ok
expect "the ISO opens read-only, not for writing" "$scratch/vm.guest" r "$img/install.iso" ok w "$img/install.iso" EACCES
expect "a file beside the disk is refused" "$scratch/vm.guest" r "$img/beside.img" EACCES rw "$img/beside.img" EACCES
expect "no new file beside the disk" "$scratch/vm.guest" c "$img/new.img" EACCES
expect "/etc/hostname is refused" "$scratch/vm.guest" r /etc/hostname EACCES
expect "/dev/zero is refused, /dev/null opens" "$scratch/vm.guest" r /dev/zero EACCES rw /dev/null ok
if [ -n "$tun" ]; then expect "/dev/net/tun opens read-write" "$scratch/vm.guest" rw /dev/net/tun ok
else ok "/dev/net/tun opens read-write # SKIP no /dev/net/tun here"; fi
expect "the directory of the disk cannot be listed" "$scratch/vm.guest" d "$img" EACCES
expect "a TPM-less guest has no TPM directory" "$scratch/vm.guest" r "$scratch/tpm/sub/state" EACCES

# A disk named through a symlinked directory: the rule lands on the file.
guest linked "[disk:linked]
path=$img/link/linked.img
format=raw" > "$scratch/linked.guest"
expect "a disk under a symlinked directory opens, by both names" "$scratch/linked.guest" \
    rw "$img/link/linked.img" ok rw "$img/real/linked.img" ok r "$img/beside.img" EACCES

# A TPM state directory: its tree, nothing beside it.
guest tpm "[tpm]
state=$scratch/tpm" > "$scratch/tpm.guest"
expect "the TPM state tree: read, write, create, list" "$scratch/tpm.guest" \
    rw "$scratch/tpm/sub/state" ok c "$scratch/tpm/sub/new" ok d "$scratch/tpm" ok r "$scratch/other/secret" EACCES

# hotplug-dirs: a directory granted at start for files attached later.
guest hot "" "hotplug-dirs=$scratch/hot" > "$scratch/hot.guest"
expect "hotplug-dirs: a file in the directory opens read-write" "$scratch/hot.guest" \
    rw "$scratch/hot/later.img" ok c "$scratch/hot/new.img" EACCES r "$scratch/other/secret" EACCES

# A server socket the guest makes: its directory may get a new socket,
# nothing else; another directory may not.
mkdir "$scratch/sock"
guest sock "[chardev:mon]
type=socket
path=$scratch/sock/mon.sock" > "$scratch/sock.guest"
expect "a chardev socket to create: bound in its directory, nowhere else" "$scratch/sock.guest" \
    s "$scratch/sock/mon.sock" ok s "$img/other.sock" EACCES c "$scratch/sock/file" EACCES

# A missing file: refused at plan, naming the resource; nothing runs.
guest missing "[disk:gone]
path=$scratch/gone.img
format=raw" > "$scratch/missing.guest"
check "a missing file is refused at plan, naming the resource" 1 \
    "guest 'missing': disk:gone: '$scratch/gone.img' does not exist" ctl_ guest explain "$scratch/missing.guest"
check "... and run refuses to start the guest" 1 "disk:gone: '$scratch/gone.img' does not exist" \
    run "$scratch/missing.guest" -- "$helper" r /etc/hostname EACCES

# Older ABIs (the kernel's answer masked): the start never fails, and the
# guest is still confined by what the ABI knows.
for a in 1 3; do
    config "max-abi=$a"
    check "ABI $a: explain says so" 0 "Landlock ABI $a, handled" ctl_ guest explain "$scratch/vm.guest"
    expect "ABI $a: disk read-write, ISO not writable, beside and /etc refused" "$scratch/vm.guest" \
        rw "$img/disk.img" ok w "$img/install.iso" EACCES r "$img/beside.img" EACCES r /etc/hostname EACCES
done
config "max-abi=3"
expect "ABI 3: truncating the disk is allowed" "$scratch/vm.guest" t "$img/disk.img" ok
config "max-abi=1"
# ABI 1 does not handle truncation: open(O_TRUNC) of a writable file works.
expect "ABI 1: open(O_TRUNC) of the disk works" "$scratch/vm.guest" t "$img/disk.img" ok
config "max-abi=8"
check "max-abi out of range is refused, naming the key" 1 "key 'max-abi': '8' is not an ABI version from 1 to 7" \
    ctl_ guest explain "$scratch/vm.guest"
config

# A ruleset the kernel refuses: CMD never runs, exit 125.
out=$("$layers" "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" run "$scratch/vm.guest" -- \
    /bin/sh -c 'echo CMD-RAN' 2>&1); st=$?
if [ "$st" = 125 ] && printf '%s\n' "$out" | grep -q "cannot restrict itself with Landlock (ruleset from plugin 'landlock')" &&
   ! printf '%s\n' "$out" | grep -q CMD-RAN && [ ! -e "$scratch/state/guests/vm.journal" ]; then
    ok "a ruleset the kernel refuses: 125, CMD never ran, guest stopped"
else not_ok "a ruleset the kernel refuses: 125, CMD never ran, guest stopped" "status $st, output:" "$out"; fi

tap_done
