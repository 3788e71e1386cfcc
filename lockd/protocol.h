/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lockd wire protocol, shared by bulwark-lockd and its client.
 *
 * A frame is a 16-byte header followed by a GVariant payload:
 *
 *   offset size
 *        0    4  magic "BWLK"
 *        4    1  version (LOCKD_PROTOCOL_VERSION)
 *        5    1  type (LockdMessageType)
 *        6    2  flags (LOCKD_FRAME_*), 0 unless the request type allows one
 *        8    4  serial, little-endian; a reply repeats its request's
 *       12    4  payload length, little-endian, at most LOCKD_PAYLOAD_MAX
 *
 * The payload is a GVariant in normal form, little-endian, of the type
 * the message type names (protocol_request_type()).  Every reply is one
 * LOCKD_MSG_REPLY frame "(uisv)": status, errno (0 or positive), a
 * message for people ("" on success) and a body whose type depends on the
 * request and the status (see lockd/README.md).
 *
 * Nothing here allocates on behalf of a caller except where a function
 * returns a GVariant or fills a struct documented to own its strings.
 * Every function is pure: no I/O, no logging, no globals, so the decoder
 * can be fuzzed as it is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define LOCKD_PROTOCOL_VERSION 1
#define LOCKD_HEADER_SIZE 16
#define LOCKD_PAYLOAD_MAX (1024u * 1024u)
#define LOCKD_PATHS_MAX 4096
#define LOCKD_PATH_MAX 4095        /* bytes, without the terminating NUL */
#define LOCKD_OWNER_MAX 256

typedef enum LockdMessageType {
        LOCKD_MSG_HELLO = 1,       /* (su)     owner name, pid */
        LOCKD_MSG_ACQUIRE = 2,     /* (uuaay)  mode, flags, paths; (uuas) with TEXT_PATHS */
        LOCKD_MSG_RELEASE = 3,     /* (baay)   all, paths; a(tt) keys with BY_KEY */
        LOCKD_MSG_LIST = 4,        /* ()       ; (tu) cursor, row limit with LIST_PAGES */
        LOCKD_MSG_PING = 5,        /* ()       */
        LOCKD_MSG_CHECK = 6,       /* a(tt)    keys of held files: which locks were lost */
        LOCKD_MSG_RELEASE_LEASE = 7, /* (saay) owner key, paths (none: every lease of the key) */
        LOCKD_MSG_REPLY = 0x80,    /* (uisv)   status, errno, message, body */
} LockdMessageType;

/* Header flags of a request. */
enum {
        /* Answer only on failure.  RELEASE alone takes it: a client that
         * does not need to know when its locks are free sends the request
         * and goes on; the daemon acts on it before anything the same
         * connection sends later.  Only a daemon whose HELLO reply lists
         * LOCKD_FEATURE_NO_REPLY_RELEASE accepts it. */
        LOCKD_FRAME_NO_REPLY = 1u << 0,
        /* ACQUIRE: the paths are an "as" of UTF-8 strings, payload
         * "(uuas)" instead of "(uuaay)".  GLib checks a byte array for
         * normal form one byte at a time (about 13 ns a byte here) and a
         * string in one pass (about 2): for 100 paths, 50 µs against 8.
         * Paths that are not UTF-8 still travel as "aay". */
        LOCKD_FRAME_TEXT_PATHS = 1u << 1,
        /* RELEASE: the payload is an "a(tt)" of (st_dev, st_ino) keys, as
         * the ACQUIRE reply gave them, instead of "(baay)": each drops one
         * hold of this connection on that file.  No path is resolved or
         * hashed again.  Files locked by name (LOCKD_PATH_MISSING) have no
         * key and are released by path. */
        LOCKD_FRAME_BY_KEY = 1u << 2,
        /* LIST: one page of the table.  The payload is "(tu)": a cursor (0
         * for the first page, else the one the previous page returned)
         * and the most rows wanted (0: as many as fit in a reply).  The
         * reply body is LOCKD_BODY_LIST_PAGE.  An unpaged LIST gets what
         * fits in one reply and a "truncated" flag; 1 MiB holds about
         * 8,000 rows. */
        LOCKD_FRAME_LIST_PAGE = 1u << 3,
        /* ACQUIRE: the request names the owner key it acts for (a guest's
         * uuid): payload "(uusas)" or "(uusaay)", the key between the
         * flags and the paths.  A path whose only holders are that key's
         * leases is granted; with LOCKD_ACQUIRE_LEASE the locks become
         * leases of the key.  Bit 16 is taken by LOCKD_FEATURE_CHECK. */
        LOCKD_FRAME_OWNER_KEY = 1u << 5,
};

