/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <glib.h>

#include "aa-path.h"

/* No access at all: kernel memory, other processes' memory, the secrets
 * and policy of the host, and the pseudo file systems whose files are not
 * disks (a guest never needs /proc or /sys as a resource; the sysfs reads
 * QEMU does are in the abstraction). */
static const char *const never_allowed[] = {
        "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kcore", "/proc", "/sys",
        "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers",
        "/etc/sudoers.d", "/etc/apparmor", "/etc/apparmor.d", "/etc/bulwark", "/etc/ssh",
        "/root", "/lost+found", "/var/lib/bulwark/guests",
        NULL,
};

/* Readable (kernels, firmware, install media) but never writable: the
 * system itself, the boot files and the firmware directories. */
static const char *const never_writable[] = {
        "/boot", "/efi", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
        "/vmlinuz", "/vmlinuz.old", "/initrd.img", "/initrd.img.old", "/lib/firmware",
        "/usr/lib/firmware", "/usr/share/OVMF", "/usr/share/ovmf", "/usr/share/AAVMF",
        "/usr/share/edk2", "/usr/share/qemu", "/usr/share/qemu-efi", "/usr/share/qemu-efi-aarch64",
        "/usr/share/seabios", "/usr/lib/u-boot", "/var/lib/dpkg", "/",
        NULL,
};

/* What the user gave, control characters made visible and a very long
 * path cut, so the reason after it still fits the message. */
static char *path_shown(const char *path, size_t len) {
        g_autofree char *raw = g_strndup(path, MIN(len, (size_t) 200));
        g_autofree char *escaped = g_strescape(raw, NULL);
        return len > 200 ? g_strconcat(escaped, "...", NULL) : g_steal_pointer(&escaped);
}

int aa_path_normalize(const char *path, size_t len, char **ret_path, BwError *reterr) {
        g_autofree char *shown = path_shown(path, len);

        *ret_path = NULL;
        if (len == 0)
                return error_set(reterr, -EINVAL, "path '': empty path refused");
        if (memchr(path, '\0', len))
                return error_set(reterr, -EINVAL, "path '%s': embedded NUL byte refused", shown);
        if (path[0] != '/')
                return error_set(reterr, -EINVAL, "path '%s': relative path refused (an absolute path is required)",
                                 shown);
        if (len >= PATH_MAX)
                return error_set(reterr, -EINVAL, "path '%s': longer than %d bytes", shown, PATH_MAX - 1);

        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
        const char *p = path, *end = path + len;
        while (p < end) {
                const char *slash = memchr(p, '/', (size_t) (end - p));
                const char *stop = slash ? slash : end;
                size_t n = (size_t) (stop - p);
                if (n > NAME_MAX)
                        return error_set(reterr, -EINVAL, "path '%s': a component is longer than %d bytes", shown,
                                         NAME_MAX);
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (parts->len > 0)
                                g_ptr_array_remove_index(parts, parts->len - 1);
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        g_ptr_array_add(parts, g_strndup(p, n));
                p = stop + 1;
        }
        GString *out = g_string_sized_new(len);
        for (guint i = 0; i < parts->len; i++) {
                g_string_append_c(out, '/');
                g_string_append(out, parts->pdata[i]);
        }
        if (out->len == 0)
                g_string_append_c(out, '/');
        *ret_path = g_string_free(out, FALSE);
        return 0;
}

bool aa_path_has_prefix(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        if (strcmp(prefix, "/") == 0)
                return strcmp(path, "/") == 0;
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const char *path_listed(const char *path, const char *const *list) {
        for (const char *const *e = list; *e; e++)
                if (aa_path_has_prefix(path, *e))
                        return *e;
        return NULL;
}

const char *aa_path_restricted(const char *path, AaAccess access, bool *ret_never) {
        const char *hit = path_listed(path, never_allowed);

        *ret_never = hit != NULL;
        if (!hit && access == AA_ACCESS_WRITE)
                hit = path_listed(path, never_writable);
        return hit;
}

/* Bytes that stand for themselves in an AppArmor file rule. */
static bool quote_is_plain(unsigned char c) {
        return g_ascii_isalnum(c) || strchr("/._+:=~%-", c) != NULL;
}

static void quote_append(GString *out, const char *path) {
        for (const unsigned char *c = (const unsigned char *) path; *c; c++)
                if (quote_is_plain(*c))
                        g_string_append_c(out, (char) *c);
                else
                        g_string_append_printf(out, "\\%03o", *c);
}

char *aa_path_quote(const char *path) {
        GString *out = g_string_new("\"");
        quote_append(out, path);
        g_string_append_c(out, '"');
        return g_string_free(out, FALSE);
}

char *aa_path_quote_tree(const char *path) {
        GString *out = g_string_new("\"");
        quote_append(out, path);
        g_string_append(out, strcmp(path, "/") == 0 ? "**\"" : "/**\"");
        return g_string_free(out, FALSE);
}

int aa_path_check(const char *path, size_t len, AaAccess access, char **ret_path, BwError *reterr) {
        g_autofree char *norm = NULL;
        bool never;
        int r = aa_path_normalize(path, len, &norm, reterr);

        if (r < 0)
                return r;
        const char *entry = aa_path_restricted(norm, access, &never);
        if (entry) {
                g_autofree char *shown = path_shown(path, len);
                return error_set(reterr, -EPERM, "path '%s': refused: '%s' is never %s", shown, entry,
                                 never ? "allowed to a guest" : "writable by a guest");
        }
        *ret_path = g_steal_pointer(&norm);
        return 0;
}
