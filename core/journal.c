/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "journal.h"
#include "util/log.h"
#include "util/strv-util.h"

#define JOURNAL_MAGIC 0x314a5742u /* "BWJ1" */
#define JOURNAL_RECORD_MAX (16u << 20)

typedef enum JournalRecord {
        RECORD_BEGIN = 1,    /* (u op, s guest_text, s source) */
        RECORD_INTENT,       /* (u seq, s plugin, s kind, s object, s detail, s lock, ay data) */
        RECORD_DONE,         /* (u seq, ay undo) */
        RECORD_UNDONE,       /* (u seq) */
        RECORD_COMMIT,       /* () */
        RECORD_ABORT,        /* () */
        RECORD_GUEST,        /* a{sv}: the guest as resolved at start (guest-record.h) */
} JournalRecord;

typedef struct JournalHeader {
        uint32_t magic;
        uint32_t type;
        uint32_t length;
        uint32_t crc;
} JournalHeader;

struct Journal {
        char *path;
        char *dir;
        int fd;
        GByteArray *pending;       /* records not written yet (INTENTs of a batch, BEGIN) */
};

/* CRC-32 (IEEE), four bits at a time: a 16-entry table instead of a
 * loop per bit (every record is summed when written and when read). */
static uint32_t journal_crc32(const void *buf, size_t len) {
        static const uint32_t nibble[16] = {
                0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
                0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
        };
        const uint8_t *p = buf;
        uint32_t crc = 0xffffffffu;
        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                crc = (crc >> 4) ^ nibble[crc & 15];
                crc = (crc >> 4) ^ nibble[crc & 15];
        }
        return ~crc;
}

char *journal_dir(const char *state_dir) {
        return g_build_filename(state_dir, "guests", NULL);
}

char *journal_file(const char *state_dir, const char *name) {
        g_autofree char *file = g_strdup_printf("%s.journal", name);
        return g_build_filename(state_dir, "guests", file, NULL);
}

const char *journal_op_to_string(JournalOp op) {
        switch (op) {
        case JOURNAL_OP_START: return "start";
        case JOURNAL_OP_ATTACH: return "attach";
        case JOURNAL_OP_DETACH: return "detach";
        case JOURNAL_OP_STOP: return "stop";
        }
        return "unknown";
}

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

