/* api/table: server-side Table conversion (see table.h). */
#include "api/table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "base/strbuf.h"
#include "model/model.h"
#include "model/quantity.h"

#define GPU_RESOURCE "nvidia.com/gpu"
#define NS_PER_S     INT64_C(1000000000)

/* ---- ages ---------------------------------------------------------------- */

int table_age(int64_t d_ns, char *buf, size_t size)
{
    /* kubectl's thresholds: seconds up to 2 minutes, minutes and seconds up to
     * 10 minutes, minutes up to 3 hours, hours and minutes up to 8 hours, hours
     * up to 2 days, days and hours up to 8 days, days up to 2 years, years and
     * days up to 8 years, then years. A time up to 2 s ahead (clock skew) is 0s. */
    int64_t s = d_ns / NS_PER_S;
    if (s < -1)
        return snprintf(buf, size, "<invalid>");
    if (s < 0)
        return snprintf(buf, size, "0s");
    if (s < 120)
        return snprintf(buf, size, "%" PRId64 "s", s);
    int64_t m = s / 60, h = s / 3600, d = h / 24;
    if (m < 10)
        return s % 60 ? snprintf(buf, size, "%" PRId64 "m%" PRId64 "s", m, s % 60)
                      : snprintf(buf, size, "%" PRId64 "m", m);
    if (m < 180)
        return snprintf(buf, size, "%" PRId64 "m", m);
    if (h < 8)
        return m % 60 ? snprintf(buf, size, "%" PRId64 "h%" PRId64 "m", h, m % 60)
                      : snprintf(buf, size, "%" PRId64 "h", h);
    if (h < 48)
        return snprintf(buf, size, "%" PRId64 "h", h);
    if (h < 24 * 8)
        return h % 24 ? snprintf(buf, size, "%" PRId64 "d%" PRId64 "h", d, h % 24)
                      : snprintf(buf, size, "%" PRId64 "d", d);
    if (h < 24 * 365 * 2)
        return snprintf(buf, size, "%" PRId64 "d", d);
    if (h < 24 * 365 * 8)
        return d % 365 ? snprintf(buf, size, "%" PRId64 "y%" PRId64 "d", d / 365, d % 365)
                       : snprintf(buf, size, "%" PRId64 "y", d / 365);
    return snprintf(buf, size, "%" PRId64 "y", d / 365);
}

int table_age_since(const char *ts, int64_t now_ns, char *buf, size_t size)
{
    int64_t t;
    if (!ts || model_parse_time(ts, &t, NULL))
        return snprintf(buf, size, "<unknown>");
    int64_t d;
    if (__builtin_sub_overflow(now_ns, t, &d))
        d = t < 0 ? INT64_MAX : INT64_MIN;
    return table_age(d, buf, size);
}

int table_include_parse(const char *s, enum table_include *out, struct err *e)
{
    if (!s || !*s || !strcmp(s, "Metadata"))
        *out = TABLE_INCLUDE_METADATA;
    else if (!strcmp(s, "None"))
        *out = TABLE_INCLUDE_NONE;
    else if (!strcmp(s, "Object"))
        *out = TABLE_INCLUDE_OBJECT;
    else
        return errf(e, EINVAL,
                    "includeObject: unsupported value \"%.40s\" (None, Metadata or Object)", s);
    return 0;
}

/* ---- JSON helpers -------------------------------------------------------- */

/* The value at a dotted path ("status.nodeInfo.kubeletVersion"), or NULL. */
static json_t *at(json_t *v, const char *path)
{
    char key[128];
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        path += n + (path[n] == '.');
    }
    return v;
}

static const char *str_at(json_t *v, const char *path)
{
    const char *s = json_string_value(at(v, path));
    return s && *s ? s : NULL;
}

static void add_str(json_t *cells, const char *s, const char *dflt)
{
    /* A cell cut short may end inside a UTF-8 sequence, which jansson refuses;
     * every row must still have all its cells. */
    json_t *v = json_string(s ? s : dflt);
    json_array_append_new(cells, v ? v : json_string("?"));
}

