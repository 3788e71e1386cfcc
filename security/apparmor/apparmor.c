/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The apparmor plugin: a profile per guest listing exactly its resources.
 *
 * Changes, in plan order: one "profile-rules" per resource with a host
 * path (its section of bulwark-<uuid>.files), then the guest-wide
 * "profile" (the profile from the template, compiled, loaded).  Undo runs
 * newest first, so the profile goes first and each section's undo then
 * finds nothing to rewrite.  Every change locks the profile directory. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/apparmor.h>
#include <glib.h>

#include "aa-change.h"
#include "aa-helper-exec.h"
#include "aa-plugin.h"
#include "aa-profile.h"
#include "aa-rules.h"

#define AA_DEFAULT_PROFILE_DIR "/etc/apparmor.d/bulwark"

static const char *const aa_config_keys[] = { "profile-dir", "template", "parser", "features-file", "include-dir",
                                              "helper", NULL };

static void aa_note(void *userdata, const char *message) {
        aa_plugin_log((const AaState *) userdata, BW_LOG_INFO, "%s", message);
}

AaConfig aa_plugin_config_at(const AaState *s, const char *dir) {
        AaConfig c = s->cfg;
        c.profile_dir = dir;
        return c;
}

static const char *aa_config(const BwHost *host, const char *key) {
        return host && host->config ? host->config(host, key) : NULL;
}

static bool aa_kernel_enabled(void) {
        return aa_is_enabled() == 1;
}

static int aa_probe(const BwHost *host, char *reason, size_t reason_size) {
        const char *dir = aa_config(host, "profile-dir") ?: AA_DEFAULT_PROFILE_DIR;
        const char *parser = aa_config(host, "parser") ?: APPARMOR_PARSER;

        if (!aa_profile_dir_is_valid(dir)) {
                snprintf(reason, reason_size, "profile-dir '%s': not an absolute path of plain characters", dir);
                return -EINVAL;
        }
        g_autofree char *tpl = aa_config(host, "template") ? g_strdup(aa_config(host, "template"))
                                                           : g_build_filename(dir, "TEMPLATE.guest", NULL);
        if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                snprintf(reason, reason_size, "profile-dir '%s': not a directory (is the policy installed?)", dir);
                return -ENOENT;
        }
        if (access(tpl, R_OK) < 0) {
                snprintf(reason, reason_size, "template '%s': cannot be read: %s", tpl, g_strerror(errno));
                return -ENOENT;
        }
        if (access(parser, X_OK) < 0) {
                snprintf(reason, reason_size, "parser '%s': not found: profiles cannot be compiled", parser);
                return -ENOENT;
        }
        snprintf(reason, reason_size, "%s", aa_kernel_enabled()
                 ? "AppArmor enabled: profiles are written, compiled and loaded"
                 : "AppArmor is not enabled in this kernel: profiles are written and compiled (apparmor_parser -Q -K), not loaded");
        return 0;
}

static void aa_fini(void *state) {
        AaState *s = state;
        if (!s)
                return;
        g_free(s->profile_dir);
        g_free(s->template_path);
        g_free(s->parser);
        g_free(s->features);
        g_free(s->include_dir);
        g_free(s->helper);
        g_free(s->compiled_dir);
        g_free(s);
}

static int aa_init(const BwHost *host, void **ret_state) {
        AaState *s = g_new0(AaState, 1);

        s->host = host;
        s->profile_dir = g_strdup(aa_config(host, "profile-dir") ?: AA_DEFAULT_PROFILE_DIR);
        s->template_path = aa_config(host, "template") ? g_strdup(aa_config(host, "template"))
                                                       : g_build_filename(s->profile_dir, "TEMPLATE.guest", NULL);
        s->parser = g_strdup(aa_config(host, "parser") ?: APPARMOR_PARSER);
        s->features = g_strdup(aa_parser_features(aa_config(host, "features-file")));
        s->include_dir = g_strdup(aa_config(host, "include-dir"));
        /* Texts that compiled cleanly, so a guest started again with the
         * same profile costs no parser run (aa-compile-cache.h). */
        const char *state_dir = aa_config(host, "state-dir");
        s->compiled_dir = state_dir ? g_build_filename(state_dir, "apparmor-compiled", NULL) : NULL;
        s->helper = g_strdup(aa_config(host, "helper"));
        s->cfg = (AaConfig){
                .profile_dir = s->profile_dir,
                .template_path = s->template_path,
                .parser = { .parser = s->parser, .features = s->features, .include_dir = s->include_dir },
                .kernel_enabled = aa_kernel_enabled(),
                .compiled_dir = s->compiled_dir,
                .note = aa_note,
                .userdata = s,
        };
        *ret_state = s;
        return 0;
}

