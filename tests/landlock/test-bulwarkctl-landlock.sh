#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl landlock FILE and abi (text and --json), guest explain listing
# every rule, [guest] hotplug-dirs in the plan, and attach/detach on a
# running guest saying the domain cannot change.  Only the landlock plugin
# is configured.  Prints TAP.
set -u
. "$(dirname "$0")/../ctl-test-lib.sh"
src=${BW_TOP_SRCDIR:-$top/..}
require_python3
abi=$("$top/tests/landlock/ll-layers" true 2>&1; echo "rc=$?")
case $abi in *rc=77*) skip_all "Landlock unusable here: $abi" ;; esac
scratch_new
export BULWARK_PLUGIN_DIR="$top/security/landlock/.libs"
config() {
    printf '[bulwark]\nplugins=landlock\n[plugin:landlock]\nbase-rules=%s\n%s\n' "${rules:-$src/policy/landlock/base.rules}" \
        "${1:-}" > "$scratch/bulwark.conf"
}
config
ctl_() { "$ctl" --config "$scratch/bulwark.conf" --state-dir "$scratch/state" "$@"; }

mkdir "$scratch/hot" "$scratch/tpm"
: > "$scratch/disk.img"; : > "$scratch/base.img"; : > "$scratch/hot/data.img"; : > "$scratch/extra.img"
cat > "$scratch/vm.guest" <<EOF
[guest]
name=llctl
user=0
group=0
hotplug-dirs=$scratch/hot
[disk:root]
path=$scratch/disk.img
format=raw
[disk:base]
path=$scratch/base.img
readonly=true
format=raw
[tpm]
state=$scratch/tpm
EOF

check "guest check lists hotplug-dirs" 0 "^hotplug-dir $scratch/hot$" ctl_ guest check "$scratch/vm.guest"
out=$(ctl_ --json guest check "$scratch/vm.guest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["guest"]["hotplug_dirs"])' 2>&1)
if [ "$out" = "['$scratch/hot']" ]; then ok "guest check --json: hotplug_dirs"; else not_ok "guest check --json: hotplug_dirs" "$out"; fi
check "landlock FILE: the ABI and rights handled" 0 "guest 'llctl': Landlock ABI [0-9], handled: " ctl_ landlock "$scratch/vm.guest"
check "landlock FILE: the read-write disk" 0 "disk:root  *$scratch/disk.img  *write_file,read_file,truncate.* (read-write image)" \
    ctl_ landlock "$scratch/vm.guest"
check "landlock FILE: the read-only disk, read_file only" 0 "disk:base  *$scratch/base.img  *read_file (read-only image)" \
    ctl_ landlock "$scratch/vm.guest"
check "landlock FILE: the TPM tree" 0 "tpm  *$scratch/tpm  *.*make_reg.* beneath (state directory tree)" \
    ctl_ landlock "$scratch/vm.guest"
check "landlock FILE: hotplug-dirs" 0 "hotplug-dirs  *$scratch/hot  *.*write_file.* beneath (hotplug directory tree)" \
    ctl_ landlock "$scratch/vm.guest"
check "landlock FILE: the base set" 0 "base  */usr/bin  *execute,read_file,read_dir beneath (base)" \
    ctl_ landlock "$scratch/vm.guest"
out=$(ctl_ --json landlock "$scratch/vm.guest" | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = {x["path"]: x for x in d["rules"]}
disk = r[sys.argv[1]]
print(d["guest"], disk["source"], disk["target"], disk["access"], r[sys.argv[2]]["target"])' "$scratch/disk.img" "$scratch/tpm" 2>&1)
case $out in
"llctl disk:root file write_file,read_file,truncate"*" tree") ok "landlock --json FILE" ;;
*) not_ok "landlock --json FILE" "$out" ;;
esac
config "max-abi=3"
check "landlock FILE at ABI 3: truncate, no ioctl_dev" 0 "disk.img  *write_file,read_file,truncate (read-write image)" \
    ctl_ landlock "$scratch/vm.guest"