static void add_int(json_t *cells, json_t *v)
{
    json_array_append_new(cells, json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
}

struct row {
    json_t *cells;
    const struct table_opts *o;
    struct map *gpu_used; /* Node: node name -> GPUs (milli) held by its pods, or NULL */
};

static void add_age(struct row *r, const char *ts)
{
    char buf[TABLE_AGE_BUFSZ];
    table_age_since(ts, r->o->now_ns, buf, sizeof buf);
    add_str(r->cells, buf, "");
}

static void add_obj_age(struct row *r, json_t *obj)
{
    add_age(r, str_at(obj, "metadata.creationTimestamp"));
}

/* Sums of quantities from objects anyone may write must not overflow. */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* A quantity written as a string or a number, in milli; 0 when absent, bad or
 * negative. */
static int64_t qty(json_t *v)
{
    int64_t m = 0;
    if (json_is_string(v))
        quantity_parse_str(json_string_value(v), &m, NULL);
    else if (json_is_integer(v))
        quantity_from_int(json_integer_value(v), &m, NULL);
    else if (json_is_real(v))
        quantity_from_real(json_real_value(v), &m, NULL);
    return m < 0 ? 0 : m;
}

/* Whole units (cpu stays in milli: "500m"), as text. */
static void fmt_qty(const char *res, int64_t milli, char *buf, size_t size)
{
    if (!strcmp(res, "memory"))
        quantity_format_binary(milli, buf, size);
    else if (!strcmp(res, "cpu"))
        quantity_format(milli, buf, size);
    else
        snprintf(buf, size, "%" PRId64, quantity_units_ceil(milli));
}

/* The condition of the given type in a conditions array, or NULL. */
static json_t *condition(json_t *obj, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(at(obj, "status.conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, type))
            return c;
    }
    return NULL;
}

static bool condition_true(json_t *obj, const char *type)
{
    const char *s = json_string_value(json_object_get(condition(obj, type), "status"));
    return s && !strcmp(s, "True");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Cells are kept short: kubectl prints them on one line. */
#define CELL_MAX 512

/* Appends s to sb, with ", " or sep before it unless sb is empty; past the cap
 * the cell ends in "...". */
static void join_add(struct strbuf *sb, const char *sep, const char *s)
{
    if (sb->len && strbuf_addstr(sb, sep))
        return;
    if (strbuf_addstr(sb, s)) {
        while (sb->len + 3 > sb->limit)
            strbuf_truncate(sb, sb->len - 1);
        strbuf_addstr(sb, "...");
    }
}

/* "k=v,k2=v2" of a string map, keys sorted; "<none>" when empty. */
static void add_map_cell(json_t *cells, json_t *m)
{
    size_t n = json_is_object(m) ? json_object_size(m) : 0;
    if (!n) {
        add_str(cells, "<none>", "");
        return;
    }
    const char **keys = xcalloc(n, sizeof *keys);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    struct strbuf sb;
    strbuf_init(&sb, CELL_MAX);
    for (i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(m, keys[i]));
        char one[300];
        snprintf(one, sizeof one, "%.150s=%.140s", keys[i], val ? val : "");
        join_add(&sb, ",", one);
    }
    add_str(cells, sb.buf, "");
    strbuf_release(&sb);
    free(keys);
}

/* ---- GPUs ---------------------------------------------------------------- */

/* The GPUs one container asks for: its request, or its limit (the API server
 * defaults the request of an extended resource to the limit). */
static int64_t container_gpus(json_t *c)
{
    /* at() splits on '.', and the resource name has dots: look it up by hand. */
    json_t *v = json_object_get(at(c, "resources.requests"), GPU_RESOURCE);
    if (!v)
        v = json_object_get(at(c, "resources.limits"), GPU_RESOURCE);
    return qty(v);
}

/* The GPUs a pod holds, in milli: the larger of its containers' sum and any
 * init container's. */
static int64_t pod_gpus(json_t *pod)
{
    int64_t sum = 0, init = 0;
    size_t i;
    json_t *c;
    json_array_foreach(at(pod, "spec.containers"), i, c) sum = sat_add(sum, container_gpus(c));
    json_array_foreach(at(pod, "spec.initContainers"), i, c)
    {
        int64_t g = container_gpus(c);
        init = g > init ? g : init;
    }
    return sum > init ? sum : init;
}

static bool pod_finished(json_t *pod)
{
    const char *ph = str_at(pod, "status.phase");
    return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

/* ---- per-kind rows ------------------------------------------------------- */

static void row_generic(struct row *r, json_t *obj)
{
    add_obj_age(r, obj);
}

static void row_node(struct row *r, json_t *obj)
{
    const char *name = str_at(obj, "metadata.name");
    /* Status */
    const char *ready = json_string_value(json_object_get(condition(obj, "Ready"), "status"));
    char status[64];
    snprintf(status, sizeof status, "%s%s",
             !ready                   ? "Unknown"
             : !strcmp(ready, "True") ? "Ready"
                                      : "NotReady",
             json_is_true(at(obj, "spec.unschedulable")) ? ",SchedulingDisabled" : "");
    add_str(r->cells, status, "");
    /* Roles, from node-role.kubernetes.io/<role> labels and kubernetes.io/role */
    json_t *labels = at(obj, "metadata.labels");
    struct strbuf sb;
    strbuf_init(&sb, CELL_MAX);
    const char *k;
    json_t *v;
    static const char role_prefix[] = "node-role.kubernetes.io/";
    json_object_foreach(labels, k, v)
    {
        if (!strncmp(k, role_prefix, sizeof role_prefix - 1) && k[sizeof role_prefix - 1])
            join_add(&sb, ",", k + sizeof role_prefix - 1);
        else if (!strcmp(k, "kubernetes.io/role") && json_string_value(v))
            join_add(&sb, ",", json_string_value(v));
    }
    add_str(r->cells, sb.len ? sb.buf : "<none>", "");
    strbuf_release(&sb);
    /* GPUs */
    json_t *alloc = json_object_get(at(obj, "status.allocatable"), GPU_RESOURCE);
    if (!alloc)
        alloc = json_object_get(at(obj, "status.capacity"), GPU_RESOURCE);
    char gpus[64];
    if (!alloc) {
        snprintf(gpus, sizeof gpus, "-");
    } else if (!r->gpu_used) {
        snprintf(gpus, sizeof gpus, "%" PRId64, quantity_units_ceil(qty(alloc)));
    } else {
        union map_val *u = name ? map_get(r->gpu_used, name, strlen(name)) : NULL;
        int64_t total = quantity_units_ceil(qty(alloc));
        int64_t used = u ? quantity_units_ceil((int64_t)u->u64) : 0;
        snprintf(gpus, sizeof gpus, "%" PRId64 "/%" PRId64, total - used, total);
    }
    add_str(r->cells, gpus, "");
    add_obj_age(r, obj);
    add_str(r->cells, str_at(obj, "status.nodeInfo.kubeletVersion"), "");
    /* wide */
    const char *ip = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(at(obj, "status.addresses"), i, a)
    {
        const char *t = json_string_value(json_object_get(a, "type"));
        if (t && !strcmp(t, "InternalIP") && !ip)
            ip = json_string_value(json_object_get(a, "address"));
    }
    add_str(r->cells, ip, "<none>");
    const char *zone = json_string_value(json_object_get(labels, "topology.kubernetes.io/zone"));
    add_str(r->cells, zone, "<none>");
    /* A rack label: any key whose name part is "rack" or ends in "-rack"
     * (cloud.provider.com/topology-rack, example.com/rack). */
    const char *rack = NULL;
    json_object_foreach(labels, k, v)
    {
        const char *nm = strrchr(k, '/');
        nm = nm ? nm + 1 : k;
        size_t n = strlen(nm);
        if (!rack && (!strcmp(nm, "rack") || (n > 5 && !strcmp(nm + n - 5, "-rack"))))
            rack = json_string_value(v);
    }
    add_str(r->cells, rack, "<none>");
    add_str(r->cells, json_string_value(json_object_get(labels, "nvidia.com/gpu.product")),
            "<none>");
    add_str(r->cells, str_at(obj, "status.nodeInfo.osImage"), "<unknown>");
    add_str(r->cells, str_at(obj, "status.nodeInfo.kernelVersion"), "<unknown>");
    add_str(r->cells, str_at(obj, "status.nodeInfo.containerRuntimeVersion"), "<unknown>");
}

static void row_pod(struct row *r, json_t *obj)
{
    size_t total = json_array_size(at(obj, "spec.containers")), ready = 0, i;
    int64_t restarts = 0;
    const char *reason = str_at(obj, "status.phase");
    if (str_at(obj, "status.reason"))
        reason = str_at(obj, "status.reason");
    json_t *cs;
    json_array_foreach(at(obj, "status.containerStatuses"), i, cs)
    {
        if (json_is_true(json_object_get(cs, "ready")))
            ready++;
        restarts = sat_add(restarts, json_integer_value(json_object_get(cs, "restartCount")));
        const char *w = str_at(cs, "state.waiting.reason");
        const char *t = str_at(cs, "state.terminated.reason");
        if (w)
            reason = w;
        else if (t)
            reason = t;
    }
    if (reason && !strcmp(reason, "Pending") && json_array_size(at(obj, "spec.schedulingGates")))
        reason = "SchedulingGated";
    if (str_at(obj, "metadata.deletionTimestamp"))
        reason = "Terminating";
    char rd[48];
    snprintf(rd, sizeof rd, "%zu/%zu", ready, total);
    add_str(r->cells, rd, "");
    add_str(r->cells, reason, "Pending");
    json_array_append_new(r->cells, json_integer(restarts));
    add_str(r->cells, str_at(obj, "spec.nodeName"), "<none>");
    add_obj_age(r, obj);
    add_str(r->cells, str_at(obj, "status.podIP"), "<none>");
    json_array_append_new(r->cells, json_integer(quantity_units_ceil(pod_gpus(obj))));
    add_str(r->cells, str_at(obj, "status.nominatedNodeName"), "<none>");
}

static void row_namespace(struct row *r, json_t *obj)
{
    add_str(r->cells, str_at(obj, "status.phase"), "Active");
    add_obj_age(r, obj);
}

static void row_event(struct row *r, json_t *obj)
{
    /* core/v1 and events.k8s.io/v1 spell the same things differently. */
    const char *last = str_at(obj, "lastTimestamp");
    if (!last)
        last = str_at(obj, "series.lastObservedTime");
    if (!last)
        last = str_at(obj, "eventTime");
    if (!last)
        last = str_at(obj, "deprecatedLastTimestamp");
    add_age(r, last);
    add_str(r->cells, str_at(obj, "type"), "");
    add_str(r->cells, str_at(obj, "reason"), "");
    json_t *io = json_object_get(obj, "involvedObject");
    if (!io)
        io = json_object_get(obj, "regarding");
    const char *kind = str_at(io, "kind"), *name = str_at(io, "name");
    char ob[300], lk[64] = "";
    for (size_t i = 0; kind && kind[i] && i + 1 < sizeof lk; i++) {
        lk[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] - 'A' + 'a' : kind[i]);
        lk[i + 1] = '\0';
    }
    snprintf(ob, sizeof ob, "%s/%.200s", lk, name ? name : "");
    add_str(r->cells, ob, "");
    const char *msg = str_at(obj, "message");
    add_str(r->cells, msg ? msg : str_at(obj, "note"), "");
    /* wide */
    const char *src = str_at(obj, "source.component");
    if (!src)
        src = str_at(obj, "reportingController");
    if (!src)
        src = str_at(obj, "reportingComponent");
    add_str(r->cells, src, "");
    const char *first = str_at(obj, "firstTimestamp");
    add_age(r, first ? first : str_at(obj, "eventTime"));
    json_t *count = json_object_get(obj, "count");
    if (!count)
        count = at(obj, "series.count");
    json_array_append_new(r->cells,
                          json_integer(json_is_integer(count) ? json_integer_value(count) : 1));
}

static void row_job(struct row *r, json_t *obj, int64_t now_ns)
{
    const char *status = "Running";
    if (condition_true(obj, "Complete"))
        status = "Complete";
    else if (condition_true(obj, "Failed"))
        status = "Failed";
    else if (condition_true(obj, "Suspended"))
        status = "Suspended";
    else if (condition_true(obj, "FailureTarget"))
        status = "FailureTarget";
    add_str(r->cells, status, "");
    json_t *c = at(obj, "spec.completions");
    char comp[64];
    snprintf(comp, sizeof comp, "%" PRId64 "/%" PRId64,
             (int64_t)json_integer_value(at(obj, "status.succeeded")),
             json_is_integer(c) ? (int64_t)json_integer_value(c) : 1);
    add_str(r->cells, comp, "");
    int64_t start, end = now_ns;
    const char *st = str_at(obj, "status.startTime"), *ct = str_at(obj, "status.completionTime");
    char dur[TABLE_AGE_BUFSZ] = "";
    if (st && !model_parse_time(st, &start, NULL)) {
        if (ct)
            model_parse_time(ct, &end, NULL);
        int64_t d;
        if (__builtin_sub_overflow(end, start, &d))
            d = start < 0 ? INT64_MAX : INT64_MIN;
        table_age(d, dur, sizeof dur);
    }
    add_str(r->cells, dur, "");
    add_str(
        r->cells,
        json_string_value(json_object_get(at(obj, "metadata.labels"), "kueue.x-k8s.io/queue-name")),
        "<none>");
    add_obj_age(r, obj);
    struct strbuf names, images;
    strbuf_init(&names, CELL_MAX);
    strbuf_init(&images, CELL_MAX);
    size_t i;
    json_t *ctr;
    json_array_foreach(at(obj, "spec.template.spec.containers"), i, ctr)
    {
        const char *n = str_at(ctr, "name"), *im = str_at(ctr, "image");
        join_add(&names, ",", n ? n : "");
        join_add(&images, ",", im ? im : "");
    }
    add_str(r->cells, names.buf, "");
    add_str(r->cells, images.buf, "");
    strbuf_release(&names);
    strbuf_release(&images);
}

static void row_job_now(struct row *r, json_t *obj)
{
    row_job(r, obj, r->o->now_ns);
}

static void row_lease(struct row *r, json_t *obj)
{
    add_str(r->cells, str_at(obj, "spec.holderIdentity"), "<none>");
    add_obj_age(r, obj);
}

static void row_priority_class(struct row *r, json_t *obj)
{
    add_int(r->cells, json_object_get(obj, "value"));
    add_str(r->cells, json_is_true(json_object_get(obj, "globalDefault")) ? "true" : "false", "");
    add_str(r->cells, str_at(obj, "preemptionPolicy"), "PreemptLowerPriority");
    add_obj_age(r, obj);
}

static void row_resource_flavor(struct row *r, json_t *obj)
{
    add_map_cell(r->cells, at(obj, "spec.nodeLabels"));
    add_obj_age(r, obj);
    struct strbuf sb;
    strbuf_init(&sb, CELL_MAX);
    size_t i;
    json_t *t;
    json_array_foreach(at(obj, "spec.nodeTaints"), i, t)
    {
        char one[300];
        const char *val = str_at(t, "value");
        snprintf(one, sizeof one, "%.120s%s%.120s:%.30s", str_at(t, "key") ? str_at(t, "key") : "",
                 val ? "=" : "", val ? val : "", str_at(t, "effect") ? str_at(t, "effect") : "");
        join_add(&sb, ",", one);
    }
    add_str(r->cells, sb.len ? sb.buf : "<none>", "");
    strbuf_release(&sb);
    add_str(r->cells, str_at(obj, "spec.topologyName"), "<none>");
}

/* Per-resource sums, in first-seen order. */
struct res_sum {
    char name[64];
    int64_t milli;
};
#define RES_MAX 16

static void res_add(struct res_sum *rs, size_t *n, const char *name, int64_t milli)
{
    if (!name)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(rs[i].name, name)) {
            rs[i].milli = sat_add(rs[i].milli, milli);
            return;
        }
    if (*n == RES_MAX)
        return;
    snprintf(rs[*n].name, sizeof rs[*n].name, "%s", name);
    rs[(*n)++].milli = milli;
}

static int64_t res_get(const struct res_sum *rs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rs[i].name, name))
            return rs[i].milli;
    return 0;
}

