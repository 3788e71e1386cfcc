/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile and broken clients: each gets a clear error or a closed
 * connection, and the daemon keeps serving everyone else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockd-test.h"
#include "test-util.h"

#define FRAME_TIMEOUT_MS 300

static char *scratch;
static TestDaemon daemon_;
static BwLockdClient *bystander;       /* must be served after every case */
static char *held_file;
static BwLockdHandle *bystander_lock;  /* and keep its lock */

static int setup_all(void **state) {
        scratch = test_scratch_new("lockd-badinput");
        test_daemon_start(&daemon_, scratch, "daemon", "frame-timeout-ms=300\n", NULL);
        bystander = test_client_new(&daemon_, "bystander");
        held_file = test_write_file(scratch, "held", "", 0);
        assert_int_equal(bw_lockd_acquire(bystander, (const char *const *) &held_file, 1, BW_LOCKD_EXCLUSIVE, 0,
                                          &bystander_lock, NULL), 0);
        return 0;
}

static int teardown_all(void **state) {
        assert_int_equal(bw_lockd_release(bystander_lock), 0);
        bw_lockd_client_free(bystander);
        assert_int_equal(test_daemon_stop(&daemon_), 0);
        test_daemon_clear(&daemon_);
        test_scratch_remove(scratch);
        g_free(scratch);
        g_free(held_file);
        return 0;
}

/* After each case: the daemon is alive, serves others, kept their locks. */
static int check_daemon_serves(void **state) {
        BwLockdDaemonInfo info;
        assert_int_equal(bw_lockd_ping(bystander, &info, NULL), 0);
        assert_int_equal(info.pid, daemon_.pid);
        assert_int_equal(test_posix_probe(held_file), -EAGAIN);
        assert_int_equal(bw_lockd_handle_check(bystander_lock), 0);
        return 0;
}

/* Sends a frame and expects one error reply with the status. */
static void expect_reply(int fd, const void *data, size_t len, LockdStatus status, const char *needle) {
        LockdHeader h;
        g_auto(LockdReply) reply = {};
        test_raw_send(fd, data, len);
        assert_int_equal(test_raw_read_reply(fd, 5000, &h, &reply), 1);
        if (reply.status != status || (needle && !strstr(reply.message, needle)))
                fail_msg("expected status %u with '%s', got %u '%s'", status, needle ? needle : "",
                         reply.status, reply.message);
}

static void expect_open(int fd) {
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 9, g_variant_new("()"));
        expect_reply(fd, ping->data, ping->len, LOCKD_STATUS_OK, NULL);
}

static GByteArray *acquire_frame(GVariant *paths, uint32_t mode, uint32_t flags) {
        return test_raw_frame(LOCKD_MSG_ACQUIRE, 5, g_variant_new("(uu@aay)", mode, flags, paths));
}

static void test_truncated_frame(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 1, g_variant_new("()"));
        /* Half a header, then the client vanishes. */
        test_raw_send(fd, ping->data, 7);
        close(fd);
        check_daemon_serves(state);
        /* A header and part of the payload, then gone. */
        fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) acq = acquire_frame(protocol_paths_encode((const char *const *) &held_file, 1), 0, 0);
        test_raw_send(fd, acq->data, acq->len - 3);
        close(fd);
}

static void test_half_frame_times_out(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 1, g_variant_new("()"));
        test_raw_send(fd, ping->data, LOCKD_HEADER_SIZE + 1);
        /* Others are served while the frame is incomplete. */
        check_daemon_serves(state);
        /* Then the daemon says why and closes. */
        LockdHeader h;
        g_auto(LockdReply) reply = {};
        assert_int_equal(test_raw_read_reply(fd, 10 * FRAME_TIMEOUT_MS, &h, &reply), 1);
        assert_int_equal(reply.status, LOCKD_STATUS_PROTOCOL);
        assert_non_null(strstr(reply.message, "incomplete frame"));
        assert_int_equal(test_raw_wait_closed(fd, 2000), 1);
        close(fd);
}

static void test_idle_client_stays(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        /* Connected and silent: harmless, kept (a lock holder may idle
         * for days), and others are served. */
        check_daemon_serves(state);
        assert_int_equal(test_raw_wait_closed(fd, 3 * FRAME_TIMEOUT_MS), 0);
        expect_open(fd);
        close(fd);
}

