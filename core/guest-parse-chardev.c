/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* [chardev:<id>]: a character device backend by type: file, socket and
 * pipe name a path; a pty has none (it is allocated at start). */
#include "config.h"

#include <errno.h>

#include <glib.h>

#include "guest-parse-private.h"

int gp_chardev_parse(Parser *p, BwResource *res) {
        /* In BwChardevType order, from BW_CHARDEV_FILE. */
        static const char *const types[] = { "file", "socket", "pipe", "pty", NULL };
        int index, r;

        r = gp_value_enum(p, "type", types, -1, &index);
        if (r < 0)
                return r;
        res->chardev_type = (BwChardevType) (BW_CHARDEV_FILE + index);
        /* A pty is allocated when the guest starts: there is no path to name. */
        if (res->chardev_type == BW_CHARDEV_PTY)
                return gp_group_key(p, "path") ? gp_fail_key(p, "path", "type=pty takes no path") : 0;
        r = gp_value_path(p, "path", true, &res->path);
        if (r < 0)
                return r;
        guest_add_path(p->guest, res->path, BW_PATH_CHARDEV);
        return 0;
}