/* Sums {name, resources: [{name, <field>}]} lists (resourceGroups[].flavors[]
 * or status.flavorsUsage) per resource. */
static void sum_flavors(json_t *flavors, const char *field, struct res_sum *rs, size_t *n)
{
    size_t i, j;
    json_t *f, *res;
    json_array_foreach(flavors, i, f)
    {
        json_array_foreach(json_object_get(f, "resources"), j, res)
            res_add(rs, n, str_at(res, "name"), qty(json_object_get(res, field)));
    }
}

/* "cpu=12/64,nvidia.com/gpu=3/16" (with quota) or "cpu=64" (quota alone). */
static void add_res_cell(json_t *cells, const struct res_sum *used, size_t nu,
                         const struct res_sum *quota, size_t nq)
{
    struct strbuf sb;
    strbuf_init(&sb, CELL_MAX);
    const struct res_sum *list = used ? used : quota;
    size_t n = used ? nu : nq;
    for (size_t i = 0; i < n; i++) {
        char a[QUANTITY_BUFSZ], b[QUANTITY_BUFSZ], one[160];
        fmt_qty(list[i].name, list[i].milli, a, sizeof a);
        if (used) {
            fmt_qty(list[i].name, res_get(quota, nq, list[i].name), b, sizeof b);
            snprintf(one, sizeof one, "%s=%s/%s", list[i].name, a, b);
        } else {
            snprintf(one, sizeof one, "%s=%s", list[i].name, a);
        }
        join_add(&sb, ",", one);
    }
    add_str(cells, sb.len ? sb.buf : "<none>", "");
    strbuf_release(&sb);
}

