#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-qemu-hotplug.sh over the bus: bulwarkd on a private system-like bus
# starts the guest, attaches and detaches the second disk and stops the
# guest; bulwarkctl run forks and confines QEMU with what bulwarkd hands it.
exec sh "$(dirname "$0")/test-qemu-hotplug.sh" --bus
