# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the e2e benchmarks (bench-e2e.sh, bench-e2e-qemu.sh) after
# bench/dbus/private-bus.sh, with $build and $src set: the rows both print
# (one per plugin alone, then all together) and their timing helpers.

# Sets $plugin_dirs (every plugin this build has) and $configs: nop (the
# machinery with no plugin work), cgroup-bpf, each of dac, selinux,
# apparmor and landlock this build has, then all of them together.
e2e_configs() {
    plugin_dirs="$build/plugins/nop/.libs:$build/plugins/cgroup-bpf/.libs"
    configs="nop cgroup-bpf"
    local found= p so
    for p in dac selinux apparmor landlock; do
        so=$(find "$build" -path '*/.libs/*' -name "$p.so" 2>/dev/null | head -n1)
        [ -n "$so" ] || { echo "plugin $p: not in this build"; continue; }
        plugin_dirs="$plugin_dirs:$(dirname "$so")" configs="$configs $p" found="$found$p,"
    done
    [ -n "$found" ] && configs="$configs ${found}cgroup-bpf"
    return 0
}

# e2e_bulwarkd_start PLUGINS SCRATCH CGROUP-ROOT: bulwarkd on the private
# bus with PLUGINS and the policy of the source tree, its state in SCRATCH.
e2e_bulwarkd_start() {
    . "$src/policy/source-tree-conf.sh"
    printf '[bulwark]\nplugins=%s\n[plugin:cgroup-bpf]\ndefault-rules=%s\n' "$1" \
        "$src/policy/devices/default.rules" >"$2/bulwark.conf"
    source_tree_conf "$1" "$src" "$2" >>"$2/bulwark.conf"
    bench_bulwarkd_start --config "$2/bulwark.conf" --plugin-dir "$plugin_dirs" --state-dir "$2/state" \
        --cgroup-root "$3" 2>"$2/bulwarkd.err"
}

ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