static void row_cluster_queue(struct row *r, json_t *obj)
{
    const char *cohort = str_at(obj, "spec.cohortName");
    add_str(r->cells, cohort ? cohort : str_at(obj, "spec.cohort"), "");
    add_str(r->cells, str_at(obj, "spec.queueingStrategy"), "BestEffortFIFO");
    add_int(r->cells, at(obj, "status.pendingWorkloads"));
    add_int(r->cells, at(obj, "status.admittedWorkloads"));
    add_obj_age(r, obj);
    struct res_sum quota[RES_MAX], usage[RES_MAX], resv[RES_MAX];
    size_t nq = 0, nu = 0, nr = 0, i;
    json_t *g;
    json_array_foreach(at(obj, "spec.resourceGroups"), i, g)
        sum_flavors(json_object_get(g, "flavors"), "nominalQuota", quota, &nq);
    sum_flavors(at(obj, "status.flavorsUsage"), "total", usage, &nu);
    sum_flavors(at(obj, "status.flavorsReservation"), "total", resv, &nr);
    add_res_cell(r->cells, NULL, 0, quota, nq);
    add_res_cell(r->cells, usage, nu, quota, nq);
    add_res_cell(r->cells, resv, nr, quota, nq);
}

static void row_cohort(struct row *r, json_t *obj)
{
    const char *p = str_at(obj, "spec.parentName");
    add_str(r->cells, p ? p : str_at(obj, "spec.parent"), "");
    add_obj_age(r, obj);
}

