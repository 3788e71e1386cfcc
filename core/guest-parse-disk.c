/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [disk:<id>]: path, readonly, shared, format; and the backing chain of a
 * qcow2 image, read from its header (qcow2.c), listed with the disk.
 *
 * Chains are followed after every group is parsed: a block device that an
 * image header names is accepted only when the definition lists it too,
 * and the group that lists it may come after the disk. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "util/error.h"
#include "guest-parse-private.h"
#include "qcow2.h"

enum { DISK_RAW, DISK_QCOW2, DISK_AUTO };
static const char *const disk_formats[] = { "raw", "qcow2", "auto", NULL };

int gp_disk_parse(Parser *p, BwResource *res) {
        const char *path;
        bool readonly, shared;
        int format, r;

        if ((r = gp_value_path(p, "path", true, &path)) < 0 || (r = gp_value_bool(p, "readonly", &readonly)) < 0 ||
            (r = gp_value_bool(p, "shared", &shared)) < 0 ||
            (r = gp_value_enum(p, "format", disk_formats, DISK_RAW, &format)) < 0)
                return r;
        /* A writable raw image holds whatever the guest wrote, a qcow2 header
         * naming any host file included: that file would be labelled for the
         * guest.  The format of a writable disk must be stated. */
        if (format == DISK_AUTO && !readonly)
                return gp_fail_key(p, "format",
                                   "format=auto on a writable disk (the guest could write a qcow2 header naming any host file): give format=raw or format=qcow2");
        res->path = path;
        res->readonly = readonly;
        res->shared = shared;
        guest_add_path(p->guest, path, readonly ? BW_PATH_IMAGE_READONLY : BW_PATH_IMAGE);
        if (format == DISK_RAW || p->options->skip_host)
                return 0;
        GpPendingChain chain = {
                .resource = p->resource,
                .group = (guint) (p->group - &g_array_index(p->groups, GpGroupLine, 0)),
                .path = path,
                .sniff = format == DISK_AUTO,
        };
        g_array_append_val(p->pending_chains, chain);
        return 0;
}

/* The device numbers of the block devices the definition lists: every
 * path a group gave (backing files, added from image headers, are not the
 * definition's word).  stat() follows symlinks, so /dev/vg/lv and
 * /dev/dm-3 are the same device; it never opens anything. */
static GArray *listed_block_devices(const Parser *p) {
        GArray *devs = g_array_new(FALSE, FALSE, sizeof(dev_t));
        BwPathRole role;
        const char *path;
        struct stat st;

        for (size_t i = 0; (path = guest_get_added_path(p->guest, i, &role)); i++)
                if (role != BW_PATH_BACKING && stat(path, &st) == 0 && S_ISBLK(st.st_mode))
                        g_array_append_val(devs, st.st_rdev);
        return devs;
}

static bool block_device_listed(const char *path, dev_t rdev, void *userdata) {
        Parser *p = userdata;

        if (!p->listed_block_devices)
                p->listed_block_devices = listed_block_devices(p);
        for (guint i = 0; i < p->listed_block_devices->len; i++)
                if (g_array_index(p->listed_block_devices, dev_t, i) == rdev)
                        return true;
        return false;
}

static int disk_resolve_chain(Parser *p, const GpPendingChain *c) {
        g_auto(Qcow2Chain) chain = {};
        BwError e = {};
        int r;

        p->group = &g_array_index(p->groups, GpGroupLine, c->group);
        r = qcow2_chain_resolve(c->path, c->sniff, block_device_listed, p, &chain, &e);
        if (r < 0)
                return gp_fail_key_code(p, "path", r, "%s", e.message);
        for (char **b = chain.backing; *b; b++)
                guest_add_path_to(p->guest, c->resource, *b, BW_PATH_BACKING);
        if (chain.unresolved) {
                g_autofree char *where = gp_where(p, gp_key_line(p, "path"));
                guest_add_unresolved_to(p->guest, c->resource, "%s: [%s] %s: its backing chain is not known", where,
                                        p->group->name, chain.unresolved);
        }
        return 0;
}

int gp_disk_resolve_chains(Parser *p) {
        for (guint i = 0; i < p->pending_chains->len; i++) {
                int r = disk_resolve_chain(p, &g_array_index(p->pending_chains, GpPendingChain, i));
                if (r < 0)
                        return r;
        }
        return 0;
}
