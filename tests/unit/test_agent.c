/* Tests for the parts of the node agent that need no server: --gpus and
 * --labels, the container environment and argv, the simulated runtime, watch
 * line splitting, the shim's exit file, and the shim itself (run through the
 * muster binary in $MUSTER_BIN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "base/mtime.h"

/* ---- --gpus ------------------------------------------------------------- */

static void test_gpus_parse(void **state)
{
    struct agent_gpus g = {0};
    struct err e;
    assert_int_equal(agent_gpus_parse("8xH100-80GB", "n1", &g, &e), 0);
    assert_int_equal(g.len, 8);
    assert_string_equal(g.v[0].model, "H100");
    assert_int_equal(g.v[7].index, 7);
    assert_true(g.v[3].memory_bytes == 80000000000LL);
    assert_true(!strncmp(g.v[0].uuid, "GPU-", 4));
    assert_string_not_equal(g.v[0].uuid, g.v[1].uuid);
    char uuid0[AGENT_GPU_UUID_MAX];
    strcpy(uuid0, g.v[0].uuid);
    agent_gpus_release(&g);

    /* Stable for (node, index); another node gets others. */
    assert_int_equal(agent_gpus_parse("1xH100", "n1", &g, &e), 0);
    assert_string_equal(g.v[0].uuid, uuid0);
    assert_int_equal(g.v[0].memory_bytes, 0);
    agent_gpus_release(&g);
    assert_int_equal(agent_gpus_parse("1xH100", "n2", &g, &e), 0);
    assert_string_not_equal(g.v[0].uuid, uuid0);
    agent_gpus_release(&g);

    /* Models with dashes; binary units; several groups numbered on. */
    assert_int_equal(agent_gpus_parse("4xA100-SXM4-40GiB,2xL4,1xA100-40", "n", &g, &e), 0);
    assert_int_equal(g.len, 7);
    assert_string_equal(g.v[0].model, "A100-SXM4");
    assert_true(g.v[0].memory_bytes == 40LL << 30);
    assert_string_equal(g.v[4].model, "L4");
    assert_int_equal(g.v[5].index, 5);
    assert_string_equal(g.v[6].model, "A100-40"); /* a bare number is not a size */
    assert_int_equal(g.v[6].memory_bytes, 0);
    agent_gpus_release(&g);
    assert_int_equal(agent_gpus_parse("2xT4-16384Mi", "n", &g, &e), 0);
    assert_true(g.v[0].memory_bytes == 16LL << 30);
    agent_gpus_release(&g);

    /* No GPUs. */
    assert_int_equal(agent_gpus_parse("", "n", &g, &e), 0);
    assert_int_equal(agent_gpus_parse("0", "n", &g, &e), 0);
    assert_int_equal(agent_gpus_parse(NULL, "n", &g, &e), 0);
    assert_int_equal(g.len, 0);

    static const char *const bad[] = {"x",       "8H100",     "0xH100",     "8x",
                                      "8xH 100", "2000xH100", "8xH100,",    "8x-80GB",
                                      "-1xH100", "8xH100;rm", "600xA,600xB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        if (agent_gpus_parse(bad[i], "n", &g, &e) == 0)
            fail_msg("--gpus %s was accepted", bad[i]);
        assert_non_null(strstr(e.msg, "--gpus"));
        agent_gpus_release(&g);
    }
}

static void test_nvml_absent(void **state)
{
    /* The build machines have no NVIDIA driver: a clear error, not a crash. */
    struct agent_gpus g = {0};
    struct err e;
    if (agent_gpus_nvml(&g, &e) == 0) {
        agent_gpus_release(&g); /* a machine with a GPU */
        skip();
    }
    assert_int_equal(e.code, ENOENT);
    assert_non_null(strstr(e.msg, "libnvidia-ml.so.1"));
    assert_non_null(strstr(e.msg, "--gpus 8xH100-80GB"));
}

/* ---- --labels ------------------------------------------------------------ */

static void test_labels_parse(void **state)
{
    struct agent_labels l = {0};
    struct err e;
    assert_int_equal(
        agent_labels_parse("zone=a,example.com/team=ml-1,empty=,zone=b,x.y_z=A.b", &l, &e), 0);
    assert_int_equal(l.len, 4);
    assert_string_equal(l.v[0].key, "zone");
    assert_string_equal(l.v[0].value, "b"); /* the later one wins */
    assert_string_equal(l.v[1].key, "example.com/team");
    assert_string_equal(l.v[1].value, "ml-1");
    assert_string_equal(l.v[2].value, "");
    assert_string_equal(l.v[3].value, "A.b");
    agent_labels_release(&l);
    assert_int_equal(agent_labels_parse("", &l, &e), 0);
    assert_int_equal(l.len, 0);

    static const char *const bad[] = {"novalue",
                                      "=v",
                                      "k=v v",
                                      "-k=v",
                                      "k=-v",
                                      "Big.COM/x=y",
                                      "a/b/c=d",
                                      "k=v,",
                                      "/x=y",
                                      "k=0123456789012345678901234567890123456789"
                                      "012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (agent_labels_parse(bad[i], &l, &e) == 0)
            fail_msg("--labels %s was accepted", bad[i]);
        assert_non_null(strstr(e.msg, "--labels"));
        agent_labels_release(&l);
    }
}