static void row_local_queue(struct row *r, json_t *obj)
{
    add_str(r->cells, str_at(obj, "spec.clusterQueue"), "");
    add_int(r->cells, at(obj, "status.pendingWorkloads"));
    add_int(r->cells, at(obj, "status.admittedWorkloads"));
    add_obj_age(r, obj);
}

static void row_workload(struct row *r, json_t *obj)
{
    add_str(r->cells, str_at(obj, "spec.queueName"), "");
    add_str(r->cells, str_at(obj, "status.admission.clusterQueue"), "");
    const char *adm = json_string_value(json_object_get(condition(obj, "Admitted"), "status"));
    const char *fin = json_string_value(json_object_get(condition(obj, "Finished"), "status"));
    add_str(r->cells, adm, "");
    add_str(r->cells, fin, "");
    add_obj_age(r, obj);
    json_t *prio = at(obj, "spec.priority");
    if (json_is_integer(prio))
        json_array_append_new(r->cells, json_integer(json_integer_value(prio)));
    else
        json_array_append_new(r->cells, json_null());
    /* Why it waits: the QuotaReserved=False condition's message (Kueue writes
     * "couldn't assign flavors ..." there), else an Evicted=True reason. */
    const char *why = NULL;
    json_t *qr = condition(obj, "QuotaReserved");
    const char *qs = json_string_value(json_object_get(qr, "status"));
    if (qs && !strcmp(qs, "False"))
        why = str_at(qr, "message") ? str_at(qr, "message") : str_at(qr, "reason");
    if (!why && condition_true(obj, "Evicted"))
        why = str_at(condition(obj, "Evicted"), "reason");
    add_str(r->cells, why, "");
}

