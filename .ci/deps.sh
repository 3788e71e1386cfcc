#!/usr/bin/env bash
# Installs everything bulwark needs to build, test and demo on Debian 12.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential autoconf automake libtool pkg-config autoconf-archive
      libglib2.0-dev libdbus-1-dev libbpf-dev libapparmor-dev libselinux1-dev
      libcmocka-dev clang libclang-rt-14-dev apparmor attr util-linux dbus
      iproute2 python3 glusterfs-server glusterfs-client e2fsprogs libjson-glib-dev)
pkgs+=(qemu-system-x86 qemu-utils)  # tests/qemu: Debian's QEMU under bulwark
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
