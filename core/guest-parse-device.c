/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [device:<id>]: a device node under /dev and the access the guest gets
 * to it (r, w, m: the device-rule bits). */
#include "config.h"

#include <errno.h>

#include <glib.h>

#include "guest-parse-private.h"

int gp_device_parse(Parser *p, BwResource *res) {
        g_autofree char *access = NULL;
        int r;

        if ((r = gp_value_dev_path(p, "path", &res->path)) < 0 || (r = gp_value_get(p, "access", false, &access)) < 0)
                return r;
        res->access = access ? 0 : BW_ACCESS_READ | BW_ACCESS_WRITE;
        for (const char *c = access; c && *c; c++) {
                unsigned bit = *c == 'r' ? BW_ACCESS_READ : *c == 'w' ? BW_ACCESS_WRITE : *c == 'm' ? BW_ACCESS_MKNOD : 0;
                if (bit == 0 || (res->access & bit)) {
                        g_autofree char *q = gp_quote(access);
                        return gp_fail_key(p, "access", "'%s' is not a combination of r, w and m", q);
                }
                res->access |= bit;
        }
        res->readonly = !(res->access & BW_ACCESS_WRITE);
        guest_add_path(p->guest, res->path, BW_PATH_DEVICE_NODE);
        return 0;
}
