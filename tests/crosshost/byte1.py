# SPDX-License-Identifier: LGPL-2.1-or-later
# Byte-1 locks outside lockd, for the cross-host tests.
#   byte1.py posix-hold PATH MARKER   a libvirt-style POSIX write lock on
#                                     byte 1, held until killed; writes
#                                     MARKER once held (exit 3 if busy)
#   byte1.py posix-probe PATH         exit 0 if a POSIX write lock on byte 1
#                                     is free (taken and dropped), 3 if busy
#   byte1.py ofd-wait PATH SECONDS [MARKER]
#                                     polls an OFD write lock on byte 1 every
#                                     0.2 ms (writing MARKER once polling);
#                                     prints the wall clock time it got it,
#                                     exit 3 if still busy at the end
#   byte1.py ofd-never PATH SECONDS MARKER
#                                     tries an OFD write lock on byte 1 every
#                                     0.2 ms for SECONDS (writing MARKER once
#                                     trying): exit 0 if it never got it, 3
#                                     if it did
import errno
import fcntl
import os
import struct
import sys
import time


def ofd_try(fd):
    # struct flock on x86_64: short type, short whence, off_t start, off_t len, pid_t pid
    fl = struct.pack('hhxxxxqqixxxx', fcntl.F_WRLCK, os.SEEK_SET, 1, 1, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, fl)
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def main():
    what, path = sys.argv[1], sys.argv[2]
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    if what == 'posix-hold':
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1)
        except BlockingIOError:
            return 3
        with open(sys.argv[3], 'w') as m:
            m.write(str(os.getpid()))
        while True:
            time.sleep(1000)
    if what == 'posix-probe':
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1)
        except BlockingIOError:
            return 3
        return 0
    if what == 'ofd-never':
        deadline = time.monotonic() + float(sys.argv[3])
        with open(sys.argv[4], 'w') as m:
            m.write('trying')
        while time.monotonic() < deadline:
            if ofd_try(fd):
                return 3
            time.sleep(0.0002)
        return 0
    if what == 'ofd-wait':
        deadline = time.monotonic() + float(sys.argv[3])
        if len(sys.argv) > 4:
            with open(sys.argv[4], 'w') as m:
                m.write('polling')
        while not ofd_try(fd):
            if time.monotonic() > deadline:
                return 3
            time.sleep(0.0002)
        print('%.6f' % time.time())
        return 0
    return 2


sys.exit(main())
