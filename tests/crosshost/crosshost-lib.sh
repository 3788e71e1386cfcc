# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the cross-host tests: two "hosts" on one real GlusterFS volume.
#
#   server   a network namespace running glusterd (working directory, logs,
#            unix socket and brick under $scratch), one brick, volume $vol
#   host a   a network namespace with a veth pair to the server, and a
#   host b   mount namespace (held by a sleeping process) with the volume
#            FUSE-mounted at $vol_mnt, the same path on both hosts, and a
#            bulwark-lockd of its own ($scratch/a/lockd.sock, ...)
#
# on_host a|b CMD... runs CMD on a host (its mount and network namespace).
# Names (namespaces, veths, addresses, volume) carry the pid, so two runs at
# once do not collide.  cross_teardown, run by the EXIT trap, undoes
# everything that was made, in reverse, even after a failure.  Without
# GlusterFS (or without root, or when it cannot start) the test is skipped
# with the reason.
. "${crosshost_dir:-$(dirname "$0")}/../ctl-test-lib.sh"
lockd="$top/bulwark-lockd"

id=$$
vol="bw$id"
ns_srv="bwx$id-s"
# A /24 from the pid: the server .1, host a .2, host b .3.
net="10.$(( (id >> 8) % 200 + 20 )).$(( id % 256 ))"
# A small ping timeout: the server frees a cut-off host's locks after it.
ping_timeout=${CROSSHOST_PING_TIMEOUT:-5}
made=""        # what teardown undoes, newest first

cross_note() { made="$1
$made"; }

require_root
[ -x "$lockd" ] || skip_all "$lockd not built"
for t in glusterd gluster ip nsenter unshare mount.glusterfs python3; do
    command -v "$t" >/dev/null || skip_all "$t not found: install glusterfs-server and glusterfs-client (.ci/deps.sh)"
done
[ -c /dev/fuse ] || skip_all "/dev/fuse is missing"

cross_teardown() {
    exec 9>&-
    printf '%s\n' "$made" | while IFS=' ' read -r what arg arg2; do
        case $what in
        pid) kill -KILL "$arg" 2>/dev/null; while kill -0 "$arg" 2>/dev/null; do sleep 0.05; done ;;
        lockd) kill -TERM "$arg" 2>/dev/null; sleep 0.1; kill -KILL "$arg" 2>/dev/null ;;
        umount) nsenter -t "$arg" -m umount -l "$arg2" 2>/dev/null ;;
        volume)
            gl volume stop "$vol" force >/dev/null 2>&1
            gl volume delete "$vol" >/dev/null 2>&1 ;;
        glusterd)
            # The brick processes glusterd started run in its namespace.
            for p in $(ip netns pids "$ns_srv" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
            kill -KILL "$arg" 2>/dev/null ;;
        netns) ip netns del "$arg" 2>/dev/null ;;
        rmdir) rmdir "$arg" 2>/dev/null ;;
        esac
    done
    [ -n "${CROSSHOST_KEEP:-}" ] || rm -rf "$scratch"
}

# gl ARGS...: the gluster CLI against this test's glusterd.
gl() { nsenter --net="/var/run/netns/$ns_srv" gluster --mode=script --glusterd-sock="$scratch/glusterd.socket" \
       --log-file="$scratch/log/cli.log" "$@"; }

# on_host a|b CMD...: runs CMD in that host's namespaces.
on_host() { h=$1; shift; eval "nsenter -t \$host_$h -m -n -- \"\$@\""; }

# host_net N NAME: the network namespace of host NAME, a veth pair from
# it to the server's bridge, its address .N+2 (the server is .1).
host_net() {
    ns="bwx$id-$2" veth="bwx$id$2"
    ip netns add "$ns" || return 1
    cross_note "netns $ns"
    ip link add "$veth" type veth peer name "${veth}s" || return 1
    ip link set "$veth" netns "$ns" && ip link set "${veth}s" netns "$ns_srv" || return 1
    ip -n "$ns" addr add "$net.$(( $1 + 2 ))/24" dev "$veth" &&
    ip -n "$ns_srv" link set "${veth}s" master br0 &&
    ip -n "$ns" link set lo up && ip -n "$ns" link set "$veth" up && ip -n "$ns_srv" link set "${veth}s" up
}
# host_cut NAME: cuts that host off the server (its veth down).
host_cut() { ip -n "bwx$id-$1" link set "bwx$id$1" down; }

