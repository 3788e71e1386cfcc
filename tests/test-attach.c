/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and detach on a running guest, without root (nop and fake-files,
 * whose marker file <markers>/<resource id> exists while the resource is
 * attached): each resource type comes and goes, failures and crashes at
 * each step leave the guest as it was, a stop afterwards undoes
 * everything, and what must be refused is. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <bulwark/bulwark.h>

#include "guest-lock.h"
#include "guest-parse.h"
#include "journal.h"
#include "manager.h"
#include "manager-fixture.h"
#include "test-util.h"

typedef struct Fixture {
        ManagerFixture *mf;
        char *sysfs;               /* a sysfs of the test's own, for vfio-pci */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        f->mf = manager_fixture_new("attach");
        f->sysfs = g_build_filename(f->mf->dir, "sys", NULL);
        /* One PCI device in IOMMU group 12. */
        g_autofree char *dev = g_build_filename(f->sysfs, "bus/pci/devices/0000:01:00.0", NULL);
        g_autofree char *link = g_build_filename(dev, "iommu_group", NULL);
        assert_int_equal(g_mkdir_with_parents(dev, 0755), 0);
        assert_int_equal(symlink("../../../../kernel/iommu_groups/12", link), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        manager_fixture_free(f->mf);
        g_free(f->sysfs);
        free(f);
        return 0;
}

static BwManager *manager_with(Fixture *f, const char *extra) {
        return manager_fixture_manager(f->mf, "nop,fake-files", extra);
}

/* Starts guest "vm" with one raw disk "d1". */
static void start_vm(Fixture *f, BwManager *m) {
        g_autofree char *img = test_write_file(f->mf->dir, "d1.img", "raw image", -1);
        g_autofree char *text = g_strdup_printf("[guest]\nname=vm\nuser=0\ngroup=0\n[disk:d1]\npath=%s\n", img);
        g_autoptr(BwGuest) g = NULL;
        BwError err = {};
        if (bw_guest_load_data(text, strlen(text), "vm.guest", &g, &err) < 0)
                fail_msg("guest: %s", err.message);
        if (bw_manager_start(m, g, &err) < 0)
                fail_msg("start: %s", err.message);
}

static bool marker(Fixture *f, const char *id) {
        g_autofree char *p = g_build_filename(f->mf->markers, id, NULL);
        return access(p, F_OK) == 0;
}

static char *journal_of(Fixture *f) {
        return manager_fixture_journal(f->mf, "vm");
}

static JournalState *read_journal(Fixture *f) {
        g_autofree char *path = journal_of(f);
        JournalState *s = NULL;
        BwError err = {};
        if (journal_read(path, &s, &err) < 0)
                fail_msg("journal: %s", err.message);
        return s;
}

/* Whether the running guest has `ref`, as bw_manager_get_guest() says
 * (the journal's effective record); it must be running. */
static bool guest_has(BwManager *m, const char *ref) {
        BwGuestState *gs = NULL;
        BwError err = {};
        if (bw_manager_get_guest(m, "vm", &gs, &err) < 0)
                fail_msg("get_guest: %s", err.message);
        assert_int_equal(bw_guest_state_status(gs), BW_GUEST_RUNNING);
        const BwGuestInfo *info = bw_guest_state_info(gs);
        assert_non_null(info);
        bool found = false;
        for (size_t i = 0; i < info->n_resources; i++) {
                g_autofree char *r = guest_resource_ref(info->resources[i]);
                found = found || strcmp(r, ref) == 0;
        }
        bw_guest_state_free(gs);
        return found;
}

/* The changes the latest transaction journaled all name `ref` (plugins
 * name a single group "kernel:kernel"); their count. */
static unsigned latest_changes_of(Fixture *f, const char *ref) {
        g_autoptr(JournalState) s = read_journal(f);
        g_autofree char *typed = strchr(ref, ':') ? g_strdup(ref) : g_strdup_printf("%s:%s", ref, ref);
        unsigned n = 0;
        for (guint i = 0; i < s->entries->len; i++) {
                const JournalEntry *e = s->entries->pdata[i];
                if (e->txn != s->n_txn)
                        continue;
                if (!e->resource || strcmp(e->resource, typed) != 0)
                        fail_msg("change %s '%s' of the transaction on [%s] names [%s]", e->kind, e->object, ref,
                                 e->resource ? e->resource : "(guest)");
                n++;
        }
        return n;
}

/* A qcow2 v3 header naming `backing` (NULL: none). */
static char *qcow2_write(Fixture *f, const char *name, const char *backing) {
        uint8_t buf[512] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
        buf[23] = 16;   /* cluster_bits */
        buf[99] = 4;    /* refcount_order */
        buf[103] = 104; /* header_length */
        if (backing) {
                buf[15] = 112; /* backing_file_offset: after the end-of-extensions marker */
                buf[19] = (uint8_t) strlen(backing);
                memcpy(buf + 112, backing, strlen(backing));
        }
        return test_write_file(f->mf->dir, name, buf, sizeof(buf));
}

typedef struct Case {
        const char *ref;           /* what detach names */
        const char *id;            /* the marker fake-files makes */
        char *text;
} Case;

static void cases_make(Fixture *f, Case *c, size_t *n) {
        g_autofree char *base = qcow2_write(f, "base.qcow2", NULL);
        g_autofree char *top = qcow2_write(f, "top.qcow2", base);
        g_autofree char *k = test_write_file(f->mf->dir, "vmlinuz", "kernel", -1);
        g_autofree char *i = test_write_file(f->mf->dir, "initrd", "initrd", -1);
        g_autofree char *nv = test_write_file(f->mf->dir, "nvram", "vars", -1);
        g_autofree char *mem = test_write_file(f->mf->dir, "mem", "", -1);
        g_autofree char *tpm = g_build_filename(f->mf->dir, "tpm", NULL);
        mkdir(tpm, 0700);
        size_t j = 0;
        c[j++] = (Case) { "disk:data", "data", g_strdup_printf("[disk:data]\npath=%s\nformat=qcow2\n", top) };
        c[j++] = (Case) { "device:null", "null", g_strdup("[device:null]\npath=/dev/null\naccess=rw\n") };
        c[j++] = (Case) { "chardev:serial0", "serial0",
                          g_strdup_printf("[chardev:serial0]\ntype=file\npath=%s/serial.log\n", f->mf->dir) };
        c[j++] = (Case) { "kernel", "kernel", g_strdup_printf("[kernel]\nkernel=%s\ninitrd=%s\n", k, i) };
        c[j++] = (Case) { "firmware", "firmware", g_strdup_printf("[firmware]\nloader=%s\nnvram=%s\n", k, nv) };
        c[j++] = (Case) { "tpm", "tpm", g_strdup_printf("[tpm]\nstate=%s\n", tpm) };
        c[j++] = (Case) { "memory", "memory", g_strdup_printf("[memory]\nbacking=%s\n", mem) };
        c[j++] = (Case) { "hostdev:gpu", "gpu", g_strdup("[hostdev:gpu]\ntype=vfio-pci\naddress=0000:01:00.0\n") };
        c[j++] = (Case) { "hostdev:kbd", "kbd", g_strdup("[hostdev:kbd]\ntype=usb\nbus=1\ndevice=4\n") };
        c[j++] = (Case) { "hostdev:sg", "sg", g_strdup("[hostdev:sg]\ntype=scsi-generic\npath=/dev/sg1\n") };
        *n = j;
}

static int attach(Fixture *f, BwManager *m, const char *text, BwError *err) {
        GuestParseOptions o = { .sysfs_root = f->sysfs };
        return manager_attach_with_options(m, "vm", text, &o, err);
}

/* Every type: attach plans only the new resource's changes and the guest
 * gains it; detach takes it away for good (a file put back in its marker's
 * place afterwards survives the stop); stop undoes the rest. */
static void test_attach_detach_each_type(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, NULL);
        Case c[16];
        size_t n;
        BwError err = {};

        cases_make(f, c, &n);
        start_vm(f, m);
        for (size_t i = 0; i < n; i++) {
                if (attach(f, m, c[i].text, &err) < 0)
                        fail_msg("attach [%s]: %s", c[i].ref, err.message);
                assert_int_equal(latest_changes_of(f, c[i].ref), 2); /* nop and fake-files */
                assert_true(marker(f, c[i].id));
                assert_true(guest_has(m, c[i].ref));
        }
        /* The qcow2 chain is in the record: top and its backing file. */
        {
                g_autoptr(JournalState) s = read_journal(f);
                g_autofree char *base = g_build_filename(f->mf->dir, "base.qcow2", NULL);
                g_autoptr(GVariant) res = g_variant_lookup_value(s->guest_record, "resources", NULL);
                g_autofree char *printed = g_variant_print(res, FALSE);
                assert_non_null(strstr(printed, base));
        }
        for (size_t i = 0; i < n; i += 2) {
                if (bw_manager_detach(m, "vm", c[i].ref, &err) < 0)
                        fail_msg("detach [%s]: %s", c[i].ref, err.message);
                assert_int_equal(latest_changes_of(f, c[i].ref), 2);
                assert_false(marker(f, c[i].id));
                assert_false(guest_has(m, c[i].ref));
                assert_true(guest_has(m, "disk:d1"));
                /* Someone else's file where the marker was: not ours to undo. */
                g_free(test_write_file(f->mf->markers, c[i].id, "theirs", -1));
        }
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_false(marker(f, "d1"));
        for (size_t i = 0; i < n; i++) {
                if (marker(f, c[i].id) != (i % 2 == 0))
                        fail_msg("after stop, [%s]: marker %s", c[i].ref, i % 2 ? "left" : "undone twice");
                g_free(c[i].text);
        }
        g_autofree char *j = journal_of(f);
        assert_int_equal(access(j, F_OK), -1);
        bw_manager_free(m);
}

