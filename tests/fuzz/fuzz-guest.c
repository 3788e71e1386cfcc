/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: guest definition text, through the public entry point.
 *
 * A definition that loads is walked completely, so ASan sees any string or
 * array of BwGuestInfo that points outside what the guest owns.  Then the
 * text editing of attach and detach runs on it: one resource group added
 * (whatever the old text ends with) and the first one removed (whatever
 * comments and blank lines surround it), and the results are walked too. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bulwark/bulwark.h>

#include "core/guest-parse.h"

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
        const BwGuestInfo *info = bw_guest_info(guest);
        volatile size_t sink = info_walk(info);

        BwGuest *plus = NULL;
        const BwResource *added = NULL;
        int r = guest_parse_with_resource(guest, "[disk:fuzz-added]\npath=/fuzz.img\n", "res", &plus, &added, &err);
        if (r >= 0) {
                const BwGuestInfo *pi = bw_guest_info(plus);
                /* the new group is the last resource, and nothing else changed in number */
                if (pi->n_resources != info->n_resources + 1 || added != pi->resources[pi->n_resources - 1] ||
                    strcmp(added->id, "fuzz-added") != 0)
                        abort();
                sink += info_walk(pi);
                bw_guest_free(plus);
        } else if (err.code >= 0 || (strncmp(err.message, "res", 3) != 0 && strncmp(err.message, "fuzz", 4) != 0))
                abort();
        if (info->n_resources > 0) {
                BwGuest *minus = NULL;
                char *ref = guest_resource_ref(info->resources[0]);
                if (guest_parse_without_resource(guest, ref, &minus, &err) >= 0) {
                        const BwGuestInfo *mi = bw_guest_info(minus);
                        if (mi->n_resources != info->n_resources - 1)
                                abort();
                        /* the others keep their order */
                        for (size_t i = 0; i < mi->n_resources; i++)
                                if (mi->resources[i]->type != info->resources[i + 1]->type ||
                                    strcmp(mi->resources[i]->id, info->resources[i + 1]->id) != 0)
                                        abort();
                        sink += info_walk(mi);
                        bw_guest_free(minus);
                } else if (err.code >= 0)
                        abort();
                g_free(ref);
        }
        (void) sink;
        bw_guest_free(guest);
        return 0;
}
