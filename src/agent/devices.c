/*
 * agent/devices: the node's GPUs, declared on the command line or discovered
 * through NVML, and the node's labels from --labels.
 *
 * NVML is loaded with dlopen at run time, never linked: the build and the
 * tests need neither a GPU nor the NVIDIA driver. Its few types are declared
 * here with the layout of nvml.h.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "base/alloc.h"
#include "base/map.h"
#include "base/vec.h"
#include "model/quantity.h"

void agent_gpus_release(struct agent_gpus *g)
{
    vec_free(g);
}

/* A made-up UUID in NVIDIA's "GPU-8-4-4-4-12" shape, stable for (node, index). */
static void fake_uuid(const char *node, int index, char *out, size_t size)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%d", node ? node : "", index);
    uint64_t a = map_hash_str(key, strlen(key)), b = map_hash_u64(a ^ (uint64_t)index);
    snprintf(out, size, "GPU-%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
             (unsigned long long)(b & 0xffffffffffffull));
}

/* Reads "80GB", "80G", "80Gi", "81920MiB" as bytes; false when s is not a size. */
static bool parse_size(const char *s, size_t n, int64_t *bytes)
{
    char q[QUANTITY_MAX_LEN + 1];
    if (n == 0 || n > QUANTITY_MAX_LEN || !isdigit((unsigned char)s[0]))
        return false;
    memcpy(q, s, n);
    q[n] = 0;
    if (n > 1 && q[n - 1] == 'B') /* GB -> G, GiB -> Gi */
        q[--n] = 0;
    if (!isalpha((unsigned char)q[n - 1]))
        return false; /* a bare number is part of the model ("A100-40" is not a size) */
    int64_t milli;
    struct err e;
    if (quantity_parse(q, n, &milli, &e) < 0 || milli <= 0)
        return false;
    *bytes = milli / 1000;
    return *bytes > 0;
}

/* One group "NxMODEL[-MEMORY]". */
static int parse_group(const char *g, size_t n, const char *node, struct agent_gpus *out,
                       struct err *e)
{
    size_t i = 0;
    long count = 0;
    while (i < n && isdigit((unsigned char)g[i]) && count <= AGENT_GPUS_MAX)
        count = count * 10 + (g[i++] - '0');
    if (i == 0 || i >= n || g[i] != 'x')
        return errf(e, EINVAL, "--gpus: \"%.*s\": expected COUNTxMODEL[-MEMORY], as in 8xH100-80GB",
                    (int)n, g);
    if (count < 1 || out->len + (size_t)count > AGENT_GPUS_MAX)
        return errf(e, EINVAL, "--gpus: \"%.*s\": the count must be 1 to %d in all", (int)n, g,
                    AGENT_GPUS_MAX);
    const char *model = g + i + 1;
    size_t mlen = n - i - 1;
    int64_t mem = 0;
    const char *dash = NULL;
    for (size_t k = 0; k < mlen; k++)
        if (model[k] == '-')
            dash = model + k;
    if (dash && parse_size(dash + 1, (size_t)(model + mlen - dash - 1), &mem))
        mlen = (size_t)(dash - model);
    if (mlen == 0 || mlen >= AGENT_GPU_MODEL_MAX)
        return errf(e, EINVAL, "--gpus: \"%.*s\": the model must be 1 to %d characters", (int)n, g,
                    AGENT_GPU_MODEL_MAX - 1);
    for (size_t k = 0; k < mlen; k++)
        if (!isalnum((unsigned char)model[k]) && !strchr("-_.", model[k]))
            return errf(e, EINVAL,
                        "--gpus: \"%.*s\": the model may hold letters, digits, '-', '_' and '.'",
                        (int)n, g);
    for (long k = 0; k < count; k++) {
        struct agent_gpu gpu = {.index = (int)out->len, .memory_bytes = mem};
        memcpy(gpu.model, model, mlen);
        fake_uuid(node, gpu.index, gpu.uuid, sizeof gpu.uuid);
        vec_push(out, gpu);
    }
    return 0;
}

