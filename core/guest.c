/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest model: storage of a parsed definition, its accessors and the
 * public entry points.  Parsing itself is in guest-parse.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "util/error.h"
#include "util/fd-util.h"
#include "guest-parse.h"
#include "guest.h"
#include "util/log.h"

/* Not in guest.h: manager.c defines its own, and two would clash. */

/* One path of one resource, while the guest is being built. */
typedef struct GuestPath {
        const char *path;
        BwPathRole role;
        guint resource;            /* index of the resource it belongs to */
} GuestPath;

/* A message about a host object that was not found, kept in resource
 * order whatever the order of the lookups. */
typedef struct GuestUnresolved {
        guint order;               /* 0: [guest] itself; resource index + 1 */
        char *message;
} GuestUnresolved;

struct BwGuest {
        BwGuestInfo info;
        char *text;                /* NUL-terminated definition text */
        char *source;
        /* Kept for guest_copy(): it re-parses with the same options and
         * resolves the cgroup against the same root. */
        char *sysfs_root;
        bool skip_host;
        char *cgroup_root;
        /* Every string of info lives here: one allocation per few KiB,
         * whatever the number of resources. */
        GStringChunk *strings;
        GArray *resources;         /* BwResource */
        const BwResource **resource_ptrs; /* info.resources: one pointer into resources each */
        GArray *path_counts;       /* size_t per resource, until guest_seal() */
        GArray *path_list;         /* GuestPath, in the order they were added */
        const char **paths;        /* flat arrays the resources point into */
        BwPathRole *roles;
        GArray *unresolved_list;   /* GuestUnresolved, until guest_seal() */
        GPtrArray *unresolved;     /* char *, in resource order, from guest_seal() on */
        GPtrArray *hotplug_dirs;   /* interned paths: info.hotplug_dirs */
        GArray *groups;            /* gid_t: info.groups */
        bool sealed;
};

/* ---- Building ---------------------------------------------------------- */

BwGuest *guest_new(const char *text, size_t len, const char *source, const GuestParseOptions *options) {
        BwGuest *g = g_new0(BwGuest, 1);

        g->text = g_strndup(text ? text : "", len);
        g->source = g_strdup(source);
        if (options) {
                g->sysfs_root = g_strdup(options->sysfs_root);
                g->skip_host = options->skip_host;
        }
        g->strings = g_string_chunk_new(4096);
        g->resources = g_array_new(FALSE, TRUE, sizeof(BwResource));
        g->path_counts = g_array_new(FALSE, TRUE, sizeof(size_t));
        g->path_list = g_array_new(FALSE, FALSE, sizeof(GuestPath));
        g->unresolved_list = g_array_new(FALSE, FALSE, sizeof(GuestUnresolved));
        g->unresolved = g_ptr_array_new_with_free_func(g_free);
        g->hotplug_dirs = g_ptr_array_new();
        g->groups = g_array_new(FALSE, FALSE, sizeof(gid_t));
        return g;
}

BwGuestInfo *guest_edit_info(BwGuest *guest) {
        g_assert(!guest->sealed);
        return &guest->info;
}

const char *guest_intern(BwGuest *guest, const char *s) {
        return s ? g_string_chunk_insert(guest->strings, s) : NULL;
}

BwResource *guest_add_resource(BwGuest *guest, BwResourceType type, const char *id) {
        BwResource r = { .size = sizeof(BwResource), .type = type, .id = guest_intern(guest, id) };
        size_t zero = 0;

        g_assert(!guest->sealed);
        g_array_append_val(guest->resources, r);
        g_array_append_val(guest->path_counts, zero);
        return &g_array_index(guest->resources, BwResource, guest->resources->len - 1);
}

void guest_add_hotplug_dir(BwGuest *guest, const char *path) {
        g_assert(!guest->sealed);
        g_ptr_array_add(guest->hotplug_dirs, (gpointer) guest_intern(guest, path));
}

bool guest_add_group(BwGuest *guest, gid_t gid) {
        g_assert(!guest->sealed);
        for (guint i = 0; i < guest->groups->len; i++)
                if (g_array_index(guest->groups, gid_t, i) == gid)
                        return false;
        g_array_append_val(guest->groups, gid);
        return true;
}

size_t guest_get_n_added(const BwGuest *guest) {
        return guest->resources->len;
}

void guest_add_path_to(BwGuest *guest, size_t resource, const char *path, BwPathRole role) {
        GuestPath p = { guest_intern(guest, path), role, (guint) resource };

        g_assert(!guest->sealed && resource < guest->resources->len);
        g_array_append_val(guest->path_list, p);
        g_array_index(guest->path_counts, size_t, resource)++;
}

