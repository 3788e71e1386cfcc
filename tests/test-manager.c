/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager without root (fake-files and nop plugins): corrupt journals
 * are refused and kept, recover --force undoes what can be read, FIFOs are
 * refused without blocking, stop works from the journal's record of the
 * guest, a guest's lock makes other transactions wait or skip it, and a
 * start refuses cgroups outside the root or owned by another guest. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "journal-damage.h"
#include "manager-fixture.h"
#include "test-util.h"
#include "util/log.h"

typedef ManagerFixture Fixture;

static int setup(void **state) {
        *state = manager_fixture_new("mgr");
        return 0;
}

static int teardown(void **state) {
        manager_fixture_free(*state);
        return 0;
}

static GBytes *file_bytes(const char *path) {
        g_autofree char *data = NULL;
        gsize len = 0;
        if (!g_file_get_contents(path, &data, &len, NULL))
                return NULL;
        return g_bytes_new(data, len);
}

static bool marker_exists(Fixture *f, const char *name, int i) {
        g_autofree char *m = g_strdup_printf("%s/%s-d%d", f->markers, name, i);
        return access(m, F_OK) == 0;
}

/* Record 17 (the DONE of d4) of a committed 27-record journal is
 * flipped: recover and stop refuse, name file and offset, change nothing;
 * --force undoes every change (each INTENT is readable) and keeps a copy
 * of the damaged file. */
static void test_recover_refuses_mid_file_corruption(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 12, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");

        assert_int_equal(bw_manager_start(m, g, &err), 0);
        /* --force never tears down a guest whose journal is sound. */
        assert_int_equal(bw_manager_recover_guest(m, "vm", BW_RECOVER_FORCE, &err), 0);
        assert_int_equal(journal_record_count(path), 27); /* BEGIN GUEST 12xINTENT 12xDONE COMMIT */
        size_t off = journal_flip_record(path, 17);
        g_autoptr(GBytes) damaged = file_bytes(path);
        g_autofree char *where = g_strdup_printf("vm.journal': corrupt record at offset %zu", off);

        assert_int_equal(bw_manager_recover(m, &err), -EBADMSG);
        assert_non_null(strstr(err.message, where));
        assert_non_null(strstr(err.message, "recover --force vm"));
        assert_int_equal(bw_manager_stop(m, "vm", &err), -EBADMSG);
        assert_non_null(strstr(err.message, where));
        g_autoptr(GBytes) after = file_bytes(path);
        assert_true(g_bytes_equal(after, damaged));
        for (int i = 1; i <= 12; i++)
                assert_true(marker_exists(f, "vm", i));

        /* Reading resumes after record 17: every change is undone. */
        assert_int_equal(bw_manager_recover_guest(m, "vm", BW_RECOVER_FORCE, &err), 1);
        for (int i = 1; i <= 12; i++)
                if (marker_exists(f, "vm", i))
                        fail_msg("after --force, marker d%d is still there", i);
        assert_int_equal(access(path, F_OK), -1);
        g_autofree char *gdir = g_build_filename(f->state, "guests", NULL);
        g_autoptr(GDir) d = g_dir_open(gdir, 0, NULL);
        int copies = 0;
        for (const char *e; (e = g_dir_read_name(d));) {
                if (!g_str_has_prefix(e, "vm.journal.corrupt-"))
                        continue;
                g_autofree char *cp = g_build_filename(gdir, e, NULL);
                g_autoptr(GBytes) kept = file_bytes(cp);
                assert_true(g_bytes_equal(kept, damaged));
                copies++;
        }
        assert_int_equal(copies, 1);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A length in the middle that runs past the end of the file, with whole
 * records after it, is corruption too, not a torn tail. */
static void test_recover_refuses_bad_length_mid_file(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 4, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");

        assert_int_equal(bw_manager_start(m, g, &err), 0);
        size_t off = journal_record_offset(path, 5);
        uint32_t huge = 0x00ffffffu;
        int fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, &huge, 4, (off_t) off + 8), 4);
        close(fd);
        g_autoptr(GBytes) damaged = file_bytes(path);

        assert_int_equal(bw_manager_recover(m, &err), -EBADMSG);
        g_autofree char *where = g_strdup_printf("corrupt record at offset %zu", off);
        assert_non_null(strstr(err.message, where));
        g_autoptr(GBytes) after = file_bytes(path);
        assert_true(g_bytes_equal(after, damaged));
        for (int i = 1; i <= 4; i++)
                assert_true(marker_exists(f, "vm", i));
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A wrong CRC on the very last record is a torn write: cut, and the start
 * whose COMMIT never became whole is rolled back. */