/* What must be refused is, naming guest and resource, changing nothing. */
static void test_attach_refusals(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, NULL);
        BwError err = {};

        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), -ENOENT);
        assert_non_null(strstr(err.message, "guest 'vm': attach [device:null]: not running"));
        assert_int_equal(bw_manager_detach(m, "vm", "disk:d1", &err), -ENOENT);
        start_vm(f, m);
        g_autofree char *j = journal_of(f);
        g_autofree char *before = NULL;
        assert_true(g_file_get_contents(j, &before, NULL, NULL));

        assert_int_equal(bw_manager_attach(m, "vm", "[disk:d1]\npath=/dev/null\n", &err), -EEXIST);
        assert_non_null(strstr(err.message, "guest 'vm': attach [disk:d1]: "));
        assert_int_equal(bw_manager_attach(m, "vm", "[device:a]\npath=/dev/null\n[device:b]\npath=/dev/zero\n",
                                           &err), -EINVAL);
        assert_non_null(strstr(err.message, "a second group"));
        assert_int_equal(bw_manager_attach(m, "vm", "[guest]\nname=x\n", &err), -EINVAL);
        assert_non_null(strstr(err.message, "[guest]"));
        g_autofree char *missing = g_strdup_printf("[disk:gone]\npath=%s/nothing.img\nformat=qcow2\n", f->mf->dir);
        assert_int_equal(bw_manager_attach(m, "vm", missing, &err), -ENODEV);
        assert_non_null(strstr(err.message, "guest 'vm': attach [disk:gone]: "));
        assert_int_equal(bw_manager_detach(m, "vm", "disk:nope", &err), -ENOENT);
        assert_non_null(strstr(err.message, "guest 'vm': detach [disk:nope]: "));
        assert_int_equal(bw_manager_detach(m, "vm", "guest", &err), -EINVAL);

        g_autofree char *after = NULL;
        assert_true(g_file_get_contents(j, &after, NULL, NULL));
        assert_string_equal(before, after);
        assert_false(marker(f, "gone"));
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        bw_manager_free(m);
}