static void row_wpc(struct row *r, json_t *obj)
{
    add_int(r->cells, json_object_get(obj, "value"));
    add_obj_age(r, obj);
    add_str(r->cells, str_at(obj, "description"), "");
}

static void row_topology(struct row *r, json_t *obj)
{
    struct strbuf sb;
    strbuf_init(&sb, CELL_MAX);
    size_t i;
    json_t *l;
    json_array_foreach(at(obj, "spec.levels"), i, l)
    {
        const char *nl = str_at(l, "nodeLabel");
        join_add(&sb, ",", nl ? nl : "");
    }
    add_str(r->cells, sb.len ? sb.buf : "<none>", "");
    strbuf_release(&sb);
    add_obj_age(r, obj);
}

static void row_resource_slice(struct row *r, json_t *obj)
{
    add_str(r->cells, str_at(obj, "spec.nodeName"), "<none>");
    add_str(r->cells, str_at(obj, "spec.driver"), "");
    add_str(r->cells, str_at(obj, "spec.pool.name"), "");
    add_obj_age(r, obj);
}

static void row_resource_claim(struct row *r, json_t *obj)
{
    bool alloc = at(obj, "status.allocation") != NULL;
    bool reserved = json_array_size(at(obj, "status.reservedFor")) > 0;
    const char *st = alloc && reserved ? "allocated,reserved" : alloc ? "allocated" : "pending";
    if (str_at(obj, "metadata.deletionTimestamp"))
        st = "deleted";
    add_str(r->cells, st, "");
    add_obj_age(r, obj);
}

/* ---- the converter table ------------------------------------------------- */

struct col {
    const char *name, *type, *desc;
    int priority;
};

#define C(n, t, d)                                                                                 \
    {                                                                                              \
        n, t, d, 0                                                                                 \
    }
#define W(n, t, d)                                                                                 \
    {                                                                                              \
        n, t, d, 1                                                                                 \
    }
#define AGE C("Age", "string", "CreationTimestamp is the time this object was created.")
#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, NULL, 0                                                                        \
    }

static const struct col cols_generic[] = {AGE, END};
static const struct col cols_node[] = {
    C("Status", "string",
      "The status of the node: Ready, NotReady or Unknown, and whether it is cordoned."),
    C("Roles", "string", "The roles of the node, from its node-role.kubernetes.io labels."),
    C("GPUs", "string", "Free and allocatable nvidia.com/gpu: free/total."),
    AGE,
    C("Version", "string", "Kubelet version reported by the node."),
    W("Internal-IP", "string", "The node's InternalIP address."),
    W("Zone", "string", "The topology.kubernetes.io/zone label."),
    W("Rack", "string", "The node's rack label."),
    W("GPU-Product", "string", "The nvidia.com/gpu.product label."),
    W("OS-Image", "string", "OS image reported by the node."),
    W("Kernel-Version", "string", "Kernel version reported by the node."),
    W("Container-Runtime", "string", "Container runtime version reported by the node."),
    END};