static int journal_open_flags(const char *state_dir, const char *name, int flags, Journal **ret,
                              BwError *reterr) {
        g_autofree char *dir = journal_dir(state_dir);
        g_autofree char *path = journal_file(state_dir, name);

        if (g_mkdir_with_parents(dir, 0700) < 0)
                return error_set(reterr, -errno, "state directory '%s': cannot create: %m", dir);
        /* O_NONBLOCK: a FIFO in its place must not hang us (ENXIO, or fstat). */
        _cleanup_close_ int fd = open(path, flags | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
                                      0600);
        struct stat st;
        if (fd < 0) {
                int r = -errno;
                if (r == -ENXIO || r == -ELOOP)
                        return error_set(reterr, -EINVAL, "journal '%s': not a regular file", path);
                if (r == -EEXIST)
                        return error_set(reterr, r, "guest '%s': already started (journal '%s' exists)",
                                         name, path);
                if (r == -ENOENT)
                        return error_set(reterr, r, "guest '%s': not started (no journal '%s')", name,
                                         path);
                return error_set(reterr, r, "journal '%s': cannot open: %m", path);
        }
        if (fstat(fd, &st) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot stat: %m", path);
        if (!S_ISREG(st.st_mode))
                return error_set(reterr, -EINVAL, "journal '%s': not a regular file", path);
        if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot set flags: %m", path);
        if (flags & O_CREAT)
                (void) fsync_dir(dir);
        Journal *j = g_new0(Journal, 1);
        j->path = g_steal_pointer(&path);
        j->dir = g_steal_pointer(&dir);
        j->fd = steal_fd(&fd);
        j->pending = g_byte_array_new();
        *ret = j;
        return 0;
}

int journal_create(const char *state_dir, const char *name, Journal **ret, BwError *reterr) {
        return journal_open_flags(state_dir, name, O_CREAT | O_EXCL, ret, reterr);
}

static int journal_cut(Journal *j, size_t valid, BwError *reterr) {
        struct stat st;
        if (fstat(j->fd, &st) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot stat: %m", j->path);
        if ((size_t) st.st_size > valid) {
                log_debug("journal '%s': cutting after %zu of %lld bytes", j->path, valid,
                          (long long) st.st_size);
                if (ftruncate(j->fd, (off_t) valid) < 0 || fdatasync(j->fd) < 0)
                        return error_set(reterr, -errno, "journal '%s': cannot cut a torn record: %m",
                                         j->path);
        }
        return 0;
}

int journal_open(const char *state_dir, const char *name, Journal **ret, JournalState **ret_state,
                 BwError *reterr) {
        g_autoptr(Journal) j = NULL;
        g_autoptr(JournalState) s = NULL;
        int r = journal_open_flags(state_dir, name, 0, &j, reterr);
        if (r < 0)
                return r;
        /* Corruption fails here, before anything is cut. */
        r = journal_read(j->path, &s, reterr);
        if (r < 0 && r != -ENODATA)
                return r;
        int read_result = r;
        r = journal_cut(j, s ? s->valid_length : 0, reterr);
        if (r < 0)
                return r;
        if (ret_state) {
                if (read_result < 0)
                        return error_set(reterr, read_result, "journal '%s': no transaction recorded", j->path);
                *ret_state = g_steal_pointer(&s);
        }
        *ret = g_steal_pointer(&j);
        return 0;
}

int journal_open_truncated(const char *state_dir, const char *name, size_t length, Journal **ret,
                           BwError *reterr) {
        g_autoptr(Journal) j = NULL;
        int r = journal_open_flags(state_dir, name, 0, &j, reterr);
        if (r < 0)
                return r;
        r = journal_cut(j, length, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&j);
        return 0;
}

void journal_close(Journal *j) {
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        g_byte_array_unref(j->pending);
        g_free(j->path);
        g_free(j->dir);
        g_free(j);
}

const char *journal_path(const Journal *j) {
        return j->path;
}

/* Adds one record to the pending ones; nothing reaches the file yet. */
static void journal_append(Journal *j, JournalRecord type, GVariant *payload) {
        g_autoptr(GVariant) v = g_variant_ref_sink(payload);
        /* Serialized by GVariant into aligned memory of its own: the
         * buffer's offsets are not aligned for g_variant_store(). */
        const void *payload_data = g_variant_get_data(v);
        gsize len = g_variant_get_size(v);
        JournalHeader h = { JOURNAL_MAGIC, type, (uint32_t) len, journal_crc32(payload_data, len) };

        g_byte_array_append(j->pending, (const uint8_t *) &h, sizeof(h));
        g_byte_array_append(j->pending, payload_data, (guint) len);
}

/* Writes the pending records with one write(): from here a crash of the
 * process cannot lose them (the page cache has them), a crash of the
 * host can, until journal_sync(). */
static int journal_flush(Journal *j) {
        if (j->pending->len == 0)
                return 0;
        int r = write_all(j->fd, j->pending->data, j->pending->len);
        g_byte_array_set_size(j->pending, 0);
        return r;
}

int journal_sync(Journal *j) {
        int r = journal_flush(j);
        if (r < 0)
                return r;
        return fdatasync(j->fd) < 0 ? -errno : 0;
}

/* One record, written at once and not synced (DONE, UNDONE). */
static int journal_write(Journal *j, JournalRecord type, GVariant *payload) {
        journal_append(j, type, payload);
        return journal_flush(j);
}

/* One record, written with what is pending and made durable. */
static int journal_write_sync(Journal *j, JournalRecord type, GVariant *payload) {
        journal_append(j, type, payload);
        return journal_sync(j);
}

static GVariant *bytes_variant(const void *data, size_t len) {
        return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, len ? data : "", len, 1);
}

void journal_begin(Journal *j, JournalOp op, const char *guest_text, const char *guest_source) {
        journal_append(j, RECORD_BEGIN,
                       g_variant_new("(uss)", (guint32) op, guest_text, guest_source ? guest_source : ""));
}

void journal_intent(Journal *j, uint32_t seq, const char *plugin, const BwChange *c) {
        /* "(usssss@aysu)", built from its children: no format string to
         * parse per change. */
        GVariant *fields[] = {
                g_variant_new_uint32(seq),
                g_variant_new_string(plugin),
                g_variant_new_string(c->kind),
                g_variant_new_string(c->object),
                g_variant_new_string(c->detail ? c->detail : ""),
                g_variant_new_string(c->lock_path ? c->lock_path : ""),
                bytes_variant(c->data, c->data_len),
                g_variant_new_string(c->resource ? c->resource : ""),
                g_variant_new_uint32(c->flags),
        };
        journal_append(j, RECORD_INTENT, g_variant_new_tuple(fields, G_N_ELEMENTS(fields)));
}

int journal_done(Journal *j, uint32_t seq, const void *undo, size_t undo_len) {
        GVariant *fields[] = { g_variant_new_uint32(seq), bytes_variant(undo, undo_len) };
        return journal_write(j, RECORD_DONE, g_variant_new_tuple(fields, G_N_ELEMENTS(fields)));
}

int journal_undone(Journal *j, uint32_t seq) {
        GVariant *seq_field = g_variant_new_uint32(seq);
        return journal_write(j, RECORD_UNDONE, g_variant_new_tuple(&seq_field, 1));
}

int journal_guest(Journal *j, GVariant *record) {
        return journal_write_sync(j, RECORD_GUEST, record); /* ref_sink takes a ref of its own */
}

int journal_commit(Journal *j) {
        return journal_write_sync(j, RECORD_COMMIT, g_variant_new("()"));
}

int journal_abort(Journal *j) {
        return journal_write_sync(j, RECORD_ABORT, g_variant_new("()"));
}

int journal_remove(Journal *j) {
        if (unlink(j->path) < 0 && errno != ENOENT)
                return -errno;
        return fsync_dir(j->dir);
}

/* ---- Reading ----------------------------------------------------------- */

static void journal_entry_free(JournalEntry *e) {
        if (!e)
                return;
        g_free(e->plugin);
        g_free(e->kind);
        g_free(e->object);
        g_free(e->detail);
        g_free(e->lock_path);
        g_free(e->resource);
        if (e->data)
                g_bytes_unref(e->data);
        if (e->undo)
                g_bytes_unref(e->undo);
        g_free(e);
}

void journal_state_free(JournalState *s) {
        if (!s)
                return;
        g_free(s->guest_text);
        g_free(s->guest_source);
        g_free(s->last_text);
        g_free(s->last_source);
        if (s->guest_record)
                g_variant_unref(s->guest_record);
        if (s->last_record)
                g_variant_unref(s->last_record);
        if (s->committed_record)
                g_variant_unref(s->committed_record);
        if (s->by_seq)
                g_hash_table_unref(s->by_seq);
        if (s->entries)
                g_ptr_array_unref(s->entries);
        if (s->damaged)
                g_array_unref(s->damaged);
        if (s->orphans)
                g_array_unref(s->orphans);
        g_free(s);
}

/* By index: a batch's DONE records follow all its INTENTs, so a search
 * from the newest entry would make reading quadratic. */
static JournalEntry *journal_state_find(JournalState *s, uint32_t seq) {
        return g_hash_table_lookup(s->by_seq, GUINT_TO_POINTER(seq));
}

/* The latest transaction's guest becomes the effective one. */
static void journal_state_take_latest(JournalState *s) {
        g_free(s->guest_text);
        g_free(s->guest_source);
        s->guest_text = g_strdup(s->last_text);
        s->guest_source = g_strdup(s->last_source);
        g_clear_pointer(&s->guest_record, g_variant_unref);
        s->guest_record = s->last_record ? g_variant_ref(s->last_record) : NULL;
}

static bool entry_supersedes(const JournalEntry *detach, const JournalEntry *e) {
        return e->resource && detach->resource && strcmp(e->resource, detach->resource) == 0 &&
               strcmp(e->plugin, detach->plugin) == 0 && strcmp(e->object, detach->object) == 0;
}

/* A detach committed: its changes and the earlier ones they took back
 * are no longer anything stop has to undo (see journal.h). */
static void journal_state_retire(JournalState *s) {
        for (guint i = 0; i < s->entries->len; i++) {
                JournalEntry *d = s->entries->pdata[i];
                if (d->txn != s->n_txn || d->undone)
                        continue;
                for (guint k = 0; k < i; k++) {
                        JournalEntry *e = s->entries->pdata[k];
                        if (e->txn < s->n_txn && !e->undone && entry_supersedes(d, e))
                                e->undone = e->retired = true;
                }
                d->undone = d->retired = true;
        }
}

static GBytes *variant_bytes(GVariant *ay) {
        gsize n = 0;
        const void *p = g_variant_get_fixed_array(ay, &n, 1);
        return g_bytes_new(p, n);
}

static const char *journal_record_type_string(JournalRecord type) {
        static const char *const types[] = {
                [RECORD_BEGIN] = "(uss)",       [RECORD_INTENT] = "(usssssaysu)",
                [RECORD_DONE] = "(uay)",        [RECORD_UNDONE] = "(u)",
                [RECORD_COMMIT] = "()",         [RECORD_ABORT] = "()",
                [RECORD_GUEST] = "a{sv}",
        };
        return type >= RECORD_BEGIN && type <= RECORD_GUEST ? types[type] : NULL;
}

/* Resync: a GUEST or INTENT whose BEGIN was lost opens a transaction. */
static void journal_state_begin_lost(JournalState *s) {
        g_clear_pointer(&s->last_text, g_free);
        g_clear_pointer(&s->last_source, g_free);
        s->last_op = 0;
        s->n_txn++;
        s->last_committed = s->last_aborted = false;
        g_clear_pointer(&s->last_record, g_variant_unref);
        if (!s->has_committed)
                journal_state_take_latest(s);
}

/* Resync: a DONE or UNDONE of a seq whose INTENT was lost. */
static void journal_state_add_orphan(JournalState *s, uint32_t seq, bool undone) {
        for (guint i = 0; i < s->orphans->len; i++) {
                JournalOrphan *o = &g_array_index(s->orphans, JournalOrphan, i);
                if (o->seq == seq) {
                        o->done |= !undone;
                        o->undone |= undone;
                        return;
                }
        }
        JournalOrphan o = { .seq = seq, .done = !undone, .undone = undone };
        g_array_append_val(s->orphans, o);
}

static uint32_t variant_child_u32(GVariant *v, gsize i) {
        g_autoptr(GVariant) c = g_variant_get_child_value(v, i);
        return g_variant_get_uint32(c);
}

static char *variant_child_string(GVariant *v, gsize i) {
        g_autoptr(GVariant) c = g_variant_get_child_value(v, i);
        return g_variant_dup_string(c, NULL);
}

/* An INTENT "(usssss@aysu)" by child, without a format string to parse
 * per record (reading a batch of thousands showed it). */
static void journal_entry_from_intent(JournalEntry *e, GVariant *v) {
        e->seq = variant_child_u32(v, 0);
        e->plugin = variant_child_string(v, 1);
        e->kind = variant_child_string(v, 2);
        e->object = variant_child_string(v, 3);
        e->detail = variant_child_string(v, 4);
        e->lock_path = variant_child_string(v, 5);
        g_autoptr(GVariant) data = g_variant_get_child_value(v, 6);
        e->data = variant_bytes(data);
        e->resource = variant_child_string(v, 7);
        e->flags = variant_child_u32(v, 8);
}

/* A resync reading tolerates what lost records leave behind. */
static int journal_apply_lost(JournalState *s, JournalRecord type, GVariant *v) {
        guint32 seq;
        switch (type) {
        case RECORD_GUEST:
        case RECORD_INTENT:
                journal_state_begin_lost(s);
                return 0;
        case RECORD_DONE:
        case RECORD_UNDONE:
                g_variant_get_child(v, 0, "u", &seq);
                journal_state_add_orphan(s, seq, type == RECORD_UNDONE);
                s->next_seq = MAX(s->next_seq, seq + 1);
                return 1;
        default:
                return -EBADMSG;
        }
}

/* COMMIT or ABORT: the latest transaction wrote its last DONE. */
static void journal_state_close_txn(JournalState *s) {
        for (guint i = s->entries->len; i > 0; i--) {
                JournalEntry *e = s->entries->pdata[i - 1];
                if (e->txn != s->n_txn)
                        break;
                e->txn_closed = true;
        }
}

static int journal_apply_record(JournalState *s, JournalRecord type, GVariant *v) {
        guint32 seq, op;
        JournalEntry *e;

        if (s->orphans && ((type == RECORD_GUEST && (s->n_txn == 0 || s->last_record)) ||
                           (type == RECORD_INTENT && s->n_txn == 0))) {
                int r = journal_apply_lost(s, type, v);
                if (r < 0)
                        return r;
        }
        switch (type) {
        case RECORD_BEGIN:
                g_free(s->last_text);
                g_clear_pointer(&s->last_source, g_free);
                g_variant_get(v, "(uss)", &op, &s->last_text, &s->last_source);
                s->last_op = op;
                s->n_txn++;
                s->last_committed = s->last_aborted = false;
                g_clear_pointer(&s->last_record, g_variant_unref);
                if (!s->has_committed)
                        journal_state_take_latest(s);
                return 0;
        case RECORD_GUEST:
                if (s->n_txn == 0 || s->last_record)
                        return -EBADMSG;
                s->last_record = g_variant_ref(v);
                if (!s->has_committed)
                        journal_state_take_latest(s);
                return 0;
        case RECORD_INTENT: {
                e = g_new0(JournalEntry, 1);
                journal_entry_from_intent(e, v);
                e->txn = s->n_txn;
                if (!*e->lock_path)
                        g_clear_pointer(&e->lock_path, g_free);
                if (!*e->resource)
                        g_clear_pointer(&e->resource, g_free);
                g_ptr_array_add(s->entries, e);
                g_hash_table_replace(s->by_seq, GUINT_TO_POINTER(e->seq), e);
                s->next_seq = MAX(s->next_seq, e->seq + 1);
                return s->n_txn > 0 ? 0 : -EBADMSG;
        }
        case RECORD_DONE: {
                seq = variant_child_u32(v, 0);
                g_autoptr(GVariant) undo = g_variant_get_child_value(v, 1);
                e = journal_state_find(s, seq);
                if (!e && s->orphans)
                        return journal_apply_lost(s, type, v) < 0 ? -EBADMSG : 0;
                if (!e)
                        return -EBADMSG;
                e->done = true;
                e->undo = variant_bytes(undo);
                return 0;
        }
        case RECORD_UNDONE:
                seq = variant_child_u32(v, 0);
                e = journal_state_find(s, seq);
                if (!e && s->orphans)
                        return journal_apply_lost(s, type, v) < 0 ? -EBADMSG : 0;
                if (!e)
                        return -EBADMSG;
                e->undone = true;
                return 0;
        case RECORD_COMMIT:
                journal_state_close_txn(s);
                s->last_committed = true;
                if (s->last_op == JOURNAL_OP_STOP)
                        return 0;
                s->has_committed = true;
                s->committed_op = s->last_op;
                if (s->last_record) {
                        g_clear_pointer(&s->committed_record, g_variant_unref);
                        s->committed_record = g_variant_ref(s->last_record);
                }
                journal_state_take_latest(s);
                if (s->last_op == JOURNAL_OP_DETACH)
                        journal_state_retire(s);
                return 0;
        case RECORD_ABORT:
                journal_state_close_txn(s);
                if ((s->last_op == JOURNAL_OP_ATTACH || s->last_op == JOURNAL_OP_DETACH) && s->has_committed) {
                        /* Rolled back in full: the guest is as before it. */
                        s->last_op = s->committed_op;
                        s->last_committed = true;
                } else
                        s->last_aborted = true;
                return 0;
        }
        return -EBADMSG;
}

/* A payload whose CRC was checked, as a GVariant of `type`, or NULL when
 * it is not in normal form. */
static GVariant *journal_payload(const void *payload, size_t length, const char *type) {
        g_autoptr(GBytes) bytes = g_bytes_new(payload, length); /* aligned copy */
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(type), bytes, FALSE));
        return g_variant_is_normal_form(v) ? g_steal_pointer(&v) : NULL;
}