/* fake-files fails its Nth apply: an attach failing at its fake-files
 * change (after nop's was made) or a detach failing at its first change
 * leaves the guest exactly as it was, record included. */
static void test_attach_failure_leaves_guest(void **state) {
        Fixture *f = *state;
        /* applies: 1 start, 2 attach (fails), 3 attach again, 4 detach (fails) */
        BwManager *m = manager_with(f, "fail-at=2\n");
        BwError err = {};
        const char *text = "[device:null]\npath=/dev/null\naccess=rw\n";

        start_vm(f, m);
        assert_int_equal(bw_manager_attach(m, "vm", text, &err), -EIO);
        assert_non_null(strstr(err.message, "guest 'vm': attach [device:null]: "));
        assert_false(marker(f, "null"));
        assert_false(guest_has(m, "device:null"));
        {
                g_autoptr(JournalState) s = read_journal(f);
                assert_int_equal(s->last_op, JOURNAL_OP_START);
                assert_true(s->last_committed);
                for (guint i = 0; i < s->entries->len; i++) {
                        const JournalEntry *e = s->entries->pdata[i];
                        assert_true(e->txn == 1 ? !e->undone : e->undone);
                }
        }
        /* Not half there: the same id attaches now. */
        assert_int_equal(attach(f, m, text, &err), 0);
        assert_true(marker(f, "null"));

        bw_manager_free(m);
        m = manager_with(f, "fail-at=1\n"); /* the detach's first change (fake-files: reverse order) */
        assert_int_equal(bw_manager_detach(m, "vm", "device:null", &err), -EIO);
        assert_true(marker(f, "null"));
        assert_true(guest_has(m, "device:null"));
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_false(marker(f, "null"));
        assert_false(marker(f, "d1"));
        bw_manager_free(m);
}

