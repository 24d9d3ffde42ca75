/*
 * agent/env: the environment and the argv of a container, built from the pod.
 *
 * The variables muster adds are those of docs/cluster.md (step 6 of the flow of
 * a Job). $(VAR) references are expanded as the kubelet does: in an env value
 * against the variables defined before it, in command and args against the
 * whole environment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "base/alloc.h"
#include "base/vec.h"

#define ENV_VALUE_MAX ((size_t)1 << 20) /* one expanded value or argument */

void agent_env_set(struct agent_env *env, const char *name, const char *value)
{
    for (size_t i = 0; i < env->len; i++)
        if (!strcmp(env->v[i].name, name)) {
            free(env->v[i].value);
            env->v[i].value = xstrdup(value);
            return;
        }
    struct agent_env_var v = {xstrdup(name), xstrdup(value)};
    vec_push(env, v);
}

const char *agent_env_get(const struct agent_env *env, const char *name)
{
    for (size_t i = 0; i < env->len; i++)
        if (!strcmp(env->v[i].name, name))
            return env->v[i].value;
    return NULL;
}

void agent_env_release(struct agent_env *env)
{
    for (size_t i = 0; i < env->len; i++) {
        free(env->v[i].name);
        free(env->v[i].value);
    }
    vec_free(env);
}

char **agent_env_envp(const struct agent_env *env)
{
    size_t bytes = (env->len + 1) * sizeof(char *);
    for (size_t i = 0; i < env->len; i++)
        bytes += strlen(env->v[i].name) + strlen(env->v[i].value) + 2;
    char **envp = xmalloc(bytes);
    char *p = (char *)(envp + env->len + 1);
    for (size_t i = 0; i < env->len; i++) {
        envp[i] = p;
        p += sprintf(p, "%s=%s", env->v[i].name, env->v[i].value) + 1;
    }
    envp[env->len] = NULL;
    return envp;
}

int agent_env_expand(const char *s, const struct agent_env *env, struct strbuf *out)
{
    while (*s) {
        if (s[0] == '$' && s[1] == '$') {
            if (strbuf_addch(out, '$') < 0)
                return -1;
            s += 2;
            continue;
        }
        if (s[0] == '$' && s[1] == '(') {
            const char *end = strchr(s + 2, ')');
            if (end) {
                char name[256];
                size_t n = (size_t)(end - s - 2);
                const char *v = NULL;
                if (n && n < sizeof name) {
                    memcpy(name, s + 2, n);
                    name[n] = 0;
                    v = agent_env_get(env, name);
                }
                if (v ? strbuf_addstr(out, v) < 0 : strbuf_add(out, s, n + 3) < 0)
                    return -1;
                s = end + 1;
                continue;
            }
        }
        if (strbuf_addch(out, *s++) < 0)
            return -1;
    }
    return 0;
}

static const char *annotation(json_t *pod, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"), key));
}

/* metadata.labels['k'] / metadata.annotations['k']: the value, or NULL. */
static const char *indexed_meta(json_t *pod, const char *path)
{
    const char *which = !strncmp(path, "metadata.labels['", 17)        ? "labels"
                        : !strncmp(path, "metadata.annotations['", 22) ? "annotations"
                                                                       : NULL;
    if (!which)
        return NULL;
    const char *k = strchr(path, '\'') + 1;
    const char *end = strchr(k, '\'');
    if (!end || strcmp(end, "']"))
        return NULL;
    char key[320];
    if ((size_t)(end - k) >= sizeof key)
        return NULL;
    memcpy(key, k, (size_t)(end - k));
    key[end - k] = 0;
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(pod, "metadata"), which), key));
    return v ? v : "";
}

/* The value of a fieldRef, or NULL when the agent does not resolve it. */
static const char *field_ref(json_t *pod, const char *path, const struct agent_env_ctx *ctx)
{
    json_t *md = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    if (!strcmp(path, "metadata.name") || !strcmp(path, "metadata.namespace") ||
        !strcmp(path, "metadata.uid")) {
        const char *v = json_string_value(json_object_get(md, path + 9));
        return v ? v : "";
    }
    if (!strcmp(path, "spec.nodeName"))
        return ctx->node;
    if (!strcmp(path, "spec.serviceAccountName")) {
        const char *v = json_string_value(json_object_get(spec, "serviceAccountName"));
        return v ? v : "default";
    }
    if (!strcmp(path, "status.podIP") || !strcmp(path, "status.hostIP"))
        return ctx->pod_ip;
    return indexed_meta(pod, path);
}