/* The whole, well-formed record at `off`, or NULL: magic, known type, a
 * length that fits, the CRC, and a payload in normal form of its type. */
static GVariant *journal_record_at(const char *contents, size_t len, size_t off, JournalHeader *ret_h) {
        JournalHeader h;
        if (len - off < sizeof(h))
                return NULL;
        memcpy(&h, contents + off, sizeof(h));
        const char *type = journal_record_type_string(h.type);
        if (h.magic != JOURNAL_MAGIC || !type || h.length > JOURNAL_RECORD_MAX ||
            h.length > len - off - sizeof(h))
                return NULL;
        const void *payload = contents + off + sizeof(h);
        if (journal_crc32(payload, h.length) != h.crc)
                return NULL;
        *ret_h = h;
        return journal_payload(payload, h.length, type);
}

/* The offset of the next whole record at or after `from`, or `len`. */
static size_t journal_next_record(const char *contents, size_t len, size_t from) {
        for (size_t p = from; p + sizeof(JournalHeader) <= len; p++) {
                JournalHeader h;
                g_autoptr(GVariant) v = journal_record_at(contents, len, p, &h);
                if (v)
                        return p;
        }
        return len;
}

/* Does a whole record start anywhere in [from, len)?  A torn write leaves
 * nothing after it, so one that does is corruption. */