static void test_recover_cuts_torn_last_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 3, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");

        assert_int_equal(bw_manager_start(m, g, &err), 0);
        journal_flip_record(path, journal_record_count(path) - 1);
        assert_int_equal(bw_manager_recover(m, &err), 1);
        for (int i = 1; i <= 3; i++)
                assert_false(marker_exists(f, "vm", i));
        assert_int_equal(access(path, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A FIFO where a journal belongs is refused at once, naming the path. */
static void test_journal_fifo_refused(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwError err = {};
        g_autofree char *gdir = g_build_filename(f->state, "guests", NULL);
        g_autofree char *path = manager_fixture_journal(f, "pipe");
        g_mkdir_with_parents(gdir, 0700);
        assert_int_equal(mkfifo(path, 0600), 0);

        alarm(10); /* a blocking open would hang here */
        assert_int_equal(bw_manager_recover(m, &err), -EINVAL);
        assert_non_null(strstr(err.message, "pipe.journal': not a regular file"));
        assert_int_equal(bw_manager_stop(m, "pipe", &err), -EINVAL);
        assert_non_null(strstr(err.message, "pipe.journal': not a regular file"));
        assert_int_equal(bw_manager_recover_guest(m, "pipe", BW_RECOVER_FORCE, &err), -EINVAL);
        alarm(0);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISFIFO(st.st_mode));
        bw_manager_free(m);
}

/* An empty journal is dropped, unless the guest's cgroup exists. */
static void test_recover_empty_journal(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwError err = {};
        g_autofree char *gdir = g_build_filename(f->state, "guests", NULL);
        g_mkdir_with_parents(gdir, 0700);
        g_autofree char *path = test_write_file(gdir, "ghost.journal", "", 0);
        g_autofree char *cg = g_build_filename(f->cgroot, "bulwark", "ghost", NULL);
        g_mkdir_with_parents(cg, 0700);

        assert_int_equal(bw_manager_recover(m, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "guest 'ghost'"));
        assert_non_null(strstr(err.message, cg));
        assert_int_equal(access(path, F_OK), 0);
        assert_int_equal(rmdir(cg), 0);
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_int_equal(access(path, F_OK), -1);
        bw_manager_free(m);
}

/* Stop works from the journal's record: a deleted image, and a manager
 * with another cgroup root, change nothing about what it stops. */
static void test_stop_uses_the_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 3, NULL);
        BwError err = {};
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        g_autofree char *img = g_strdup_printf("%s/vm-d2.img", f->dir);
        assert_int_equal(unlink(img), 0);
        bw_manager_free(m);

        g_autofree char *other = g_build_filename(f->dir, "other-root", NULL);
        mkdir(other, 0700);
        g_autofree char *conf = g_strdup_printf("[plugin:fake-files]\ndir=%s\n", f->markers);
        g_autofree char *conf_path = test_write_file(f->dir, "other.conf", conf, -1);
        BwOptions o = { .config_path = conf_path, .plugin_dir = f->plugin_dir, .plugins = "fake-files",
                        .state_dir = f->state, .cgroup_root = other };
        assert_int_equal(bw_manager_new(&o, &m, &err), 0);
        BwGuestState *gs = NULL;
        assert_int_equal(bw_manager_get_guest(m, "vm", &gs, &err), 0);
        g_autofree char *cg = g_build_filename(f->cgroot, "bulwark", "vm", NULL);
        assert_string_equal(bw_guest_state_cgroup(gs), cg);
        assert_int_equal(bw_guest_state_status(gs), BW_GUEST_RUNNING);
        assert_string_equal(bw_guest_state_info(gs)->resources[1]->path, img);
        bw_guest_state_free(gs);

        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        for (int i = 1; i <= 3; i++)
                assert_false(marker_exists(f, "vm", i));
        bw_guest_free(g);
        bw_manager_free(m);
}