/* What a daemon supports, in the body of its HELLO reply: a client sends
 * a flag only to a daemon that lists it. */
enum {
        LOCKD_FEATURE_NO_REPLY_RELEASE = 1u << 0,
        LOCKD_FEATURE_TEXT_PATHS = 1u << 1,
        LOCKD_FEATURE_RELEASE_BY_KEY = 1u << 2,
        LOCKD_FEATURE_LIST_PAGES = 1u << 3,
        /* The CHECK request: a client asks before it trusts its locks. */
        LOCKD_FEATURE_CHECK = 1u << 4,
        /* Leases: LOCKD_FRAME_OWNER_KEY, LOCKD_ACQUIRE_LEASE, the
         * RELEASE_LEASE request and LOCKD_PATH_LEASE in LIST rows. */
        LOCKD_FEATURE_LEASES = 1u << 5,
        _LOCKD_FEATURES = LOCKD_FEATURE_NO_REPLY_RELEASE | LOCKD_FEATURE_TEXT_PATHS |
                          LOCKD_FEATURE_RELEASE_BY_KEY | LOCKD_FEATURE_LIST_PAGES | LOCKD_FEATURE_CHECK |
                          LOCKD_FEATURE_LEASES,
};

/* The one wire enum.  Each maps to an errno for callers. */
typedef enum LockdStatus {
        LOCKD_STATUS_OK = 0,
        LOCKD_STATUS_BUSY = 1,             /* body (aysuxt): path, owner, pid, since, held-for */
        LOCKD_STATUS_INVALID = 2,          /* a well-framed request with a bad payload */
        LOCKD_STATUS_NOT_FOUND = 3,        /* a path does not exist */
        LOCKD_STATUS_DENIED = 4,           /* the peer may not use lockd; connection closed */
        LOCKD_STATUS_PROTOCOL = 5,         /* bad magic, version or length; connection closed */
        LOCKD_STATUS_UNKNOWN_REQUEST = 6,  /* a message type this daemon does not know */
        LOCKD_STATUS_FAILED = 7,           /* a system call failed; errno says which */
        _LOCKD_STATUS_MAX,
} LockdStatus;

/* ACQUIRE mode and flags. */
typedef enum LockdMode {
        LOCKD_MODE_EXCLUSIVE = 0,  /* write lock on byte 1 */
        LOCKD_MODE_SHARED = 1,     /* read lock on byte 1 */
} LockdMode;

enum {
        LOCKD_ACQUIRE_ALLOW_MISSING = 1u << 0,  /* a missing path is locked by name */
        /* The locks are leases of the request's owner key (header flag
         * LOCKD_FRAME_OWNER_KEY, which it needs): held by the daemon for
         * the key, not by the connection, until RELEASE_LEASE. */
        LOCKD_ACQUIRE_LEASE = 1u << 1,
        _LOCKD_ACQUIRE_KNOWN = LOCKD_ACQUIRE_ALLOW_MISSING | LOCKD_ACQUIRE_LEASE,
};

