/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "aa-compile-cache.h"
#include "aa-files.h"
#include "aa-guest-profile.h"
#include "aa-profile.h"
#include "aa-rules.h"
#include "aa-store.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AaFiles, aa_files_free)

char *aa_guest_profile_path(const AaConfig *cfg, const char *name) {
        return g_build_filename(cfg->profile_dir, name, NULL);
}

char *aa_guest_files_path(const AaConfig *cfg, const char *name) {
        return g_strdup_printf("%s/%s.files", cfg->profile_dir, name);
}

static void profile_note(const AaConfig *cfg, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void profile_note(const AaConfig *cfg, const char *format, ...) {
        va_list ap;
        if (!cfg->note)
                return;
        va_start(ap, format);
        g_autofree char *m = g_strdup_vprintf(format, ap);
        va_end(ap);
        cfg->note(cfg->userdata, m);
}

static int profile_text(const AaConfig *cfg, const char *name, const char *body, char **ret, BwError *reterr) {
        g_autofree char *tpl = NULL;
        int r = aa_store_read(cfg->template_path, &tpl, reterr);
        if (r < 0)
                return r;
        return aa_profile_render(tpl, cfg->template_path, name, body, ret, reterr);
}

/* apparmor_parser -Q -K on the profile with its rules in place. */
static int profile_check(const AaConfig *cfg, const char *name, const char *path, const char *rules,
                         BwError *reterr) {
        g_autofree char *body = aa_profile_inline_body(cfg->profile_dir, name, rules);
        g_autofree char *text = NULL, *temp = NULL, *what = g_strdup_printf("profile '%s'", name);
        int r = profile_text(cfg, name, body, &text, reterr);
        if (r < 0)
                return r;
        g_autofree char *key = cfg->compiled_dir ? aa_compile_cache_key(&cfg->parser, cfg->profile_dir, text) : NULL;
        if (key && aa_compile_cache_has(cfg->compiled_dir, key)) {
                profile_note(cfg, "profile '%s': not compiled again: the same text compiled cleanly before, with the same parser and included files",
                             name);
                return 0;
        }
        r = aa_store_temp(path, text, &temp, reterr);
        if (r < 0)
                return r;
        g_auto(GStrv) argv = aa_parser_argv_check(&cfg->parser, temp);
        r = aa_parser_run(argv, what, reterr);
        (void) unlink(temp);
        if (r == 0 && key)
                aa_compile_cache_add(cfg->compiled_dir, key);
        return r;
}

static int profile_load(const AaConfig *cfg, const char *name, const char *path, BwError *reterr) {
        if (!cfg->kernel_enabled) {
                profile_note(cfg, "profile '%s': written and compiled, not loaded: AppArmor is not enabled in this kernel",
                             name);
                return 0;
        }
        g_autofree char *what = g_strdup_printf("profile '%s'", name);
        g_auto(GStrv) argv = aa_parser_argv_replace(&cfg->parser, path);
        return aa_parser_run(argv, what, reterr);
}

/* Loaded, or nothing to load it into. */
static bool profile_loaded(const AaConfig *cfg, const char *name) {
        g_autofree char *list = NULL;
        if (!cfg->kernel_enabled)
                return true;
        return g_file_get_contents(AA_KERNEL_PROFILES, &list, NULL, NULL) && aa_parser_profile_listed(list, name);
}

/* Writes files (and the profile when `install` or when it exists). */
static int profile_commit(const AaConfig *cfg, const char *name, AaFiles *files, bool install, BwError *reterr) {
        g_autofree char *path = aa_guest_profile_path(cfg, name), *fpath = aa_guest_files_path(cfg, name);
        g_autofree char *ftext = aa_files_render(files, name), *old_files = NULL, *old_main = NULL;
        g_autofree char *main = NULL, *body = aa_profile_include_body(cfg->profile_dir, name);
        bool changed_files, changed_main;
        int r;

        if (!install && access(path, F_OK) < 0) {
                /* Rules before their profile (the plan's order): no compile yet. */
                if (aa_files_count(files) == 0)
                        return aa_store_remove(fpath, reterr);
                return aa_store_replace(fpath, ftext, NULL, reterr);
        }
        r = profile_text(cfg, name, body, &main, reterr);
        if (r < 0)
                return r;
        if (aa_store_read(fpath, &old_files, NULL) == 0 && aa_store_read(path, &old_main, NULL) == 0 &&
            strcmp(old_files, ftext) == 0 && strcmp(old_main, main) == 0)
                /* Unchanged: no parser run, no rewrite; loaded again only
                 * when the kernel lost it (a reboot). */
                return profile_loaded(cfg, name) ? 0 : profile_load(cfg, name, path, reterr);
        g_autofree char *rules = aa_files_rules(files);
        r = profile_check(cfg, name, path, rules, reterr);
        if (r < 0)
                return r;
        r = aa_store_replace(fpath, ftext, &changed_files, reterr);
        if (r < 0)
                return r;
        r = aa_store_replace(path, main, &changed_main, reterr);
        if (r < 0)
                return r;
        return profile_load(cfg, name, path, reterr);
}

static AaFiles *profile_files_read(const AaConfig *cfg, const char *name) {
        g_autofree char *fpath = aa_guest_files_path(cfg, name), *text = NULL;
        (void) aa_store_read(fpath, &text, NULL);
        return aa_files_parse(text);
}

int aa_guest_profile_section(const AaConfig *cfg, const char *name, const char *ref, const char *rules,
                             BwError *reterr) {
        g_autoptr(AaFiles) files = profile_files_read(cfg, name);
        if (rules)
                aa_files_set(files, ref, rules);
        else
                aa_files_drop(files, ref);
        return profile_commit(cfg, name, files, false, reterr);
}

int aa_guest_profile_install(const AaConfig *cfg, const char *name, const char *guest_rules, BwError *reterr) {
        g_autoptr(AaFiles) files = profile_files_read(cfg, name);
        aa_files_set(files, AA_SECTION_GUEST, guest_rules);
        return profile_commit(cfg, name, files, true, reterr);
}

int aa_guest_profile_remove(const AaConfig *cfg, const char *name, BwError *reterr) {
        g_autofree char *path = aa_guest_profile_path(cfg, name), *fpath = aa_guest_files_path(cfg, name);
        int r;

        if (access(path, F_OK) == 0) {
                if (cfg->kernel_enabled) {
                        g_autofree char *what = g_strdup_printf("profile '%s'", name);
                        g_auto(GStrv) argv = aa_parser_argv_remove(&cfg->parser, path);
                        if ((r = aa_parser_run(argv, what, reterr)) < 0)
                                return r;
                } else
                        profile_note(cfg, "profile '%s': not unloaded: AppArmor is not enabled in this kernel", name);
        }
        if ((r = aa_store_remove(path, reterr)) < 0)
                return r;
        return aa_store_remove(fpath, reterr);
}

int aa_guest_profile_sections(const BwGuestInfo *guest, AaFiles *files, BwError *reterr) {
        for (size_t i = 0; i < guest->n_resources; i++) {
                const BwResource *res = guest->resources[i];
                g_autoptr(GString) rules = g_string_new(NULL);
                g_autofree char *ref = aa_rules_resource_ref(res);
                int r = aa_rules_resource(guest, res, rules, reterr);
                if (r < 0)
                        return r;
                aa_files_set(files, ref, rules->str);
        }
        g_autoptr(GString) wide = g_string_new(NULL);
        aa_rules_guest_wide(guest, wide);
        aa_files_set(files, AA_SECTION_GUEST, wide->str);
        return 0;
}

int aa_guest_profile_render(const AaConfig *cfg, const BwGuestInfo *guest, char **ret_name, char **ret_files,
                            char **ret_profile, BwError *reterr) {
        g_autoptr(AaFiles) files = aa_files_parse(NULL);
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        g_autofree char *body = aa_profile_include_body(cfg->profile_dir, name);
        int r = aa_guest_profile_sections(guest, files, reterr);
        if (r < 0)
                return r;
        r = profile_text(cfg, name, body, ret_profile, reterr);
        if (r < 0)
                return r;
        *ret_files = aa_files_render(files, name);
        *ret_name = g_steal_pointer(&name);
        return 0;
}

int aa_guest_profile_write(const AaConfig *cfg, const BwGuestInfo *guest, BwError *reterr) {
        g_autoptr(AaFiles) files = aa_files_parse(NULL);
        g_autofree char *name = aa_profile_name(AA_PROFILE_PREFIX, guest->uuid);
        int r = aa_guest_profile_sections(guest, files, reterr);
        if (r < 0)
                return r;
        return profile_commit(cfg, name, files, true, reterr);
}
