/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives the built cgroup-bpf plugin module the way the core does: dlopen,
 * a host with a configuration table and a log, a change sink. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <bulwark/plugin.h>

typedef struct HostChange {
        char *kind, *object, *detail;
        void *data;
        size_t data_len;
        unsigned char undo[BW_RECORD_DEFAULT];
        size_t undo_len;
} HostChange;

typedef struct PluginHost {
        BwHost host;
        const char *keys[8];
        const char *values[8];
        char last_error[2048];
        char last_warning[2048];
        void *dl;
        const BwPluginEntry *entry;
        void *state;
        HostChange changes[64];
        size_t n_changes;
} PluginHost;

/* Loads the module from the build tree; config is "key=value" pairs,
 * NULL-terminated.  Returns the init() result. */
int plugin_host_open(PluginHost *h, const char *const *config);
void plugin_host_close(PluginHost *h);
void plugin_host_clear(PluginHost *h);
/* Forgets (and frees) the changes from index n on. */
void plugin_host_truncate(PluginHost *h, size_t n);

int plugin_host_plan(PluginHost *h, const BwGuestInfo *g);
int plugin_host_attach(PluginHost *h, const BwGuestInfo *g, const BwResource *r, bool detach);
/* Applies the collected changes from `first` on, in order; stops at a failure. */
int plugin_host_apply(PluginHost *h, const BwGuestInfo *g, size_t first);
/* Undoes the collected changes down to `first`, in reverse. */
int plugin_host_undo(PluginHost *h, const BwGuestInfo *g, size_t first, bool with_records);
