/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp: QEMU's machine protocol over its UNIX socket (see qmp.h).
 *
 * The wire: QEMU sends one JSON object per line: a greeting ({"QMP": ...}),
 * then for each command one {"return": ...} or {"error": {"class", "desc"}},
 * and asynchronous {"event": ...} objects at any time in between.  A
 * descriptor rides along with the bytes of a command as SCM_RIGHTS
 * ancillary data; QEMU takes it for the next add-fd or getfd it reads.
 */
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long one command may take before QEMU is taken for stuck. */
#define QMP_COMMAND_TIMEOUT_MS 30000

struct QmpClient {
        char *socket_path;
        int fd;
        GString *inbuf;   /* received bytes not yet split into lines */
        GQueue events;    /* JsonNode * of events not yet waited for */
        gboolean closed;
};

static int fail(GError **error, int r, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int fail(GError **error, int r, const char *fmt, ...) {
        if (error) {
                va_list ap;
                va_start(ap, fmt);
                g_autofree char *message = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(-r), message);
        }
        return r;
}

static int socket_connect(const char *path, int timeout_ms, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                        *ret_fd = fd;
                        return 0;
                }
                int r = -errno;
                close(fd);
                /* QEMU creates the socket a moment after it starts; a short
                 * retry keeps the wait close to that moment. */
                if ((r != -ENOENT && r != -ECONNREFUSED) || g_get_monotonic_time() >= deadline)
                        return r;
                g_usleep(2 * 1000);
        }
}

/* Reads more bytes into inbuf, waiting up to timeout_ms. */
static int read_more(QmpClient *c, int timeout_ms) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int n = poll(&p, 1, timeout_ms);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ETIMEDOUT;
        char buf[4096];
        ssize_t got = read(c->fd, buf, sizeof(buf));
        if (got < 0)
                return -errno;
        if (got == 0) {
                c->closed = TRUE;
                return -ECONNRESET;
        }
        g_string_append_len(c->inbuf, buf, got);
        return 0;
}

/* The next JSON object QEMU sent, waiting up to timeout_ms for it; the
 * error says what went wrong, the caller says with which socket. */
static int read_message(QmpClient *c, int timeout_ms, JsonNode **ret_node, GError **error) {
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
        char *eol;
        while (!(eol = memchr(c->inbuf->str, '\n', c->inbuf->len))) {
                int left = (int) MAX(0, (deadline - g_get_monotonic_time()) / 1000);
                int r = read_more(c, left);
                if (r == -ETIMEDOUT)
                        return fail(error, r, "no message from QEMU within %d ms", timeout_ms);
                if (r < 0)
                        return fail(error, r, "cannot read: %s",
                                    r == -ECONNRESET ? "QEMU closed the connection" : g_strerror(-r));
        }
        g_autofree char *line = g_strndup(c->inbuf->str, eol - c->inbuf->str);
        g_string_erase(c->inbuf, 0, eol - c->inbuf->str + 1);
        g_autoptr(GError) parse_error = NULL;
        JsonNode *node = json_from_string(line, &parse_error);
        if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
                if (node)
                        json_node_unref(node);
                return fail(error, -EPROTO, "not a JSON object from QEMU: '%s'%s%s", line,
                            parse_error ? ": " : "", parse_error ? parse_error->message : "");
        }
        *ret_node = node;
        return 0;
}

/* Writes all of `text`, with `fd` as SCM_RIGHTS on the first bytes. */
static int send_text(QmpClient *c, const char *text, int fd) {
        size_t len = strlen(text), done = 0;
        while (done < len) {
                struct iovec iov = { .iov_base = (char *) text + done, .iov_len = len - done };
                union {
                        char buf[CMSG_SPACE(sizeof(int))];
                        struct cmsghdr align;
                } control = {};
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (fd >= 0 && done == 0) {
                        msg.msg_control = control.buf;
                        msg.msg_controllen = sizeof(control.buf);
                        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
                        cmsg->cmsg_level = SOL_SOCKET;
                        cmsg->cmsg_type = SCM_RIGHTS;
                        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
                }
                ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                done += n;
        }
        return 0;
}

/* Waits for the answer to the command just sent, keeping events aside. */
static int read_answer(QmpClient *c, const char *command, JsonNode **ret_return, GError **error) {
        for (;;) {
                g_autoptr(GError) read_error = NULL;
                JsonNode *node = NULL;
                int r = read_message(c, QMP_COMMAND_TIMEOUT_MS, &node, &read_error);
                if (r < 0)
                        return fail(error, r, "QMP '%s': %s: no answer: %s", c->socket_path, command, read_error->message);
                JsonObject *o = json_node_get_object(node);
                if (json_object_has_member(o, "event")) {
                        g_queue_push_tail(&c->events, node);
                        continue;
                }
                g_autoptr(JsonNode) owned = node;
                if (json_object_has_member(o, "return")) {
                        if (ret_return)
                                *ret_return = json_node_copy(json_object_get_member(o, "return"));
                        return 0;
                }
                JsonObject *e = json_object_has_member(o, "error") ? json_object_get_object_member(o, "error") : NULL;
                if (!e)
                        return fail(error, -EPROTO, "QMP '%s': %s: an answer with neither return nor error", c->socket_path,
                                    command);
                return fail(error, -EIO, "QMP '%s': %s: %s: %s", c->socket_path, command,
                            json_object_get_string_member_with_default(e, "class", "?"),
                            json_object_get_string_member_with_default(e, "desc", "?"));
        }
}