static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

/* A qcow2 v3 image whose backing file is `backing`, a raw image. */
static char *qcow2_write(const char *dir, const char *name, const char *backing) {
        uint8_t buf[4096] = { 0 };
        size_t off = 112, n = strlen(backing);
        put_be32(buf, 0x514649fb);
        put_be32(buf + 4, 3);
        put_be32(buf + 20, 16);
        put_be32(buf + 28, 1 << 20);       /* size, low half */
        put_be32(buf + 96, 4);
        put_be32(buf + 100, 112);
        put_be32(buf + off, 0xe2792aca);   /* backing format extension: "raw" */
        put_be32(buf + off + 4, 3);
        memcpy(buf + off + 8, "raw", 3);
        off += 8 + 8 + 8;                  /* extension, then the end marker */
        put_be32(buf + 12, (uint32_t) off); /* backing_file_offset, low half */
        put_be32(buf + 16, (uint32_t) n);
        memcpy(buf + off, backing, n);
        return test_write_file(dir, name, buf, sizeof(buf));
}

/* The record keeps the whole backing chain with its roles, so a stop
 * needs neither the image nor its backing file any more. */
static void test_record_keeps_backing_chain(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwError err = {};
        g_autofree char *base = test_write_file(f->dir, "base.raw", "raw bytes", -1);
        g_autofree char *top = qcow2_write(f->dir, "top.qcow2", base);
        g_autofree char *text = g_strdup_printf("[guest]\nname=chain\nuser=107\ngroup=108\n[disk:chain-d1]\npath=%s\nformat=qcow2\n", top);
        BwGuest *g = NULL;
        if (bw_guest_load_data(text, strlen(text), "chain", &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        assert_int_equal(unlink(top), 0);
        assert_int_equal(unlink(base), 0);

        BwGuestState *gs = NULL;
        assert_int_equal(bw_manager_get_guest(m, "chain", &gs, &err), 0);
        const BwGuestInfo *info = bw_guest_state_info(gs);
        assert_string_equal(info->uuid, bw_guest_info(g)->uuid);
        assert_int_equal(info->uid, 107);
        assert_int_equal(info->gid, 108);
        assert_int_equal(info->n_resources, 1);
        assert_int_equal(info->resources[0]->n_paths, 2);
        assert_string_equal(info->resources[0]->paths[0], top);
        assert_int_equal(info->resources[0]->roles[0], BW_PATH_IMAGE);
        assert_string_equal(info->resources[0]->paths[1], base);
        assert_int_equal(info->resources[0]->roles[1], BW_PATH_BACKING);
        bw_guest_state_free(gs);

        assert_int_equal(bw_manager_stop(m, "chain", &err), 0);
        assert_false(marker_exists(f, "chain", 1));
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A held guest lock: stop waits the lock timeout and fails naming the
 * guest; recover skips the guest; recover of that guest says busy. */
static void test_guest_lock_excludes(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 2, NULL);
        BwError err = {};
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        g_autofree char *lock = g_build_filename(f->state, "guests", ".vm.lock", NULL);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);

        assert_int_equal(bw_manager_stop(m, "vm", &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, "guest 'vm'"));
        assert_int_equal(bw_manager_start(m, g, &err), -ETIMEDOUT);
        assert_int_equal(bw_manager_recover_guest(m, "vm", 0, &err), -EBUSY);
        assert_int_equal(bw_manager_recover(m, &err), 0);
        assert_true(marker_exists(f, "vm", 1) && marker_exists(f, "vm", 2));

        close(fd);
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_int_equal(access(lock, F_OK), -1); /* the holder removes it with the journal */
        bw_guest_free(g);
        bw_manager_free(m);
}

/* Names are checked with the guest name rule; recover looks only at
 * journals whose name is a valid guest name. */
static void test_guest_names(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwError err = {};
        const char *bad[] = { "", "..", "a/b", "a b", "x\n" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                assert_int_equal(bw_manager_stop(m, bad[i], &err), -EINVAL);
                assert_int_equal(bw_manager_recover_guest(m, bad[i], 0, &err), -EINVAL);
        }
        g_autofree char *gdir = g_build_filename(f->state, "guests", NULL);
        g_mkdir_with_parents(gdir, 0700);
        g_autofree char *odd = test_write_file(gdir, "not a guest.journal", "junk", -1);
        assert_int_equal(bw_manager_recover(m, &err), 0);
        assert_int_equal(access(odd, F_OK), 0);
        bw_manager_free(m);
}

/* cgroup= must be inside the root by components, not the root, without
 * "..", and not another running guest's (or nested with it). */
static void test_start_refuses_foreign_cgroups(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "nop", NULL);
        BwError err = {};
        g_autofree char *own = g_strdup_printf("cgroup=%s/pool/a\n", f->cgroot);
        BwGuest *a = manager_fixture_guest(f, "first", 1, own);
        assert_int_equal(bw_manager_start(m, a, &err), 0);

        struct { const char *cgroup; int code; const char *says; } cases[] = {
                { "/pool/a", -EBUSY, "belongs to running guest 'first'" },
                { "/pool/a/inner", -EBUSY, "nested with cgroup" },
                { "/pool", -EBUSY, "nested with cgroup" },
                { "", -EPERM, "is the cgroup root itself" },
                { "/", -EPERM, "is the cgroup root itself" },
                { "-x/b", -EPERM, "is outside the cgroup root" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *cg = g_strconcat(f->cgroot, cases[i].cgroup, NULL);
                g_autofree char *line = g_strdup_printf("cgroup=%s\n", cg);
                BwGuest *b = manager_fixture_guest(f, "second", 1, line);
                int r = bw_manager_start(m, b, &err);
                if (r != cases[i].code || !strstr(err.message, cases[i].says) || !strstr(err.message, "'second'"))
                        fail_msg("cgroup '%s': %d '%s'", cg, r, err.message);
                bw_guest_free(b);
        }
        assert_int_equal(bw_manager_stop(m, "first", &err), 0);
        g_autofree char *line = g_strdup_printf("cgroup=%s/pool/a\n", f->cgroot);
        BwGuest *b = manager_fixture_guest(f, "second", 1, line);
        assert_int_equal(bw_manager_start(m, b, &err), 0);
        assert_int_equal(bw_manager_stop(m, "second", &err), 0);
        bw_guest_free(b);
        bw_guest_free(a);
        bw_manager_free(m);

        /* The guest definition refuses ".." itself; a root given with one
         * is refused by the start. */
        g_autofree char *dotted = g_strdup_printf("%s/../cg", f->cgroot);
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = f->plugin_dir, .plugins = "nop",
                        .state_dir = f->state, .cgroup_root = dotted };
        assert_int_equal(bw_manager_new(&o, &m, &err), 0);
        a = manager_fixture_guest(f, "third", 1, NULL);
        assert_int_equal(bw_manager_start(m, a, &err), -EINVAL);
        assert_non_null(strstr(err.message, "guest 'third'"));
        assert_non_null(strstr(err.message, "'..'"));
        bw_guest_free(a);
        bw_manager_free(m);
}