/* Per-path flags in an ACQUIRE reply and in LIST rows. */
enum {
        LOCKD_PATH_TABLE_ONLY = 1u << 0,   /* directory or device node: no kernel lock */
        LOCKD_PATH_MISSING = 1u << 1,      /* did not exist: locked by name */
        LOCKD_PATH_READ_LOCK = 1u << 2,    /* exclusive, but the file only opens read-only:
                                            * the kernel lock is a read lock */
        LOCKD_PATH_DUPLICATE = 1u << 3,    /* same file as an earlier path of the request */
        LOCKD_PATH_LOST = 1u << 4,         /* LIST: the kernel lock was lost (the shared
                                            * filesystem dropped it); held in the table
                                            * only until its holders release it */
        LOCKD_PATH_LEASE = 1u << 5,        /* LIST: a lease; the row's owner is its key */
};

/* Reply body types. */
#define LOCKD_BODY_HELLO "u"                         /* LOCKD_FEATURE_* */
#define LOCKD_BODY_CHECK "a(ayi)"                    /* lost locks: path, errno */
#define LOCKD_BODY_ACQUIRE "a(ttu)"                  /* per requested path: dev, ino, flags */
#define LOCKD_BODY_RELEASE "u"                       /* holds released (RELEASE_LEASE too) */
#define LOCKD_BODY_LIST "(ba(ayttuusuuxt))"          /* truncated, rows */
#define LOCKD_BODY_LIST_PAGE "(bta(ayttuusuuxt))"    /* more, next cursor (0 at the end), rows */
#define LOCKD_LIST_ROW "(ayttuusuuxt)"               /* path, dev, ino, mode, flags, owner,
                                                      * pid, uid, since (µs, wall clock),
                                                      * held-for (µs) */
#define LOCKD_BODY_PING "(suuuu)"                    /* version, pid, clients, locks,
                                                      * generation (re-execs so far) */
#define LOCKD_BODY_BUSY "(aysuxt)"                   /* path, owner ("" when not a lockd
                                                      * client), pid (0 when unknown),
                                                      * since, held-for */

/* One element of an ACQUIRE reply body, laid out as the fixed-size
 * GVariant "(ttu)" so the whole body is one fixed array. */
typedef struct LockdPathResult {
        uint64_t dev;
        uint64_t ino;
        uint32_t flags;            /* LOCKD_PATH_* */
        uint32_t padding;          /* zero */
} LockdPathResult;

G_STATIC_ASSERT(sizeof(LockdPathResult) == 24);

/* One element of a RELEASE by key: the GVariant "(tt)". */
typedef struct LockdFileKey {
        uint64_t dev;
        uint64_t ino;
} LockdFileKey;

G_STATIC_ASSERT(sizeof(LockdFileKey) == 16);

typedef struct LockdHeader {
        uint8_t version;
        uint8_t type;
        uint16_t flags;
        uint32_t serial;
        uint32_t length;
} LockdHeader;

static inline void protocol_put_le32(uint8_t *p, uint32_t v) {
        p[0] = v & 0xff;
        p[1] = (v >> 8) & 0xff;
        p[2] = (v >> 16) & 0xff;
        p[3] = (v >> 24) & 0xff;
}

void protocol_header_encode(const LockdHeader *header, uint8_t out[LOCKD_HEADER_SIZE]);
/* Rewrites the serial of an encoded frame (a retry of the same request). */
static inline void protocol_frame_set_serial(uint8_t *frame, uint32_t serial) {
        protocol_put_le32(frame + 8, serial);
}

/* Decodes a header.  -EBADMSG: wrong magic; -EPROTONOSUPPORT: another
 * version; -EMSGSIZE: payload longer than LOCKD_PAYLOAD_MAX.  The header
 * is filled in all three cases so the caller can answer the serial. */
int protocol_header_decode(const uint8_t in[LOCKD_HEADER_SIZE], LockdHeader *ret);

/* Looks for one frame at the start of a byte stream.  Returns 1 and the
 * header and whole frame length when a complete frame is there, 0 when
 * more bytes are needed, or a protocol_header_decode() error. */