void guest_add_path(BwGuest *guest, const char *path, BwPathRole role) {
        g_assert(guest->resources->len > 0);
        guest_add_path_to(guest, guest->resources->len - 1, path, role);
}

const char *guest_get_added_path(const BwGuest *guest, size_t index, BwPathRole *ret_role) {
        g_assert(!guest->sealed);
        if (index >= guest->path_list->len)
                return NULL;
        const GuestPath *p = &g_array_index(guest->path_list, GuestPath, index);
        if (ret_role)
                *ret_role = p->role;
        return p->path;
}

static void unresolved_add(BwGuest *guest, guint order, const char *format, va_list ap) G_GNUC_PRINTF(3, 0);
static void unresolved_add(BwGuest *guest, guint order, const char *format, va_list ap) {
        GuestUnresolved u = { order, g_strdup_vprintf(format, ap) };
        log_debug("%s", u.message);
        g_array_append_val(guest->unresolved_list, u);
}

void guest_add_unresolved_to(BwGuest *guest, size_t resource, const char *format, ...) {
        va_list ap;

        g_assert(!guest->sealed && resource < guest->resources->len);
        va_start(ap, format);
        unresolved_add(guest, (guint) resource + 1, format, ap);
        va_end(ap);
}

void guest_add_unresolved_main(BwGuest *guest, const char *format, ...) {
        va_list ap;

        g_assert(!guest->sealed);
        va_start(ap, format);
        unresolved_add(guest, 0, format, ap);
        va_end(ap);
}

static int unresolved_compare(gconstpointer a, gconstpointer b) {
        const GuestUnresolved *x = a, *y = b;
        return x->order < y->order ? -1 : x->order > y->order;
}

void guest_seal(BwGuest *guest) {
        size_t n = guest->path_list->len, next = 0;

        g_assert(!guest->sealed);
        /* Never NULL, so a plugin may index paths[0..n_paths) of any resource. */
        guest->paths = g_new(const char *, n + 1);
        guest->roles = g_new(BwPathRole, n + 1);
        /* Each resource's slice starts after those of the resources before
         * it; within a slice, paths keep the order they were added in (a
         * disk's backing files, added last, follow its image). */
        g_autofree size_t *fill = g_new(size_t, guest->resources->len + 1);
        for (guint i = 0; i < guest->resources->len; i++) {
                BwResource *r = &g_array_index(guest->resources, BwResource, i);
                r->n_paths = g_array_index(guest->path_counts, size_t, i);
                r->paths = guest->paths + next;
                r->roles = guest->roles + next;
                fill[i] = next;
                next += r->n_paths;
        }
        for (size_t i = 0; i < n; i++) {
                const GuestPath *p = &g_array_index(guest->path_list, GuestPath, i);
                size_t at = fill[p->resource]++;
                guest->paths[at] = p->path;
                guest->roles[at] = p->role;
        }
        /* Stable: messages of one resource keep their order. */
        g_array_sort(guest->unresolved_list, unresolved_compare);
        for (guint i = 0; i < guest->unresolved_list->len; i++)
                g_ptr_array_add(guest->unresolved, g_array_index(guest->unresolved_list, GuestUnresolved, i).message);
        g_array_set_size(guest->unresolved_list, 0);
        g_clear_pointer(&guest->path_list, g_array_unref);
        g_clear_pointer(&guest->path_counts, g_array_unref);
        guest->resource_ptrs = g_new(const BwResource *, guest->resources->len + 1);
        for (guint i = 0; i < guest->resources->len; i++)
                guest->resource_ptrs[i] = &g_array_index(guest->resources, BwResource, i);
        guest->info.size = sizeof(BwGuestInfo);
        guest->info.n_resources = guest->resources->len;
        guest->info.resources = guest->resource_ptrs;
        guest->info.n_hotplug_dirs = guest->hotplug_dirs->len;
        guest->info.hotplug_dirs = (const char *const *) guest->hotplug_dirs->pdata;
        guest->info.n_groups = guest->groups->len;
        guest->info.groups = (const gid_t *) (void *) guest->groups->data;
        guest->sealed = true;
}

/* ---- Names and identities ---------------------------------------------- */

