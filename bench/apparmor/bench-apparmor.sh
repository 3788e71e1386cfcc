#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Profile generation for a guest with 10 disks, 2 VFIO devices, a TPM and
# firmware: in-process, as `bulwark-aa-helper --dry-run`, and as Debian's
# `virt-aa-helper -d -c -u libvirt-UUID < domain.xml` (installed here with
# apt when missing; the column is skipped, with the reason, when it cannot
# be).  Process times are medians of RUNS runs, each spawned the same way,
# against the floor of spawning /bin/true.  Then an unchanged restart:
# writing the same profile again must run apparmor_parser 0 times.
# Run from the build directory (`make bench-apparmor`).  Usage: [RUNS]
set -eu
runs=${1:-40}
top=$(pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
vaa=/usr/lib/libvirt/virt-aa-helper
parser=$(command -v apparmor_parser || echo /sbin/apparmor_parser)

if [ ! -x "$vaa" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libvirt-daemon (for $vaa) with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libvirt-daemon >/dev/null 2>&1 ||
        echo "setup: apt-get install libvirt-daemon failed"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/bw-bench-aa-$$-XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/prof" "$dir/tpm"
uuid=7a3c9e10-4b2d-4f6a-8c1e-2d3f4a5b6c7d
conf="$dir/bulwark.conf"
printf '[plugin:apparmor]\nprofile-dir=%s/prof\ntemplate=%s/policy/apparmor/TEMPLATE.guest\ninclude-dir=%s/policy/apparmor\nparser=%s\n' \
    "$dir" "$src" "$src" "$parser" > "$conf"

guest="$dir/bench.guest"
xml="$dir/bench.xml"
printf '[guest]\nname=bench\nuuid=%s\nuser=107\ngroup=107\n' "$uuid" > "$guest"
disks=""
for i in 0 1 2 3 4 5 6 7 8 9; do
    : > "$dir/disk$i.img"
    printf '[disk:d%s]\npath=%s/disk%s.img\n' "$i" "$dir" "$i" >> "$guest"
    disks="$disks<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$dir/disk$i.img'/><target dev='vd$(printf "\\$(printf '%03o' $((97 + i)))")' bus='virtio'/></disk>"
done
: > "$dir/OVMF_CODE.fd"; : > "$dir/VARS.fd"
printf '[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n[hostdev:audio]\ntype=vfio-pci\naddress=0000:01:00.1\n' >> "$guest"
printf '[firmware]\nloader=%s/OVMF_CODE.fd\nnvram=%s/VARS.fd\n[tpm]\nstate=%s/tpm\n' "$dir" "$dir" "$dir" >> "$guest"
cat > "$xml" <<EOT
<domain type='kvm'><name>bench</name><uuid>$uuid</uuid><memory>1048576</memory>
<os><type arch='x86_64' machine='pc'>hvm</type><loader readonly='yes' type='pflash'>$dir/OVMF_CODE.fd</loader><nvram>$dir/VARS.fd</nvram></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>$disks
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source></hostdev>
<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
</devices></domain>
EOT

export BULWARK_PLUGIN_DIR="$top/security/apparmor/.libs"
"$top/bench/apparmor/bench-apparmor" "$guest" "$src/policy/apparmor/TEMPLATE.guest" 1000
helper="$top/bulwark-aa-helper --config $conf --dry-run --guest $guest"
vaa_cmd="$vaa -d -c -u libvirt-$uuid"
if [ -x "$vaa" ] && $vaa_cmd < "$xml" >/dev/null 2>"$dir/vaa.err"; then
    vaa_ok=1
else
    vaa_ok=0
    reason=$( [ -x "$vaa" ] && echo "virt-aa-helper failed: $(head -c 300 "$dir/vaa.err")" || echo "$vaa is not installed (libvirt-daemon)")
fi
python3 - "$runs" "$xml" "$vaa_ok" "$helper" "$vaa_cmd" <<'EOT'
import statistics, subprocess, sys, time
runs, xml, vaa_ok, helper, vaa = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4].split(), sys.argv[5].split()
def med(cmd, stdin=None):
    t = []
    for _ in range(runs):
        f = open(stdin) if stdin else subprocess.DEVNULL
        t0 = time.perf_counter()
        subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        t.append((time.perf_counter() - t0) * 1e3)
        if stdin: f.close()
    return statistics.median(t)
floor = med(["/bin/true"])
h = med(helper)
print(f"floor (spawn /bin/true): {floor:.2f} ms")
print(f"bulwark-aa-helper --dry-run: {h:.2f} ms ({h / floor:.1f}x floor)")
if vaa_ok:
    v = med(vaa, xml)
    print(f"virt-aa-helper -d -c: {v:.2f} ms ({v / floor:.1f}x floor)")
    print(f"virt-aa-helper / bulwark-aa-helper: {v / h:.1f}x (target >= 5x)")
EOT
[ "$vaa_ok" = 1 ] || echo "virt-aa-helper column skipped: $reason"

# An unchanged restart: the parser is a wrapper that counts its runs.
printf '#!/bin/sh\necho run >> %s/parser-runs\nexec %s "$@"\n' "$dir" "$parser" > "$dir/parser"
chmod +x "$dir/parser"
sed -i "s|^parser=.*|parser=$dir/parser|" "$conf"
"$top/bulwark-aa-helper" --config "$conf" --create --guest "$guest" >/dev/null
first=$(wc -l < "$dir/parser-runs")
t0=$(date +%s%N)
"$top/bulwark-aa-helper" --config "$conf" --replace --guest "$guest" >/dev/null
t1=$(date +%s%N)
again=$(($(wc -l < "$dir/parser-runs") - first))
echo "unchanged restart: parser runs first write $first, rewrite of the same guest $again ($(( (t1 - t0) / 1000 )) us)"
