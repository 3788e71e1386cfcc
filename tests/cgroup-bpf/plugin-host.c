/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin-host.h"
#include "test-util.h"

static void host_log(const BwHost *host, int level, const char *message) {
        PluginHost *h = host->userdata;
        if (level <= BW_LOG_ERR)
                snprintf(h->last_error, sizeof(h->last_error), "%s", message);
        else if (level == BW_LOG_WARNING)
                snprintf(h->last_warning, sizeof(h->last_warning), "%s", message);
        if (level <= BW_LOG_WARNING)
                fprintf(stderr, "# plugin: %s\n", message);
}

static const char *host_config(const BwHost *host, const char *key) {
        PluginHost *h = host->userdata;
        for (size_t i = 0; i < 8 && h->keys[i]; i++)
                if (strcmp(h->keys[i], key) == 0)
                        return h->values[i];
        return NULL;
}

static int sink_emit(BwChangeSink *sink, const BwChange *c) {
        PluginHost *h = sink->userdata;
        if (h->n_changes == 64 || c->size < BW_CHANGE_SIZE_MIN || c->data_len > h->entry->record_max)
                return -EINVAL;
        HostChange *hc = &h->changes[h->n_changes++];
        memset(hc, 0, sizeof(*hc));
        hc->kind = strdup(c->kind);
        hc->object = strdup(c->object);
        hc->detail = strdup(c->detail ? c->detail : "");
        hc->data = malloc(c->data_len ? c->data_len : 1);
        memcpy(hc->data, c->data, c->data_len);
        hc->data_len = c->data_len;
        return 0;
}

int plugin_host_open(PluginHost *h, const char *const *config) {
        static char pairs[8][2][1024];
        memset(h, 0, sizeof(*h));
        for (size_t i = 0; config && config[i] && i < 8; i++) {
                const char *eq = strchr(config[i], '=');
                snprintf(pairs[i][0], sizeof(pairs[i][0]), "%.*s", (int) (eq - config[i]), config[i]);
                snprintf(pairs[i][1], sizeof(pairs[i][1]), "%s", eq + 1);
                h->keys[i] = pairs[i][0];
                h->values[i] = pairs[i][1];
        }
        h->host = (BwHost) { .size = sizeof(BwHost), .log = host_log, .config = host_config, .userdata = h };
        char *path = test_builddir_path("plugins/cgroup-bpf/.libs/cgroup-bpf.so");
        h->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h->dl) {
                fprintf(stderr, "# dlopen %s: %s\n", path, dlerror());
                free(path);
                return -ENOENT;
        }
        free(path);
        h->entry = dlsym(h->dl, BW_PLUGIN_ENTRY_SYMBOL);
        if (!h->entry)
                return -ENOENT;
        return h->entry->init(&h->host, &h->state);
}

void plugin_host_clear(PluginHost *h) {
        plugin_host_truncate(h, 0);
}

void plugin_host_truncate(PluginHost *h, size_t n) {
        for (size_t i = n; i < h->n_changes; i++) {
                free(h->changes[i].kind);
                free(h->changes[i].object);
                free(h->changes[i].detail);
                free(h->changes[i].data);
        }
        if (n < h->n_changes)
                h->n_changes = n;
}

void plugin_host_close(PluginHost *h) {
        plugin_host_clear(h);
        if (h->entry && h->state)
                h->entry->fini(h->state);
        if (h->dl)
                dlclose(h->dl);
        h->state = NULL;
        h->dl = NULL;
}

int plugin_host_plan(PluginHost *h, const BwGuestInfo *g) {
        BwChangeSink sink = { .emit = sink_emit, .userdata = h };
        return h->entry->plan(h->state, g, &sink);
}

int plugin_host_attach(PluginHost *h, const BwGuestInfo *g, const BwResource *r, bool detach) {
        BwChangeSink sink = { .emit = sink_emit, .userdata = h };
        return (detach ? h->entry->detach : h->entry->attach)(h->state, g, r, &sink);
}

static BwChange host_change(const HostChange *hc) {
        return (BwChange) { .size = sizeof(BwChange), .kind = hc->kind, .object = hc->object, .detail = hc->detail, .data = hc->data,
                            .data_len = hc->data_len };
}

int plugin_host_apply(PluginHost *h, const BwGuestInfo *g, size_t first) {
        for (size_t i = first; i < h->n_changes; i++) {
                BwChange c = host_change(&h->changes[i]);
                BwApplyContext ctx = { .size = sizeof(ctx), .holder = g->uuid };
                int r = h->entry->apply(h->state, g, &c, &ctx, h->changes[i].undo, sizeof(h->changes[i].undo),
                                        &h->changes[i].undo_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plugin_host_undo(PluginHost *h, const BwGuestInfo *g, size_t first, bool with_records) {
        for (size_t i = h->n_changes; i > first; i--) {
                BwChange c = host_change(&h->changes[i - 1]);
                BwApplyContext ctx = { .size = sizeof(ctx), .holder = g->uuid };
                int r = h->entry->undo(h->state, g, &c, &ctx, with_records ? h->changes[i - 1].undo : NULL,
                                       with_records ? h->changes[i - 1].undo_len : 0);
                if (r < 0)
                        return r;
        }
        return 0;
}