/* ---- environment ------------------------------------------------------------ */

static void test_env_expand(void **state)
{
    struct agent_env env = {0};
    agent_env_set(&env, "A", "1");
    agent_env_set(&env, "B", "two");
    struct strbuf sb;
    strbuf_init(&sb, 1024);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"}, {"$(A)", "1"},  {"x$(A)y$(B)z", "x1ytwoz"},
        {"$$(A)", "$(A)"},  {"$$", "$"},    {"$(MISSING)", "$(MISSING)"},
        {"$(A", "$(A"},     {"$()", "$()"}, {"$A", "$A"},
        {"a$", "a$"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf_reset(&sb);
        assert_int_equal(agent_env_expand(cases[i].in, &env, &sb), 0);
        assert_string_equal(sb.buf, cases[i].out);
    }
    /* Past the buffer's cap: an error, not an overflow. */
    struct strbuf small;
    strbuf_init(&small, 3);
    assert_int_equal(agent_env_expand("$(B)$(B)", &env, &small), -1);
    strbuf_release(&small);
    strbuf_release(&sb);
    agent_env_release(&env);
}

static const char POD[] =
    "{\"metadata\":{\"name\":\"train-0\",\"namespace\":\"team\",\"uid\":\"u-1\","
    "\"labels\":{\"app\":\"llm\"},"
    "\"annotations\":{\"muster.dev/gpus\":\"2,3\",\"muster.dev/rank\":\"1\","
    "\"muster.dev/world-size\":\"4\",\"muster.dev/master-addr\":\"10.0.0.7\","
    "\"muster.dev/master-port\":\"23456\",\"batch.kubernetes.io/job-completion-index\":\"1\"}},"
    "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"main\","
    "\"command\":[\"torchrun\",\"--node-rank=$(RANK)\"],\"args\":[\"$(GREETING)\",\"$$(RANK)\"],"
    "\"env\":[{\"name\":\"GREETING\",\"value\":\"hi $(MUSTER_POD_NAME)\"},"
    "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
    "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
    "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
    "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}}},"
    "{\"name\":\"SECRET\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}},"
    "{\"name\":\"CUDA_VISIBLE_DEVICES\",\"value\":\"0,1,2,3,4,5,6,7\"},"
    "{\"name\":\"RANK\",\"value\":\"9\"}]}]}}";