const char *guest_name_why_invalid(const char *s) {
        size_t n = strlen(s);

        if (n == 0)
                return "it is empty";
        if (n > GUEST_NAME_MAX)
                return "it is longer than " G_STRINGIFY(GUEST_NAME_MAX) " bytes";
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
                return "it holds a character other than a-z A-Z 0-9 _ . -";
        /* A hidden journal file `recover` skips, a hidden cgroup, and "."
         * and ".." (directories, not a guest). */
        if (s[0] == '.')
                return "it starts with '.'";
        return NULL;
}

bool guest_name_is_valid(const char *s) {
        return guest_name_why_invalid(s) == NULL;
}

/* The first component of an absolute normalized path, and what follows it. */
static bool path_first_component(const char *path, const char *name, const char **ret_rest) {
        size_t n = strlen(name);

        if (path[0] != '/' || strncmp(path + 1, name, n) != 0 || (path[1 + n] != '/' && path[1 + n] != '\0'))
                return false;
        *ret_rest = path + 1 + n;
        return true;
}

const char *guest_path_per_process(const char *path) {
        const char *rest, *sub;

        if (path_first_component(path, "dev", &rest)) {
                if (g_str_equal(rest, "/stdin") || g_str_equal(rest, "/stdout") || g_str_equal(rest, "/stderr"))
                        return "/dev/stdin, /dev/stdout and /dev/stderr are the standard streams of whichever process opens them";
                if (path_first_component(rest, "fd", &sub))
                        return "/dev/fd/N is descriptor N of whichever process opens it";
                return NULL;
        }
        if (!path_first_component(path, "proc", &rest))
                return NULL;
        if (path_first_component(rest, "self", &sub) || path_first_component(rest, "thread-self", &sub))
                return "/proc/self and /proc/thread-self are whichever process opens them (its descriptors, root and files)";
        if (rest[0] != '/')
                return NULL; /* "/proc" itself */
        size_t digits = strspn(rest + 1, "0123456789");
        if (digits > 0 && (rest[1 + digits] == '/' || rest[1 + digits] == '\0'))
                return "/proc/<pid> is one process (fd/N, root and cwd are what it has open), not a host resource";
        return NULL;
}

/* bulwark's namespace for name-based (version 5) guest UUIDs.  Changing
 * it changes the UUID, and so the AppArmor profile name, of every guest
 * that gives none. */
static const uint8_t guest_uuid_namespace[16] = {
        0x5f, 0x3c, 0xf7, 0x90, 0x37, 0x4f, 0x4c, 0xdb,
        0x9c, 0xf6, 0xf8, 0x57, 0xc8, 0xa6, 0xf7, 0x2b,
};