int protocol_frame_next(const uint8_t *data, size_t len, LockdHeader *ret_header,
                        size_t *ret_frame_len);

/* Appends a header for a payload of `len` bytes and room for the payload;
 * returns where the payload starts in out, or 0 when it is longer than
 * LOCKD_PAYLOAD_MAX (out unchanged). */
size_t protocol_frame_open(GByteArray *out, uint8_t type, uint16_t flags, uint32_t serial, size_t len);
/* Appends a frame (header and serialized payload, little-endian) to out.
 * -EMSGSIZE when the payload is too large. */
int protocol_frame_append(GByteArray *out, uint8_t type, uint32_t serial, GVariant *payload);
int protocol_frame_append_flags(GByteArray *out, uint8_t type, uint16_t flags, uint32_t serial,
                                GVariant *payload);
/* The header flags a request type may carry. */
uint16_t protocol_request_flags(uint8_t type);

/* The payload type of a request with these header flags, or NULL for a
 * type that is not a request.  Check the flags with
 * protocol_request_flags() first. */
const GVariantType *protocol_request_type(uint8_t type, uint16_t flags);
const char *protocol_message_type_to_string(uint8_t type);

/* Parses a payload as a GVariant of `type` in normal form.  Returns a new
 * (non-floating) reference, or NULL with a message in *ret_message.  The
 * _borrowed variant avoids a copy: its result (and every value taken from
 * it) must not outlive data. */
GVariant *protocol_payload_parse(const void *data, size_t len, const GVariantType *type,
                                 char **ret_message);
GVariant *protocol_payload_parse_borrowed(const void *data, size_t len, const GVariantType *type,
                                          char **ret_message);
/* The same through GLib's general path only (the boxing variant checked
 * as a whole): the fuzzer compares the two. */
GVariant *protocol_payload_parse_general(const void *data, size_t len, const GVariantType *type,
                                         char **ret_message);

/* A decoded path list; `paths` point into one allocation.  Free with
 * protocol_paths_clear(). */
typedef struct LockdPaths {
        size_t n;
        char **paths;
} LockdPaths;

void protocol_paths_clear(LockdPaths *paths);

/* Checks and copies an "aay" or "as" path list: at most LOCKD_PATHS_MAX
 * paths, each absolute, non-empty, without NUL and at most LOCKD_PATH_MAX
 * bytes.  -EINVAL with a message naming the offending path index. */
int protocol_paths_decode(GVariant *array, LockdPaths *ret, char **ret_message);
/* Builds an "aay" from C strings (floating). */
GVariant *protocol_paths_encode(const char *const *paths, size_t n);
/* The width (1, 2, 4 or 8 bytes) of the framing offsets of a container
 * whose other bytes number `body`: the narrowest that can address the
 * whole container, offsets included (GVariant specification). */
size_t protocol_framing_offset_width(size_t body, size_t n_offsets);
/* The same arrays serialized into a caller's buffer: the size (and the
 * framing-offset width to pass on), then the bytes. */
size_t protocol_paths_serialized_size(const char *const *paths, size_t n, bool text,
                                      size_t *ret_offset_size);
void protocol_paths_serialize(const char *const *paths, size_t n, bool text, size_t offset_size,
                              uint8_t *dst);
/* Builds an "as" from C strings (floating); every path must be UTF-8
 * (protocol_paths_are_text()). */
GVariant *protocol_text_paths_encode(const char *const *paths, size_t n);
bool protocol_paths_are_text(const char *const *paths, size_t n);
/* A path as an "ay" without terminator (floating). */
GVariant *protocol_path_to_variant(const char *path);
/* Copies an "ay" path into a new NUL-terminated string; NULL if it holds a NUL. */
char *protocol_path_from_variant(GVariant *v);

typedef struct LockdHelloRequest {
        char *owner;
        uint32_t pid;
} LockdHelloRequest;

