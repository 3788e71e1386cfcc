/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Adopting the running guests when the host daemon starts: recover what a
 * crash interrupted, then let every plugin find what it left on the host,
 * guest by guest, and report each guest's outcome.  Nothing here undoes
 * anything for a guest whose host state is gone: a person decides. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include "guest-lock.h"
#include "manager.h"
#include "plugin-loader.h"

typedef struct AdoptPlugin {
        char *plugin;
        int result;
        char *message;
} AdoptPlugin;

typedef struct AdoptGuest {
        char *name;
        BwAdoptOutcome outcome;
        bool recovered;
        char *message;
        GPtrArray *plugins;        /* AdoptPlugin*, in plugin order */
} AdoptGuest;

struct BwAdoptReport {
        GPtrArray *guests;         /* AdoptGuest*, sorted by name */
        unsigned recovered;
};

static void adopt_plugin_free(AdoptPlugin *p) {
        g_free(p->plugin);
        g_free(p->message);
        g_free(p);
}

static void adopt_guest_free(AdoptGuest *g) {
        g_ptr_array_unref(g->plugins);
        g_free(g->name);
        g_free(g->message);
        g_free(g);
}

static AdoptGuest *adopt_guest_new(const char *name) {
        AdoptGuest *g = g_new0(AdoptGuest, 1);
        g->name = g_strdup(name);
        g->plugins = g_ptr_array_new_with_free_func((GDestroyNotify) adopt_plugin_free);
        return g;
}

static void adopt_guest_set(AdoptGuest *g, BwAdoptOutcome outcome, char *message) {
        g->outcome = outcome;
        g_free(g->message);
        g->message = message;
}

/* Calls every initialized plugin's adopt() in order, each even after one
 * failed, so the report says what every plugin found. */
static void adopt_plugins(BwManager *m, const BwGuestInfo *info, AdoptGuest *g) {
        g_autoptr(GString) why = g_string_new(NULL);
        bool lost = false, failed = false;

        g_mutex_lock(&m->plugin_lock);
        for (guint i = 0; i < m->plugins->len; i++) {
                Plugin *p = m->plugins->pdata[i];
                if (!p->initialized)
                        continue;
                BwError err = {};
                AdoptPlugin *ap = g_new0(AdoptPlugin, 1);
                ap->plugin = g_strdup(p->name);
                ap->result = plugin_adopt(p, info, &err);
                ap->message = g_strdup(ap->result < 0 ? err.message : "");
                if (ap->result < 0)
                        g_string_append_printf(why, "%s%s", why->len ? "; " : "", err.message);
                lost |= ap->result == -ENOENT;
                failed |= ap->result < 0 && ap->result != -ENOENT;
                g_ptr_array_add(g->plugins, ap);
        }
        g_mutex_unlock(&m->plugin_lock);

        if (!lost && !failed) {
                adopt_guest_set(g, BW_ADOPT_ADOPTED, g_strdup(""));
                return;
        }
        adopt_guest_set(g, lost ? BW_ADOPT_LOST : BW_ADOPT_FAILED,
                        g_strdup_printf("guest '%s': %s: %s; nothing was undone and the journal is kept: 'bulwarkctl guest stop %s' undoes what it lists once the guest is gone for good",
                                        g->name, lost ? "its host state is gone" : "cannot adopt", why->str,
                                        g->name));
}

/* Step 2 and 3, under the guest's lock: the journal's record, then the
 * plugins.  Returns false when the guest has gone meanwhile. */
static bool adopt_locked(BwManager *m, AdoptGuest *g) {
        g_autoptr(GuestLock) lock = NULL;
        BwGuestState *gs = NULL;
        BwError err = {};

        int r = guest_lock_acquire(m->settings->state_dir, g->name, 0, &lock, &err);
        if (r < 0) {
                adopt_guest_set(g, r == -EBUSY ? BW_ADOPT_BUSY : BW_ADOPT_FAILED, g_strdup(err.message));
                return true;
        }
        r = bw_manager_get_guest(m, g->name, &gs, &err);
        if (r == -ENOENT && !g->recovered)
                return false; /* stopped since we listed the directory */
        if (r == -ENOENT) {
                adopt_guest_set(g, BW_ADOPT_ROLLED_BACK,
                                g_strdup_printf("guest '%s': an interrupted start or stop was rolled back in full: the guest is not running",
                                                g->name));
                return true;
        }
        if (r < 0) {
                adopt_guest_set(g, BW_ADOPT_FAILED, g_strdup(err.message));
                return true;
        }
        const BwGuestInfo *info = bw_guest_state_info(gs);
        if (bw_guest_state_status(gs) == BW_GUEST_CORRUPT)
                adopt_guest_set(g, BW_ADOPT_CORRUPT,
                                g_strdup_printf("guest '%s': its journal is damaged; 'bulwarkctl recover --force %s' undoes what can be read",
                                                g->name, g->name));
        else if (bw_guest_state_status(gs) != BW_GUEST_RUNNING || !info)
                adopt_guest_set(g, BW_ADOPT_FAILED,
                                g_strdup_printf("guest '%s': its last transaction did not finish and was not rolled back",
                                                g->name));
        else
                adopt_plugins(m, info, g);
        bw_guest_state_free(gs);
        return true;
}

