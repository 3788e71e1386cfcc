#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bulwarkctl guest attach|detach with the nop and fake-files plugins (no
# root): a resource from a file and from standard input comes and goes
# (fake-files' marker file with it), refusals exit 1 naming guest and
# resource, the guest lock makes attach exit 75, and a stop afterwards
# leaves nothing behind.  Prints TAP.
set -u
. "$(dirname "$0")/ctl-test-lib.sh"
scratch_new
mkdir "$scratch/markers"
printf '[bulwark]\nlock-timeout=0.2\n[plugin:fake-files]\ndir=%s/markers\n' "$scratch" >"$scratch/bulwark.conf"
echo raw >"$scratch/demo.img"
echo raw >"$scratch/data.img"
printf '[guest]\nname=demo\nuser=0\ngroup=0\n[disk:root]\npath=%s/demo.img\n' "$scratch" >"$scratch/demo.guest"
printf '[disk:data]\npath=%s/data.img\n' "$scratch" >"$scratch/data.res"

check "guest --help lists attach and detach" 0 "detach NAME TYPE:ID" "$ctl" guest --help
check "guest attach --help" 0 "exactly one" "$ctl" guest attach --help
check "guest detach without a reference is a usage error" 2 "Usage: bulwarkctl guest attach" run guest detach demo
check "attach to a guest that is not running" 1 "guest 'demo': attach \[disk:data\]: not running" \
    run guest attach demo "$scratch/data.res"
check "start" 0 "started" run guest start "$scratch/demo.guest"
check "attach from a file" 0 "guest 'demo': attached" run guest attach demo "$scratch/data.res"
exists "its marker is made" "$scratch/markers/data"
check "attach of an id the guest has" 1 "guest 'demo': attach \[disk:data\]: .*already has" \
    run guest attach demo "$scratch/data.res"
check "attach from standard input" 0 "attached" sh -c "printf '[device:null]\npath=/dev/null\n' | \"\$0\" \"\$@\"" \
    "$ctl" --config "$scratch/bulwark.conf" --plugin-dir "$top/plugins/nop/.libs:$top/tests/plugins/.libs" \
    --plugins nop,fake-files --state-dir "$scratch/state" --cgroup-root "$scratch" guest attach demo -
exists "the stdin resource's marker is made" "$scratch/markers/null"
printf '[device:a]\npath=/dev/null\n[device:b]\npath=/dev/zero\n' >"$scratch/two.res"
check "two groups are refused" 1 "a second group" run guest attach demo "$scratch/two.res"
check "detach of an unknown resource" 1 "guest 'demo': detach \[disk:nope\]" run guest detach demo disk:nope
check "detach" 0 "guest 'demo': detached \[disk:data\]" run guest detach demo disk:data
absent "its marker is removed" "$scratch/markers/data"

exec 9>"$scratch/state/guests/.demo.lock"
flock -x 9
check "attach waits for the guest lock, then exits 75" 75 "guest 'demo'" run guest attach demo "$scratch/data.res"
exec 9>&-

check "stop" 0 "stopped" run guest stop demo
absent "stop removes the stdin resource's marker" "$scratch/markers/null"
absent "stop removes the root disk's marker" "$scratch/markers/root"
tap_done