int agent_gpus_parse(const char *spec, const char *node, struct agent_gpus *out, struct err *e)
{
    if (!spec || !*spec || !strcmp(spec, "0"))
        return 0;
    const char *p = spec;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (parse_group(p, n, node, out, e) < 0)
            return -1;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

/* ---- NVML ----------------------------------------------------------------- */

typedef int nvml_return;
typedef struct nvml_device *nvml_device;
struct nvml_memory {
    unsigned long long total, free, used;
};

int agent_gpus_nvml(struct agent_gpus *out, struct err *e)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return errf(e, ENOENT,
                    "--gpus nvml: cannot load libnvidia-ml.so.1 (no NVIDIA driver?); declare the "
                    "GPUs instead, as in --gpus 8xH100-80GB (%s)",
                    dlerror());
    nvml_return (*init)(void) = (nvml_return(*)(void))dlsym(lib, "nvmlInit_v2");
    nvml_return (*shutdown)(void) = (nvml_return(*)(void))dlsym(lib, "nvmlShutdown");
    nvml_return (*count_fn)(unsigned *) =
        (nvml_return(*)(unsigned *))dlsym(lib, "nvmlDeviceGetCount_v2");
    nvml_return (*handle_fn)(unsigned, nvml_device *) =
        (nvml_return(*)(unsigned, nvml_device *))dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    nvml_return (*name_fn)(nvml_device, char *, unsigned) =
        (nvml_return(*)(nvml_device, char *, unsigned))dlsym(lib, "nvmlDeviceGetName");
    nvml_return (*uuid_fn)(nvml_device, char *, unsigned) =
        (nvml_return(*)(nvml_device, char *, unsigned))dlsym(lib, "nvmlDeviceGetUUID");
    nvml_return (*mem_fn)(nvml_device, struct nvml_memory *) =
        (nvml_return(*)(nvml_device, struct nvml_memory *))dlsym(lib, "nvmlDeviceGetMemoryInfo");
    const char *(*errstr)(nvml_return) =
        (const char *(*)(nvml_return))dlsym(lib, "nvmlErrorString");
    int rc = -1;
    if (!init || !shutdown || !count_fn || !handle_fn || !name_fn || !uuid_fn || !mem_fn) {
        errf(e, EIO, "--gpus nvml: libnvidia-ml.so.1 lacks the NVML functions the agent needs");
        goto out;
    }
    nvml_return r = init();
    if (r != 0) {
        errf(e, EIO, "--gpus nvml: nvmlInit_v2: %s", errstr ? errstr(r) : "failed");
        goto out;
    }
    unsigned n = 0;
    if ((r = count_fn(&n)) != 0) {
        errf(e, EIO, "--gpus nvml: nvmlDeviceGetCount_v2: %s", errstr ? errstr(r) : "failed");
        goto shut;
    }
    for (unsigned i = 0; i < n && i < AGENT_GPUS_MAX; i++) {
        nvml_device d;
        struct agent_gpu g = {.index = (int)i};
        struct nvml_memory m = {0};
        if ((r = handle_fn(i, &d)) != 0 || (r = name_fn(d, g.model, sizeof g.model)) != 0 ||
            (r = uuid_fn(d, g.uuid, sizeof g.uuid)) != 0 || (r = mem_fn(d, &m)) != 0) {
            errf(e, EIO, "--gpus nvml: GPU %u: %s", i, errstr ? errstr(r) : "query failed");
            goto shut;
        }
        g.model[sizeof g.model - 1] = g.uuid[sizeof g.uuid - 1] = 0;
        g.memory_bytes = (int64_t)m.total;
        vec_push(out, g);
    }
    rc = 0;
shut:
    shutdown();
out:
    dlclose(lib);
    return rc;
}

/* ---- labels --------------------------------------------------------------- */

void agent_labels_release(struct agent_labels *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    vec_free(l);
}

/* A label name or value: alphanumerics at both ends, '-', '_' and '.' inside,
 * at most 63 characters; a value may be empty. */
static bool label_part(const char *s, size_t n, bool empty_ok)
{
    if (n == 0)
        return empty_ok;
    if (n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
            return false;
    return true;
}

/* A DNS subdomain prefix: lower case alphanumerics, '-' and '.', at most 253. */
static bool label_prefix(const char *s, size_t n)
{
    if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
              s[i] == '.'))
            return false;
    return true;
}

int agent_labels_parse(const char *s, struct agent_labels *out, struct err *e)
{
    if (!s || !*s)
        return 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return errf(e, EINVAL, "--labels: \"%.*s\": expected KEY=VALUE", (int)n, p);
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        const char *slash = memchr(p, '/', kn);
        bool ok = slash ? label_prefix(p, (size_t)(slash - p)) &&
                              label_part(slash + 1, (size_t)(eq - slash - 1), false)
                        : label_part(p, kn, false);
        if (!ok)
            return errf(e, EINVAL,
                        "--labels: key \"%.*s\" is not a label key ([prefix/]name: a name is 1 to "
                        "63 alphanumerics, '-', '_', '.', starting and ending alphanumeric)",
                        (int)kn, p);
        if (!label_part(eq + 1, vn, true))
            return errf(e, EINVAL,
                        "--labels: value \"%.*s\" of %.*s is not a label value (at most 63 "
                        "alphanumerics, '-', '_', '.', starting and ending alphanumeric)",
                        (int)vn, eq + 1, (int)kn, p);
        size_t i = 0;
        while (i < out->len && !(strlen(out->v[i].key) == kn && !memcmp(out->v[i].key, p, kn)))
            i++;
        if (i < out->len) {
            free(out->v[i].value);
            out->v[i].value = xstrndup(eq + 1, vn);
        } else {
            struct agent_label l = {xstrndup(p, kn), xstrndup(eq + 1, vn)};
            vec_push(out, l);
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}
