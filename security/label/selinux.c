/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SELinux plugin: every host path of the guest gets a context with
 * the guest's own MCS pair (selinux-mcs.h), read-only files the content
 * type and shared ones the image type without categories; contexts are
 * written as security.selinux xattrs through the shared engine, so they
 * work, and are remembered and restored exactly, on a host where SELinux
 * is not enabled.  There, validating contexts against the policy and the
 * process label are skipped with a logged reason. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <selinux/selinux.h>

#include "label-plugin.h"
#include "selinux-mcs.h"

#define SELINUX_XATTR "security.selinux"

typedef struct SelinuxState {
        const char *user, *role, *image_type, *readonly_type, *shared_type, *process_role, *process_type;
        bool enabled;              /* is_selinux_enabled() > 0 */
        char uuid[LABEL_UUID_LEN + 1];   /* the guest the pair below is for */
        unsigned a, b;
        bool reserved;
} SelinuxState;

static int selinux_read(LabelInode *inode, GBytes *shape, GBytes **ret) {
        (void) shape;
        char buf[LABEL_LABEL_MAX];
        int n = label_inode_getxattr(inode, SELINUX_XATTR, buf, sizeof(buf));
        if (n == -ENODATA || n == -EOPNOTSUPP) {
                *ret = g_bytes_new(NULL, 0);
                return 0;
        }
        if (n < 0)
                return n;
        *ret = g_bytes_new(buf, (gsize) n);
        return 0;
}

static int selinux_write(LabelInode *inode, GBytes *label) {
        if (g_bytes_get_size(label) == 0) {
                int r = label_inode_removexattr(inode, SELINUX_XATTR);
                return r == -ENODATA ? 0 : r;
        }
        return label_inode_setxattr(inode, SELINUX_XATTR, g_bytes_get_data(label, NULL), g_bytes_get_size(label));
}

/* A context as the kernel stores one: printable, one trailing NUL at most;
 * or none at all (a file without security.selinux). */
static bool selinux_valid(const void *label, size_t len) {
        const unsigned char *p = label;
        if (len == 0)
                return true;
        if (p[len - 1] == '\0')
                len--;
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (p[i] < '!' || p[i] > '~')
                        return false;
        return true;
}

static const LabelDriver selinux_driver = {
        .name = "selinux", .verb = "label", .read = selinux_read, .write = selinux_write, .valid = selinux_valid,
};

static SelinuxState *selinux_state(LabelPlugin *p) {
        return p->driver_state;
}

static int selinux_pair(LabelPlugin *p, const BwGuestInfo *guest) {
        SelinuxState *s = selinux_state(p);
        if (strcmp(s->uuid, guest->uuid) == 0)
                return 0;
        int r = selinux_mcs_find(p->state_dir, guest->uuid, &s->a, &s->b);
        if (r < 0) {
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': no free MCS category pair left in c0.c1023", guest->name);
                return r;
        }
        g_strlcpy(s->uuid, guest->uuid, sizeof(s->uuid));
        s->reserved = false;
        return 0;
}

static int selinux_label_for(LabelPlugin *p, const BwGuestInfo *guest, const BwResource *res, BwPathRole role,
                             GBytes **ret) {
        SelinuxState *s = selinux_state(p);
        int r = selinux_pair(p, guest);
        if (r < 0)
                return r;
        g_autofree char *context = NULL;
        if (label_plugin_role_readonly(res, role))
                context = g_strdup_printf("%s:%s:%s:s0", s->user, s->role, s->readonly_type);
        else if (res->shared)
                context = g_strdup_printf("%s:%s:%s:s0", s->user, s->role, s->shared_type);
        else
                context = g_strdup_printf("%s:%s:%s:s0:c%u,c%u", s->user, s->role, s->image_type, s->a, s->b);
        if (s->enabled && security_check_context(context) < 0) {
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': context '%s' is not valid in the loaded policy: %s",
                                 guest->name, context, g_strerror(errno));
                return -EINVAL;
        }
        /* Stored as libselinux stores it: with its NUL. */
        *ret = g_bytes_new(context, strlen(context) + 1);
        return 0;
}

static int selinux_before_apply(LabelPlugin *p, const BwGuestInfo *guest) {
        SelinuxState *s = selinux_state(p);
        int r = selinux_pair(p, guest);
        if (r < 0 || s->reserved)
                return r;
        r = selinux_mcs_reserve(p->state_dir, guest->uuid, s->a, s->b);
        if (r == -EBUSY)
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': MCS pair s0:c%u,c%u was taken by another running guest meanwhile: start it again",
                                 guest->name, s->a, s->b);
        else if (r < 0)
                label_plugin_log(p, BW_LOG_ERR, "guest '%s': cannot reserve MCS pair s0:c%u,c%u in '%s': %s", guest->name,
                                 s->a, s->b, p->state_dir, g_strerror(-r));
        s->reserved = r >= 0;
        return r;
}

