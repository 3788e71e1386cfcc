/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Damaging a guest's journal the way a disk or a person would, for the
 * tests of recover, recover --force, guest state and adopt.  A record is
 * a 16-byte header (magic, type, payload length, CRC) and its payload
 * (core/journal.c).  The test fails (cmocka) when the file cannot be read
 * or is shorter than the record asked for. */
#pragma once

#include <stddef.h>

/* Offset of record `index` (0-based) of the journal at `path`. */
size_t journal_record_offset(const char *path, unsigned index);
/* How many records the file holds (a torn tail counts as one). */
unsigned journal_record_count(const char *path);
/* Flips one bit of the first payload byte of record `index`, so its CRC
 * no longer matches; returns the record's offset. */
size_t journal_flip_record(const char *path, unsigned index);