static void test_oversized_frame(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        uint8_t header[LOCKD_HEADER_SIZE];
        protocol_header_encode(&(LockdHeader) { .version = LOCKD_PROTOCOL_VERSION, .type = LOCKD_MSG_PING,
                                                .serial = 3, .length = 2u * 1024 * 1024 },
                               header);
        expect_reply(fd, header, sizeof(header), LOCKD_STATUS_PROTOCOL, "exceeds the limit");
        assert_int_equal(test_raw_wait_closed(fd, 2000), 1);
        close(fd);
}

static void test_wrong_magic(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        expect_reply(fd, junk, sizeof(junk) - 1, LOCKD_STATUS_PROTOCOL, "magic");
        assert_int_equal(test_raw_wait_closed(fd, 2000), 1);
        close(fd);
}

static void test_wrong_version(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 4, g_variant_new("()"));
        ping->data[4] = 9;
        expect_reply(fd, ping->data, ping->len, LOCKD_STATUS_PROTOCOL, "version 9 is not supported");
        assert_int_equal(test_raw_wait_closed(fd, 2000), 1);
        close(fd);
}

static void test_reserved_flags(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) ping = test_raw_frame(LOCKD_MSG_PING, 4, g_variant_new("()"));
        ping->data[6] = 1;
        expect_reply(fd, ping->data, ping->len, LOCKD_STATUS_INVALID, "flags 0x1 are not defined for PING");
        /* RELEASE takes "no reply" and nothing else. */
        g_autoptr(GByteArray) release = test_raw_frame(LOCKD_MSG_RELEASE, 5, g_variant_new("(b@aay)", TRUE,
                                                                                          g_variant_new("aay", NULL)));
        release->data[6] = 2;
        expect_reply(fd, release->data, release->len, LOCKD_STATUS_INVALID, "flags 0x2 are not defined for RELEASE");
        expect_open(fd);
        close(fd);
}

static void test_not_normal_form(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        /* A "v" whose type string is garbage; a "(u)" cut to 3 bytes; a
         * "(uuaay)" whose array offset points outside the value. */
        static const struct {
                size_t len;
                uint8_t bytes[16];
        } payloads[] = {
                { 6, { 0xff, 0xfe, 0xfd, 0x00, '(', 'u' } },
                { 7, { 0x01, 0x00, 0x00, 0x00, '(', 'u', ')' } },
                { 16, { 0, 0, 0, 0, 0, 0, 0, 0, 0xee, 0, '(', 'u', 'u', 'a', 'a', 'y' } },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(payloads); i++) {
                uint8_t frame[LOCKD_HEADER_SIZE + 16];
                protocol_header_encode(&(LockdHeader) { .version = LOCKD_PROTOCOL_VERSION,
                                                        .type = LOCKD_MSG_ACQUIRE, .serial = 6,
                                                        .length = (uint32_t) payloads[i].len },
                                       frame);
                memcpy(frame + LOCKD_HEADER_SIZE, payloads[i].bytes, payloads[i].len);
                expect_reply(fd, frame, LOCKD_HEADER_SIZE + payloads[i].len, LOCKD_STATUS_INVALID,
                             "not a GVariant in normal form");
        }
        /* The frame boundary was sound: the connection goes on. */
        expect_open(fd);
        close(fd);
}

static void test_wrong_type(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) f = test_raw_frame(LOCKD_MSG_ACQUIRE, 7, g_variant_new("(su)", "x", 1));
        expect_reply(fd, f->data, f->len, LOCKD_STATUS_INVALID, "payload has type '(su)', expected '(uuaay)'");
        g_autoptr(GByteArray) g = test_raw_frame(LOCKD_MSG_HELLO, 8, g_variant_new("s", "me"));
        expect_reply(fd, g->data, g->len, LOCKD_STATUS_INVALID, "expected '(su)'");
        expect_open(fd);
        close(fd);
}

static void test_unknown_request(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) f = test_raw_frame(99, 7, g_variant_new("()"));
        expect_reply(fd, f->data, f->len, LOCKD_STATUS_UNKNOWN_REQUEST, "type 99 is not a request");
        g_autoptr(GByteArray) r = test_raw_frame(LOCKD_MSG_REPLY, 8, g_variant_new("()"));
        expect_reply(fd, r->data, r->len, LOCKD_STATUS_UNKNOWN_REQUEST, NULL);
        expect_open(fd);
        close(fd);
}

