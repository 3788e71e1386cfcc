/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "aa-path.h"
#include "aa-rules.h"

char *aa_rules_resource_ref(const BwResource *res) {
        return g_strdup_printf("%s:%s", bw_resource_type_name(res->type), res->id);
}

bool aa_rules_is_vfio(const BwResource *res) {
        return res->type == BW_RESOURCE_HOSTDEV && res->hostdev_type == BW_HOSTDEV_VFIO_PCI;
}

typedef struct RuleOut {
        GString *out;
        GHashTable *seen;          /* rule lines already written */
} RuleOut;

static void rule_line(RuleOut *o, const char *quoted, const char *perms) {
        g_autofree char *line = g_strdup_printf("  %s %s,\n", quoted, perms);
        if (g_hash_table_add(o->seen, g_strdup(line)))
                g_string_append(o->out, line);
}

/* The perms a device node gets from its resource. */
static const char *rule_device_perms(const BwResource *res) {
        if (res->type == BW_RESOURCE_DEVICE) {
                bool r = res->access & BW_ACCESS_READ, w = res->access & BW_ACCESS_WRITE;
                return r && w ? "rw" : r ? "r" : w ? "w" : NULL;
        }
        return res->readonly ? "r" : "rw";
}

/* Role -> perms; tree: the path is a directory granted with all below it. */
static const char *rule_perms(const BwResource *res, BwPathRole role, const char *path, bool *ret_tree) {
        struct stat st;

        *ret_tree = false;
        switch (role) {
        case BW_PATH_IMAGE:
        case BW_PATH_NVRAM:
                return "rwk";
        case BW_PATH_IMAGE_READONLY:
        case BW_PATH_BACKING:
                return "rk";
        case BW_PATH_KERNEL:
                return "r";
        case BW_PATH_STATE_DIR:
                *ret_tree = true;
                return "rwk";
        case BW_PATH_MEMORY:
                /* A hugepage directory holds the files QEMU creates. */
                *ret_tree = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
                return "rwk";
        case BW_PATH_CHARDEV:
                return "rw";
        case BW_PATH_DEVICE_NODE:
                return rule_device_perms(res);
        }
        return NULL;
}

static int rule_path(RuleOut *o, const BwGuestInfo *guest, const BwResource *res, const char *path, BwPathRole role,
                     BwError *reterr) {
        bool tree;
        const char *perms = rule_perms(res, role, path, &tree);
        g_autofree char *norm = NULL, *ref = aa_rules_resource_ref(res);
        BwError err = {};

        if (!perms)
                return 0;          /* mknod only: nothing a file rule grants */
        AaAccess access = strchr(perms, 'w') ? AA_ACCESS_WRITE : AA_ACCESS_READ;
        int r = aa_path_check(path, strlen(path), access, &norm, &err);
        if (r < 0)
                return error_set(reterr, r, "guest '%s': %s: %s", guest->name, ref, err.message);
        if (tree) {
                g_autofree char *dir = g_strconcat(norm, strcmp(norm, "/") ? "/" : "", NULL);
                g_autofree char *qdir = aa_path_quote(dir), *qtree = aa_path_quote_tree(norm);
                rule_line(o, qdir, "r");
                rule_line(o, qtree, perms);
                return 0;
        }
        g_autofree char *q = aa_path_quote(norm);
        rule_line(o, q, perms);
        if (role == BW_PATH_CHARDEV && res->chardev_type == BW_CHARDEV_PIPE) {
                /* QEMU opens <path>.in and <path>.out when both exist. */
                g_autofree char *in = g_strconcat(norm, ".in", NULL), *out = g_strconcat(norm, ".out", NULL);
                g_autofree char *qin = aa_path_quote(in), *qout = aa_path_quote(out);
                rule_line(o, qin, perms);
                rule_line(o, qout, perms);
        }
        if (aa_rules_is_vfio(res) && role == BW_PATH_DEVICE_NODE) {
                g_autofree char *qc = aa_path_quote(AA_VFIO_CONTAINER);
                rule_line(o, qc, "rw");
        }
        return 0;
}

int aa_rules_resource(const BwGuestInfo *guest, const BwResource *res, GString *out, BwError *reterr) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        RuleOut o = { .out = out, .seen = seen };

        for (size_t i = 0; i < res->n_paths; i++) {
                int r = rule_path(&o, guest, res, res->paths[i], res->roles[i], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

void aa_rules_guest_wide(const BwGuestInfo *guest, GString *out) {
        if (guest->hotplug_vfio) {
                g_autofree char *q = aa_path_quote(AA_VFIO_CONTAINER);
                g_string_append_printf(out, "  %s rw,\n", q);
        }
}
