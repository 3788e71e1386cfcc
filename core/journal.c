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
};

static uint32_t journal_crc32(const void *buf, size_t len) {
        const uint8_t *p = buf;
        uint32_t crc = 0xffffffffu;
        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
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
        int fd = open(path, flags | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                int r = -errno;
                if (r == -EEXIST)
                        return error_set(reterr, r, "guest '%s': already started (journal '%s' exists)",
                                         name, path);
                if (r == -ENOENT)
                        return error_set(reterr, r, "guest '%s': not started (no journal '%s')", name,
                                         path);
                return error_set(reterr, r, "journal '%s': cannot open: %m", path);
        }
        if (flags & O_CREAT)
                (void) fsync_dir(dir);
        Journal *j = g_new0(Journal, 1);
        j->path = g_steal_pointer(&path);
        j->dir = g_steal_pointer(&dir);
        j->fd = fd;
        *ret = j;
        return 0;
}

int journal_create(const char *state_dir, const char *name, Journal **ret, BwError *reterr) {
        return journal_open_flags(state_dir, name, O_CREAT | O_EXCL, ret, reterr);
}

int journal_open(const char *state_dir, const char *name, Journal **ret, BwError *reterr) {
        g_autoptr(Journal) j = NULL;
        g_autoptr(JournalState) s = NULL;
        struct stat st;
        int r = journal_open_flags(state_dir, name, 0, &j, reterr);
        if (r < 0)
                return r;
        r = journal_read(j->path, &s, reterr);
        if (r < 0 && r != -ENODATA)
                return r;
        size_t valid = s ? s->valid_length : 0;
        if (fstat(j->fd, &st) < 0)
                return error_set(reterr, -errno, "journal '%s': cannot stat: %m", j->path);
        if ((size_t) st.st_size > valid) {
                log_debug("journal '%s': cutting a torn record (%zu of %lld bytes valid)", j->path,
                          valid, (long long) st.st_size);
                if (ftruncate(j->fd, (off_t) valid) < 0 || fdatasync(j->fd) < 0)
                        return error_set(reterr, -errno, "journal '%s': cannot cut a torn record: %m",
                                         j->path);
        }
        *ret = g_steal_pointer(&j);
        return 0;
}

void journal_close(Journal *j) {
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        g_free(j->path);
        g_free(j->dir);
        g_free(j);
}

const char *journal_path(const Journal *j) {
        return j->path;
}

/* One record, written with a single write() and made durable before the
 * caller goes on to make the change it describes. */
static int journal_write(Journal *j, JournalRecord type, GVariant *payload) {
        g_autoptr(GVariant) v = g_variant_ref_sink(payload);
        gsize len = g_variant_get_size(v);
        g_autofree uint8_t *buf = g_malloc(sizeof(JournalHeader) + len);
        JournalHeader h = { JOURNAL_MAGIC, type, (uint32_t) len, 0 };

        g_variant_store(v, buf + sizeof(h));
        h.crc = journal_crc32(buf + sizeof(h), len);
        memcpy(buf, &h, sizeof(h));
        int r = write_all(j->fd, buf, sizeof(h) + len);
        if (r < 0)
                return r;
        if (fdatasync(j->fd) < 0)
                return -errno;
        return 0;
}

static GVariant *bytes_variant(const void *data, size_t len) {
        return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, len ? data : "", len, 1);
}

int journal_begin(Journal *j, JournalOp op, const char *guest_text, const char *guest_source) {
        return journal_write(j, RECORD_BEGIN,
                             g_variant_new("(uss)", (guint32) op, guest_text, guest_source ? guest_source : ""));
}

int journal_intent(Journal *j, uint32_t seq, const char *plugin, const BwChange *c) {
        return journal_write(j, RECORD_INTENT,
                             g_variant_new("(usssss@aysu)", seq, plugin, c->kind, c->object,
                                           c->detail ? c->detail : "", c->lock_path ? c->lock_path : "",
                                           bytes_variant(c->data, c->data_len),
                                           c->resource ? c->resource : "", c->flags));
}

int journal_done(Journal *j, uint32_t seq, const void *undo, size_t undo_len) {
        return journal_write(j, RECORD_DONE, g_variant_new("(u@ay)", seq, bytes_variant(undo, undo_len)));
}

int journal_undone(Journal *j, uint32_t seq) {
        return journal_write(j, RECORD_UNDONE, g_variant_new("(u)", seq));
}

int journal_commit(Journal *j) {
        return journal_write(j, RECORD_COMMIT, g_variant_new("()"));
}