/* The failed change's undo fails too: the attach stays journaled as
 * unfinished, later attaches are refused until recover finishes it. */
static void test_attach_failed_rollback_left_for_recover(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, "fail-at=2\nfail-undo=null\n");
        BwError err = {};

        start_vm(f, m);
        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), -EIO);
        assert_non_null(strstr(err.message, "not every change was undone"));
        assert_int_equal(bw_manager_attach(m, "vm", "[device:x]\npath=/dev/null\n", &err), -EBUSY);
        bw_manager_free(m);
        m = manager_with(f, NULL);
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_false(guest_has(m, "device:null"));
        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), 0);
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_int_equal(test_count_entries(f->mf->markers), 0);
        bw_manager_free(m);
}

/* A path lock held elsewhere: the lock step times out, nothing changed. */
static void test_attach_lock_step_fails(void **state) {
        Fixture *f = *state;
        g_autofree char *lock = test_write_file(f->mf->dir, "lockfile", "", -1);
        g_autofree char *extra = g_strdup_printf("lock=%s\n", lock);
        BwManager *m = manager_with(f, extra);
        BwError err = {};

        start_vm(f, m);
        int fd = open(lock, O_RDWR | O_CLOEXEC);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
        assert_true(fd >= 0);
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
        int r = bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err);
        close(fd);
        assert_true(r < 0);
        assert_false(marker(f, "null"));
        assert_false(guest_has(m, "device:null"));
        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), 0);
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_false(marker(f, "null"));
        bw_manager_free(m);
}

/* A child attaches or detaches and is SIGKILLed by fake-files right after
 * its change; recover undoes that transaction only. */
static void crash_child(Fixture *f, bool detach) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                BwManager *m = manager_with(f, "crash-at=1\n");
                BwError err = {};
                if (detach)
                        bw_manager_detach(m, "vm", "device:null", &err);
                else
                        bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err);
                _exit(3); /* not killed: the test fails below */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_attach_detach_crash_then_recover(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, NULL);
        BwError err = {};

        start_vm(f, m);
        crash_child(f, false);
        assert_true(marker(f, "null"));
        assert_int_equal(bw_manager_attach(m, "vm", "[device:x]\npath=/dev/null\n", &err), -EBUSY);
        assert_non_null(strstr(err.message, "recover"));
        assert_int_equal(bw_manager_recover_guest(m, "vm", 0, &err), 1);
        assert_false(marker(f, "null"));
        assert_false(guest_has(m, "device:null"));
        assert_true(guest_has(m, "disk:d1"));

        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), 0);
        crash_child(f, true);
        assert_false(marker(f, "null"));
        assert_int_equal(bw_manager_recover(m, &err), 1);
        assert_true(marker(f, "null"));
        assert_true(guest_has(m, "device:null"));
        assert_int_equal(bw_manager_recover(m, &err), 0);

        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_false(marker(f, "null"));
        assert_false(marker(f, "d1"));
        bw_manager_free(m);
}

/* Offsets where each record of a journal ends. */
static GArray *record_ends(const char *data, size_t len) {
        GArray *ends = g_array_new(FALSE, FALSE, sizeof(size_t));
        size_t off = 0;
        while (off + 16 <= len) {
                uint32_t n;
                memcpy(&n, data + off + 8, 4);
                off += 16 + n;
                g_array_append_val(ends, off);
        }
        return ends;
}

/* A crash right after each record of an attach and of a detach (the
 * journal cut there, the marker as the last record says): recover leaves
 * the guest running with what it had before, and a stop then restores
 * everything. */