static const struct col cols_pod[] = {
    C("Ready", "string", "The number of containers that are ready, of all containers."),
    C("Status", "string", "The aggregate status of the containers in this pod."),
    C("Restarts", "integer", "The number of times the containers in this pod have been restarted."),
    C("Node", "string", "The node the pod is bound to."),
    AGE,
    W("IP", "string", "The pod's IP address."),
    W("GPUs", "integer", "The nvidia.com/gpu the pod requests."),
    W("Nominated Node", "string", "The node the pod is nominated to after a preemption."),
    END};
static const struct col cols_namespace[] = {
    C("Status", "string", "The phase of the namespace: Active or Terminating."), AGE, END};
static const struct col cols_event[] = {
    C("Last Seen", "string", "The time since the event was last seen."),
    C("Type", "string", "Normal or Warning."),
    C("Reason", "string", "A short, machine-readable reason for the event."),
    C("Object", "string", "The object the event is about."),
    C("Message", "string", "A human-readable description of the event."),
    W("Source", "string", "The component that reported the event."),
    W("First Seen", "string", "The time since the event was first seen."),
    W("Count", "integer", "The number of times the event occurred."),
    END};
static const struct col cols_job[] = {
    C("Status", "string", "The job's state: Running, Complete, Failed, Suspended."),
    C("Completions", "string", "Succeeded pods of the desired completions."),
    C("Duration", "string", "Time the job took to complete, or has been running."),
    C("Queue", "string", "The kueue.x-k8s.io/queue-name label: the LocalQueue."),
    AGE,
    W("Containers", "string", "Names of the containers in the pod template."),
    W("Images", "string", "Images of the containers in the pod template."),
    END};
static const struct col cols_lease[] = {
    C("Holder", "string", "The identity of the current holder of the lease."), AGE, END};
static const struct col cols_pc[] = {
    C("Value", "integer", "The priority of pods of this class."),
    C("Global-Default", "string", "Whether this is the class of pods that name none."),
    C("Preemption-Policy", "string", "PreemptLowerPriority or Never."), AGE, END};
static const struct col cols_rf[] = {
    C("Node Labels", "string", "The labels of the nodes this flavor stands for."), AGE,
    W("Node Taints", "string", "The taints of the nodes this flavor stands for."),
    W("Topology", "string", "The Topology used for topology-aware scheduling."), END};
static const struct col cols_cq[] = {
    C("Cohort", "string", "The cohort this ClusterQueue borrows and lends in."),
    C("Strategy", "string", "The queueing strategy: BestEffortFIFO or StrictFIFO."),
    C("Pending Workloads", "integer", "Workloads waiting for admission."),
    C("Admitted Workloads", "integer", "Workloads admitted and not finished."),
    AGE,
    W("Quota", "string", "Nominal quota per resource, summed over flavors."),
    W("Usage", "string", "Quota used by admitted workloads, per resource: used/nominal."),
    W("Reserved", "string", "Quota reserved by workloads, per resource: reserved/nominal."),
    END};
static const struct col cols_cohort[] = {C("Parent", "string", "The parent cohort, if any."), AGE,
                                         END};
static const struct col cols_lq[] = {
    C("ClusterQueue", "string", "The ClusterQueue this LocalQueue submits to."),
    C("Pending Workloads", "integer", "Workloads waiting for admission."),
    C("Admitted Workloads", "integer", "Workloads admitted and not finished."), AGE, END};
static const struct col cols_wl[] = {
    C("Queue", "string", "The LocalQueue the workload is submitted to."),
    C("Reserved In", "string", "The ClusterQueue where quota is reserved."),
    C("Admitted", "string", "The status of the Admitted condition."),
    C("Finished", "string", "The status of the Finished condition."),
    AGE,
    W("Priority", "integer", "The workload's priority."),
    W("Pending Reason", "string", "Why the workload waits, from its conditions."),
    END};
static const struct col cols_wpc[] = {
    C("Value", "integer", "The priority of workloads of this class."), AGE,
    W("Description", "string", "What the class is for."), END};
static const struct col cols_topology[] = {
    C("Levels", "string", "The node labels of the levels, outermost first."), AGE, END};
static const struct col cols_slice[] = {
    C("Node", "string", "The node whose devices the slice lists."),
    C("Driver", "string", "The DRA driver."), C("Pool", "string", "The device pool."), AGE, END};
static const struct col cols_claim[] = {
    C("State", "string", "pending, allocated, or allocated,reserved."), AGE, END};