typedef struct LockdAcquireRequest {
        LockdMode mode;
        uint32_t flags;
        char *owner_key;           /* LOCKD_FRAME_OWNER_KEY; else NULL */
        LockdPaths paths;
} LockdAcquireRequest;

/* RELEASE_LEASE "(saay)": an owner key and the paths of its leases to
 * release, none for all of them. */
typedef struct LockdReleaseLeaseRequest {
        char *owner_key;
        LockdPaths paths;
} LockdReleaseLeaseRequest;

typedef struct LockdReleaseRequest {
        bool all;
        LockdPaths paths;
} LockdReleaseRequest;

/* A paged LIST ("(tu)").  The cursor is the daemon's business: a client
 * sends 0, then what the previous page returned. */
typedef struct LockdListRequest {
        uint64_t cursor;
        uint32_t limit;            /* rows at most; 0: as many as fit */
} LockdListRequest;

/* Decode a checked payload (from protocol_payload_parse() with the
 * request's type).  -EINVAL with a message on a bad value. */
int protocol_hello_decode(GVariant *payload, LockdHelloRequest *ret, char **ret_message);
void protocol_hello_clear(LockdHelloRequest *req);
int protocol_acquire_decode(GVariant *payload, LockdAcquireRequest *ret, char **ret_message);
void protocol_acquire_clear(LockdAcquireRequest *req);
int protocol_release_decode(GVariant *payload, LockdReleaseRequest *ret, char **ret_message);
void protocol_release_clear(LockdReleaseRequest *req);
int protocol_release_lease_decode(GVariant *payload, LockdReleaseLeaseRequest *ret, char **ret_message);
void protocol_release_lease_clear(LockdReleaseLeaseRequest *req);
/* An owner name or owner key: at most LOCKD_OWNER_MAX bytes, no control
 * characters.  -EINVAL with a message naming `what`. */
int protocol_owner_check(const char *owner, const char *what, char **ret_message);
/* A LIST payload: "()" (unpaged: the first page, no limit) or "(tu)". */
int protocol_list_decode(GVariant *payload, LockdListRequest *ret, char **ret_message);
/* The keys of a RELEASE by key ("a(tt)"), pointing into payload; NULL
 * with a message when there are more than LOCKD_PATHS_MAX. */
const LockdFileKey *protocol_release_keys_get(GVariant *payload, size_t *ret_n, char **ret_message);
/* An "a(tt)" of keys (floating). */
GVariant *protocol_release_keys_encode(const LockdFileKey *keys, size_t n);

/* The "a(ttu)" body of an ACQUIRE reply (floating), and its elements
 * (pointing into body; NULL when it is not an "a(ttu)"). */
GVariant *protocol_acquire_body_new(const LockdPathResult *results, size_t n);
const LockdPathResult *protocol_acquire_body_get(GVariant *body, size_t *ret_n);

/* A reply payload "(uisv)"; body may be NULL for "()".  Floating. */
GVariant *protocol_reply_new(LockdStatus status, int error, const char *message, GVariant *body);

typedef struct LockdReply {
        LockdStatus status;
        int error;                 /* positive errno, 0 on success */
        char *message;
        GVariant *body;            /* the unboxed body */
} LockdReply;

/* Decodes a checked "(uisv)" payload.  -EINVAL for an unknown status or
 * an errno out of range. */
int protocol_reply_decode(GVariant *payload, LockdReply *ret, char **ret_message);
void protocol_reply_clear(LockdReply *reply);

const char *protocol_status_to_string(LockdStatus status);
/* The errno a caller sees for a status (OK: 0; BUSY: EBUSY; ...). */
int protocol_status_to_errno(LockdStatus status, int error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdPaths, protocol_paths_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdHelloRequest, protocol_hello_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdAcquireRequest, protocol_acquire_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdReleaseRequest, protocol_release_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdReleaseLeaseRequest, protocol_release_lease_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LockdReply, protocol_reply_clear)