static void test_env_build(void **state)
{
    json_t *pod = json_loads(POD, 0, NULL);
    assert_non_null(pod);
    json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    struct agent_env env = {0};
    struct err warn;
    struct agent_env_ctx ctx = {.node = "n1", .pod_ip = "10.0.0.9", .path = "/bin", .home = NULL};
    assert_int_equal(agent_env_build(pod, c, &ctx, &env, &warn), 0);
    static const struct {
        const char *name, *value;
    } want[] = {
        {"PATH", "/bin"},
        {"HOSTNAME", "train-0"},
        {"RANK", "9"}, /* the pod's env overrides muster's defaults... */
        {"WORLD_SIZE", "4"},
        {"MASTER_ADDR", "10.0.0.7"},
        {"MASTER_PORT", "23456"},
        {"JOB_COMPLETION_INDEX", "1"},
        {"MUSTER_POD_NAME", "train-0"},
        {"MUSTER_POD_NAMESPACE", "team"},
        {"MUSTER_NODE_NAME", "n1"},
        {"GREETING", "hi train-0"},
        {"POD", "train-0"},
        {"NS", "team"},
        {"IP", "10.0.0.9"},
        {"APP", "llm"},
        {"CUDA_VISIBLE_DEVICES", "2,3"}, /* ...but not the devices */
        {"NVIDIA_VISIBLE_DEVICES", "2,3"},
        {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = agent_env_get(&env, want[i].name);
        if (!v || strcmp(v, want[i].value))
            fail_msg("%s=%s, want %s", want[i].name, v ? v : "(unset)", want[i].value);
    }
    assert_null(agent_env_get(&env, "SECRET"));
    assert_null(agent_env_get(&env, "HOME"));
    assert_non_null(strstr(warn.msg, "SECRET"));
    /* Order: PATH first, the devices last. */
    assert_string_equal(env.v[0].name, "PATH");
    assert_string_equal(env.v[env.len - 1].name, "CUDA_DEVICE_ORDER");

    char **envp = agent_env_envp(&env);
    size_t n = 0;
    for (; envp[n]; n++)
        assert_non_null(strchr(envp[n], '='));
    assert_int_equal(n, env.len);
    assert_string_equal(envp[0], "PATH=/bin");
    free(envp);

    char **argv;
    assert_int_equal(agent_argv_build(c, &env, &argv), 4);
    assert_string_equal(argv[0], "torchrun");
    assert_string_equal(argv[1], "--node-rank=9");
    assert_string_equal(argv[2], "hi train-0");
    assert_string_equal(argv[3], "$(RANK)");
    assert_null(argv[4]);
    agent_argv_free(argv);

    /* No command: the image's entrypoint is not known. */
    json_object_del(c, "command");
    assert_int_equal(agent_argv_build(c, &env, &argv), -1);
    assert_null(argv);
    agent_env_release(&env);

    /* A pod without muster's annotations sees no GPU. */
    json_object_del(json_object_get(pod, "metadata"), "annotations");
    json_object_del(c, "env");
    assert_int_equal(agent_env_build(pod, c, &ctx, &env, &warn), 0);
    assert_string_equal(agent_env_get(&env, "CUDA_VISIBLE_DEVICES"), "");
    assert_string_equal(agent_env_get(&env, "NVIDIA_VISIBLE_DEVICES"), "none");
    assert_null(agent_env_get(&env, "RANK"));
    assert_string_equal(warn.msg, "");
    agent_env_release(&env);
    json_decref(pod);
}

/* ---- simulated runtime ------------------------------------------------------ */

static void test_sim_runtime(void **state)
{
    static const struct {
        const char *annotation;
        int rc;
        int64_t ns;
    } cases[] = {
        {"30s", 1, 30 * MTIME_S},
        {"500ms", 1, 500 * MTIME_MS},
        {"1h2m", 1, 62 * MTIME_MIN},
        {"0", 1, 0},
        {NULL, 0, 0},
        {"30", -1, 0},
        {"soon", -1, 0},
        {"-5s", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *pod = cases[i].annotation ? json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
                                                      "muster.dev/runtime", cases[i].annotation)
                                          : json_pack("{s:{}}", "metadata");
        int64_t ns = -1;
        struct err e;
        err_clear(&e);
        int rc = agent_sim_runtime(pod, &ns, &e);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", cases[i].annotation, rc, cases[i].rc);
        if (rc == 1)
            assert_true(ns == cases[i].ns);
        if (rc < 0)
            assert_non_null(strstr(e.msg, "muster.dev/runtime"));
        json_decref(pod);
    }
}

/* ---- watch lines --------------------------------------------------------- */

struct collected {
    char text[4096];
    int n;
};

static void collect(void *arg, const char *line, size_t len)
{
    struct collected *c = arg;
    size_t at = strlen(c->text);
    snprintf(c->text + at, sizeof c->text - at, "[%.*s]", (int)len, line);
    c->n++;
}

static void test_lines_split(void **state)
{
    const char stream[] = "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\",\"x\":\"\xc3\xa9\"}\r\n\n"
                          "{\"type\":\"BOOKMARK\"}\n{\"partial\":";
    const char want[] = "[{\"type\":\"ADDED\"}][{\"type\":\"MODIFIED\",\"x\":\"\xc3\xa9\"}][{"
                        "\"type\":\"BOOKMARK\"}]";
    size_t n = strlen(stream);
    /* Cut in two at every position, and byte by byte: the same lines. */
    for (size_t cut = 0; cut <= n; cut++) {
        struct agent_lines l;
        agent_lines_init(&l, 1024);
        struct collected c = {0};
        assert_int_equal(agent_lines_feed(&l, stream, cut, collect, &c), 0);
        assert_int_equal(agent_lines_feed(&l, stream + cut, n - cut, collect, &c), 0);
        assert_string_equal(c.text, want);
        assert_int_equal(c.n, 3);
        assert_string_equal(l.partial.buf, "{\"partial\":");
        agent_lines_release(&l);
    }
    struct agent_lines l;
    agent_lines_init(&l, 1024);
    struct collected c = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(agent_lines_feed(&l, stream + i, 1, collect, &c), 0);
    assert_string_equal(c.text, want);
    agent_lines_release(&l);

    /* A line past the cap fails, whether it comes whole or in pieces. */
    agent_lines_init(&l, 8);
    memset(&c, 0, sizeof c);
    assert_int_equal(agent_lines_feed(&l, "short\n0123456789\n", 17, collect, &c), -1);
    assert_int_equal(errno, E2BIG);
    assert_string_equal(c.text, "[short]");
    agent_lines_release(&l);
    agent_lines_init(&l, 8);
    assert_int_equal(agent_lines_feed(&l, "01234", 5, collect, &c), 0);
    assert_int_equal(agent_lines_feed(&l, "56789", 5, collect, &c), -1);
    agent_lines_release(&l);
}

/* ---- the shim ------------------------------------------------------------ */

static char tmpdir[512];

static int make_tmp(void **state)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/muster-agent-test.XXXXXX", base && *base ? base : P_tmpdir);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_exit_file(void **state)
{
    char path[600];
    snprintf(path, sizeof path, "%s/c.exit", tmpdir);
    struct agent_exit x = {.exit_code = 137, .signal = 9}, y;
    strcpy(x.started_at, "2025-01-02T03:04:05Z");
    strcpy(x.finished_at, "2025-01-02T03:04:09Z");
    struct err e;
    assert_int_equal(agent_exit_read(path, &y, &e), -1);
    assert_int_equal(e.code, ENOENT);
    assert_int_equal(agent_exit_write(path, &x, &e), 0);
    assert_int_equal(agent_exit_read(path, &y, &e), 0);
    assert_int_equal(y.exit_code, 137);
    assert_int_equal(y.signal, 9);
    assert_string_equal(y.started_at, x.started_at);
    assert_string_equal(y.finished_at, x.finished_at);
    /* No temporary file is left beside it. */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* A file that is not an exit record. */
    FILE *f = fopen(path, "w");
    fputs("{\"exitCode\":\"zero\"}", f);
    fclose(f);
    assert_int_equal(agent_exit_read(path, &y, &e), -1);
    assert_int_equal(e.code, EINVAL);
    f = fopen(path, "w");
    fputs("garbage", f);
    fclose(f);
    assert_int_equal(agent_exit_read(path, &y, &e), -1);
    assert_int_equal(e.code, EINVAL);
}

/* Runs `muster agent shim` in dir on cmd (via sh -c); returns its pid. */
static pid_t run_shim(const char *dir, const char *cmd)
{
    const char *bin = getenv("MUSTER_BIN");
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (chdir(dir) < 0)
            _exit(99);
        execl(bin, "muster", "agent", "shim", "--dir", dir, "--container", "main", "--", "sh", "-c",
              cmd, (char *)NULL);
        _exit(98);
    }
    return pid;
}

