/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The single groups, [kernel], [firmware], [tpm] and [memory]: together
 * because each is a few lines of the same kind (one or two path keys,
 * listed with a role; no host lookup), and [tpm] and [memory] share
 * single_path_parse(). */
#include "config.h"

#include <errno.h>

#include <glib.h>

#include "guest-parse-private.h"

/* [kernel]: direct kernel boot.  No cmdline key, on purpose (see
 * gp_group_check_keys()). */
int gp_kernel_parse(Parser *p, BwResource *res) {
        const char *initrd;
        int r;

        if ((r = gp_value_path(p, "kernel", true, &res->path)) < 0 ||
            (r = gp_value_path(p, "initrd", false, &initrd)) < 0)
                return r;
        res->readonly = true;
        guest_add_path(p->guest, res->path, BW_PATH_KERNEL);
        if (initrd)
                guest_add_path(p->guest, initrd, BW_PATH_KERNEL);
        return 0;
}

/* [firmware]: the loader (read-only) and the variable store (read-write). */
int gp_firmware_parse(Parser *p, BwResource *res) {
        const char *loader, *nvram;
        int r;

        if ((r = gp_value_path(p, "loader", false, &loader)) < 0 || (r = gp_value_path(p, "nvram", false, &nvram)) < 0)
                return r;
        if (!loader && !nvram)
                return gp_fail_group(p, "needs 'loader', 'nvram' or both");
        res->path = loader ? loader : nvram;
        res->readonly = !nvram;
        if (loader)
                guest_add_path(p->guest, loader, BW_PATH_KERNEL);
        if (nvram)
                guest_add_path(p->guest, nvram, BW_PATH_NVRAM);
        return 0;
}

/* [tpm] and [memory]: one required path. */
static int single_path_parse(Parser *p, BwResource *res, const char *key, BwPathRole role) {
        int r = gp_value_path(p, key, true, &res->path);

        if (r < 0)
                return r;
        guest_add_path(p->guest, res->path, role);
        return 0;
}

int gp_tpm_parse(Parser *p, BwResource *res) {
        return single_path_parse(p, res, "state", BW_PATH_STATE_DIR);
}

int gp_memory_parse(Parser *p, BwResource *res) {
        return single_path_parse(p, res, "backing", BW_PATH_MEMORY);
}