int agent_env_build(json_t *pod, json_t *container, const struct agent_env_ctx *ctx,
                    struct agent_env *out, struct err *warn)
{
    err_clear(warn);
    json_t *md = json_object_get(pod, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    agent_env_set(out, "PATH", ctx->path ? ctx->path : "/usr/bin:/bin");
    if (ctx->home)
        agent_env_set(out, "HOME", ctx->home);
    agent_env_set(out, "HOSTNAME", name ? name : "");
    static const struct {
        const char *var, *annotation;
    } from_ann[] = {
        {"RANK", "muster.dev/rank"},
        {"WORLD_SIZE", "muster.dev/world-size"},
        {"MASTER_ADDR", "muster.dev/master-addr"},
        {"MASTER_PORT", "muster.dev/master-port"},
        {"JOB_COMPLETION_INDEX", "batch.kubernetes.io/job-completion-index"},
    };
    for (size_t i = 0; i < sizeof from_ann / sizeof from_ann[0]; i++) {
        const char *v = annotation(pod, from_ann[i].annotation);
        if (v)
            agent_env_set(out, from_ann[i].var, v);
    }
    agent_env_set(out, "MUSTER_POD_NAME", name ? name : "");
    agent_env_set(out, "MUSTER_POD_NAMESPACE", ns ? ns : "");
    agent_env_set(out, "MUSTER_NODE_NAME", ctx->node);

    struct strbuf sb;
    strbuf_init(&sb, ENV_VALUE_MAX);
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(container, "env"), i, ev)
    {
        const char *var = json_string_value(json_object_get(ev, "name"));
        if (!var || !*var || strchr(var, '='))
            continue;
        json_t *from = json_object_get(ev, "valueFrom");
        const char *v;
        if (from) {
            const char *path =
                json_string_value(json_object_get(json_object_get(from, "fieldRef"), "fieldPath"));
            v = path ? field_ref(pod, path, ctx) : NULL;
            if (!v) {
                if (!warn->msg[0])
                    errf(warn, EOPNOTSUPP,
                         "env %s: valueFrom other than a supported fieldRef is not resolved by "
                         "the agent; left unset",
                         var);
                continue;
            }
            agent_env_set(out, var, v);
            continue;
        }
        v = json_string_value(json_object_get(ev, "value"));
        strbuf_reset(&sb);
        if (agent_env_expand(v ? v : "", out, &sb) < 0)
            continue;
        agent_env_set(out, var, sb.buf);
    }
    strbuf_release(&sb);

    /* Devices last: the pod's own env cannot widen them. */
    const char *gpus = annotation(pod, "muster.dev/gpus");
    agent_env_set(out, "CUDA_VISIBLE_DEVICES", gpus ? gpus : "");
    agent_env_set(out, "NVIDIA_VISIBLE_DEVICES", gpus && *gpus ? gpus : "none");
    agent_env_set(out, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    return 0;
}

void agent_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int agent_argv_build(json_t *container, const struct agent_env *env, char ***argv)
{
    json_t *cmd = json_object_get(container, "command"), *args = json_object_get(container, "args");
    size_t n = json_array_size(cmd) + json_array_size(args);
    *argv = NULL;
    if (!json_array_size(cmd))
        return -1; /* the image's entrypoint is not known */
    char **v = xcalloc(n + 1, sizeof *v);
    struct strbuf sb;
    strbuf_init(&sb, ENV_VALUE_MAX);
    size_t k = 0;
    json_t *lists[2] = {cmd, args};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *a;
        json_array_foreach(lists[l], i, a)
        {
            strbuf_reset(&sb);
            const char *s = json_string_value(a);
            if (agent_env_expand(s ? s : "", env, &sb) < 0)
                strbuf_reset(&sb);
            v[k++] = xstrdup(sb.buf);
        }
    }
    strbuf_release(&sb);
    *argv = v;
    return (int)k;
}