static void read_text(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

static void test_shim_records_exit(void **state)
{
    if (!getenv("MUSTER_BIN"))
        skip();
    char dir[600], path[700], text[512];
    snprintf(dir, sizeof dir, "%s/pod-a", tmpdir);
    mkdir(dir, 0755);
    pid_t pid = run_shim(dir, "echo out; echo err >&2; echo $$ > me; exit 5");
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct agent_exit x;
    struct err e;
    snprintf(path, sizeof path, "%s/main.exit", dir);
    assert_int_equal(agent_exit_read(path, &x, &e), 0);
    assert_int_equal(x.exit_code, 5);
    assert_int_equal(x.signal, 0);
    assert_true(x.started_at[0] && x.finished_at[0]);
    snprintf(path, sizeof path, "%s/main.log", dir);
    read_text(path, text, sizeof text);
    assert_string_equal(text, "out\nerr\n");
    /* The pid file names the container's process, which ran in dir. */
    snprintf(path, sizeof path, "%s/main.pid", dir);
    read_text(path, text, sizeof text);
    json_t *j = json_loads(text, 0, NULL);
    int cpid = (int)json_integer_value(json_object_get(j, "pid"));
    json_decref(j);
    snprintf(path, sizeof path, "%s/me", dir);
    read_text(path, text, sizeof text);
    assert_int_equal(atoi(text), cpid);

    /* A command that cannot be run: 127, said in the log. */
    pid = run_shim(dir, "exec /nonexistent/program");
    assert_int_equal(waitpid(pid, &status, 0), pid);
    snprintf(path, sizeof path, "%s/main.exit", dir);
    assert_int_equal(agent_exit_read(path, &x, &e), 0);
    assert_int_equal(x.exit_code, 127);
}

static void test_shim_forwards_signals(void **state)
{
    if (!getenv("MUSTER_BIN"))
        skip();
    char dir[600], path[700], text[512];
    snprintf(dir, sizeof dir, "%s/pod-b", tmpdir);
    mkdir(dir, 0755);
    pid_t pid = run_shim(dir, "trap 'echo term; exit 42' TERM; echo ready > ready; "
                              "while :; do sleep 0.05; done");
    snprintf(path, sizeof path, "%s/ready", dir);
    for (int i = 0; i < 200 && access(path, F_OK) < 0; i++)
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    assert_int_equal(access(path, F_OK), 0);
    /* Its lock is held while it runs. */
    snprintf(path, sizeof path, "%s/main.lock", dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(kill(pid, SIGTERM), 0); /* to the shim: forwarded */
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    struct agent_exit x;
    struct err e;
    snprintf(path, sizeof path, "%s/main.exit", dir);
    assert_int_equal(agent_exit_read(path, &x, &e), 0);
    assert_int_equal(x.exit_code, 42);
    snprintf(path, sizeof path, "%s/main.log", dir);
    read_text(path, text, sizeof text);
    assert_non_null(strstr(text, "term\n"));

    /* Killed by a signal: 128 + the signal. */
    pid = run_shim(dir, "kill -KILL $$");
    assert_int_equal(waitpid(pid, &status, 0), pid);
    snprintf(path, sizeof path, "%s/main.exit", dir);
    assert_int_equal(agent_exit_read(path, &x, &e), 0);
    assert_int_equal(x.exit_code, 137);
    assert_int_equal(x.signal, 9);
}


/* ---- the HTTP response parser ----------------------------------------------- */

struct body_sink {
    char buf[4096];
    size_t len;
    size_t cap; /* refuse past this many bytes (0: no cap) */
};

static int sink(void *arg, const char *p, size_t n)
{
    struct body_sink *b = arg;
    if ((b->cap && b->len + n > b->cap) || b->len + n > sizeof b->buf)
        return -1;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

/* Parses text fed in pieces of `step` bytes (0: all at once) and, with eof,
 * the end of the connection after it. Returns the parser's final state as
 * 'd'one, 'f'ailed or 'p'ending, the body in b, the bytes used in *used. */
static char parse_in_pieces(const char *text, size_t n, size_t step, bool eof,
                            struct ahttp *p, struct body_sink *b, size_t *used)
{
    ahttp_init(p);
    memset(b->buf, 0, sizeof b->buf);
    b->len = 0;
    size_t i = 0;
    while (i < n && !ahttp_done(p) && !ahttp_failed(p)) {
        size_t k = step && step < n - i ? step : n - i;
        size_t u = ahttp_parse(p, text + i, k, sink, b);
        i += u;
        if (u < k)
            break;
    }
    *used = i;
    if (eof && !ahttp_failed(p))
        ahttp_eof(p);
    return ahttp_done(p) ? 'd' : ahttp_failed(p) ? 'f' : 'p';
}

static void test_http_parser(void **state)
{
    static const struct {
        const char *text;
        bool eof;
        char want;      /* 'd', 'f', 'p' */
        long status;
        const char *body;
        bool keep_alive;
        size_t trailing; /* bytes after the response, left unused */
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 'd', 200, "hello", true, 0},
        {"HTTP/1.1 201 Created\r\ncontent-length:  3 \r\nConnection: close\r\n\r\nabc", false, 'd',
         201, "abc", false, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200", false, 'd', 200, "ok", true,
         12},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n"
         "0\r\nX-Trailer: 1\r\n\r\n",
         false, 'd', 200, "hello!", true, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
         false, 'd', 200, "0123456789", true, 0},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
         false, 'd', 404, "no", true, 0},
        {"HTTP/1.1 204 No Content\r\n\r\n", false, 'd', 204, "", true, 0},
        {"HTTP/1.0 200 OK\r\n\r\nuntil the end", true, 'd', 200, "until the end", false, 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", false, 'd',
         200, "x", true, 0},
        {"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", false, 'd', 200, "x", true, 0},
        /* a watch that has not ended */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", true, 'p', 200, "abc",
         true, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true, 'p', 200, "short", true, 0},
        {"SSH-2.0-OpenSSH\r\n\r\n", false, 'f', 0, "", false, 0},
        {"HTTP/1.1 2x0 OK\r\n\r\n", false, 'f', 0, "", false, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false, 'f', 0, "", false, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", false, 'f', 0, "",
         false, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 'f', 200, "", true,
         0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", false, 'f', 200, "ab",
         true, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = strlen(cases[c].text);
        /* every way of cutting it in two, and byte by byte */
        for (size_t step = 0; step <= n; step++) {
            struct ahttp p;
            struct body_sink b = {.cap = 0};
            size_t used;
            char got = parse_in_pieces(cases[c].text, n, step, cases[c].eof, &p, &b, &used);
            if (got != cases[c].want)
                fail_msg("case %zu step %zu: state %c, want %c (%s)", c, step, got, cases[c].want,
                         p.error ? p.error : "");
            if (got != 'f') {
                assert_int_equal(p.status, cases[c].status);
                assert_string_equal(b.buf, cases[c].body);
            }
            if (got == 'd') {
                assert_int_equal(p.keep_alive, cases[c].keep_alive);
                assert_int_equal(n - used, cases[c].trailing);
            }
            ahttp_release(&p);
        }
    }
    /* a head past 64 KiB, and a body its sink refuses */
    size_t big = 70000;
    char *t = malloc(big + 64);
    strcpy(t, "HTTP/1.1 200 OK\r\nX: ");
    memset(t + strlen(t), 'a', big);
    strcpy(t + 20 + big, "\r\n\r\n");
    struct ahttp p;
    struct body_sink b = {.cap = 0};
    size_t used;
    assert_int_equal(parse_in_pieces(t, strlen(t), 1000, false, &p, &b, &used), 'f');
    ahttp_release(&p);
    free(t);
    b.cap = 3;
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(parse_in_pieces(r, strlen(r), 0, false, &p, &b, &used), 'f');
    assert_string_equal(p.error, "response body too large");
    ahttp_release(&p);
}