/* "\"/a\" rwk, \"/b\" rk,": a section's rules on one line, for people. */
static char *aa_rules_detail(const char *rules) {
        g_auto(GStrv) lines = g_strsplit(rules, "\n", -1);
        GString *out = g_string_new(NULL);
        for (char **l = lines; *l; l++) {
                g_strstrip(*l);
                if (**l)
                        g_string_append_printf(out, "%s%s", out->len ? " " : "", *l);
        }
        return g_string_free(out, FALSE);
}

static int aa_emit(const AaState *s, BwChangeSink *sink, AaChangeOp op, const char *ref, const char *rules,
                   const char *name) {
        AaChange c = { .op = op, .dir = s->profile_dir, .name = (char *) name, .ref = (char *) ref,
                       .rules = (char *) rules };
        size_t len;
        g_autofree char *data = aa_change_encode(&c, &len), *detail = aa_rules_detail(rules);
        g_autofree char *fpath = aa_guest_files_path(&s->cfg, name), *path = aa_guest_profile_path(&s->cfg, name);
        if (op == AA_CHANGE_PROFILE) {
                g_autofree char *rules_part = g_steal_pointer(&detail);
                detail = g_strdup_printf("profile %s from %s, compiled with apparmor_parser -Q -K, %s%s%s", name,
                                         s->template_path, s->cfg.kernel_enabled ? "loaded" : "not loaded (AppArmor is not enabled in this kernel)",
                                         *rules_part ? "; guest-wide: " : "", rules_part);
        }
        BwChange change = {
                .size = sizeof(change),
                .kind = aa_change_kind(op),
                .object = op == AA_CHANGE_PROFILE ? path : fpath,
                .detail = detail,
                .lock_path = s->profile_dir,
                .data = data,
                .data_len = len,
                .resource = op == AA_CHANGE_PROFILE ? NULL : ref,
        };
        return sink->emit(sink, &change);
}

/* The section change of one resource; none for one without a host path. */
static int aa_emit_resource(const AaState *s, const BwGuestInfo *guest, const BwResource *res, AaChangeOp op,
                            BwChangeSink *sink) {
        g_autoptr(GString) rules = g_string_new(NULL);
        g_autofree char *ref = aa_rules_resource_ref(res), *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        BwError err = {};
        int r = aa_rules_resource(guest, res, rules, &err);
        if (r < 0) {
                aa_plugin_log(s, BW_LOG_ERR, "%s", err.message);
                return r;
        }
        return rules->len ? aa_emit(s, sink, op, ref, rules->str, name) : 0;
}

static int aa_plan(void *state, const BwGuestInfo *guest, BwChangeSink *sink) {
        AaState *s = state;
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        g_autoptr(GString) wide = g_string_new(NULL);

        for (size_t i = 0; i < guest->n_resources; i++) {
                int r = aa_emit_resource(s, guest, guest->resources[i], AA_CHANGE_RULES_ADD, sink);
                if (r < 0)
                        return r;
        }
        aa_rules_guest_wide(guest, wide);
        return aa_emit(s, sink, AA_CHANGE_PROFILE, AA_SECTION_GUEST, wide->str, name);
}

