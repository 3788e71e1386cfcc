/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit-denials.h"

/* The record types, by value: Debian 12's linux/audit.h predates them. */
#define AUDIT_TYPE_SYSCALL 1300
#define AUDIT_TYPE_EOE 1320
#define AUDIT_TYPE_LANDLOCK_ACCESS 1423
#define AUDIT_TYPE_LANDLOCK_DOMAIN 1424
#define AUDIT_POLL_MS 250
#define AUDIT_DOMAINS_MAX 256
#define AUDIT_EVENT_DENIALS_MAX 8

typedef struct AuditDomain {
        char id[32];
        bool ours;
} AuditDomain;

/* The records of one event (one audit serial), gathered until its end
 * (AUDIT_EOE, or a record of another serial): a denial comes before the
 * record naming a new domain and before the SYSCALL record naming the
 * process. */
typedef struct AuditEvent {
        char serial[64];           /* "SECONDS.MILLIS:SERIAL" */
        AuditDenial denials[AUDIT_EVENT_DENIALS_MAX];
        size_t n_denials;
        char new_domain[32];       /* a domain allocated in this event */
        bool new_domain_ours;      /* its maker was in the guest's cgroup */
        long pid;                  /* from the SYSCALL record, 0 when none */
        char comm[64];
} AuditEvent;

typedef struct AuditReader {
        const char *cgroup;
        AuditDomain domains[AUDIT_DOMAINS_MAX]; /* a ring: the newest replace the oldest */
        size_t n_domains;
        AuditEvent event;
        size_t reported, count;
        AuditDenialFn denial;
        void *userdata;
} AuditReader;

static int audit_socket(unsigned groups, PluginError *err) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        if (fd < 0)
                return plugin_error_set(err, -errno, "audit: cannot open a netlink socket: %m");
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = -errno;
                close(fd);
                return plugin_error_set(err, e, "audit: cannot join the read-only log group: %m");
        }
        return fd;
}

int audit_denials_enabled(PluginError *err) {
        struct nlmsghdr req = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
        int fd = audit_socket(0, err);
        if (fd < 0)
                return fd;
        int r = sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0 ? -errno : 0;
        ssize_t n = r < 0 ? -1 : recv(fd, buf, sizeof(buf), 0);
        if (r == 0 && n < 0)
                r = -errno;
        close(fd);
        const struct nlmsghdr *h = (const struct nlmsghdr *) buf;
        if (r < 0)
                return plugin_error_set(err, r, "audit: cannot read its status: %m");
        if (n < (ssize_t) NLMSG_LENGTH(sizeof(struct audit_status)) || h->nlmsg_type != AUDIT_GET)
                return plugin_error_set(err, -EPROTO, "audit: unexpected answer to AUDIT_GET (type %u)", (unsigned) h->nlmsg_type);
        const struct audit_status *s = NLMSG_DATA(h);
        return s->enabled ? 1 : 0;
}

/* The value of `key=` in a record: quoted values unquoted; "" when absent. */
static void audit_field(const char *text, const char *key, char *buf, size_t size) {
        size_t klen = strlen(key);
        buf[0] = '\0';
        for (const char *p = text; (p = strstr(p, key)) != NULL; p += klen) {
                if ((p != text && p[-1] != ' ') || p[klen] != '=')
                        continue;
                const char *v = p + klen + 1;
                size_t n = *v == '"' ? strcspn(++v, "\"") : strcspn(v, " ");
                snprintf(buf, size, "%.*s", (int) (n < size ? n : size - 1), v);
                return;
        }
}

/* The "audit(SECONDS.MILLIS:SERIAL): " prefix: the serial part, and
 * where the fields start. */
static const char *audit_header(const char *text, char *serial, size_t size) {
        serial[0] = '\0';
        if (strncmp(text, "audit(", 6) != 0)
                return text;
        size_t n = strcspn(text + 6, ")");
        snprintf(serial, size, "%.*s", (int) (n < size ? n : size - 1), text + 6);
        const char *end = strstr(text, "): ");
        return end ? end + 3 : text;
}

/* Is `pid` in the guest's cgroup?  Read from /proc/PID/cgroup ("0::/x"). */
static bool audit_pid_in_cgroup(long pid, const char *cgroup) {
        char path[64], line[4096];
        bool found = false;
        if (pid <= 0)
                return false;
        snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                found = strncmp(line, "0::", 3) == 0 && strcmp(line + 3, cgroup) == 0;
        }
        fclose(f);
        return found;
}

static AuditDomain *audit_domain_find(AuditReader *r, const char *id) {
        size_t n = r->n_domains < AUDIT_DOMAINS_MAX ? r->n_domains : AUDIT_DOMAINS_MAX;
        for (size_t i = 0; i < n; i++)
                if (strcmp(r->domains[i].id, id) == 0)
                        return &r->domains[i];
        return NULL;
}

/* The event is complete: a new domain is the guest's when the process
 * that made it is in the guest's cgroup; denials of the guest's domains
 * are reported with the process the SYSCALL record names. */