int journal_abort(Journal *j) {
        return journal_write(j, RECORD_ABORT, g_variant_new("()"));
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
        if (s->entries)
                g_ptr_array_unref(s->entries);
        g_free(s);
}

static JournalEntry *journal_state_find(JournalState *s, uint32_t seq) {
        for (guint i = s->entries->len; i > 0; i--) {
                JournalEntry *e = s->entries->pdata[i - 1];
                if (e->seq == seq)
                        return e;
        }
        return NULL;
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
        };
        return type >= RECORD_BEGIN && type <= RECORD_ABORT ? types[type] : NULL;
}

static int journal_apply_record(JournalState *s, JournalRecord type, GVariant *v) {
        guint32 seq, op;
        JournalEntry *e;

        switch (type) {
        case RECORD_BEGIN:
                g_free(s->guest_text);
                g_free(s->guest_source);
                g_variant_get(v, "(uss)", &op, &s->guest_text, &s->guest_source);
                s->last_op = op;
                s->n_txn++;
                s->last_committed = s->last_aborted = false;
                return 0;
        case RECORD_INTENT: {
                g_autoptr(GVariant) data = NULL;
                e = g_new0(JournalEntry, 1);
                g_variant_get(v, "(usssss@aysu)", &e->seq, &e->plugin, &e->kind, &e->object, &e->detail,
                              &e->lock_path, &data, &e->resource, &e->flags);
                e->data = variant_bytes(data);
                e->txn = s->n_txn;
                if (!*e->lock_path)
                        g_clear_pointer(&e->lock_path, g_free);
                if (!*e->resource)
                        g_clear_pointer(&e->resource, g_free);
                g_ptr_array_add(s->entries, e);
                s->next_seq = MAX(s->next_seq, e->seq + 1);
                return s->n_txn > 0 ? 0 : -EBADMSG;
        }
        case RECORD_DONE: {
                g_autoptr(GVariant) undo = NULL;
                g_variant_get(v, "(u@ay)", &seq, &undo);
                e = journal_state_find(s, seq);
                if (!e)
                        return -EBADMSG;
                e->done = true;
                e->undo = variant_bytes(undo);
                return 0;
        }
        case RECORD_UNDONE:
                g_variant_get(v, "(u)", &seq);
                e = journal_state_find(s, seq);
                if (!e)
                        return -EBADMSG;
                e->undone = true;
                return 0;
        case RECORD_COMMIT:
                s->last_committed = true;
                return 0;
        case RECORD_ABORT:
                s->last_aborted = true;
                return 0;
        }
        return -EBADMSG;
}

int journal_read(const char *path, JournalState **ret, BwError *reterr) {
        g_autofree char *contents = NULL;
        gsize len = 0;
        g_autoptr(GError) gerr = NULL;

        if (!g_file_get_contents(path, &contents, &len, &gerr))
                return error_set(reterr, -EIO, "journal '%s': %s", path, gerr->message);

        g_autoptr(JournalState) s = g_new0(JournalState, 1);
        s->entries = g_ptr_array_new_with_free_func((GDestroyNotify) journal_entry_free);
        size_t off = 0;
        while (len - off >= sizeof(JournalHeader)) {
                JournalHeader h;
                memcpy(&h, contents + off, sizeof(h));
                const char *type = journal_record_type_string(h.type);
                if (h.magic != JOURNAL_MAGIC || !type || h.length > JOURNAL_RECORD_MAX)
                        return error_set(reterr, -EBADMSG, "journal '%s': corrupt record at offset %zu",
                                         path, off);
                if (h.length > len - off - sizeof(h))
                        break; /* torn tail */
                const void *payload = contents + off + sizeof(h);
                if (journal_crc32(payload, h.length) != h.crc)
                        break; /* torn tail: the last write did not complete */
                g_autoptr(GBytes) bytes = g_bytes_new(payload, h.length); /* aligned copy */
                g_autoptr(GVariant) v = g_variant_ref_sink(
                        g_variant_new_from_bytes(G_VARIANT_TYPE(type), bytes, FALSE));
                if (!g_variant_is_normal_form(v) || journal_apply_record(s, h.type, v) < 0)
                        return error_set(reterr, -EBADMSG, "journal '%s': inconsistent record at offset %zu",
                                         path, off);
                off += sizeof(h) + h.length;
        }
        s->valid_length = off;
        if (s->n_txn == 0)
                return error_set(reterr, -ENODATA, "journal '%s': no transaction recorded", path);
        *ret = g_steal_pointer(&s);
        return 0;
}