int aa_plugin_change(const AaState *s, const AaChange *c, bool undo, BwError *reterr) {
        AaConfig cfg = aa_plugin_config_at(s, c->dir);
        bool add = (c->op == AA_CHANGE_RULES_ADD) != undo;
        if (c->op == AA_CHANGE_PROFILE)
                return undo ? aa_guest_profile_remove(&cfg, c->name, reterr)
                            : aa_guest_profile_install(&cfg, c->name, c->rules, reterr);
        return aa_guest_profile_section(&cfg, c->name, c->ref, add ? c->rules : NULL, reterr);
}

/* In this process, or by the helper when one is configured. */
static int aa_run(AaState *s, const BwChange *change, bool undo) {
        AaChange c;
        BwError err = {};
        int r;

        if (s->helper)
                r = aa_helper_run(s->helper, undo, change->data, change->data_len, &err);
        else if ((r = aa_change_decode(change->data, change->data_len, &c, &err)) >= 0) {
                r = aa_plugin_change(s, &c, undo, &err);
                aa_change_clear(&c);
        }
        if (r < 0)
                aa_plugin_log(s, BW_LOG_ERR, "%s", err.message);
        return r;
}

static int aa_apply(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                    void *undo, size_t undo_size, size_t *ret_undo_len) {
        *ret_undo_len = 0;         /* the change holds all undo needs */
        return aa_run(state, change, false);
}

static int aa_undo(void *state, const BwGuestInfo *guest, const BwChange *change, const BwApplyContext *ctx,
                   const void *undo, size_t undo_len) {
        return aa_run(state, change, true);
}

static int aa_release(void *state, const BwGuestInfo *guest) {
        return 0;
}

/* Attach runs before the caller opens the device: a VFIO device's group
 * and the container are in the loaded profile by then. */
static int aa_attach(void *state, const BwGuestInfo *guest, const BwResource *resource, BwChangeSink *sink) {
        return aa_emit_resource(state, guest, resource, AA_CHANGE_RULES_ADD, sink);
}

static int aa_detach(void *state, const BwGuestInfo *guest, const BwResource *resource, BwChangeSink *sink) {
        return aa_emit_resource(state, guest, resource, AA_CHANGE_RULES_REMOVE, sink);
}

static int aa_adopt(void *state, const BwGuestInfo *guest) {
        AaState *s = state;
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        g_autofree char *path = aa_guest_profile_path(&s->cfg, name);
        if (access(path, F_OK) < 0) {
                aa_plugin_log(s, BW_LOG_WARNING, "guest '%s': profile '%s' is gone", guest->name, path);
                return -ENOENT;
        }
        return 0;
}

/* The guest process starts under its profile (change_onexec), where the
 * kernel has AppArmor; elsewhere there is nothing to start it under. */
static int aa_exec_attrs(void *state, const BwGuestInfo *guest, BwExecSink *sink) {
        AaState *s = state;
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        if (!s->cfg.kernel_enabled) {
                aa_plugin_log(s, BW_LOG_INFO, "guest '%s': no exec label: AppArmor is not enabled in this kernel",
                              guest->name);
                return 0;
        }
        return sink->set_lsm_label(sink, "apparmor", name);
}

BW_PLUGIN_EXPORT const BwPluginEntry bw_plugin_entry = {
        .abi_major = BW_PLUGIN_ABI_MAJOR,
        .abi_minor = BW_PLUGIN_ABI_MINOR,
        .struct_size = sizeof(BwPluginEntry),
        .flags = BW_PLUGIN_FLAG_NEEDS_ROOT,
        .name = "apparmor",
        .record_max = 256 * 1024,  /* a section: a disk with a long backing chain */
        .config_keys = aa_config_keys,
        .probe = aa_probe,
        .init = aa_init,
        .fini = aa_fini,
        .plan = aa_plan,
        .apply = aa_apply,
        .undo = aa_undo,
        .release = aa_release,
        .attach = aa_attach,
        .detach = aa_detach,
        .adopt = aa_adopt,
        .query = aa_query,
        .exec_attrs = aa_exec_attrs,
};
