/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>

#include <glib.h>

#include "cgroup-root.h"
#include "cgtest.h"
#include "dev-probe.h"
#include "test-util.h"

char *cgtest_require(void) {
        DevProbe p;
        char *root = NULL;

        test_require_root();
        if (dev_probe_run(NULL, &p) < 0)
                test_skip_all("device programs unusable here: %s", p.reason);
        root = strdup(p.root);
        if (!root)
                abort();
        if (access(root, W_OK) < 0)
                test_skip_all("cgroup2 root '%s' is not writable", root);
        return root;
}

void cgtest_require_plugin(const char *root) {
        g_autofree char *plugins = test_builddir_path("plugins/cgroup-bpf/.libs");
        char *scratch = test_scratch_new("cg-probe");
        BwOptions o = { .config_path = "/dev/null", .plugin_dir = plugins, .plugins = "cgroup-bpf",
                        .state_dir = scratch, .cgroup_root = root };
        BwManager *m = NULL;
        BwPluginInfo info = { .probe_result = -ENOENT, .probe_reason = "the plugin did not load" };
        BwError err = {};
        char reason[BW_ERROR_MESSAGE_MAX];
        if (bw_manager_new(&o, &m, &err) == 0)
                bw_manager_plugin_info(m, 0, &info);
        snprintf(reason, sizeof(reason), "%s", m ? info.probe_reason : err.message);
        bw_manager_free(m);
        test_scratch_remove(scratch);
        free(scratch);
        if (info.probe_result < 0)
                test_skip_all("cgroup-bpf is not usable here: %s", reason);
}

bool cgtest_is_cgroup2(const char *path) {
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && (unsigned long) sfs.f_type == CGROUP2_SUPER_MAGIC;
}

char *cgtest_create(const char *root, const char *tag) {
        static unsigned counter; /* test helper, single-threaded */
        char *path;
        if (asprintf(&path, "%s/bulwark-test-%s-%d-%u", root, tag, (int) getpid(), counter++) < 0)
                abort();
        if (mkdir(path, 0755) < 0) {
                fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
                abort();
        }
        return path;
}

void cgtest_remove(const char *path) {
        char buf[4096];
        DIR *d;

        if (!path)
                return;
        d = opendir(path);
        if (d) {
                for (struct dirent *e; (e = readdir(d));) {
                        if (e->d_type != DT_DIR || e->d_name[0] == '.')
                                continue;
                        snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
                        cgtest_remove(buf);
                }
                closedir(d);
        }
        snprintf(buf, sizeof(buf), "%s/cgroup.kill", path);
        int fd = open(buf, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void) !write(fd, "1", 1);
                close(fd);
        }
        for (int i = 0; i < 200 && rmdir(path) < 0 && errno == EBUSY; i++)
                usleep(5000);
}

CgFixture *cgtest_fixture_new(const char *root, const char *tag) {
        CgFixture *f = calloc(1, sizeof(*f));
        f->cgroup = cgtest_create(root, tag);
        f->scratch = test_scratch_new(tag);
        return f;
}

void cgtest_fixture_free(CgFixture *f) {
        cgtest_remove(f->cgroup);
        test_scratch_remove(f->scratch);
        free(f->cgroup);
        free(f->scratch);
        free(f);
}

static void cgtest_enter(const char *cgroup) {
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s/cgroup.procs", cgroup);
        int fd = open(buf, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
                _exit(120);
        close(fd);
}

void cgtest_try(const char *cgroup, CgAccess *a, size_t n) {
        int pipefd[2];
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                abort();
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                close(pipefd[0]);
                cgtest_enter(cgroup);
                for (size_t i = 0; i < n; i++) {
                        int res = 0;
                        if (a[i].flags >= 0) {
                                int fd = open(a[i].path, a[i].flags | O_CLOEXEC | O_NOCTTY);
                                if (fd < 0)
                                        res = errno;
                                else
                                        close(fd);
                        } else if (mknod(a[i].path, a[i].mode, a[i].dev) < 0)
                                res = errno;
                        else
                                unlink(a[i].path);
                        if (write(pipefd[1], &res, sizeof(res)) != sizeof(res))
                                _exit(121);
                }
                _exit(0);
        }
        close(pipefd[1]);
        for (size_t i = 0; i < n; i++)
                if (read(pipefd[0], &a[i].result, sizeof(int)) != sizeof(int))
                        a[i].result = -1;
        close(pipefd[0]);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "cgtest child failed (status %d)\n", status);
                abort();
        }
}

int cgtest_open(const char *cgroup, const char *path, int flags) {
        CgAccess a = { .path = path, .flags = flags };
        cgtest_try(cgroup, &a, 1);
        return a.result;
}

int cgtest_mknod(const char *cgroup, const char *path, mode_t mode, dev_t dev) {
        CgAccess a = { .path = path, .flags = -1, .mode = mode, .dev = dev };
        cgtest_try(cgroup, &a, 1);
        return a.result;
}

char *cgtest_node(const char *dir, const char *name, bool block, unsigned major, unsigned minor) {
        char *path;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                abort();
        unlink(path);
        if (mknod(path, (block ? S_IFBLK : S_IFCHR) | 0666, makedev(major, minor)) < 0) {
                fprintf(stderr, "mknod %s: %s\n", path, strerror(errno));
                abort();
        }
        return path;
}

int cgtest_prog_count(const char *cgroup) {
        int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint32_t ids[64], cnt = 64, flags = 0;
        if (fd < 0)
                return -1;
        int r = bpf_prog_query(fd, BPF_CGROUP_DEVICE, 0, &flags, ids, &cnt);
        close(fd);
        return r < 0 ? -1 : (int) cnt;
}

void cgtest_write(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

BwManager *cgtest_manager(const CgFixture *f, const char *plugins, const char *state, const char *cgroup_root,
                          const char *extra) {
        g_autofree char *rules = test_srcdir_path("policy/devices/default.rules");
        g_autofree char *conf = g_strdup_printf("[plugin:cgroup-bpf]\ndefault-rules=%s\n%s", rules, extra ? extra : "");
        g_autofree char *conf_path = test_write_file(f->scratch, "bulwark.conf", conf, -1);
        g_autofree char *a = test_builddir_path("plugins/cgroup-bpf/.libs");
        g_autofree char *b = test_builddir_path("tests/plugins/.libs");
        g_autofree char *dirs = g_strdup_printf("%s:%s", a, b);
        g_autofree char *state_dir = g_build_filename(f->scratch, state, NULL);
        BwOptions o = { .config_path = conf_path, .plugin_dir = dirs, .plugins = plugins, .state_dir = state_dir,
                        .cgroup_root = cgroup_root };
        BwManager *m = NULL;
        BwError err = {};
        if (bw_manager_new(&o, &m, &err) < 0)
                fail_msg("bw_manager_new: %s", err.message);
        for (size_t i = 0; i < bw_manager_plugin_count(m); i++) {
                BwPluginInfo info;
                assert_int_equal(bw_manager_plugin_info(m, i, &info), 0);
                if (info.probe_result < 0)
                        fail_msg("plugin %zu not usable: %s", i, info.probe_reason);
        }
        return m;
}
