/*
 * agent/cgroup: CPU and memory limits through cgroup v2.
 *
 *   <root>                       /sys/fs/cgroup/muster by default; +cpu +memory
 *     pod<uid>/                  +cpu +memory for its children
 *       <container>/             cpu.max, memory.max; the shim joins it
 *
 * cgroup v2 allows processes only in leaves once controllers are enabled below
 * a group, so the agent never joins these groups itself; each shim does, for
 * its container. On a machine with cgroup v1, without a writable hierarchy, or
 * without the controllers, the agent says so once and runs the containers
 * unlimited.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/log.h"
#include "model/quantity.h"

#define CPU_PERIOD_US 100000

static int write_str(const char *dir, const char *file, const char *s)
{
    char path[AGENT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

void acgroup_init(struct acgroup *g, const char *root)
{
    g->root[0] = 0;
    const char *r = root ? root : "/sys/fs/cgroup/muster";
    char parent[AGENT_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", r);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent) {
        log_info("cgroups: %s is not below a cgroup v2 mount; CPU and memory limits are not "
                 "enforced",
                 r);
        return;
    }
    *slash = 0;
    char probe[AGENT_PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/cgroup.controllers", parent);
    if (access(probe, F_OK) < 0) {
        log_info("cgroups: no cgroup v2 at %s (cgroup v1 or none); CPU and memory limits are not "
                 "enforced",
                 parent);
        return;
    }
    if (write_str(parent, "cgroup.subtree_control", "+cpu +memory") < 0 ||
        (mkdir(r, 0755) < 0 && errno != EEXIST) ||
        write_str(r, "cgroup.subtree_control", "+cpu +memory") < 0) {
        log_info("cgroups: cannot set up %s (%s); CPU and memory limits are not enforced", r,
                 strerror(errno));
        return;
    }
    snprintf(g->root, sizeof g->root, "%s", r);
    log_info("cgroups: containers are limited under %s", g->root);
}

/* A limit as milli units, or -1 when absent or bad. */
static int64_t limit(json_t *limits, const char *name)
{
    json_t *v = json_object_get(limits, name);
    int64_t m;
    struct err e;
    if (json_is_string(v) && quantity_parse_str(json_string_value(v), &m, &e) == 0 && m > 0)
        return m;
    if (json_is_integer(v) && json_integer_value(v) > 0 &&
        quantity_from_int(json_integer_value(v), &m, &e) == 0)
        return m;
    return -1;
}

int acgroup_container(struct acgroup *g, const char *uid, const char *container, json_t *limits,
                      char *out, size_t size)
{
    if (!g->root[0])
        return -1;
    char pod[AGENT_PATH_MAX + 128];
    snprintf(pod, sizeof pod, "%s/pod%s", g->root, uid);
    if ((mkdir(pod, 0755) < 0 && errno != EEXIST) ||
        write_str(pod, "cgroup.subtree_control", "+cpu +memory") < 0) {
        log_warn("cgroups: cannot create %s: %s; container %s runs unlimited", pod, strerror(errno),
                 container);
        return -1;
    }
    if (snprintf(out, size, "%s/%s", pod, container) >= (int)size ||
        (mkdir(out, 0755) < 0 && errno != EEXIST)) {
        log_warn("cgroups: cannot create %s/%s: %s", pod, container, strerror(errno));
        return -1;
    }
    char v[64];
    int64_t cpu = limit(limits, "cpu"), mem = limit(limits, "memory");
    if (cpu > 0)
        snprintf(v, sizeof v, "%" PRId64 " %d", cpu * CPU_PERIOD_US / 1000 ?: 1000, CPU_PERIOD_US);
    else
        snprintf(v, sizeof v, "max %d", CPU_PERIOD_US);
    if (write_str(out, "cpu.max", v) < 0)
        log_warn("cgroups: %s/cpu.max: %s", out, strerror(errno));
    if (mem > 0)
        snprintf(v, sizeof v, "%" PRId64, mem / 1000);
    else
        snprintf(v, sizeof v, "max");
    if (write_str(out, "memory.max", v) < 0)
        log_warn("cgroups: %s/memory.max: %s", out, strerror(errno));
    return 0;
}

void acgroup_remove_pod(struct acgroup *g, const char *uid)
{
    if (!g->root[0])
        return;
    char pod[AGENT_PATH_MAX + 128];
    snprintf(pod, sizeof pod, "%s/pod%s", g->root, uid);
    DIR *d = opendir(pod);
    if (!d)
        return;
    /* The container groups first (a cgroup lists its children as
     * subdirectories; rmdir removes an empty one), then the pod's. */
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        char path[AGENT_PATH_MAX + 512];
        snprintf(path, sizeof path, "%s/%s", pod, de->d_name);
        if (rmdir(path) < 0)
            log_warn("cgroups: cannot remove %s: %s", path, strerror(errno));
    }
    closedir(d);
    if (rmdir(pod) < 0)
        log_warn("cgroups: cannot remove %s: %s", pod, strerror(errno));
}