/* ---- the HTTP client against a scripted server ------------------------------ */


/* A socket listening on 127.0.0.1 (its port in *port) whose accept() gives up
 * after 3 s when no client comes. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* A port on 127.0.0.1 nobody listens on (bound, then closed). */
static struct sockaddr_in dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in da = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&da, sizeof da);
    socklen_t sl = sizeof da;
    getsockname(fd, (struct sockaddr *)&da, &sl);
    close(fd);
    return da;
}

struct script_server {
    int lfd;
    int port;
    pthread_t th;
    int requests; /* requests read and answered */
    int dropped;  /* requests read and not answered */
    int bad;      /* requests not as expected (checked in the test's thread) */
};

/* Reads one request head (and its Content-Length body) from fd; false at EOF. */
static bool read_request(int fd, char *head, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t k = read(fd, head + n, 1);
        if (k <= 0)
            return false;
        n++;
        head[n] = 0;
        if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
            break;
    }
    const char *cl = strcasestr(head, "Content-Length: ");
    long body = cl ? atol(cl + 16) : 0;
    for (char c; body > 0 && read(fd, &c, 1) == 1; body--)
        ;
    return true;
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Connection 1: answers /a, then closes on the next request (a server that
 * dropped a kept-alive connection as the request came). Connection 2: answers
 * /b (the client's retry), connection 3 /stream in chunks, ending it. */
static void *script_main(void *arg)
{
    struct script_server *sv = arg;
    char head[4096];
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd >= 0 && read_request(fd, head, sizeof head)) {
        sv->requests++;
        sv->bad += !strstr(head, "GET /prefix/a HTTP/1.1\r\n");
        sv->bad += !strstr(head, "User-Agent: muster-agent\r\n");
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nA!");
    }
    /* the next request comes on the kept-alive connection: dropped unanswered */
    if (read_request(fd, head, sizeof head))
        sv->dropped++;
    close(fd);
    fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (read_request(fd, head, sizeof head)) {
        sv->requests++;
        sv->bad += !strstr(head, "PATCH /prefix/b HTTP/1.1\r\n");
        sv->bad += !strstr(head, "Content-Type: application/merge-patch+json\r\n");
        sv->bad += !strstr(head, "Content-Length: 7\r\n");
        say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nB!\r\n0\r\n\r\n");
    }
    int fd2 = accept(sv->lfd, NULL, NULL); /* the stream's own connection */
    if (fd2 >= 0 && read_request(fd2, head, sizeof head)) {
        sv->requests++;
        say(fd2, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; i++) {
            usleep(20000);
            say(fd2, "6\r\nline ");
            usleep(5000);
            char c[16];
            snprintf(c, sizeof c, "%d", i);
            say(fd2, c);
            say(fd2, "\r\n");
        }
        say(fd2, "0\r\n\r\n");
    }
    usleep(50000);
    if (fd2 >= 0)
        close(fd2);
    close(fd);
    return NULL;
}

