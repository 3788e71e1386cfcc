/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the lockd tests: a real bulwark-lockd from the build tree,
 * with its socket, state and pid file in a scratch directory, stopped by
 * pid; raw frames for tests that speak the protocol by hand. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "client.h"
#include "protocol.h"

typedef struct TestDaemon {
        char *dir;                 /* the daemon's own directory in the scratch dir */
        char *socket_path;
        char *state_dir;
        char *pidfile;
        char *config;
        char *log;                 /* the daemon's stderr */
        pid_t pid;
} TestDaemon;

/* Starts bulwark-lockd --foreground in scratch/name, with `config_extra`
 * lines added to its [lockd] group (may be NULL), optionally prefixed by
 * a wrapper command (e.g. {"unshare", "-m", "-n", "--", NULL}); waits
 * until it answers PING.  Aborts the test on failure. */
void test_daemon_start(TestDaemon *d, const char *scratch, const char *name, const char *config_extra,
                       const char *const *wrapper);
/* The same with the socket, the pid file and the state directory where
 * given (NULL: the defaults, in scratch/name/run and scratch/name/state). */
void test_daemon_start_at(TestDaemon *d, const char *scratch, const char *name, const char *socket_path,
                          const char *pidfile, const char *state_dir, const char *config_extra,
                          const char *const *wrapper);
/* SIGTERM, then waits for it; returns its exit status (or 128+signal). */
int test_daemon_stop(TestDaemon *d);
/* SIGKILL and wait. */
void test_daemon_kill(TestDaemon *d);
void test_daemon_clear(TestDaemon *d);
/* Polls PING until it answers or the timeout passes. */
bool test_daemon_wait_ready(TestDaemon *d, int timeout_ms);

/* The fixture most daemon tests share: a new scratch directory named
 * scratch_name and a daemon with the default configuration in
 * scratch/daemon.  Returns the scratch directory. */
char *test_scratch_daemon_start(TestDaemon *d, const char *scratch_name);
/* Asserts the daemon stops cleanly, clears it, then removes and frees
 * the scratch directory. */
void test_scratch_daemon_stop(TestDaemon *d, char *scratch);

/* A client of d (asserts). */
BwLockdClient *test_client_new(const TestDaemon *d, const char *owner);

/* Creates the directory parent/name (asserts); returns its path. */
char *test_make_dir(const char *parent, const char *name);
/* Creates n empty files dir/prefix<i>; returns a NULL-terminated strv. */
char **test_make_files(const char *dir, const char *prefix, size_t n);

/* Forks a child that takes exclusive locks on the n files as client
 * owner of d and holds them until it is killed; returns once it holds
 * them (asserts), with the child's pid. */
pid_t test_fork_lock_holder(const TestDaemon *d, const char *owner, char **files, size_t n);

/* What a shared filesystem does to a partitioned host, done by hand: the
 * daemon's write lock on byte 1 of path is unlocked through a duplicate
 * of its own open file description (pidfd_getfd) and taken by another
 * one, returned, which holds it until closed.  -errno when the daemon's
 * descriptor cannot be had (ptrace rights). */
int test_daemon_lose_lock(const TestDaemon *d, const char *path);

/* Tries a classic POSIX write lock on byte 1 from a forked child; returns
 * 0 when the child got it (and released it), -EAGAIN when refused. */
int test_posix_probe(const char *path);

/* A raw connection to the daemon's socket (asserts). */
int test_raw_connect(const char *socket_path);
/* Sends bytes as they are. */
void test_raw_send(int fd, const void *data, size_t len);
/* Builds a request frame with a payload variant (sunk and unreffed). */
GByteArray *test_raw_frame(uint8_t type, uint32_t serial, GVariant *payload);
/* Reads one reply frame within timeout_ms.  Returns 1 with the decoded
 * reply, 0 on end of stream, -ETIMEDOUT, or -EPROTO. */
int test_raw_read_reply(int fd, int timeout_ms, LockdHeader *ret_header, LockdReply *ret_reply);
/* 1 when the peer closed the connection within timeout_ms (after any
 * pending data), 0 when it stayed open. */
int test_raw_wait_closed(int fd, int timeout_ms);

int64_t test_now_usec(void);

/* An impostor daemon on socket_path, for clients against daemons of
 * other versions: a thread accepts one connection at a time and hands
 * each request frame (header and payload, unchecked) to handler, which
 * appends its reply frames to out.  The handler runs on that thread and
 * must not use cmocka's asserts. */
typedef struct TestFakeDaemon TestFakeDaemon;
typedef void (*TestFakeHandler)(const LockdHeader *header, const uint8_t *payload, GByteArray *out,
                                void *userdata);
TestFakeDaemon *test_fake_daemon_start(const char *socket_path, TestFakeHandler handler, void *userdata);
void test_fake_daemon_stop(TestFakeDaemon *f);
/* An "a(ayttuusuuxt)" of LIST rows for the paths, owned by owner (floating). */
GVariant *test_list_rows(const char *const *paths, size_t n, const char *owner);
