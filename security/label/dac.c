/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DAC plugin: every host path of the guest is chowned to the guest's
 * uid:gid (the mode is left alone) and given back at stop, through the
 * shared engine (label-engine.h).  Its label is "uid:gid". */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "label-plugin.h"

/* inode->st is what the inode is now: taken at open, again after a chown. */
static int dac_read(LabelInode *inode, GBytes **ret) {
        g_autofree char *s = g_strdup_printf("%u:%u", (unsigned) inode->st.st_uid, (unsigned) inode->st.st_gid);
        size_t len = strlen(s);
        *ret = g_bytes_new_take(g_steal_pointer(&s), len);
        return 0;
}

static bool dac_parse(const void *label, size_t len, uid_t *ret_uid, gid_t *ret_gid) {
        char buf[32];
        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, label, len);
        buf[len] = '\0';
        if (strspn(buf, "0123456789:") != len)
                return false;
        char *end;
        errno = 0;
        unsigned long long u = strtoull(buf, &end, 10);
        if (errno || end == buf || *end != ':' || u >= UINT32_MAX)
                return false;
        const char *g = end + 1;
        unsigned long long gg = strtoull(g, &end, 10);
        if (errno || end == g || *end || gg >= UINT32_MAX)
                return false;
        if (ret_uid)
                *ret_uid = (uid_t) u;
        if (ret_gid)
                *ret_gid = (gid_t) gg;
        return true;
}

static bool dac_valid(const void *label, size_t len) {
        return dac_parse(label, len, NULL, NULL);
}

static int dac_write(LabelInode *inode, GBytes *label) {
        uid_t uid;
        gid_t gid;
        if (!dac_parse(g_bytes_get_data(label, NULL), g_bytes_get_size(label), &uid, &gid))
                return -EINVAL;
        return label_inode_chown(inode, uid, gid);
}

static const LabelDriver dac_driver = {
        .name = "dac", .verb = "chown", .read = dac_read, .write = dac_write, .valid = dac_valid,
};

static int dac_label_for(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, BwPathRole role,
                         GBytes **ret) {
        (void) p;
        (void) res;
        (void) role;
        g_autofree char *s = g_strdup_printf("%u:%u", (unsigned) guest->uid, (unsigned) guest->gid);
        size_t len = strlen(s);
        *ret = g_bytes_new_take(g_steal_pointer(&s), len);
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
        *ret_state = p;
        return 0;
}

/* The keys of [plugin:dac]; the core refuses any other. */
static const char *const dac_config_keys[] = { "skip-paths", NULL };

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
        .fini = label_plugin_fini,
        .plan = label_plugin_plan,
        .apply = label_plugin_apply,
        .undo = label_plugin_undo,
        .release = label_plugin_release,
        .attach = label_plugin_attach,
        .detach = label_plugin_detach,
        .adopt = label_plugin_adopt,
        .query = label_plugin_query,
};