# host_mount NAME: a mount namespace in the host's network namespace, held
# by a sleeper ($host_NAME), with the volume mounted at $vol_mnt.
host_mount() {
    ns="bwx$id-$1"
    setsid nsenter --net="/var/run/netns/$ns" unshare -m --propagation private sleep 100000 \
        </dev/null >/dev/null 2>&1 &
    pid=$!
    cross_note "pid $pid"
    eval "host_$1=$pid"
    # The sleeper is in its namespaces once it runs sleep.
    for _ in $(seq 100); do [ "$(readlink /proc/$pid/exe 2>/dev/null)" != "$(readlink /proc/self/exe)" ] &&
        [ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && break; sleep 0.02; done
    # The client's socket goes to /var/run/gluster: a tmpfs of the host's.
    on_host "$1" mount -t tmpfs bw-crosshost /var/run/gluster || return 1
    on_host "$1" mount -t glusterfs -o log-file="$scratch/log/mount-$1.log" "$net.1:/$vol" "$vol_mnt" || return 1
    cross_note "umount $pid $vol_mnt"
}

# host_lockd NAME: bulwark-lockd on that host, socket $scratch/NAME/lockd.sock.
host_lockd() {
    mkdir -p "$scratch/$1"
    printf '[lockd]\n%s\n' "${lockd_conf:-}" >"$scratch/$1/lockd.conf"
    eval "pid=\$host_$1"
    nsenter -t "$pid" -m -n -- "$lockd" --foreground --config "$scratch/$1/lockd.conf" \
        --socket "$scratch/$1/lockd.sock" --state-dir "$scratch/$1/state" --pidfile "$scratch/$1/lockd.pid" -v \
        </dev/null >/dev/null 2>"$scratch/$1/lockd.log" &
    pid=$!
    cross_note "lockd $pid"
    eval "lockd_$1=$pid"
    for _ in $(seq 200); do [ -S "$scratch/$1/lockd.sock" ] && return 0; sleep 0.02; done
    return 1
}

# cross_setup: the server, the volume, both hosts with their mounts and
# daemons.  Skips when GlusterFS does not come up.
cross_setup() {
    scratch=$(mktemp -d /tmp/bw-crosshost.XXXXXX)
    trap cross_teardown EXIT
    trap 'exit 1' INT TERM
    mkdir -p "$scratch/glusterd" "$scratch/log" "$scratch/run"
    vol_mnt="$scratch/vol"
    mkdir "$vol_mnt"
    ip netns add "$ns_srv" || skip_all "cannot create network namespace $ns_srv"
    cross_note "netns $ns_srv"
    ip -n "$ns_srv" link set lo up && ip -n "$ns_srv" link add br0 type bridge &&
    ip -n "$ns_srv" addr add "$net.1/24" dev br0 && ip -n "$ns_srv" link set br0 up ||
        skip_all "cannot create a bridge in $ns_srv"
    host_net 0 a && host_net 1 b || skip_all "cannot create veth pairs"

    # Everything glusterd keeps goes under $scratch; /var/run/gluster,
    # where it still makes a directory, is a tmpfs of its own.  Without an
    # init system nothing made the directory to mount it on.
    if [ ! -d /var/run/gluster ]; then
        mkdir -p /var/run/gluster || skip_all "cannot create /var/run/gluster"
        cross_note "rmdir /var/run/gluster"
    fi
    sed "s|option working-directory .*|option working-directory $scratch/glusterd\\n\
    option run-directory $scratch/run\\n    option glusterd-sockfile $scratch/glusterd.socket\\n\
    option logging-directory $scratch/log|" /etc/glusterfs/glusterd.vol >"$scratch/glusterd.vol"
    setsid nsenter --net="/var/run/netns/$ns_srv" unshare -m --propagation private sh -c \
        'mount -t tmpfs bw-crosshost /var/run/gluster && exec glusterd -N -f "$1/glusterd.vol" -p "$1/glusterd.pid" --log-file="$1/log/glusterd.log"' \
        sh "$scratch" </dev/null >/dev/null 2>&1 &
    cross_note "glusterd $!"
    for _ in $(seq 150); do gl volume list >/dev/null 2>&1 && break; sleep 0.1; done
    gl volume list >/dev/null 2>&1 || skip_all "glusterd did not start: $(tail -3 "$scratch/log/glusterd.log")"

    brick="$scratch/brick"
    out=$(gl volume create "$vol" "$net.1:$brick" force 2>&1) || skip_all "gluster volume create: $out"
    cross_note "volume"
    gl volume set "$vol" network.ping-timeout "$ping_timeout" >/dev/null &&
    gl volume set "$vol" client.tcp-user-timeout "$ping_timeout" >/dev/null &&
    gl volume set "$vol" server.tcp-user-timeout "$((ping_timeout * 3))" >/dev/null &&
    gl volume set "$vol" client.strict-locks on >/dev/null || skip_all "gluster volume set failed"
    out=$(gl volume start "$vol" 2>&1) || skip_all "gluster volume start: $out"
    host_mount a && host_mount b || skip_all "cannot mount the volume: $(tail -q -n 3 "$scratch"/log/mount-*.log)"
    host_lockd a && host_lockd b || skip_all "bulwark-lockd did not start: $(cat "$scratch"/*/lockd.log)"
}

# ctl_on a|b ARGS...: bulwarkctl on a host, against its lockd.
ctl_on() { h=$1; shift; on_host "$h" "$ctl" "$@"; }
# lock_on a|b ARGS...: `bulwarkctl lock` on a host, against its lockd.
lock_on() { h=$1; shift; ctl_on "$h" lock --socket "$scratch/$h/lockd.sock" "$@"; }

# wait_for FILE: until FILE exists (10 s at most).
wait_for() { for _ in $(seq 500); do [ -s "$1" ] && return 0; sleep 0.02; done; return 1; }

# hold_on a|b [LOCK-OPTIONS...] PATH...: `bulwarkctl lock` holding PATHs
# in the background ($holder, its command $holder_cmd) until unhold.
hold_on() {
    h=$1; shift
    rm -f "$scratch/held"
    eval "nsenter -t \$host_$h -m -n --" '"$ctl" lock --socket "$scratch/$h/lockd.sock" "$@" -- \
        sh -c "echo \$\$ >$scratch/held; exec sleep 1000" >"$scratch/holder.out" 2>&1 &'
    holder=$!
    cross_note "pid $holder"
    wait_for "$scratch/held" || { echo "# holder on host $h: $(cat "$scratch/holder.out")"; return 1; }
    holder_cmd=$(cat "$scratch/held")
    cross_note "pid $holder_cmd"
}
unhold() {
    kill -TERM "$holder_cmd" "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
}
# spawn_on a|b CMD...: CMD in the background on a host; $! is CMD itself.
spawn_on() { h=$1; shift; eval "nsenter -t \$host_$h -m -n --" '"$@" </dev/null >/dev/null 2>&1 &'; cross_note "pid $!"; }
