/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "settings-options.h"

bool settings_option_set(BwOptions *options, int c, const char *arg) {
        switch (c) {
        case SETTINGS_OPTION_FIRST: options->config_path = arg; return true;
        case SETTINGS_OPTION_FIRST + 1: options->plugin_dir = arg; return true;
        case SETTINGS_OPTION_FIRST + 2: options->plugins = arg; return true;
        case SETTINGS_OPTION_FIRST + 3: options->state_dir = arg; return true;
        case SETTINGS_OPTION_FIRST + 4: options->run_dir = arg; return true;
        case SETTINGS_OPTION_FIRST + 5: options->cgroup_root = arg; return true;
        default: return false;
        }
}
