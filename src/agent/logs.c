/*
 * agent/logs: the log server, what the kubelet's /containerLogs is to the API
 * server's pods/<name>/log (docs/cluster.md).
 *
 *   GET /containerLogs/<ns>/<pod>/<container>[?follow=true][&tailLines=N][&limitBytes=N]
 *
 * answers the container's log file (stdout and stderr, as the shim writes
 * them) as text/plain. With follow the answer goes on as the file grows and
 * ends once the container has exited (its .exit file is there) and the last
 * bytes are sent. A simulated pod has an empty log.
 *
 * libmicrohttpd serves it, one thread per connection, apart from the agent's
 * loop: the only state shared with the loop is the table from ns/name to the
 * pod's uid, under a mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"

#define FOLLOW_POLL_MS  200
#define MAX_CONNECTIONS 128

struct entry {
    char *key, *uid;
    bool simulated;
};

struct alogs {
    struct MHD_Daemon *d;
    char pods_dir[AGENT_PATH_MAX];
    pthread_mutex_t mu;
    struct map pods; /* "ns/name" -> struct entry */
    atomic_bool stopping;
    int port;
};

/* One log being sent. */
struct reader {
    struct alogs *l;
    int fd;
    char exit_path[AGENT_PATH_MAX + 300];
    char dir[AGENT_PATH_MAX + 80];
    bool follow, last_read;
    int64_t left; /* limitBytes still to send; -1: no limit */
};

static ssize_t read_log(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reader *r = cls;
    for (;;) {
        if (r->left == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        size_t want = r->left > 0 && (uint64_t)r->left < max ? (size_t)r->left : max;
        ssize_t n = read(r->fd, buf, want);
        if (n > 0) {
            if (r->left > 0)
                r->left -= n;
            return n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        /* At the end of the file. */
        if (!r->follow || r->last_read || atomic_load(&r->l->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (access(r->exit_path, F_OK) == 0 || access(r->dir, F_OK) < 0) {
            r->last_read = true; /* one more read for what came before the exit */
            continue;
        }
        struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void free_reader(void *cls)
{
    struct reader *r = cls;
    close(r->fd);
    free(r);
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned code, const char *msg)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "text/plain");
    enum MHD_Result rc = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* The offset where the last n lines of fd begin. */
static off_t tail_offset(int fd, long n)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 0;
    if (n <= 0 || st.st_size == 0)
        return st.st_size;
    off_t end = st.st_size;
    char last;
    if (pread(fd, &last, 1, end - 1) == 1 && last == '\n')
        end--; /* the final newline ends the last line; it does not start one */
    char buf[65536];
    long seen = 0;
    while (end > 0) {
        off_t from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
        ssize_t got = pread(fd, buf, (size_t)(end - from), from);
        if (got <= 0)
            return 0;
        for (ssize_t i = got - 1; i >= 0; i--)
            if (buf[i] == '\n' && ++seen == n)
                return from + i + 1;
        end = from;
    }
    return 0;
}

static bool safe_part(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '.'))
            return false;
    return s[0] != '.';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct alogs *l = cls;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return text(c, 405, "only GET is served here\n");
    static const char prefix[] = "/containerLogs/";
    if (strncmp(url, prefix, sizeof prefix - 1))
        return text(c, 404, "not found: this is a muster agent's log server\n");
    const char *ns = url + sizeof prefix - 1;
    const char *s1 = strchr(ns, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || strchr(s2 + 1, '/'))
        return text(c, 404, "want /containerLogs/<namespace>/<pod>/<container>\n");
    const char *pod = s1 + 1, *ctr = s2 + 1;
    if (!safe_part(ns, (size_t)(s1 - ns)) || !safe_part(pod, (size_t)(s2 - pod)) ||
        !safe_part(ctr, strlen(ctr)))
        return text(c, 400, "bad namespace, pod or container name\n");
    char key[600], uid[80] = "";
    snprintf(key, sizeof key, "%.*s", (int)(s2 - ns), ns);
    bool sim = false;
    pthread_mutex_lock(&l->mu);
    union map_val *v = map_get(&l->pods, key, strlen(key));
    if (v) {
        struct entry *en = v->ptr;
        snprintf(uid, sizeof uid, "%s", en->uid);
        sim = en->simulated;
    }
    pthread_mutex_unlock(&l->mu);
    char msg[900];
    if (!uid[0]) {
        snprintf(msg, sizeof msg, "pod %s is not on this node\n", key);
        return text(c, 404, msg);
    }
    if (sim)
        return text(c, 200, "");
    struct reader *r = xcalloc(1, sizeof *r);
    r->l = l;
    char path[AGENT_PATH_MAX + 400];
    snprintf(path, sizeof path, "%s/%s/%s.log", l->pods_dir, uid, ctr);
    snprintf(r->exit_path, sizeof r->exit_path, "%s/%s/%s.exit", l->pods_dir, uid, ctr);
    snprintf(r->dir, sizeof r->dir, "%s/%s", l->pods_dir, uid);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        free(r);
        snprintf(msg, sizeof msg,
                 "container %s in pod %s has no log yet (waiting to start, or no "
                 "such container)\n",
                 ctr, key);
        return text(c, 400, msg);
    }
    const char *follow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "follow");
    const char *tail = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tailLines");
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limitBytes");
    r->follow = follow && (!strcmp(follow, "true") || !strcmp(follow, "1"));
    r->left = limit && atoll(limit) > 0 ? atoll(limit) : -1;
    if (tail && *tail && atol(tail) >= 0)
        lseek(r->fd, tail_offset(r->fd, atol(tail)), SEEK_SET);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_log, r, free_reader);
    if (!resp) {
        free_reader(r);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/plain");
    if (r->follow)
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0);
    enum MHD_Result rc = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return rc;
}