struct client_run {
    uv_loop_t loop;
    struct acli *cli;
    char got_a[64], got_b[64], stream[256], refused[256];
    long status_a, status_b, status_stream, status_refused;
    int done;
};

static void on_refused(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct client_run *cr = arg;
    cr->status_refused = r->status;
    snprintf(cr->refused, sizeof cr->refused, "%s", r->error ? r->error : "");
    cr->done++;
}

static void on_stream_data(void *arg, uint64_t cookie, const char *p, size_t n)
{
    struct client_run *cr = arg;
    strncat(cr->stream, p, n < sizeof cr->stream - strlen(cr->stream) - 1
                               ? n
                               : sizeof cr->stream - strlen(cr->stream) - 1);
}

static void on_stream_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct client_run *cr = arg;
    cr->status_stream = r->status;
    cr->done++;
    acli_destroy(cr->cli);
}

static void on_b(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct client_run *cr = arg;
    cr->status_b = r->status;
    snprintf(cr->got_b, sizeof cr->got_b, "%.*s", (int)r->len, r->body);
    cr->done++;
    if (r->status == 200)
        acli_stream(cr->cli, "/stream?watch=true", on_stream_data, on_stream_done, cr, 3);
    else
        acli_destroy(cr->cli);
}

static void on_a(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct client_run *cr = arg;
    cr->status_a = r->status;
    snprintf(cr->got_a, sizeof cr->got_a, "%.*s", (int)r->len, r->body);
    cr->done++;
    char *body = strdup("{\"x\":1}");
    acli_do(cr->cli, "PATCH", "/b", "application/merge-patch+json", body, on_b, cr, 2);
}