static void crash_at_each_record(Fixture *f, BwManager *m, bool detach) {
        g_autofree char *path = journal_of(f);
        g_autofree char *before = NULL, *after = NULL;
        gsize before_len = 0, after_len = 0;
        BwError err = {};

        assert_true(g_file_get_contents(path, &before, &before_len, NULL));
        if (detach)
                assert_int_equal(bw_manager_detach(m, "vm", "device:null", &err), 0);
        else
                assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), 0);
        assert_true(g_file_get_contents(path, &after, &after_len, NULL));
        g_autoptr(GArray) ends = record_ends(after, after_len);
        /* BEGIN GUEST 2x(INTENT DONE) COMMIT after the old records */
        guint first = ends->len - 7;
        assert_int_equal(g_array_index(ends, size_t, first - 1), before_len);
        for (guint k = first; k < ends->len - 1; k++) {
                size_t cut = g_array_index(ends, size_t, k);
                assert_true(g_file_set_contents(path, after, (gssize) cut, NULL));
                /* fake-files changes first on detach, last on attach */
                guint fake_intent = detach ? first + 2 : first + 4;
                bool changed = k >= fake_intent;
                g_autofree char *mk = g_build_filename(f->mf->markers, "null", NULL);
                if (changed != detach)
                        g_free(test_write_file(f->mf->markers, "null", "", -1));
                else
                        unlink(mk);
                assert_int_equal(bw_manager_recover_guest(m, "vm", 0, &err), 1);
                if (marker(f, "null") != detach)
                        fail_msg("%s cut after record %u: marker %s", detach ? "detach" : "attach", k,
                                 detach ? "gone" : "left");
                assert_true(guest_has(m, "device:null") == detach);
                g_autoptr(JournalState) s = read_journal(f);
                assert_true(s->last_committed);
                assert_int_not_equal(s->last_op, detach ? JOURNAL_OP_DETACH : JOURNAL_OP_ATTACH);
        }
        /* Back to the committed transaction and what it made. */
        assert_true(g_file_set_contents(path, after, (gssize) after_len, NULL));
        g_autofree char *mk = g_build_filename(f->mf->markers, "null", NULL);
        if (detach)
                unlink(mk);
        else
                g_free(test_write_file(f->mf->markers, "null", "", -1));
}

static void test_crash_at_each_record(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, NULL);
        BwError err = {};

        start_vm(f, m);
        crash_at_each_record(f, m, false);
        assert_true(marker(f, "null"));
        crash_at_each_record(f, m, true);
        assert_false(marker(f, "null"));
        assert_false(guest_has(m, "device:null"));
        assert_int_equal(bw_manager_stop(m, "vm", &err), 0);
        assert_false(marker(f, "d1"));
        assert_int_equal(test_count_entries(f->mf->markers), 0);
        bw_manager_free(m);
}

typedef struct Race {
        BwManager *m;
        int r;
} Race;

static void *race_attach(void *data) {
        Race *x = data;
        BwError err = {};
        x->r = bw_manager_attach(x->m, "vm", "[device:null]\npath=/dev/null\n", &err);
        return NULL;
}

/* The guest's lock serializes an attach with a stop: while it is held
 * the attach times out; run together, either the attach comes first and
 * the stop undoes it, or the stop does and the attach finds no guest. */
static void test_attach_and_stop_serialized(void **state) {
        Fixture *f = *state;
        BwManager *m = manager_with(f, NULL);
        BwError err = {};

        start_vm(f, m);
        GuestLock *lock = NULL;
        assert_int_equal(guest_lock_acquire(f->mf->state, "vm", 0, &lock, &err), 0);
        assert_int_equal(bw_manager_attach(m, "vm", "[device:null]\npath=/dev/null\n", &err), -ETIMEDOUT);
        assert_non_null(strstr(err.message, "vm"));
        guest_lock_release(lock);
        assert_false(marker(f, "null"));

        for (int round = 0; round < 20; round++) {
                Race x = { .m = m };
                pthread_t t;
                if (round > 0)
                        start_vm(f, m);
                assert_int_equal(pthread_create(&t, NULL, race_attach, &x), 0);
                int rs = bw_manager_stop(m, "vm", &err);
                assert_int_equal(pthread_join(t, NULL), 0);
                assert_int_equal(rs, 0);
                if (x.r != 0 && x.r != -ENOENT)
                        fail_msg("round %d: attach returned %d", round, x.r);
                assert_int_equal(test_count_entries(f->mf->markers), 0);
                g_autofree char *j = journal_of(f);
                assert_int_equal(access(j, F_OK), -1);
        }
        bw_manager_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_attach_detach_each_type, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_failure_leaves_guest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_failed_rollback_left_for_recover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_lock_step_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_detach_crash_then_recover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_at_each_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_and_stop_serialized, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