/* One guest: recover (which takes and drops the guest's lock itself),
 * then adopt.  NULL when the guest is gone and nothing is to be said. */
static AdoptGuest *adopt_one(BwManager *m, const char *name, BwAdoptReport *report) {
        AdoptGuest *g = adopt_guest_new(name);
        BwError err = {};

        int r = bw_manager_recover_guest(m, name, 0, &err);
        if (r > 0) {
                report->recovered += (unsigned) r;
                g->recovered = true;
        } else if (r == -EBUSY)
                adopt_guest_set(g, BW_ADOPT_BUSY, g_strdup(err.message));
        else if (r == -EBADMSG)
                adopt_guest_set(g, BW_ADOPT_CORRUPT, g_strdup(err.message));
        else if (r < 0 && r != -ENOENT)
                adopt_guest_set(g, BW_ADOPT_FAILED, g_strdup(err.message));
        if (g->outcome == 0 && !adopt_locked(m, g)) {
                adopt_guest_free(g);
                return NULL;
        }
        log_debug("guest '%s': adopt: %s%s%s", name, bw_adopt_outcome_to_string(g->outcome),
                  g->message[0] ? ": " : "", g->message);
        return g;
}

BW_PUBLIC int bw_manager_adopt_all(BwManager *m, BwAdoptReport **ret, BwError *reterr) {
        char **names = NULL;
        int adopted = 0;

        if (!m || !ret)
                return error_set(reterr, -EINVAL, "bw_manager_adopt_all: missing argument");
        int r = bw_manager_list_guests(m, &names, reterr);
        if (r < 0)
                return r;
        BwAdoptReport *report = g_new0(BwAdoptReport, 1);
        report->guests = g_ptr_array_new_with_free_func((GDestroyNotify) adopt_guest_free);
        for (size_t i = 0; names[i]; i++) {
                AdoptGuest *g = adopt_one(m, names[i], report);
                if (!g)
                        continue;
                adopted += g->outcome == BW_ADOPT_ADOPTED;
                g_ptr_array_add(report->guests, g);
        }
        bw_strv_free(names);
        *ret = report;
        return adopted;
}

BW_PUBLIC size_t bw_adopt_report_count(const BwAdoptReport *report) {
        return report ? report->guests->len : 0;
}

BW_PUBLIC unsigned bw_adopt_report_recovered(const BwAdoptReport *report) {
        return report ? report->recovered : 0;
}

BW_PUBLIC int bw_adopt_report_guest(const BwAdoptReport *report, size_t index, BwAdoptGuest *ret_guest) {
        if (!report || !ret_guest)
                return -EINVAL;
        if (index >= report->guests->len)
                return -ERANGE;
        const AdoptGuest *g = report->guests->pdata[index];
        *ret_guest = (BwAdoptGuest) { .name = g->name, .outcome = g->outcome, .recovered = g->recovered,
                                      .message = g->message, .n_plugins = g->plugins->len };
        return 0;
}

BW_PUBLIC int bw_adopt_report_plugin(const BwAdoptReport *report, size_t guest, size_t plugin,
                                     BwAdoptPlugin *ret_plugin) {
        if (!report || !ret_plugin)
                return -EINVAL;
        if (guest >= report->guests->len)
                return -ERANGE;
        const AdoptGuest *g = report->guests->pdata[guest];
        if (plugin >= g->plugins->len)
                return -ERANGE;
        const AdoptPlugin *p = g->plugins->pdata[plugin];
        *ret_plugin = (BwAdoptPlugin) { .plugin = p->plugin, .result = p->result, .message = p->message };
        return 0;
}

BW_PUBLIC const char *bw_adopt_outcome_to_string(BwAdoptOutcome outcome) {
        switch (outcome) {
        case BW_ADOPT_ADOPTED: return "adopted";
        case BW_ADOPT_LOST: return "lost";
        case BW_ADOPT_FAILED: return "failed";
        case BW_ADOPT_BUSY: return "busy";
        case BW_ADOPT_CORRUPT: return "corrupt";
        case BW_ADOPT_ROLLED_BACK: return "rolled-back";
        }
        return "unknown";
}

BW_PUBLIC void bw_adopt_report_free(BwAdoptReport *report) {
        if (!report)
                return;
        g_ptr_array_unref(report->guests);
        g_free(report);
}