static void test_bad_acquire_values(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        const char *rel = "relative/path";
        g_autoptr(GByteArray) a = acquire_frame(protocol_paths_encode(&rel, 1), 0, 0);
        expect_reply(fd, a->data, a->len, LOCKD_STATUS_INVALID, "is not absolute");
        g_autoptr(GByteArray) b = acquire_frame(protocol_paths_encode((const char *const *) &held_file, 1), 7, 0);
        expect_reply(fd, b->data, b->len, LOCKD_STATUS_INVALID, "lock mode 7 is unknown");
        g_autoptr(GByteArray) c = acquire_frame(protocol_paths_encode((const char *const *) &held_file, 1), 0, 0x10);
        expect_reply(fd, c->data, c->len, LOCKD_STATUS_INVALID, "flags 0x10 are unknown");
        g_autoptr(GByteArray) d = test_raw_frame(LOCKD_MSG_RELEASE, 9,
                                                 g_variant_new("(b@aay)", TRUE, protocol_paths_encode(&rel, 1)));
        expect_reply(fd, d->data, d->len, LOCKD_STATUS_INVALID, "names paths too");
        g_autoptr(GByteArray) e = test_raw_frame(LOCKD_MSG_HELLO, 10, g_variant_new("(su)", "ok", 0));
        expect_reply(fd, e->data, e->len, LOCKD_STATUS_OK, NULL);
        g_autoptr(GByteArray) f = test_raw_frame(LOCKD_MSG_HELLO, 11, g_variant_new("(su)", "again", 0));
        expect_reply(fd, f->data, f->len, LOCKD_STATUS_INVALID, "already sent");
        expect_open(fd);
        close(fd);
        /* Control characters cannot forge lines in LIST or logs. */
        fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) h = test_raw_frame(LOCKD_MSG_HELLO, 13, g_variant_new("(su)", "evil\nowner", 0));
        expect_reply(fd, h->data, h->len, LOCKD_STATUS_INVALID, "control character");
        close(fd);
}

static void test_ten_thousand_paths(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autofree const char **paths = g_new(const char *, 10000);
        for (size_t i = 0; i < 10000; i++)
                paths[i] = held_file;
        g_autoptr(GByteArray) f = acquire_frame(protocol_paths_encode(paths, 10000), 0, 0);
        assert_true(f->len < LOCKD_HEADER_SIZE + LOCKD_PAYLOAD_MAX);
        expect_reply(fd, f->data, f->len, LOCKD_STATUS_INVALID, "too many paths (10000, at most 4096)");
        expect_open(fd);
        close(fd);
}

static void test_nul_and_long_paths(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        static const char with_nul[] = "/tmp/a\0b";
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("aay"));
        g_variant_builder_add_value(&b, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, with_nul,
                                                                  sizeof(with_nul) - 1, 1));
        g_autoptr(GByteArray) f = acquire_frame(g_variant_builder_end(&b), 0, 0);
        expect_reply(fd, f->data, f->len, LOCKD_STATUS_INVALID, "path 0 contains a NUL byte");

        g_autofree char *longpath = g_malloc(64 * 1024 + 1);
        memset(longpath, 'a', 64 * 1024);
        longpath[0] = '/';
        longpath[64 * 1024] = '\0';
        const char *two[] = { held_file, longpath };
        g_autoptr(GByteArray) g = acquire_frame(protocol_paths_encode(two, 2), 0, 0);
        expect_reply(fd, g->data, g->len, LOCKD_STATUS_INVALID, "path 1 is 65536 bytes long, at most 4095");
        /* A long but legal path of many components is resolved by the
         * kernel and refused with its errno. */
        g_autofree char *deep = g_strnfill(4000, '/');
        memcpy(deep + 3990, "nothere", 7);
        const char *one[] = { deep };
        g_autoptr(GByteArray) h = acquire_frame(protocol_paths_encode(one, 1), 0, 0);
        expect_reply(fd, h->data, h->len, LOCKD_STATUS_NOT_FOUND, "No such file or directory");
        expect_open(fd);
        close(fd);
}

/* Payloads of odd length put the next frame's payload off 8-byte
 * alignment, where the daemon copies it before reading it.  An empty
 * payload there was copied from a buffer that had never been allocated
 * (memcpy from NULL, undefined even for 0 bytes): on a fresh daemon, whose
 * copy buffer is still unallocated, the sanitizer build stopped on it. */