struct alogs *alogs_start(const char *host, int port, const char *pods_dir, struct err *e)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errf(e, EINVAL, "--address \"%s\" is not an IPv4 address", host);
        return NULL;
    }
    struct alogs *l = xcalloc(1, sizeof *l);
    snprintf(l->pods_dir, sizeof l->pods_dir, "%s", pods_dir);
    pthread_mutex_init(&l->mu, NULL);
    map_init(&l->pods, MAP_KEY_STR);
    l->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
        NULL, on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_END);
    if (!l->d) {
        errf(e, EADDRINUSE, "the log server cannot listen on %s:%d (in use, or not permitted)",
             host, port);
        pthread_mutex_destroy(&l->mu);
        map_release(&l->pods);
        free(l);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = di ? di->port : port;
    return l;
}

int alogs_port(const struct alogs *l)
{
    return l->port;
}

void alogs_put(struct alogs *l, const char *ns, const char *name, const char *uid, bool simulated)
{
    struct entry *en = xcalloc(1, sizeof *en);
    en->key = xmalloc(strlen(ns) + strlen(name) + 2);
    sprintf(en->key, "%s/%s", ns, name);
    en->uid = xstrdup(uid);
    en->simulated = simulated;
    pthread_mutex_lock(&l->mu);
    bool found;
    union map_val *v = map_put(&l->pods, en->key, strlen(en->key), &found);
    struct entry *old = found ? v->ptr : NULL;
    if (old) {
        /* The map keeps the old key's bytes: swap the new entry under them. */
        map_del(&l->pods, old->key, strlen(old->key));
        map_put(&l->pods, en->key, strlen(en->key), NULL)->ptr = en;
    } else {
        v->ptr = en;
    }
    pthread_mutex_unlock(&l->mu);
    if (old) {
        free(old->key);
        free(old->uid);
        free(old);
    }
}

void alogs_del(struct alogs *l, const char *ns, const char *name, const char *uid)
{
    char key[600];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    pthread_mutex_lock(&l->mu);
    union map_val *v = map_get(&l->pods, key, strlen(key));
    struct entry *en = v ? v->ptr : NULL;
    if (en && strcmp(en->uid, uid))
        en = NULL; /* a newer pod of that name */
    if (en)
        map_del(&l->pods, key, strlen(key));
    pthread_mutex_unlock(&l->mu);
    if (en) {
        free(en->key);
        free(en->uid);
        free(en);
    }
}

void alogs_stop(struct alogs *l)
{
    if (!l)
        return;
    atomic_store(&l->stopping, true);
    MHD_stop_daemon(l->d);
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&l->pods, &it));) {
        struct entry *en = e->val.ptr;
        free(en->key);
        free(en->uid);
        free(en);
    }
    map_release(&l->pods);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