int qmp_client_execute_text(QmpClient *c, const char *json_text, int fd, JsonNode **ret_return, GError **error) {
        g_autoptr(JsonNode) node = json_from_string(json_text, NULL);
        JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *command = o ? json_object_get_string_member_with_default(o, "execute", NULL) : NULL;
        if (!command)
                return fail(error, -EINVAL, "QMP '%s': '%s' is no command (a JSON object with \"execute\")",
                            c->socket_path, json_text);
        if (c->closed)
                return fail(error, -ECONNRESET, "QMP '%s': %s: QEMU closed the connection", c->socket_path, command);
        g_autofree char *line = g_strconcat(json_text, "\n", NULL);
        int r = send_text(c, line, fd);
        if (r < 0)
                return fail(error, r, "QMP '%s': %s: cannot send: %s", c->socket_path, command, g_strerror(-r));
        return read_answer(c, command, ret_return, error);
}

int qmp_client_execute(QmpClient *c, const char *command, JsonObject *arguments, int fd, JsonNode **ret_return,
                       GError **error) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "execute");
        json_builder_add_string_value(b, command);
        if (arguments) {
                json_builder_set_member_name(b, "arguments");
                JsonNode *args = json_node_new(JSON_NODE_OBJECT);
                json_node_set_object(args, arguments);
                json_builder_add_value(b, args);
        }
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        g_autofree char *text = json_to_string(root, FALSE);
        return qmp_client_execute_text(c, text, fd, ret_return, error);
}

int qmp_client_hmp(QmpClient *c, const char *command_line, char **ret_output, GError **error) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "command-line", command_line);
        g_autoptr(JsonNode) ret = NULL;
        int r = qmp_client_execute(c, "human-monitor-command", args, -1, &ret, error);
        if (r < 0)
                return r;
        if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING)
                return fail(error, -EPROTO, "QMP '%s': human-monitor-command '%s': the answer is no text", c->socket_path,
                            command_line);
        if (ret_output)
                *ret_output = json_node_dup_string(ret);
        return 0;
}

static gboolean event_matches(JsonNode *node, const char *event, const char *device) {
        JsonObject *o = json_node_get_object(node);
        if (g_strcmp0(json_object_get_string_member_with_default(o, "event", NULL), event) != 0)
                return FALSE;
        if (!device)
                return TRUE;
        JsonObject *data = json_object_has_member(o, "data") ? json_object_get_object_member(o, "data") : NULL;
        return data && g_strcmp0(json_object_get_string_member_with_default(data, "device", NULL), device) == 0;
}

int qmp_client_wait_event(QmpClient *c, const char *event, const char *device, int timeout_ms, GError **error) {
        for (GList *l = c->events.head; l; l = l->next)
                if (event_matches(l->data, event, device)) {
                        json_node_unref(l->data);
                        g_queue_delete_link(&c->events, l);
                        return 0;
                }
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
        for (;;) {
                int left = (int) MAX(0, (deadline - g_get_monotonic_time()) / 1000);
                JsonNode *node = NULL;
                g_autoptr(GError) read_error = NULL;
                int r = read_message(c, left, &node, &read_error);
                if (r < 0)
                        return fail(error, r, "QMP '%s': waiting for event %s%s%s: %s", c->socket_path, event,
                                    device ? " of device " : "", device ? device : "", read_error->message);
                if (event_matches(node, event, device)) {
                        json_node_unref(node);
                        return 0;
                }
                /* An answer cannot come here: no command is outstanding. */
                g_queue_push_tail(&c->events, node);
        }
}

int qmp_client_wait_closed(QmpClient *c, int timeout_ms, GError **error) {
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
        while (!c->closed) {
                int left = (int) MAX(0, (deadline - g_get_monotonic_time()) / 1000);
                int r = read_more(c, left);
                if (r == -ETIMEDOUT)
                        return fail(error, r, "QMP '%s': QEMU still holds the connection after %d ms", c->socket_path,
                                    timeout_ms);
                if (r < 0 && r != -ECONNRESET)
                        return fail(error, r, "QMP '%s': cannot read: %s", c->socket_path, g_strerror(-r));
        }
        return 0;
}

void qmp_client_free(QmpClient *c) {
        if (!c)
                return;
        if (c->fd >= 0)
                close(c->fd);
        g_queue_clear_full(&c->events, (GDestroyNotify) json_node_unref);
        g_string_free(c->inbuf, TRUE);
        g_free(c->socket_path);
        g_free(c);
}

int qmp_client_connect(const char *socket_path, int timeout_ms, QmpClient **ret_client, GError **error) {
        g_autoptr(QmpClient) c = g_new0(QmpClient, 1);
        c->socket_path = g_strdup(socket_path);
        c->inbuf = g_string_new(NULL);
        c->fd = -1;
        g_queue_init(&c->events);
        int r = socket_connect(socket_path, timeout_ms, &c->fd);
        if (r < 0)
                return fail(error, r, "QMP '%s': cannot connect: %s", socket_path, g_strerror(-r));
        g_autoptr(JsonNode) greeting = NULL;
        g_autoptr(GError) read_error = NULL;
        r = read_message(c, timeout_ms, &greeting, &read_error);
        if (r < 0)
                return fail(error, r, "QMP '%s': no greeting: %s", socket_path, read_error->message);
        if (!json_object_has_member(json_node_get_object(greeting), "QMP"))
                return fail(error, -EPROTO, "QMP '%s': no QMP greeting (is it an HMP monitor? use mode=control)",
                            socket_path);
        r = qmp_client_execute(c, "qmp_capabilities", NULL, -1, NULL, error);
        if (r < 0)
                return r;
        *ret_client = g_steal_pointer(&c);
        return 0;
}