static const struct conv {
    const char *kind;
    const struct col *cols;
    void (*row)(struct row *r, json_t *obj);
} convs[] = {
    {"Node", cols_node, row_node},
    {"Pod", cols_pod, row_pod},
    {"Namespace", cols_namespace, row_namespace},
    {"Event", cols_event, row_event},
    {"Job", cols_job, row_job_now},
    {"Lease", cols_lease, row_lease},
    {"PriorityClass", cols_pc, row_priority_class},
    {"ResourceFlavor", cols_rf, row_resource_flavor},
    {"ClusterQueue", cols_cq, row_cluster_queue},
    {"Cohort", cols_cohort, row_cohort},
    {"LocalQueue", cols_lq, row_local_queue},
    {"Workload", cols_wl, row_workload},
    {"WorkloadPriorityClass", cols_wpc, row_wpc},
    {"Topology", cols_topology, row_topology},
    {"ResourceSlice", cols_slice, row_resource_slice},
    {"ResourceClaim", cols_claim, row_resource_claim},
};

static const struct conv generic = {"", cols_generic, row_generic};

static const struct conv *conv_for(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof convs / sizeof convs[0]; i++)
        if (!strcmp(convs[i].kind, kind))
            return &convs[i];
    return &generic;
}

json_t *table_columns(const char *kind)
{
    const struct conv *c = conv_for(kind);
    json_t *cols = json_array();
    json_array_append_new(cols, json_pack("{ss ss ss ss si}", "name", "Name", "type", "string",
                                          "format", "name", "description",
                                          "Name must be unique within a namespace. Is required "
                                          "when creating resources, although some resources may "
                                          "allow a client to request the generation of an "
                                          "appropriate name automatically.",
                                          "priority", 0));
    for (const struct col *k = c->cols; k->name; k++)
        json_array_append_new(cols, json_pack("{ss ss ss ss si}", "name", k->name, "type", k->type,
                                              "format", "", "description", k->desc, "priority",
                                              k->priority));
    return cols;
}

static json_t *row_object(json_t *obj, enum table_include inc)
{
    if (inc == TABLE_INCLUDE_OBJECT)
        return json_deep_copy(obj);
    json_t *md = json_object_get(obj, "metadata");
    json_t *m = json_is_object(md) ? json_deep_copy(md) : json_object();
    json_object_del(m, "managedFields");
    return json_pack("{ss ss so}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
                     "metadata", m);
}

json_t *table_convert(const char *kind, json_t *objs, const struct table_opts *o, struct err *e)
{
    if (!json_is_array(objs))
        return errf(e, EINVAL, "table: the objects are not a list"), NULL;
    const struct conv *c = conv_for(kind);
    size_t ncols = 1;
    for (const struct col *k = c->cols; k->name; k++)
        ncols++;
    /* GPUs in use per node, summed once: a node list against a pod list would
     * otherwise cost nodes x pods. Keys point into the pods' strings, which
     * outlive the map. */
    struct map used_map, *used = NULL;
    if (c->row == row_node && json_is_array(o->pods)) {
        used = &used_map;
        map_init(used, MAP_KEY_STR);
        size_t j;
        json_t *p;
        json_array_foreach(o->pods, j, p)
        {
            const char *nn = str_at(p, "spec.nodeName");
            if (!nn || pod_finished(p))
                continue;
            bool found;
            union map_val *v = map_put(used, nn, strlen(nn), &found);
            v->u64 = (uint64_t)sat_add(found ? (int64_t)v->u64 : 0, pod_gpus(p));
        }
    }
    json_t *rows = json_array();
    size_t i;
    json_t *obj;
    json_array_foreach(objs, i, obj)
    {
        if (!json_is_object(obj)) {
            json_decref(rows);
            if (used)
                map_release(used);
            return errf(e, EINVAL, "table: item %zu is not an object", i), NULL;
        }
        struct row r = {.cells = json_array(), .o = o, .gpu_used = used};
        add_str(r.cells, str_at(obj, "metadata.name"), "");
        c->row(&r, obj);
        /* Every row has exactly one cell per column; a converter that wrote a
         * different number is a bug here, not in the input. */
        if (json_array_size(r.cells) != ncols)
            abort();
        json_t *row = json_pack("{so}", "cells", r.cells);
        if (o->include != TABLE_INCLUDE_NONE)
            json_object_set_new(row, "object", row_object(obj, o->include));
        json_array_append_new(rows, row);
    }
    if (used)
        map_release(used);
    json_t *md = json_object();
    if (o->resource_version)
        json_object_set_new(md, "resourceVersion", json_string(o->resource_version));
    if (o->continue_token && *o->continue_token)
        json_object_set_new(md, "continue", json_string(o->continue_token));
    return json_pack("{ss ss so so so}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                     "metadata", md, "columnDefinitions", table_columns(kind), "rows", rows);
}