static char *uuid_format(const uint8_t b[16]) {
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                               b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                               b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *guest_uuid_from_name(const char *name) {
        g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
        uint8_t digest[20];
        gsize len = sizeof(digest);

        g_checksum_update(sha1, guest_uuid_namespace, sizeof(guest_uuid_namespace));
        g_checksum_update(sha1, (const guchar *) name, (gssize) strlen(name));
        g_checksum_get_digest(sha1, digest, &len);
        digest[6] = (uint8_t) ((digest[6] & 0x0f) | 0x50); /* version 5 */
        digest[8] = (uint8_t) ((digest[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        return uuid_format(digest);
}

/* The canonical lower-case form of a 36-character UUID, or NULL. */
char *guest_uuid_normalize(const char *s) {
        uint8_t b[16] = {}, any = 0;
        size_t n = 0;

        if (strlen(s) != 36)
                return NULL;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash != (s[i] == '-') || (!dash && !g_ascii_isxdigit(s[i])))
                        return NULL;
                if (!dash) {
                        b[n / 2] = (uint8_t) (b[n / 2] << 4 | g_ascii_xdigit_value(s[i]));
                        any |= b[n / 2];
                        n++;
                }
        }
        /* The nil UUID is a placeholder, not an identity. */
        return any ? uuid_format(b) : NULL;
}

/* One getpwnam_r()/getgrnam_r() call: 0 found, -ENOENT not found,
 * -ERANGE buffer too small, other -errno. */
static int identity_lookup_once(const char *s, bool is_group, char *buf, size_t size, uint32_t *ret) {
        int r;
        bool found;

        if (is_group) {
                struct group gr, *res = NULL;
                r = getgrnam_r(s, &gr, buf, size, &res);
                found = r == 0 && res;
                if (found)
                        *ret = (uint32_t) res->gr_gid;
        } else {
                struct passwd pw, *res = NULL;
                r = getpwnam_r(s, &pw, buf, size, &res);
                found = r == 0 && res;
                if (found)
                        *ret = (uint32_t) res->pw_uid;
        }
        if (found)
                return 0;
        /* The manual lists these as ways NSS modules say "no such name". */
        if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
                return -ENOENT;
        return -r;
}

int guest_identity_lookup(const char *s, bool is_group, uint32_t *ret) {
        static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$";
        size_t n = strspn(s, "0123456789"), len = strlen(s);

        if (n > 0 && n == len) {
                guint64 v = n <= 10 ? g_ascii_strtoull(s, NULL, 10) : G_MAXUINT64;
                /* (uid_t) -1 means "no change" to chown(): never an identity. */
                if (v >= UINT32_MAX)
                        return -ERANGE;
                *ret = (uint32_t) v;
                return 0;
        }
        if (len == 0 || len > 256 || s[0] == '-' || strspn(s, name_chars) != len)
                return -EINVAL;
        long hint = sysconf(is_group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
        for (size_t size = hint > 0 ? (size_t) hint : 4096; size <= 1024 * 1024; size *= 2) {
                g_autofree char *buf = g_malloc(size);
                int r = identity_lookup_once(s, is_group, buf, size, ret);
                if (r != -ERANGE)
                        return r;
        }
        return -ENOMEM;
}

/* ---- Public entry points ----------------------------------------------- */

BW_PUBLIC void bw_guest_free(BwGuest *guest) {
        if (!guest)
                return;
        g_free(guest->text);
        g_free(guest->source);
        g_free(guest->sysfs_root);
        g_free(guest->cgroup_root);
        g_string_chunk_free(guest->strings);
        g_ptr_array_unref(guest->hotplug_dirs);
        g_array_unref(guest->groups);
        g_array_unref(guest->resources);
        if (guest->path_counts)
                g_array_unref(guest->path_counts);
        if (guest->path_list)
                g_array_unref(guest->path_list);
        for (guint i = 0; guest->unresolved_list && i < guest->unresolved_list->len; i++)
                g_free(g_array_index(guest->unresolved_list, GuestUnresolved, i).message);
        if (guest->unresolved_list)
                g_array_unref(guest->unresolved_list);
        g_free(guest->paths);
        g_free(guest->roles);
        g_free(guest->resource_ptrs);
        g_ptr_array_unref(guest->unresolved);
        g_free(guest);
}

BW_PUBLIC int bw_guest_load_data(const char *data, size_t len, const char *source, BwGuest **ret,
                                 BwError *reterr) {
        if (!ret || (!data && len > 0))
                return error_set(reterr, -EINVAL, "guest definition: invalid arguments");
        return guest_parse(data ? data : "", len, source ? source : "<data>", NULL, ret, reterr);
}

/* Reads at most GUEST_TEXT_MAX + 1 bytes: one more tells "too large". */
static int guest_read_file(int fd, const char *path, GByteArray *buf, BwError *reterr) {
        uint8_t chunk[65536];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(reterr, -errno, "%s: cannot read: %m", path);
                if (n == 0)
                        return 0;
                g_byte_array_append(buf, chunk, (guint) n);
                if (buf->len > GUEST_TEXT_MAX)
                        return error_set(reterr, -E2BIG, "%s: guest definition larger than %zu MiB", path,
                                         GUEST_TEXT_MAX / (1024 * 1024));
        }
}

BW_PUBLIC int bw_guest_load_file(const char *path, BwGuest **ret, BwError *reterr) {
        struct stat st;
        int r;

        if (!path || !ret)
                return error_set(reterr, -EINVAL, "guest definition: invalid arguments");
        /* O_NONBLOCK: a FIFO must not hang the caller; it is refused below. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return error_set(reterr, -errno, "%s: cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return error_set(reterr, -errno, "%s: cannot stat: %m", path);
        if (!S_ISREG(st.st_mode))
                return error_set(reterr, -EINVAL, "%s: not a regular file", path);
        if ((uint64_t) st.st_size > GUEST_TEXT_MAX)
                return error_set(reterr, -E2BIG, "%s: guest definition larger than %zu MiB", path,
                                 GUEST_TEXT_MAX / (1024 * 1024));
        g_autoptr(GByteArray) buf = g_byte_array_sized_new((guint) st.st_size);
        r = guest_read_file(fd, path, buf, reterr);
        if (r < 0)
                return r;
        return guest_parse((const char *) buf->data, buf->len, path, NULL, ret, reterr);
}

BW_PUBLIC const BwGuestInfo *bw_guest_info(const BwGuest *guest) {
        return guest ? &guest->info : NULL;
}

BW_PUBLIC const char *bw_resource_type_to_string(BwResourceType type) {
        static const char *const names[] = {
                [BW_RESOURCE_DISK] = "disk",         [BW_RESOURCE_HOSTDEV] = "hostdev",
                [BW_RESOURCE_DEVICE] = "device",     [BW_RESOURCE_CHARDEV] = "chardev",
                [BW_RESOURCE_KERNEL] = "kernel",     [BW_RESOURCE_FIRMWARE] = "firmware",
                [BW_RESOURCE_TPM] = "tpm",           [BW_RESOURCE_MEMORY] = "memory",
        };
        if ((unsigned) type >= G_N_ELEMENTS(names))
                return NULL;
        return names[type];
}

BW_PUBLIC const char *bw_path_role_to_string(BwPathRole role) {
        static const char *const names[] = {
                [BW_PATH_IMAGE] = "image",
                [BW_PATH_IMAGE_READONLY] = "image-readonly",
                [BW_PATH_BACKING] = "backing",
                [BW_PATH_DEVICE_NODE] = "device-node",
                [BW_PATH_CHARDEV] = "chardev",
                [BW_PATH_KERNEL] = "kernel",
                [BW_PATH_NVRAM] = "nvram",
                [BW_PATH_STATE_DIR] = "state-dir",
                [BW_PATH_MEMORY] = "memory",
        };
        if ((unsigned) role >= G_N_ELEMENTS(names))
                return NULL;
        return names[role];
}

/* ---- Internal accessors ------------------------------------------------ */

const char *guest_get_text(const BwGuest *guest) {
        return guest->text;
}

const char *guest_get_source(const BwGuest *guest) {
        return guest->source;
}

const char *guest_get_name(const BwGuest *guest) {
        return guest->info.name;
}

size_t guest_get_n_unresolved(const BwGuest *guest) {
        return guest->unresolved->len;
}

const char *guest_get_unresolved(const BwGuest *guest, size_t index) {
        return index < guest->unresolved->len ? g_ptr_array_index(guest->unresolved, index) : NULL;
}

BW_PUBLIC size_t bw_guest_unresolved_count(const BwGuest *guest) {
        return guest_get_n_unresolved(guest);
}

BW_PUBLIC const char *bw_guest_unresolved(const BwGuest *guest, size_t index) {
        return guest_get_unresolved(guest, index);
}

int guest_check_resolved(const BwGuest *guest, BwError *reterr) {
        if (guest->unresolved->len == 0)
                return 0;
        return error_set(reterr, -ENODEV, "%s", (const char *) g_ptr_array_index(guest->unresolved, 0));
}

void guest_get_parse_options(const BwGuest *guest, GuestParseOptions *ret) {
        *ret = (GuestParseOptions){
                .sysfs_root = guest->sysfs_root,
                .skip_host = guest->skip_host,
        };
}

int guest_inherit_cgroup(const BwGuest *from, BwGuest *to, BwError *reterr) {
        if (!from->cgroup_root)
                return 0;
        int r = guest_resolve_cgroup(to, from->cgroup_root);
        if (r < 0)
                return error_set(reterr, r, "guest '%s': cannot resolve cgroup: %m", from->info.name);
        return 0;
}

int guest_copy(const BwGuest *guest, BwGuest **ret, BwError *reterr) {
        GuestParseOptions options;
        g_autoptr(BwGuest) copy = NULL;
        int r;

        guest_get_parse_options(guest, &options);
        r = guest_parse(guest->text, strlen(guest->text), guest->source, &options, &copy, reterr);
        if (r < 0)
                return r;
        r = guest_inherit_cgroup(guest, copy, reterr);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&copy);
        return 0;
}

int guest_resolve_cgroup(BwGuest *guest, const char *cgroup_root) {
        if (!cgroup_root || cgroup_root[0] != '/')
                return -EINVAL;
        if (guest->info.cgroup_given)
                return 0;
        /* Trailing slashes of the root would double up in the path. */
        size_t len = strlen(cgroup_root);
        while (len > 1 && cgroup_root[len - 1] == '/')
                len--;
        g_autofree char *root = g_strndup(cgroup_root, len);
        g_autofree char *path = g_strdup_printf("%s/bulwark/%s", len == 1 ? "" : root, guest->info.name);
        guest->info.cgroup = guest_intern(guest, path);
        g_free(guest->cgroup_root);
        guest->cgroup_root = g_steal_pointer(&root);
        return 0;
}
