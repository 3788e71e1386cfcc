/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DAC plugin: every host path of the guest is chowned to the guest's
 * uid:gid and given back at stop, through the shared engine
 * (label-engine.h).  Its label is "uid:gid", or "uid:gid:MODE" (four
 * octal digits, mode & 07777) when [plugin:dac] mode= is set: then every
 * path but a directory also gets that mode, and its mode is remembered
 * and given back with its owner.  A directory's mode is never changed:
 * it reads as the label it is compared with says. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "label-plugin.h"

typedef struct DacLabel {
        uid_t uid;
        gid_t gid;
        bool has_mode;
        mode_t mode;
} DacLabel;

typedef struct DacState {
        bool has_mode;             /* mode= set */
        mode_t mode;
} DacState;

static bool dac_parse_mode(const char *s, mode_t *ret) {
        char *end;
        if (!s || !*s || strspn(s, "01234567") != strlen(s) || strlen(s) > 5)
                return false;
        unsigned long m = strtoul(s, &end, 8);
        if (*end || m > 07777)
                return false;
        *ret = (mode_t) m;
        return true;
}

static bool dac_parse(const void *label, size_t len, DacLabel *ret) {
        char buf[48];
        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, label, len);
        buf[len] = '\0';
        if (strspn(buf, "0123456789:") != len)
                return false;
        DacLabel l = {};
        char *end;
        errno = 0;
        unsigned long long u = strtoull(buf, &end, 10);
        if (errno || end == buf || *end != ':' || u >= UINT32_MAX)
                return false;
        const char *g = end + 1;
        unsigned long long gg = strtoull(g, &end, 10);
        if (errno || end == g || (*end && *end != ':') || gg >= UINT32_MAX)
                return false;
        if (*end == ':') {
                if (strlen(end + 1) != 4 || !dac_parse_mode(end + 1, &l.mode))
                        return false;
                l.has_mode = true;
        }
        l.uid = (uid_t) u;
        l.gid = (gid_t) gg;
        if (ret)
                *ret = l;
        return true;
}

static GBytes *dac_format(uid_t uid, gid_t gid, bool has_mode, mode_t mode) {
        char *s = has_mode ? g_strdup_printf("%u:%u:%04o", (unsigned) uid, (unsigned) gid, (unsigned) (mode & 07777))
                           : g_strdup_printf("%u:%u", (unsigned) uid, (unsigned) gid);
        size_t len = strlen(s);
        return g_bytes_new_take(s, len);
}

/* inode->st is what the inode is now: taken at open, again after a
 * change.  The mode is read when `shape` has one (a directory's mode is
 * not ours: it reads as the shape's). */
static int dac_read(LabelInode *inode, GBytes *shape, GBytes **ret) {
        DacLabel want = {};
        if (shape)
                (void) dac_parse(g_bytes_get_data(shape, NULL), g_bytes_get_size(shape), &want);
        mode_t mode = S_ISDIR(inode->st.st_mode) ? want.mode : inode->st.st_mode;
        *ret = dac_format(inode->st.st_uid, inode->st.st_gid, want.has_mode, mode);
        return 0;
}

static bool dac_valid(const void *label, size_t len) {
        return dac_parse(label, len, NULL);
}

/* The owner first: chown clears set-id bits, which the mode then sets
 * exactly as the label says. */
static int dac_write(LabelInode *inode, GBytes *label) {
        DacLabel l;
        if (!dac_parse(g_bytes_get_data(label, NULL), g_bytes_get_size(label), &l))
                return -EINVAL;
        int r = label_inode_chown(inode, l.uid, l.gid);
        if (r < 0 || !l.has_mode || S_ISDIR(inode->st.st_mode))
                return r;
        return label_inode_chmod(inode, l.mode);
}

static const LabelDriver dac_driver = {
        .name = "dac", .verb = "chown", .read = dac_read, .write = dac_write, .valid = dac_valid,
};

static int dac_label_for(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, BwPathRole role,
                         GBytes **ret) {
        const DacState *s = p->driver_state;
        (void) res;
        (void) role;
        *ret = dac_format(guest->uid, guest->gid, s->has_mode, s->mode);
        return 0;
}

static const LabelPluginOps dac_ops = { .driver = &dac_driver, .kind = "chown", .label_for = dac_label_for };

static int dac_probe(const BwHost *host, char *reason, size_t reason_size) {
        const char *state = host->config(host, "state-dir");
        snprintf(reason, reason_size,
                 "chown through O_PATH descriptors; originals in trusted.bulwark.dac, or under %s/label/dac where a filesystem has no xattrs",
                 state ? state : "(no state directory)");
        return 0;
}

static int dac_init(const BwHost *host, void **ret_state) {
        LabelPlugin *p;
        int r = label_plugin_new(host, &dac_ops, &p);
        if (r < 0)
                return r;
        DacState *s = g_new0(DacState, 1);
        p->driver_state = s;
        const char *mode = label_plugin_config(p, "mode");
        if (mode && *mode) {
                if (!dac_parse_mode(mode, &s->mode)) {
                        label_plugin_log(p, BW_LOG_ERR, "configuration: mode '%s' is not an octal mode of at most 07777 (such as 0660)",
                                         mode);
                        g_free(s);
                        label_plugin_free(p);
                        return -EINVAL;
                }
                s->has_mode = true;
        }
        *ret_state = p;
        return 0;
}

static void dac_fini(void *state) {
        LabelPlugin *p = state;
        if (p)
                g_free(p->driver_state);
        label_plugin_free(p);
}

/* The keys of [plugin:dac]; the core refuses any other. */
static const char *const dac_config_keys[] = { "skip-paths", "mode", NULL };

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_LABELS_PATHS | BW_PLUGIN_FLAG_NEEDS_ROOT,
        .name = "dac",
        .record_max = LABEL_PLUGIN_RECORD_MAX,
        .config_keys = dac_config_keys,
        .probe = dac_probe,
        .init = dac_init,
        .fini = dac_fini,
        .plan = label_plugin_plan,
        .apply = label_plugin_apply,
        .undo = label_plugin_undo,
        .release = label_plugin_release,
        .attach = label_plugin_attach,
        .detach = label_plugin_detach,
        .adopt = label_plugin_adopt,
        .query = label_plugin_query,
};
