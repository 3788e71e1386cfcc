/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The frames of a lock cycle, written straight into the output buffer.
 *
 * Building them as GVariant values costs about a microsecond each with
 * GLib 2.74 (a value per field, a tuple, a boxing variant, then the
 * serialization), as much as the round trip they ride on.  These
 * functions write the same bytes directly: ACQUIRE with its paths,
 * RELEASE by key, and every reply.  The output is GVariant's
 * serialization in normal form, byte for byte what protocol_frame_append()
 * makes of the equivalent GVariant (test-lockd-protocol compares the two
 * over every framing-offset width), so the receiver's
 * g_variant_is_normal_form() check is unchanged.
 *
 * On a big-endian host they fall back to building GVariants.  Each
 * returns 0, or -EMSGSIZE (leaving `out` as it was) when the payload would
 * pass LOCKD_PAYLOAD_MAX. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "protocol.h"

/* ACQUIRE "(uuas)" (text: header flag LOCKD_FRAME_TEXT_PATHS; every path
 * must be UTF-8) or "(uuaay)". */
int protocol_acquire_frame_append(GByteArray *out, uint32_t serial, uint32_t mode, uint32_t flags,
                                  const char *const *paths, size_t n, bool text);

/* RELEASE "a(tt)" with LOCKD_FRAME_BY_KEY and the extra header flags given
 * (LOCKD_FRAME_NO_REPLY). */
int protocol_release_keys_frame_append(GByteArray *out, uint32_t serial, uint16_t extra_flags,
                                       const LockdFileKey *keys, size_t n);

/* A reply "(uisv)" whose body is `body_size` bytes of a GVariant of type
 * body_type serialized in host byte order (for "()", the one zero byte).
 * protocol_reply_frame_append_value() takes the body as a GVariant (NULL
 * for "()"), consuming a floating reference. */
int protocol_reply_frame_append(GByteArray *out, uint32_t serial, LockdStatus status, int error,
                                const char *message, const char *body_type, const void *body,
                                size_t body_size);
int protocol_reply_frame_append_value(GByteArray *out, uint32_t serial, LockdStatus status, int error,
                                      const char *message, GVariant *body);
