/* muster up: a whole local cluster in one command (the README's `make run`): the
 * API server on SQLite in ./muster-data, the controllers, a few node agents with
 * declared GPUs in a small topology, and the example queues. Ctrl-C stops it all;
 * the next `muster up` resumes the same state. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/registry.h"
#include "base/log.h"
#include "cli/cli.h"
#include "ctrl/ctrl.h"
#include "model/model.h"
#include "store/store.h"

#define MAX_AGENTS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: muster up [--data-dir DIR] [--listen HOST:PORT] [--nodes N]\n"
            "                 [--gpus SPEC] [--examples FILE] [--simulate]\n\n"
            "Starts a local cluster: the API server with its SQLite store in DIR (default\n"
            "./muster-data), the scheduler and controllers, N node agents (default 4, in 2\n"
            "racks) each with the declared GPUs (default 8xH100-80GB), and applies the\n"
            "example queues (default examples/queues.yaml). Prints the kubeconfig path and\n"
            "what to try. Ctrl-C stops everything; running it again resumes the same state.\n"
            "--simulate starts agents that pretend to run pods (no processes).\n");
}

/* Creates each object of a YAML file through the request layer; existing ones are
 * left as they are. Returns the number of failures. */
static int apply_file(struct api_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "muster up: %s: %s (no example queues applied)\n", path, strerror(errno));
        return 0;
    }
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? 2 * cap : 65536;
            buf = realloc(buf, cap);
            if (!buf) {
                fclose(f);
                return 1;
            }
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (!n)
            break;
        len += n;
    }
    fclose(f);
    json_t **docs = NULL;
    size_t ndocs = 0;
    struct err e;
    err_clear(&e);
    int failures = 0;
    if (model_yaml_to_json(buf, len, path, &docs, &ndocs, NULL, &e)) {
        fprintf(stderr, "muster up: %s\n", e.msg);
        free(buf);
        return 1;
    }
    free(buf);
    for (size_t i = 0; i < ndocs; i++) {
        const char *av = json_string_value(json_object_get(docs[i], "apiVersion"));
        const char *kind = json_string_value(json_object_get(docs[i], "kind"));
        const struct api_kind *k = av && kind ? api_registry_by_api_version(av, kind) : NULL;
        json_t *md = json_object_get(docs[i], "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        if (!k) {
            fprintf(stderr, "muster up: %s: document %zu: unknown kind %s %s\n", path, i + 1,
                    av ? av : "?", kind ? kind : "?");
            failures++;
            continue;
        }
        char p[512];
        int off = k->group[0] ? snprintf(p, sizeof p, "/apis/%s/%s", k->group, k->version)
                              : snprintf(p, sizeof p, "/api/%s", k->version);
        if (k->namespaced)
            off += snprintf(p + off, sizeof p - (size_t)off, "/namespaces/%s",
                            ns ? ns : "default");
        snprintf(p + off, sizeof p - (size_t)off, "/%s", k->resource);
        char *body = json_dumps(docs[i], JSON_COMPACT);
        struct api_req req;
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.path = p;
        req.content_type = "application/json";
        req.accept = "application/json";
        req.body = body;
        req.body_len = strlen(body);
        req.query[0] = (struct api_param){"fieldManager", "muster-up"};
        req.n_query = 1;
        struct api_resp r;
        api_resp_init(&r);
        api_handle(ctx, &req, &r);
        if (r.code != 201 && r.code != 409) {
            fprintf(stderr, "muster up: %s: %s %s: %d %.*s\n", path, kind,
                    json_string_value(json_object_get(md, "name")), r.code, (int)r.body.len,
                    r.body.buf ? r.body.buf : "");
            failures++;
        }
        api_resp_release(&r);
        free(body);
    }
    for (size_t i = 0; i < ndocs; i++)
        json_decref(docs[i]);
    free(docs);
    return failures;
}

struct agent {
    pid_t pid;
    char name[64];
};

static pid_t spawn_agent(const char *self, const char *url, const char *name, const char *gpus,
                         const char *labels, const char *dir, bool simulate)
{
    char log[4400];
    snprintf(log, sizeof log, "%s/agent.log", dir);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: its own process group, so the terminal's Ctrl-C reaches only us,
     * and we stop the agents in order. */
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    const char *argv[24];
    int n = 0;
    argv[n++] = self;
    argv[n++] = "agent";
    argv[n++] = "--server";
    argv[n++] = url;
    argv[n++] = "--name";
    argv[n++] = name;
    argv[n++] = "--gpus";
    argv[n++] = gpus;
    argv[n++] = "--labels";
    argv[n++] = labels;
    argv[n++] = "--data-dir";
    argv[n++] = dir;
    /* Declared GPU servers: the machine's own CPUs and memory would make a
     * laptop's two cores the limit of every node. */
    argv[n++] = "--cpus";
    argv[n++] = "64";
    argv[n++] = "--memory";
    argv[n++] = "512Gi";
    if (simulate)
        argv[n++] = "--simulate";
    argv[n] = NULL;
    execv(self, (char *const *)argv);
    fprintf(stderr, "muster up: cannot run %s agent: %s\n", self, strerror(errno));
    _exit(127);
}

