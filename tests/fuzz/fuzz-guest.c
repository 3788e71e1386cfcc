/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: guest definition text, through the public entry point.
 *
 * A definition that loads is walked completely, so ASan sees any string or
 * array of BwGuestInfo that points outside what the guest owns. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bulwark/bulwark.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t info_walk(const BwGuestInfo *info) {
        size_t sum = strlen(info->name) + strlen(info->uuid) + (info->cgroup ? strlen(info->cgroup) : 0);

        for (size_t i = 0; i < info->n_resources; i++) {
                const BwResource *r = info->resources[i];
                sum += strlen(r->id) + strlen(bw_resource_type_to_string(r->type));
                sum += r->path ? strlen(r->path) : 0;
                sum += r->pci_address ? strlen(r->pci_address) : 0;
                for (size_t j = 0; j < r->n_paths; j++) {
                        /* Every listed path is absolute and has a known role. */
                        if (r->paths[j][0] != '/' || !bw_path_role_to_string(r->roles[j]))
                                abort();
                        sum += strlen(r->paths[j]);
                }
        }
        return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        BwGuest *guest = NULL;
        BwError err;

        if (bw_guest_load_data((const char *) data, size, "fuzz", &guest, &err) < 0) {
                /* A failure always explains itself. */
                if (err.code >= 0 || strncmp(err.message, "fuzz", 4) != 0)
                        abort();
                return 0;
        }
        volatile size_t sink = info_walk(bw_guest_info(guest));
        (void) sink;
        bw_guest_free(guest);
        return 0;
}