static bool journal_record_follows(const char *contents, size_t len, size_t from) {
        return journal_next_record(contents, len, from) < len;
}

/* The bad record at `off`: a torn tail (0) or corruption (-EBADMSG). */
static int journal_classify_bad(const char *contents, size_t len, size_t off, const JournalHeader *h,
                                const char **ret_why) {
        size_t end = off + sizeof(*h) + h->length;
        if (h->length > len - off - sizeof(*h)) {
                *ret_why = "its length runs past the end of the file, yet a whole record follows it";
                return journal_record_follows(contents, len, off + 1) ? -EBADMSG : 0;
        }
        *ret_why = "CRC mismatch, with more data after it";
        return end == len ? 0 : -EBADMSG;
}

static int journal_read_fd(const char *path, char **ret, size_t *ret_len, BwError *reterr) {
        struct stat st;
        /* O_NONBLOCK + fstat: a FIFO in a journal's place is refused, never waited on. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && (errno == ELOOP || errno == ENXIO))
                return error_set(reterr, -EINVAL, "journal '%s': not a regular file", path);
        if (fd < 0)
                return error_set(reterr, -errno, "journal '%s': cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot stat: %m", path);
        if (!S_ISREG(st.st_mode))
                return error_set(reterr, -EINVAL, "journal '%s': not a regular file", path);
        g_autoptr(GByteArray) buf = g_byte_array_sized_new((guint) MIN(st.st_size, 1 << 20));
        uint8_t chunk[65536];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(reterr, -errno, "journal '%s': cannot read: %m", path);
                if (n == 0)
                        break;
                g_byte_array_append(buf, chunk, (guint) n);
        }
        *ret_len = buf->len;
        g_byte_array_append(buf, (const uint8_t *) "", 1);
        *ret = (char *) g_byte_array_free(g_steal_pointer(&buf), FALSE);
        return 0;
}

/* Reads the record at *off into `s`: 0 when it was whole (*off moves past
 * it), 1 for a torn tail, -EBADMSG for a bad record (*ret_why NULL: whole
 * and with a good CRC, yet not what we write). */
static int journal_read_one(JournalState *s, const char *contents, size_t len, size_t *off,
                            const char **ret_why) {
        JournalHeader h;
        memcpy(&h, contents + *off, sizeof(h));
        if (h.magic != JOURNAL_MAGIC || !journal_record_type_string(h.type) || h.length > JOURNAL_RECORD_MAX) {
                *ret_why = "bad record header";
                return -EBADMSG;
        }
        if (h.length > len - *off - sizeof(h) || journal_crc32(contents + *off + sizeof(h), h.length) != h.crc)
                return journal_classify_bad(contents, len, *off, &h, ret_why) < 0 ? -EBADMSG : 1;
        /* Whole, with a good CRC (checked once, just above). */
        g_autoptr(GVariant) v = journal_payload(contents + *off + sizeof(h), h.length,
                                                journal_record_type_string(h.type));
        *ret_why = NULL;
        if (!v || journal_apply_record(s, h.type, v) < 0)
                return -EBADMSG;
        if (h.type == RECORD_INTENT)
                ((JournalEntry *) s->entries->pdata[s->entries->len - 1])->offset = *off;
        if (h.type == RECORD_DONE) {
                JournalEntry *e = journal_state_find(s, variant_child_u32(v, 0));
                if (e)
                        e->done_offset = *off;
        }
        if (h.type == RECORD_BEGIN && s->last_op == JOURNAL_OP_STOP)
                s->stop_offset = MIN(s->stop_offset, *off);
        *off += sizeof(h) + h.length;
        return 0;
}

/* Resync: every bad record becomes a damaged span up to the next whole
 * record; a torn tail ends the reading. */
static size_t journal_read_past_damage(JournalState *s, const char *contents, size_t len) {
        size_t off = 0;
        const char *why = NULL;
        while (len - off >= sizeof(JournalHeader)) {
                int r = journal_read_one(s, contents, len, &off, &why);
                if (r == 0)
                        continue;
                if (r > 0)
                        break;
                JournalSpan span = { off, journal_next_record(contents, len, off + 1) - off };
                if (!s->corrupt)
                        s->corrupt_offset = off;
                s->corrupt = true;
                g_array_append_val(s->damaged, span);
                off += span.length;
        }
        s->torn_tail = off < len;
        return off;
}

typedef enum JournalReadMode {
        JOURNAL_READ_STRICT,       /* corruption fails the reading */
        JOURNAL_READ_SALVAGE,      /* ... ends it */
        JOURNAL_READ_RESYNC,       /* ... is skipped to the next whole record */
} JournalReadMode;

static int journal_read_full(const char *path, JournalReadMode mode, JournalState **ret, BwError *reterr) {
        g_autofree char *contents = NULL;
        size_t len = 0;
        int r = journal_read_fd(path, &contents, &len, reterr);
        if (r < 0)
                return r;

        g_autoptr(JournalState) s = g_new0(JournalState, 1);
        s->entries = g_ptr_array_new_with_free_func((GDestroyNotify) journal_entry_free);
        s->by_seq = g_hash_table_new(g_direct_hash, g_direct_equal);
        s->file_length = len;
        s->stop_offset = SIZE_MAX;
        if (mode == JOURNAL_READ_RESYNC) {
                s->damaged = g_array_new(FALSE, FALSE, sizeof(JournalSpan));
                s->orphans = g_array_new(FALSE, FALSE, sizeof(JournalOrphan));
                s->valid_length = journal_read_past_damage(s, contents, len);
                *ret = g_steal_pointer(&s);
                return 0;
        }
        size_t off = 0;
        const char *why = NULL;
        r = 0;
        while (r == 0 && len - off >= sizeof(JournalHeader))
                r = journal_read_one(s, contents, len, &off, &why);
        s->valid_length = off;
        if (r < 0 && mode == JOURNAL_READ_SALVAGE) {
                s->corrupt = true;
                s->corrupt_offset = off;
        } else if (r < 0 && !why)
                return error_set(reterr, r, "journal '%s': inconsistent record at offset %zu", path, off);
        else if (r < 0)
                return error_set(reterr, r, "journal '%s': corrupt record at offset %zu (%s)", path, off, why);
        if (s->n_txn == 0 && mode == JOURNAL_READ_STRICT)
                return error_set(reterr, -ENODATA, "journal '%s': no transaction recorded", path);
        *ret = g_steal_pointer(&s);
        return 0;
}

static bool journal_seq_accounted(const JournalState *s, uint32_t seq) {
        if (journal_state_find((JournalState *) s, seq))
                return true;
        for (guint i = 0; i < s->orphans->len; i++) {
                const JournalOrphan *o = &g_array_index(s->orphans, JournalOrphan, i);
                if (o->seq == seq)
                        return o->undone;
        }
        return false;
}

/* The span is the only one and lies in a closed transaction's apply. */
static bool journal_span_in_closed_apply(const JournalState *s, const JournalSpan *span) {
        if (s->damaged->len != 1)
                return false;
        for (guint i = 0; i < s->entries->len; i++) {
                const JournalEntry *e = s->entries->pdata[i];
                if (e->done_offset == span->offset + span->length)
                        return e->txn_closed;
        }
        return false;
}

bool journal_span_may_hold_change(const JournalState *s, const JournalSpan *span) {
        const JournalEntry *after = NULL;
        if (s->stop_offset < span->offset || journal_span_in_closed_apply(s, span))
                return false;
        for (guint i = 0; i < s->entries->len && !after; i++) {
                const JournalEntry *e = s->entries->pdata[i];
                if (e->offset > span->offset)
                        after = e;
        }
        if (!after)
                return true;
        for (uint32_t seq = 0; seq < after->seq; seq++)
                if (!journal_seq_accounted(s, seq))
                        return true;
        return false;
}

bool journal_state_has_applied_orphan(const JournalState *s) {
        for (guint i = 0; s->orphans && i < s->orphans->len; i++)
                if (!g_array_index(s->orphans, JournalOrphan, i).undone)
                        return true;
        return false;
}

int journal_read(const char *path, JournalState **ret, BwError *reterr) {
        return journal_read_full(path, JOURNAL_READ_STRICT, ret, reterr);
}

int journal_read_salvage(const char *path, JournalState **ret, BwError *reterr) {
        return journal_read_full(path, JOURNAL_READ_SALVAGE, ret, reterr);
}

int journal_read_resync(const char *path, JournalState **ret, BwError *reterr) {
        return journal_read_full(path, JOURNAL_READ_RESYNC, ret, reterr);
}

int journal_keep_copy(const char *path, char **ret_copy, BwError *reterr) {
        g_autofree char *contents = NULL;
        size_t len = 0;
        int r = journal_read_fd(path, &contents, &len, reterr);
        if (r < 0)
                return r;
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
        for (unsigned n = 0; n < 100; n++) {
                g_autofree char *copy = n ? g_strdup_printf("%s.corrupt-%s-%u", path, stamp, n)
                                          : g_strdup_printf("%s.corrupt-%s", path, stamp);
                _cleanup_close_ int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return error_set(reterr, -errno, "journal copy '%s': cannot create: %m", copy);
                r = write_all(fd, contents, len);
                if (r >= 0 && fsync(fd) < 0)
                        r = -errno;
                if (r < 0)
                        return error_set(reterr, r, "journal copy '%s': cannot write: %m", copy);
                *ret_copy = g_steal_pointer(&copy);
                return 0;
        }
        return error_set(reterr, -EEXIST, "journal '%s': too many copies already", path);
}
