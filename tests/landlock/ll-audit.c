/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ll-audit get | set 0|1: reads or sets whether audit is enabled in the
 * kernel (AUDIT_GET / AUDIT_SET, what `auditctl -s` and `auditctl -e`
 * do), so the denials test can enable it for its run and restore it.
 * `get` prints 0 or 1.  Exits 77 when this process may not (no
 * CAP_AUDIT_CONTROL, or no audit in the kernel), 2 on a usage error. */
#include <errno.h>
#include <linux/audit.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int audit_talk(int fd, struct nlmsghdr *req, char *reply, size_t size) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return -errno;
        ssize_t n = recv(fd, reply, size, 0);
        if (n < (ssize_t) NLMSG_HDRLEN)
                return n < 0 ? -errno : -EPROTO;
        struct nlmsghdr *h = (struct nlmsghdr *) reply;
        if (h->nlmsg_type == NLMSG_ERROR)
                return ((struct nlmsgerr *) NLMSG_DATA(h))->error;
        return 0;
}

int main(int argc, char **argv) {
        char reply[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
        bool set = argc == 3 && strcmp(argv[1], "set") == 0 && (strcmp(argv[2], "0") == 0 || strcmp(argv[2], "1") == 0);
        if (!set && !(argc == 2 && strcmp(argv[1], "get") == 0)) {
                fprintf(stderr, "usage: ll-audit get | set 0|1\n");
                return 2;
        }
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        if (fd < 0) {
                fprintf(stderr, "ll-audit: no audit netlink: %s\n", strerror(errno));
                return 77;
        }
        int r;
        if (set) {
                struct {
                        struct nlmsghdr h;
                        struct audit_status s;
                } req = {
                        .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct audit_status)), .nlmsg_type = AUDIT_SET,
                               .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
                        .s = { .mask = AUDIT_STATUS_ENABLED, .enabled = (unsigned) atoi(argv[2]) },
                };
                r = audit_talk(fd, &req.h, reply, sizeof(reply));
        } else {
                struct nlmsghdr req = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET, .nlmsg_flags = NLM_F_REQUEST,
                                        .nlmsg_seq = 1 };
                r = audit_talk(fd, &req, reply, sizeof(reply));
                if (r == 0)
                        printf("%u\n", ((struct audit_status *) NLMSG_DATA((struct nlmsghdr *) reply))->enabled);
        }
        close(fd);
        if (r < 0) {
                fprintf(stderr, "ll-audit: %s: %s\n", argv[1], strerror(-r));
                return r == -EPERM || r == -EACCES ? 77 : 1;
        }
        return 0;
}