static void selinux_release(LabelPlugin *p, const BwGuestInfo *guest) {
        SelinuxState *s = selinux_state(p);
        selinux_mcs_release(p->state_dir, guest->uuid);
        if (strcmp(s->uuid, guest->uuid) == 0)
                s->uuid[0] = '\0';
}

static const LabelPluginOps selinux_ops = {
        .driver = &selinux_driver, .kind = "label", .label_for = selinux_label_for,
        .before_apply = selinux_before_apply, .release = selinux_release,
};

static int selinux_probe(const BwHost *host, char *reason, size_t reason_size) {
        (void) host;
        if (is_selinux_enabled() > 0)
                snprintf(reason, reason_size, "SELinux enabled: contexts validated against the loaded policy, process labels set");
        else
                snprintf(reason, reason_size,
                         "SELinux not enabled: contexts written as security.selinux xattrs; policy validation and process labels skipped");
        return 0;
}

static const char *selinux_key(LabelPlugin *p, const char *key, const char *fallback) {
        const char *v = label_plugin_config(p, key);
        return v && *v ? v : fallback;
}

static int selinux_init(const BwHost *host, void **ret_state) {
        LabelPlugin *p;
        int r = label_plugin_new(host, &selinux_ops, &p);
        if (r < 0)
                return r;
        SelinuxState *s = g_new0(SelinuxState, 1);
        p->driver_state = s;
        s->user = selinux_key(p, "user", "system_u");
        s->role = selinux_key(p, "role", "object_r");
        s->image_type = selinux_key(p, "image-type", "svirt_image_t");
        s->readonly_type = selinux_key(p, "readonly-type", "virt_content_t");
        s->shared_type = selinux_key(p, "shared-type", "svirt_image_t");
        s->process_role = selinux_key(p, "process-role", "system_r");
        s->process_type = selinux_key(p, "process-type", "svirt_t");
        const char *names[] = { s->user, s->role, s->image_type, s->readonly_type, s->shared_type, s->process_role,
                                s->process_type };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
                if (strspn(names[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(names[i])) {
                        label_plugin_log(p, BW_LOG_ERR, "configuration: '%s' is not a SELinux user, role or type name",
                                         names[i]);
                        g_free(s);
                        label_plugin_free(p);
                        return -EINVAL;
                }
        s->enabled = is_selinux_enabled() > 0;
        if (!s->enabled)
                label_plugin_log(p, BW_LOG_INFO,
                                 "SELinux is not enabled on this host: contexts are written as security.selinux xattrs without policy validation, and guest processes get no SELinux label");
        *ret_state = p;
        return 0;
}

static void selinux_fini(void *state) {
        LabelPlugin *p = state;
        g_free(p->driver_state);
        label_plugin_free(p);
}

static int selinux_adopt(void *state, const BwGuestInfo *guest) {
        LabelPlugin *p = state;
        if (selinux_mcs_reserved(p->state_dir, guest->uuid))
                return 0;
        return label_plugin_adopt(state, guest);
}

static int selinux_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        LabelPlugin *p = state;
        SelinuxState *s = selinux_state(p);
        if (!s->enabled) {
                label_plugin_log(p, BW_LOG_INFO, "guest '%s': SELinux is not enabled: no process label", guest->name);
                return 0;
        }
        int r = selinux_pair(p, guest);
        if (r < 0)
                return r;
        g_autofree char *label = g_strdup_printf("%s:%s:%s:s0:c%u,c%u", s->user, s->process_role, s->process_type,
                                                 s->a, s->b);
        return sink->set_lsm_label(sink, "selinux", label);
}

/* The keys of [plugin:selinux]; the core refuses any other. */
static const char *const selinux_config_keys[] = {
        "skip-paths", "user", "role", "image-type", "readonly-type", "shared-type", "process-role", "process-type", NULL,
};

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_LABELS_PATHS | BW_PLUGIN_FLAG_NEEDS_ROOT,
        .name = "selinux",
        .record_max = LABEL_PLUGIN_RECORD_MAX,
        .config_keys = selinux_config_keys,
        .probe = selinux_probe,
        .init = selinux_init,
        .fini = selinux_fini,
        .plan = label_plugin_plan,
        .apply = label_plugin_apply,
        .undo = label_plugin_undo,
        .release = label_plugin_release,
        .attach = label_plugin_attach,
        .detach = label_plugin_detach,
        .adopt = selinux_adopt,
        .query = label_plugin_query,
        .exec_attrs = selinux_exec_attrs,
};