static int audit_event_end(AuditReader *r) {
        AuditEvent *e = &r->event;
        int ret = 0;
        if (e->new_domain[0] && !audit_domain_find(r, e->new_domain)) {
                AuditDomain *slot = &r->domains[r->n_domains++ % AUDIT_DOMAINS_MAX];
                snprintf(slot->id, sizeof(slot->id), "%s", e->new_domain);
                slot->ours = e->new_domain_ours;
        }
        for (size_t i = 0; i < e->n_denials && ret >= 0 && (r->count == 0 || r->reported < r->count); i++) {
                AuditDenial *d = &e->denials[i];
                const AuditDomain *dom = audit_domain_find(r, d->domain);
                if (!dom || !dom->ours)
                        continue;
                d->pid = e->pid;
                snprintf(d->comm, sizeof(d->comm), "%s", e->comm);
                r->reported++;
                ret = r->denial(d, r->userdata);
        }
        memset(e, 0, sizeof(*e));
        return ret;
}

static void audit_on_access(AuditEvent *e, const char *time, const char *fields) {
        if (e->n_denials == AUDIT_EVENT_DENIALS_MAX)
                return;
        AuditDenial *d = &e->denials[e->n_denials++];
        snprintf(d->time, sizeof(d->time), "%s", time);
        audit_field(fields, "domain", d->domain, sizeof(d->domain));
        audit_field(fields, "blockers", d->blockers, sizeof(d->blockers));
        const char *rest = strstr(fields, " blockers=");
        rest = rest ? strchr(rest + 1, ' ') : NULL;
        snprintf(d->object, sizeof(d->object), "%s", rest ? rest + 1 : "");
}

static int audit_on_record(AuditReader *r, unsigned type, const char *text) {
        char serial[64], time[32], value[64];
        const char *fields = audit_header(text, serial, sizeof(serial));
        AuditEvent *e = &r->event;
        int ret = 0;
        if (e->serial[0] && strcmp(e->serial, serial) != 0)
                ret = audit_event_end(r);
        snprintf(e->serial, sizeof(e->serial), "%s", serial);
        snprintf(time, sizeof(time), "%.*s", (int) strcspn(serial, ":"), serial);
        switch (type) {
        case AUDIT_TYPE_LANDLOCK_ACCESS:
                audit_on_access(e, time, fields);
                break;
        case AUDIT_TYPE_LANDLOCK_DOMAIN:
                audit_field(fields, "status", value, sizeof(value));
                if (strcmp(value, "allocated") != 0)
                        break;
                audit_field(fields, "domain", e->new_domain, sizeof(e->new_domain));
                audit_field(fields, "pid", value, sizeof(value));
                /* Now, while the process most likely still runs: a maker
                 * gone by the end of the event could not be placed. */
                e->new_domain_ours = audit_pid_in_cgroup(strtol(value, NULL, 10), r->cgroup);
                break;
        case AUDIT_TYPE_SYSCALL:
                audit_field(fields, "pid", value, sizeof(value));
                e->pid = strtol(value, NULL, 10);
                audit_field(fields, "comm", e->comm, sizeof(e->comm));
                break;
        case AUDIT_TYPE_EOE:
                if (ret >= 0)
                        ret = audit_event_end(r);
                break;
        }
        return ret;
}

int audit_denials_follow(const char *cgroup, size_t count, AuditDenialFn denial, AuditIdleFn idle,
                         void (*ready)(void *userdata), void *userdata, PluginError *err) {
        char buf[8970] __attribute__((aligned(NLMSG_ALIGNTO)));
        int fd = audit_socket(1u << (AUDIT_NLGRP_READLOG - 1), err);
        if (fd < 0)
                return fd;
        AuditReader *r = calloc(1, sizeof(*r)); /* too large for the stack */
        if (!r) {
                close(fd);
                return plugin_error_set(err, -ENOMEM, "audit: %m");
        }
        *r = (AuditReader) { .cgroup = cgroup, .count = count, .denial = denial, .userdata = userdata };
        if (ready)
                ready(userdata);
        int ret = 0;
        while (ret >= 0 && (count == 0 || r->reported < count)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, AUDIT_POLL_MS);
                if (n < 0 && errno != EINTR)
                        ret = plugin_error_set(err, -errno, "audit: poll: %m");
                else if (n <= 0)
                        ret = idle(userdata);
                else {
                        ssize_t len = recv(fd, buf, sizeof(buf) - 1, 0);
                        if (len < 0 && errno == ENOBUFS)
                                continue; /* records dropped: best effort, as the group says */
                        if (len < 0) {
                                ret = plugin_error_set(err, -errno, "audit: recv: %m");
                                break;
                        }
                        const struct nlmsghdr *h = (const struct nlmsghdr *) buf;
                        if (len < (ssize_t) NLMSG_HDRLEN || h->nlmsg_len > (size_t) len || h->nlmsg_len < NLMSG_HDRLEN)
                                continue;
                        char *text = (char *) NLMSG_DATA(h);
                        text[h->nlmsg_len - NLMSG_HDRLEN] = '\0';
                        ret = audit_on_record(r, h->nlmsg_type, text);
                }
        }
        free(r);
        close(fd);
        return ret < 0 ? ret : 0;
}