int cli_up(int argc, char **argv)
{
    const char *dir = "muster-data", *listen = "127.0.0.1:6443", *gpus = "8xH100-80GB";
    const char *examples = "examples/queues.yaml";
    int nodes = 4;
    bool simulate = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--data-dir") && v) {
            dir = v;
            i++;
        } else if (!strcmp(a, "--listen") && v) {
            listen = v;
            i++;
        } else if (!strcmp(a, "--gpus") && v) {
            gpus = v;
            i++;
        } else if (!strcmp(a, "--examples") && v) {
            examples = v;
            i++;
        } else if (!strcmp(a, "--nodes") && v) {
            nodes = atoi(v);
            i++;
        } else if (!strcmp(a, "--simulate")) {
            simulate = true;
        } else {
            fprintf(stderr, "muster up: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (nodes < 0 || nodes > MAX_AGENTS) {
        fprintf(stderr, "muster up: --nodes must be 0 to %d\n", MAX_AGENTS);
        return 2;
    }
    char host[64];
    int port;
    if (cli_parse_listen("muster up", listen, host, sizeof host, &port))
        return 2;
    char store_dir[4096], agents_dir[4096];
    snprintf(store_dir, sizeof store_dir, "%s/store", dir);
    snprintf(agents_dir, sizeof agents_dir, "%s/agents", dir);
    if (cli_mkdir_p(store_dir) || cli_mkdir_p(agents_dir)) {
        fprintf(stderr, "muster up: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct err e;
    err_clear(&e);
    struct store *st = store_open_sqlite(store_dir, NULL, &e);
    if (!st) {
        fprintf(stderr, "muster up: %s\n", e.msg);
        return 1;
    }
    bool resumed = store_rev(st) > 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct api_server_opts o = {.host = host, .port = port};
    struct api_server *srv = api_server_start(&o, st, &e);
    if (!srv) {
        fprintf(stderr, "muster up: %s\n", e.msg);
        store_close(st);
        return 1;
    }
    struct ctrl_opts co = {0};
    struct ctrl *ctl = ctrl_start(st, &co, &e);
    if (!ctl) {
        fprintf(stderr, "muster up: controllers: %s\n", e.msg);
        api_server_stop(srv);
        store_close(st);
        return 1;
    }
    char url[128];
    snprintf(url, sizeof url, "http://%s:%d", host, api_server_port(srv));
    struct api_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.store = st;
    int bad = apply_file(&ctx, examples);

    char kc[4200], abs_dir[4096];
    if (!realpath(dir, abs_dir))
        snprintf(abs_dir, sizeof abs_dir, "%s", dir);
    snprintf(kc, sizeof kc, "%s/kubeconfig", abs_dir);
    FILE *kf = fopen(kc, "w");
    if (kf) {
        cli_write_kubeconfig(kf, url);
        fclose(kf);
    }

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    struct agent agents[MAX_AGENTS];
    for (int i = 0; i < nodes; i++) {
        struct agent *ag = &agents[i];
        snprintf(ag->name, sizeof ag->name, "node-%d", i);
        char labels[512], adir[4300];
        snprintf(labels, sizeof labels,
                 "muster.dev/gpu=h100,muster.dev/block=b0,muster.dev/rack=r%d,"
                 "kubernetes.io/hostname=%s",
                 i / 2, ag->name);
        snprintf(adir, sizeof adir, "%s/%s", agents_dir, ag->name);
        cli_mkdir_p(adir);
        ag->pid = spawn_agent(self, url, ag->name, gpus, labels, adir, simulate);
    }
    printf("muster is up%s.\n\n"
           "  API server   %s (store: SQLite in %s/store)\n"
           "  scheduler    running in the server (Kueue-style admission, gangs, topology)\n"
           "  nodes        %d agents with %s each, logs in %s/agents/<node>/\n"
           "  queues       %s%s\n"
           "  dashboard    will be at %s/dashboard/ (not built yet)\n\n"
           "Try:\n"
           "  export KUBECONFIG=%s\n"
           "  kubectl get nodes\n"
           "  kubectl get clusterqueues,localqueues -A\n"
           "  kubectl apply -f examples/gang-job.yaml\n"
           "  kubectl get workloads,jobs,pods -A -o wide\n"
           "  kubectl logs -n team-a -l batch.kubernetes.io/job-name=train\n"
           "  kubectl apply -f examples/urgent-job.yaml   # team-b, high priority\n\n"
           "Ctrl-C stops everything; `muster up` again resumes the same state.\n",
           resumed ? " (resumed from the existing state)" : "", url, abs_dir, nodes, gpus,
           abs_dir, examples, bad ? " (some objects failed, see above)" : "", url, kc);
    fflush(stdout);

    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGCHLD)
            break;
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            for (int i = 0; i < nodes; i++)
                if (agents[i].pid == pid) {
                    fprintf(stderr, "muster up: agent %s exited (status %d); see its log\n",
                            agents[i].name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                    agents[i].pid = 0;
                }
    }
    printf("\nmuster up: stopping (signal %d)\n", sig);
    for (int i = 0; i < nodes; i++)
        if (agents[i].pid > 0)
            kill(agents[i].pid, SIGTERM);
    for (int t = 0; t < 100; t++) {
        bool alive = false;
        for (int i = 0; i < nodes; i++)
            if (agents[i].pid > 0) {
                if (waitpid(agents[i].pid, NULL, WNOHANG) == agents[i].pid)
                    agents[i].pid = 0;
                else
                    alive = true;
            }
        if (!alive)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < nodes; i++)
        if (agents[i].pid > 0) {
            kill(agents[i].pid, SIGKILL);
            waitpid(agents[i].pid, NULL, 0);
        }
    ctrl_stop(ctl);
    api_server_stop(srv);
    store_close(st);
    printf("muster up: stopped; state kept in %s\n", abs_dir);
    return 0;
}