/* Runs recover --force of `name` with its log (notice and up, on stderr)
 * in `*ret_log`. */
static int force_logged(BwManager *m, Fixture *f, const char *name, BwError *err, char **ret_log) {
        g_autofree char *log = g_build_filename(f->dir, "force.log", NULL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int saved = dup(STDERR_FILENO);
        assert_true(fd >= 0 && saved >= 0);
        int level = log_get_max_level();
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        log_set_max_level(BW_LOG_NOTICE);
        int r = bw_manager_recover_guest(m, name, BW_RECOVER_FORCE, err);
        log_set_max_level(level);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
        assert_true(g_file_get_contents(log, ret_log, NULL, NULL));
        return r;
}

/* What rule 3 of recover --force keeps for a flipped record of the
 * 27-record journal (BEGIN GUEST 12xINTENT 12xDONE COMMIT, the INTENTs of
 * a start are one batch): a lost INTENT leaves its DONE an orphan still
 * applied; a lost DONE is followed by the next DONE of the committed
 * start, except the last one, followed by COMMIT, which nothing proves
 * held no change. */
static bool force_keeps_journal(unsigned index) {
        return (index >= 2 && index <= 13) || index == 25;
}

/* One flipped record: every change whose INTENT survived is undone, the
 * damaged span is named, the journal is removed or kept per rule 3. */
static void force_one_record(Fixture *f, BwManager *m, unsigned index) {
        g_autofree char *name = g_strdup_printf("f%u", index);
        g_autofree char *path = manager_fixture_journal(f, name);
        g_autofree char *log = NULL;
        BwGuest *g = manager_fixture_guest(f, name, 12, NULL);
        BwError err = {};
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        g_autoptr(GBytes) clean = file_bytes(path);
        assert_int_equal(journal_record_count(path), 27);
        size_t off = journal_flip_record(path, index);
        size_t end = index + 1 < 27 ? journal_record_offset(path, index + 1) : g_bytes_get_size(clean);
        unsigned lost = index >= 2 && index <= 13 ? index - 1 : 0;

        int r = force_logged(m, f, name, &err, &log);
        bool kept = access(path, F_OK) == 0;
        if (r != (force_keeps_journal(index) ? -EBADMSG : 1) || kept != force_keeps_journal(index))
                fail_msg("record %u: --force returned %d, journal %s: %s", index, r, kept ? "kept" : "removed",
                         r < 0 ? err.message : log);
        for (unsigned i = 1; i <= 12; i++)
                if (marker_exists(f, name, (int) i) != (i == lost))
                        fail_msg("record %u: marker d%u %s", index, i, i == lost ? "was removed" : "is still there");
        g_autofree char *span = g_strdup_printf("damaged: offset %zu (%zu bytes)", off, end - off);
        const char *said = r < 0 ? err.message : log;
        if (index < 26 && !strstr(said, span))
                fail_msg("record %u: '%s' not in '%s'", index, span, said);
        if (kept && !strstr(said, "may still be on the host"))
                fail_msg("record %u: kept without saying what may be left: %s", index, said);
        g_autofree char *orphan = g_strdup_printf("change seq %u applied (DONE read), whose INTENT records are lost",
                                                  lost - 1);
        if (lost && !strstr(said, orphan))
                fail_msg("record %u: '%s' not in '%s'", index, orphan, said);
        bw_guest_free(g);
}

/* Every record of a 27-record journal flipped in turn (the last one is a
 * torn tail, which plain recover already cuts). */
static void test_recover_force_each_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        for (unsigned index = 0; index < 27; index++)
                force_one_record(f, m, index);
        bw_manager_free(m);
}