static void test_empty_payload_off_alignment(void **state) {
        TestDaemon d;
        test_daemon_start(&d, scratch, "aligned", NULL, NULL);
        int fd = test_raw_connect(d.socket_path);
        uint8_t frames[2 * LOCKD_HEADER_SIZE + 1];
        protocol_header_encode(&(LockdHeader) { .version = LOCKD_PROTOCOL_VERSION, .type = LOCKD_MSG_PING,
                                                .serial = 1, .length = 1 },
                               frames);
        frames[LOCKD_HEADER_SIZE] = 0;
        protocol_header_encode(&(LockdHeader) { .version = LOCKD_PROTOCOL_VERSION, .type = LOCKD_MSG_PING,
                                                .serial = 2, .length = 0 },
                               frames + LOCKD_HEADER_SIZE + 1);
        test_raw_send(fd, frames, sizeof(frames));
        for (uint32_t serial = 1; serial <= 2; serial++) {
                LockdHeader h;
                g_auto(LockdReply) reply = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &reply), 1);
                assert_int_equal(h.serial, serial);
                assert_int_equal(reply.status, LOCKD_STATUS_INVALID);
                assert_non_null(strstr(reply.message, "not a GVariant in normal form"));
        }
        expect_open(fd);
        close(fd);
        assert_int_equal(test_daemon_stop(&d), 0);
        test_daemon_clear(&d);
}

static void test_pipelined_requests(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) all = g_byte_array_new();
        for (uint32_t serial = 100; serial < 103; serial++) {
                g_autoptr(GByteArray) f = test_raw_frame(LOCKD_MSG_PING, serial, g_variant_new("()"));
                g_byte_array_append(all, f->data, f->len);
        }
        test_raw_send(fd, all->data, all->len);
        for (uint32_t serial = 100; serial < 103; serial++) {
                LockdHeader h;
                g_auto(LockdReply) reply = {};
                assert_int_equal(test_raw_read_reply(fd, 5000, &h, &reply), 1);
                assert_int_equal(h.serial, serial);
                assert_int_equal(reply.status, LOCKD_STATUS_OK);
        }
        close(fd);
}

static void test_client_that_never_reads(void **state) {
        int fd = test_raw_connect(daemon_.socket_path);
        g_autoptr(GByteArray) f = test_raw_frame(LOCKD_MSG_PING, 1, g_variant_new("()"));
        g_autoptr(GByteArray) flood = g_byte_array_new();
        for (int i = 0; i < 4096; i++)
                g_byte_array_append(flood, f->data, f->len);
        /* Push requests without reading a single reply, until our own
         * socket buffer is full: the daemon has stopped reading us. */
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        size_t sent = 0;
        for (int rounds = 0; rounds < 10000; rounds++) {
                ssize_t n = send(fd, flood->data, flood->len, MSG_NOSIGNAL);
                if (n < 0) {
                        assert_int_equal(errno, EAGAIN);
                        break;
                }
                sent += (size_t) n;
        }
        assert_true(sent > 0);
        check_daemon_serves(state);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_truncated_frame, check_daemon_serves),
                cmocka_unit_test_teardown(test_half_frame_times_out, check_daemon_serves),
                cmocka_unit_test_teardown(test_idle_client_stays, check_daemon_serves),
                cmocka_unit_test_teardown(test_oversized_frame, check_daemon_serves),
                cmocka_unit_test_teardown(test_wrong_magic, check_daemon_serves),
                cmocka_unit_test_teardown(test_wrong_version, check_daemon_serves),
                cmocka_unit_test_teardown(test_reserved_flags, check_daemon_serves),
                cmocka_unit_test_teardown(test_not_normal_form, check_daemon_serves),
                cmocka_unit_test_teardown(test_wrong_type, check_daemon_serves),
                cmocka_unit_test_teardown(test_unknown_request, check_daemon_serves),
                cmocka_unit_test_teardown(test_bad_acquire_values, check_daemon_serves),
                cmocka_unit_test_teardown(test_ten_thousand_paths, check_daemon_serves),
                cmocka_unit_test_teardown(test_nul_and_long_paths, check_daemon_serves),
                cmocka_unit_test_teardown(test_empty_payload_off_alignment, check_daemon_serves),
                cmocka_unit_test_teardown(test_pipelined_requests, check_daemon_serves),
                cmocka_unit_test_teardown(test_client_that_never_reads, check_daemon_serves),
        };
        return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