static void test_http_client(void **state)
{
    struct script_server sv = {0};
    sv.lfd = listen_loopback(&sv.port);
    pthread_create(&sv.th, NULL, script_main, &sv);

    struct client_run cr = {0};
    uv_loop_init(&cr.loop);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/prefix/", sv.port);
    struct err e;
    cr.cli = acli_create(&cr.loop, base, 1, &e);
    assert_non_null(cr.cli);
    acli_do(cr.cli, "GET", "/a", NULL, NULL, on_a, &cr, 1);
    assert_int_equal(acli_in_flight(cr.cli), 1);

    /* a port nobody listens on */
    struct sockaddr_in da = dead_port();
    char dbase[64];
    snprintf(dbase, sizeof dbase, "http://127.0.0.1:%d", ntohs(da.sin_port));
    struct acli *dc = acli_create(&cr.loop, dbase, 1, &e);
    acli_do(dc, "GET", "/x", NULL, NULL, on_refused, &cr, 9);

    uv_run(&cr.loop, UV_RUN_DEFAULT);
    pthread_join(sv.th, NULL);
    close(sv.lfd);
    acli_destroy(dc);
    uv_run(&cr.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&cr.loop), 0);

    assert_int_equal(cr.done, 4);
    assert_int_equal(cr.status_a, 200);
    assert_string_equal(cr.got_a, "A!");
    assert_int_equal(cr.status_b, 200); /* on a new connection, not an error */
    assert_string_equal(cr.got_b, "B!");
    assert_int_equal(cr.status_stream, 200);
    assert_string_equal(cr.stream, "line 0line 1line 2");
    assert_int_equal(cr.status_refused, 0);
    assert_non_null(strstr(cr.refused, "cannot connect to 127.0.0.1:"));
    assert_int_equal(sv.requests, 3);
    assert_int_equal(sv.dropped, 1);
    assert_int_equal(sv.bad, 0);

    /* URLs the client takes and refuses */
    uv_loop_t l2;
    uv_loop_init(&l2);
    static const char *const bad[] = {"https://h:1", "http://", "http://:80", "http://h:",
                                      "http://h:8x", "http://[::1", "ftp://h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (acli_create(&l2, bad[i], 1, &e))
            fail_msg("%s was taken", bad[i]);
        assert_non_null(strstr(e.msg, "--server"));
    }
    static const char *const good[] = {"http://h", "http://h:8080", "http://[::1]:80/x/",
                                       "http://10.0.0.1:1/"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct acli *g = acli_create(&l2, good[i], 1, &e);
        if (!g)
            fail_msg("%s: %s", good[i], e.msg);
        acli_destroy(g);
    }
    uv_run(&l2, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&l2), 0);
}


/* ---- the HTTP client: early answers, addresses, failures ------------------- */

/* Connection 1: reads a request's head only and answers 413 (a server refusing
 * a large body before reading it), then leaves the body unread for a while.
 * Every later connection: one request, answered 200 "ok", then closed. Stops
 * after `conns` connections or when nobody comes for 3 s. */
struct ok_server {
    int lfd, port, conns, served, refused;
    pthread_t th;
};