/* A flipped GUEST record: the definition in BEGIN is parsed again, the log
 * says so, and every change is undone on the guest's default cgroup. */
static void test_recover_force_lost_guest_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 3, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");
        g_autofree char *log = NULL;
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        journal_flip_record(path, 1);

        assert_int_equal(force_logged(m, f, "vm", &err, &log), 1);
        assert_non_null(strstr(log, "parsed again without host lookups"));
        g_autofree char *root = g_strdup_printf("configured root '%s'", f->cgroot);
        assert_non_null(strstr(log, root));
        for (int i = 1; i <= 3; i++)
                assert_false(marker_exists(f, "vm", i));
        assert_int_equal(access(path, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A lost GUEST record of a stop after a committed start: the start's
 * record is used. */
static void test_recover_force_committed_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", "fail-undo=vm-d2\n");
        BwGuest *g = manager_fixture_guest(f, "vm", 3, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");
        g_autofree char *log = NULL;
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        /* The stop fails on d2: BEGIN GUEST UNDONE(d3) UNDONE(d1) follow. */
        assert_int_equal(bw_manager_stop(m, "vm", &err), -EIO);
        assert_int_equal(journal_record_count(path), 9 + 4);
        journal_flip_record(path, 10);
        bw_manager_free(m);
        m = manager_fixture_manager(f, "fake-files", NULL);

        assert_int_equal(force_logged(m, f, "vm", &err, &log), 1);
        assert_non_null(strstr(log, "the record of the last committed transaction was used"));
        for (int i = 1; i <= 3; i++)
                assert_false(marker_exists(f, "vm", i));
        assert_int_equal(access(path, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* A change whose undo fails is named with its plugin's message, next to
 * the damaged span; the journal stays, and a second --force after the
 * cause is gone finishes from the UNDONE records the first one wrote. */
static void test_recover_force_names_what_failed(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", "fail-undo=vm-d2\n");
        BwGuest *g = manager_fixture_guest(f, "vm", 4, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");
        g_autofree char *log = NULL;
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        size_t off = journal_flip_record(path, 7); /* BEGIN GUEST 4xINTENT, then the DONE of d2 */

        assert_int_equal(force_logged(m, f, "vm", &err, &log), -EIO);
        g_autofree char *obj = g_strdup_printf("could not undo: touch '%s/vm-d2' (plugin 'fake-files'): ", f->markers);
        g_autofree char *span = g_strdup_printf("damaged: offset %zu (", off);
        assert_non_null(strstr(err.message, obj));
        assert_non_null(strstr(err.message, span));
        if (!strstr(log, obj)) fail_msg("log: %s", log);
        assert_int_equal(access(path, F_OK), 0);
        for (int i = 1; i <= 4; i++)
                assert_true(marker_exists(f, "vm", i) == (i == 2));
        bw_manager_free(m);

        m = manager_fixture_manager(f, "fake-files", NULL);
        g_clear_pointer(&log, g_free);
        assert_int_equal(force_logged(m, f, "vm", &err, &log), 1);
        assert_false(marker_exists(f, "vm", 2));
        assert_int_equal(access(path, F_OK), -1);
        bw_guest_free(g);
        bw_manager_free(m);
}

/* Two damaged records, the INTENT of d4 and the DONE of d2: reading
 * resumes after each and both spans are named; every change whose INTENT
 * survived is undone, and the journal stays (d4 may still be applied). */
static void test_recover_force_two_spans(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_fixture_manager(f, "fake-files", NULL);
        BwGuest *g = manager_fixture_guest(f, "vm", 12, NULL);
        BwError err = {};
        g_autofree char *path = manager_fixture_journal(f, "vm");
        g_autofree char *log = NULL;
        assert_int_equal(bw_manager_start(m, g, &err), 0);
        size_t a = journal_flip_record(path, 5), b = journal_flip_record(path, 15);
        g_autofree char *spans = g_strdup_printf("damaged: offset %zu (%zu bytes), offset %zu (%zu bytes);", a,
                                                 journal_record_offset(path, 6) - a, b, journal_record_offset(path, 16) - b);

        assert_int_equal(force_logged(m, f, "vm", &err, &log), -EBADMSG);
        if (!strstr(err.message, spans))
                fail_msg("'%s' not in '%s'", spans, err.message);
        for (int i = 1; i <= 12; i++)
                assert_true(marker_exists(f, "vm", i) == (i == 4));
        assert_int_equal(access(path, F_OK), 0);
        bw_guest_free(g);
        bw_manager_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_recover_refuses_mid_file_corruption, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_refuses_bad_length_mid_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_cuts_torn_last_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_journal_fifo_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_empty_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_uses_the_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_record_keeps_backing_chain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_guest_lock_excludes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_guest_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_refuses_foreign_cgroups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_force_each_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_force_lost_guest_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_force_committed_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_force_names_what_failed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_force_two_spans, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