check "landlock abi at max-abi=3" 0 "Landlock ABI 3 used" ctl_ landlock abi
config
out=$(ctl_ --json landlock abi | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["abi"] == min(d["kernel_abi"], 7), len(d["features"]))' 2>&1)
if [ "$out" = "True 7" ]; then ok "landlock --json abi"; else not_ok "landlock --json abi" "$out"; fi

check "guest explain lists every rule" 0 "landlock-rule  *$scratch/tpm  *.* beneath (state directory tree)" \
    ctl_ guest explain "$scratch/vm.guest"
# (n is the TAP counter.)
listed=$(ctl_ --json landlock "$scratch/vm.guest" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
explained=$(ctl_ guest explain "$scratch/vm.guest" | grep -c "landlock-rule ")
if [ "$listed" = "$explained" ] && [ "$listed" -gt 5 ]; then ok "explain and landlock FILE list the same $listed rules"
else not_ok "explain and landlock FILE list the same rules" "landlock: $listed, explain: $explained"; fi

# A missing file, a broken or missing base set.
sed "s|$scratch/disk.img|$scratch/gone.img|" "$scratch/vm.guest" > "$scratch/gone.guest"
check "landlock FILE: a missing file names the resource" 1 "guest 'llctl': disk:root: '$scratch/gone.img' does not exist" \
    ctl_ landlock "$scratch/gone.guest"
printf 'rx /usr\nrq /etc\n' > "$scratch/bad.rules"
rules="$scratch/bad.rules" config
check "a bad base set: file and line named" 1 "$scratch/bad.rules:2: rights 'rq': expected letters of r w x t i" \
    ctl_ landlock "$scratch/vm.guest"
printf 'r usr\n' > "$scratch/bad.rules"
check "a relative base path is refused" 1 "$scratch/bad.rules:1: path 'usr': not an absolute path" ctl_ landlock "$scratch/vm.guest"
printf 'r /usr /etc\n' > "$scratch/bad.rules"
check "two paths on a line are refused" 1 "$scratch/bad.rules:1: rule 'r /usr /etc': text after the path" \
    ctl_ landlock "$scratch/vm.guest"
rules="$scratch/no-such.rules" config
check "a missing base set is refused" 1 "base rules '$scratch/no-such.rules': cannot open" ctl_ landlock "$scratch/vm.guest"
config

# Attach and detach on a running guest: the domain cannot change.
if [ "$(id -u)" = 0 ]; then
    ctl_ guest start "$scratch/vm.guest" >/dev/null 2>&1
    printf '[disk:extra]\npath=%s\nformat=raw\n' "$scratch/extra.img" > "$scratch/extra.disk"
    printf '[disk:hot]\npath=%s\nformat=raw\n' "$scratch/hot/data.img" > "$scratch/hot.disk"
    ctl_ guest attach llctl "$scratch/extra.disk" >/dev/null 2>&1
    ctl_ guest attach llctl "$scratch/hot.disk" >/dev/null 2>&1
    check "attach: the descriptor must be passed" 0 "\"landlock-hotplug\",\"object\":\"$scratch/extra.img\",\"detail\":\"not in the running process's Landlock domain, which cannot grow: the host daemon must open it and pass the descriptor" \
        ctl_ --json guest show llctl
    check "attach beneath hotplug-dirs: granted already" 0 "\"landlock-hotplug\",\"object\":\"$scratch/hot/data.img\",\"detail\":\"in the running process's Landlock domain already: beneath hotplug-dirs '$scratch/hot'" \
        ctl_ --json guest show llctl
    # (Detach changes are not kept once made: the status is what shows.)
    check "detach of a file the domain holds succeeds" 0 "detached \[disk:extra\]" ctl_ guest detach llctl disk:extra
    ctl_ guest stop llctl >/dev/null 2>&1
    absent "the guest stopped" "$scratch/state/guests/llctl.journal"
else
    ok "attach and detach # SKIP needs root (guest start)"
fi

check "landlock --help" 0 "Usage: bulwarkctl \[--json\] landlock FILE" ctl_ landlock --help
check "landlock without FILE: usage" 2 "Usage" ctl_ landlock
tap_done