static void *ok_main(void *arg)
{
    struct ok_server *sv = arg;
    char head[4096];
    int first = -1;
    for (int i = 0; i < sv->conns; i++) {
        int fd = accept(sv->lfd, NULL, NULL);
        if (fd < 0)
            break;
        size_t n = 0;
        while (n + 1 < sizeof head && read(fd, head + n, 1) == 1) {
            n++;
            head[n] = 0;
            if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
                break;
        }
        if (i == 0) {
            say(fd, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n");
            sv->refused++;
            first = fd;
            continue;
        }
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        sv->served++;
        close(fd);
    }
    if (first >= 0)
        close(first);
    return NULL;
}

static void ok_server_start(struct ok_server *sv, int conns)
{
    sv->lfd = listen_loopback(&sv->port);
    sv->conns = conns;
    pthread_create(&sv->th, NULL, ok_main, sv);
}

struct fail_run {
    struct acli *cli;
    long status[8];
    char error[8][256];
    int calls[8];
    int done;
    int expect;
};

static void on_fail_run(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct fail_run *fr = arg;
    fr->status[cookie] = r->status;
    fr->calls[cookie]++;
    snprintf(fr->error[cookie], sizeof fr->error[cookie], "%s", r->error ? r->error : "");
    if (cookie == 1) /* after the early 413: the next request on a sound connection */
        acli_do(fr->cli, "GET", "/after", NULL, NULL, on_fail_run, fr, 2);
    if (++fr->done == fr->expect)
        acli_destroy(fr->cli);
}

/* Stops a loop that should have ended by now (a client that never answers). */
static bool watchdog_fired;
static void on_watchdog(uv_timer_t *t)
{
    watchdog_fired = true;
    uv_stop(t->loop);
}

static void run_bounded(uv_loop_t *loop)
{
    uv_timer_t wd;
    uv_timer_init(loop, &wd);
    uv_unref((uv_handle_t *)&wd); /* does not keep the loop alive by itself */
    uv_timer_start(&wd, on_watchdog, 10000, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&wd, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (watchdog_fired)
        fail_msg("the client did not finish within 10 s");
}

static void test_http_client_failures(void **state)
{
    struct ok_server sv = {0};
    ok_server_start(&sv, 3);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct err e;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", sv.port);

    /* 1. A 32 MiB body answered early: the connection still writing it is not
     * reused for the next request. */
    struct fail_run fr = {.expect = 2};
    fr.cli = acli_create(&loop, base, 1, &e);
    size_t big = (size_t)32 << 20;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = 0;
    acli_do(fr.cli, "PATCH", "/big", "application/json", body, on_fail_run, &fr, 1);
    run_bounded(&loop);
    assert_int_equal(fr.status[1], 413);
    assert_int_equal(fr.status[2], 200);

    /* 2. Addresses tried in turn: one nobody listens on, then the server. */
    struct sockaddr_in da = dead_port();
    struct sockaddr_storage addrs[3];
    memset(addrs, 0, sizeof addrs);
    memcpy(&addrs[0], &da, sizeof da);
    struct sockaddr_in live = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)sv.port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    memcpy(&addrs[1], &live, sizeof live);
    struct fail_run f2 = {.expect = 1};
    f2.cli = acli_create(&loop, "http://server.invalid:1", 1, &e);
    acli__set_addrs(f2.cli, addrs, 2);
    acli_do(f2.cli, "GET", "/x", NULL, NULL, on_fail_run, &f2, 3);
    run_bounded(&loop);
    assert_int_equal(f2.status[3], 200);

    /* 3. A failure found inside acli_do (an address no TCP socket can take)
     * is answered after it returns, once; a request cancelled before that is
     * never answered. */
    struct sockaddr_storage bad;
    memset(&bad, 0, sizeof bad);
    bad.ss_family = AF_UNIX;
    struct fail_run f3 = {.expect = 1};
    f3.cli = acli_create(&loop, "http://server.invalid:1", 1, &e);
    acli__set_addrs(f3.cli, &bad, 1);
    acli_do(f3.cli, "GET", "/z", NULL, NULL, on_fail_run, &f3, 5);
    assert_int_equal(f3.calls[5], 0); /* nothing before the call returns */
    struct fail_run f4 = {.expect = 1};
    f4.cli = acli_create(&loop, "http://server.invalid:1", 1, &e);
    acli__set_addrs(f4.cli, &bad, 1);
    struct acli_req *gone = acli_do(f4.cli, "GET", "/y", NULL, NULL, on_fail_run, &f4, 4);
    acli_cancel(gone);
    assert_int_equal(acli_in_flight(f4.cli), 0);
    run_bounded(&loop);
    acli_destroy(f4.cli);
    run_bounded(&loop);
    assert_int_equal(f4.calls[4], 0);
    assert_int_equal(f3.calls[5], 1);
    assert_int_equal(f3.status[5], 0);
    if (!strstr(f3.error[5], "cannot connect to server.invalid:1"))
        fail_msg("error: %s", f3.error[5]);

    pthread_join(sv.th, NULL);
    close(sv.lfd);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(sv.refused, 1);
    assert_int_equal(sv.served, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpus_parse),
        cmocka_unit_test(test_nvml_absent),
        cmocka_unit_test(test_labels_parse),
        cmocka_unit_test(test_env_expand),
        cmocka_unit_test(test_env_build),
        cmocka_unit_test(test_sim_runtime),
        cmocka_unit_test(test_lines_split),
        cmocka_unit_test(test_http_parser),
        cmocka_unit_test(test_http_client),
        cmocka_unit_test(test_http_client_failures),
        cmocka_unit_test_setup_teardown(test_exit_file, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_shim_records_exit, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_shim_forwards_signals, make_tmp, remove_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
