/*
 * decode: the field walker every kind's decoder is written with.
 *
 * See model_internal.h for the conventions. The getters here cover the value
 * shapes Kubernetes objects repeat everywhere: strings, numbers, booleans,
 * enums, string maps (labels), quantities and resource lists, label selectors,
 * taints and tolerations, conditions and timestamps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

/* ---- path and errors ------------------------------------------------------ */

static size_t path_add(struct model__dctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t path_add(struct model__dctx *c, const char *fmt, ...)
{
    size_t old = c->plen;
    if (c->plen < sizeof c->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
        va_end(ap);
        if (n > 0) {
            c->plen += (size_t)n;
            if (c->plen > sizeof c->path - 1)
                c->plen = sizeof c->path - 1; /* truncated, still NUL-terminated */
        }
    }
    return old;
}

size_t model__push(struct model__dctx *c, const char *field)
{
    return path_add(c, c->plen ? ".%s" : "%s", field);
}

size_t model__push_index(struct model__dctx *c, size_t i)
{
    return path_add(c, "[%zu]", i);
}

size_t model__push_key(struct model__dctx *c, const char *key)
{
    return path_add(c, "[%s]", key);
}

void model__pop(struct model__dctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = 0;
}

static int vfail(struct model__dctx *c, const char *fmt, va_list ap)
{
    char msg[ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->plen)
        return errf(c->e, EINVAL, "%s: %s: %s", c->desc, c->path, msg);
    return errf(c->e, EINVAL, "%s: %s", c->desc, msg);
}

int model__fail(struct model__dctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, fmt, ap);
    va_end(ap);
    return -1;
}

int model__fail_at(struct model__dctx *c, const char *key, const char *fmt, ...)
{
    size_t old = model__push(c, key);
    va_list ap;
    va_start(ap, fmt);
    vfail(c, fmt, ap);
    va_end(ap);
    model__pop(c, old);
    return -1;
}

const char *model__type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

char *model__strdup(struct model__dctx *c, const char *s)
{
    return arena_strdup(c->a, s);
}

/* ---- fields --------------------------------------------------------------- */

json_t *model__field(json_t *obj, const char *key)
{
    if (!obj || !json_is_object(obj))
        return NULL;
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

int model__fields(struct model__dctx *c, json_t *obj, const char *const *allowed)
{
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return model__fail(c, "must be an object (got %s)", model__type_name(obj));
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return model__unknown_field(c, key);
    }
    return 0;
}

int model__unknown_field(struct model__dctx *c, const char *key)
{
    if (c->plen)
        return errf(c->e, EINVAL, "%s: unknown field \"%s.%s\"", c->desc, c->path, key);
    return errf(c->e, EINVAL, "%s: unknown field \"%s\"", c->desc, key);
}

/* Looks up key and checks its JSON type; *out is NULL when absent. */
static int typed(struct model__dctx *c, json_t *obj, const char *key, json_t **out, bool required,
                 json_type want, const char *want_name)
{
    json_t *v = model__field(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return model__fail_at(c, key, "required");
        return 0;
    }
    bool ok = json_typeof(v) == want || (want == JSON_TRUE && json_typeof(v) == JSON_FALSE);
    if (!ok)
        return model__fail_at(c, key, "must be %s (got %s)", want_name, model__type_name(v));
    *out = v;
    return 0;
}

int model__get_object(struct model__dctx *c, json_t *obj, const char *key, json_t **out,
                      bool required)
{
    return typed(c, obj, key, out, required, JSON_OBJECT, "an object");
}

int model__get_array(struct model__dctx *c, json_t *obj, const char *key, json_t **out,
                     bool required, size_t max_items)
{
    if (typed(c, obj, key, out, required, JSON_ARRAY, "a list") < 0)
        return -1;
    if (*out && max_items && json_array_size(*out) > max_items)
        return model__fail_at(c, key, "must have at most %zu items (got %zu)", max_items,
                              json_array_size(*out));
    return 0;
}

int model__get_string(struct model__dctx *c, json_t *obj, const char *key, const char **out,
                      bool required)
{
    json_t *v;
    if (typed(c, obj, key, &v, required, JSON_STRING, "a string") < 0)
        return -1;
    if (v)
        *out = arena_memdupz(c->a, json_string_value(v), json_string_length(v));
    return 0;
}

int model__get_name(struct model__dctx *c, json_t *obj, const char *key, const char **out,
                    bool required, const char *(*check)(const char *s))
{
    const char *s = NULL;
    if (model__get_string(c, obj, key, &s, required) < 0)
        return -1;
    if (!s)
        return 0;
    if (required && !*s)
        return model__fail_at(c, key, "required");
    const char *why = check ? check(s) : NULL;
    if (why)
        return model__fail_at(c, key, "invalid value \"%.64s\": %s", s, why);
    *out = s;
    return 0;
}

int model__get_bool(struct model__dctx *c, json_t *obj, const char *key, bool *out, bool *has)
{
    json_t *v;
    if (typed(c, obj, key, &v, false, JSON_TRUE, "a boolean") < 0)
        return -1;
    if (has)
        *has = v != NULL;
    if (v)
        *out = json_is_true(v);
    return 0;
}

int model__get_int64(struct model__dctx *c, json_t *obj, const char *key, int64_t *out, bool *has)
{
    json_t *v = model__field(obj, key);
    if (has)
        *has = false;
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return model__fail_at(c, key, "must be an integer (got %s)", model__type_name(v));
    *out = json_integer_value(v);
    if (has)
        *has = true;
    return 0;
}

int model__get_int32(struct model__dctx *c, json_t *obj, const char *key, int32_t *out, bool *has)
{
    int64_t v;
    bool h = false;
    if (model__get_int64(c, obj, key, &v, &h) < 0)
        return -1;
    if (has)
        *has = h;
    if (!h)
        return 0;
    if (v < INT32_MIN || v > INT32_MAX)
        return model__fail_at(c, key, "out of range for a 32-bit integer (got %" PRId64 ")", v);
    *out = (int32_t)v;
    return 0;
}

/* Reads v as a quantity (string, integer or real) and fails at the current
 * path when it is not one. */
static int quantity_at(struct model__dctx *c, json_t *v, int64_t *milli)
{
    struct err qe;
    int rc;
    if (json_is_string(v))
        rc = quantity_parse(json_string_value(v), json_string_length(v), milli, &qe);
    else if (json_is_integer(v))
        rc = quantity_from_int(json_integer_value(v), milli, &qe);
    else if (json_is_real(v))
        rc = quantity_from_real(json_real_value(v), milli, &qe);
    else
        return model__fail(c, "must be a quantity (got %s)", model__type_name(v));
    if (rc < 0)
        return model__fail(c, "%s", qe.msg);
    return 0;
}

int model__get_quantity(struct model__dctx *c, json_t *obj, const char *key, int64_t *milli,
                        bool *has)
{
    json_t *v = model__field(obj, key);
    if (has)
        *has = false;
    if (!v)
        return 0;
    size_t old = model__push(c, key);
    if (quantity_at(c, v, milli) < 0)
        return -1;
    model__pop(c, old);
    if (has)
        *has = true;
    return 0;
}

int model__get_time(struct model__dctx *c, json_t *obj, const char *key, int64_t *ns, bool *has)
{
    const char *s = NULL;
    if (has)
        *has = false;
    if (model__get_string(c, obj, key, &s, false) < 0)
        return -1;
    if (!s)
        return 0;
    struct err te;
    if (model_parse_time(s, ns, &te) < 0)
        return model__fail_at(c, key, "%s", te.msg);
    if (has)
        *has = true;
    return 0;
}

int model__get_enum(struct model__dctx *c, json_t *obj, const char *key, const char *const *names,
                    int *out)
{
    const char *s = NULL;
    if (model__get_string(c, obj, key, &s, false) < 0)
        return -1;
    if (!s)
        return 0;
    for (int i = 0; names[i]; i++) {
        if (names[i][0] && strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[120];
    size_t n = 0;
    list[0] = 0;
    for (int i = 0; names[i]; i++) {
        if (!names[i][0])
            continue; /* a placeholder for a value not accepted in this version */
        int w = snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof list - n)
            break;
        n += (size_t)w;
    }
    return model__fail_at(c, key, "unsupported value \"%.40s\": must be one of %s", s, list);
}

/* ---- names ---------------------------------------------------------------- */

static bool is_alnum_lower(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alnum(char ch)
{
    return is_alnum_lower(ch) || (ch >= 'A' && ch <= 'Z');
}

const char *model__check_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "must not be empty";
    if (n > 63)
        return "must be at most 63 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-')
            return "must consist of lower case alphanumeric characters or '-'";
    if (s[0] == '-' || s[n - 1] == '-')
        return "must start and end with an alphanumeric character";
    return NULL;
}

const char *model__check_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "must not be empty";
    if (n > 253)
        return "must be at most 253 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-' && s[i] != '.')
            return "must consist of lower case alphanumeric characters, '-' or '.'";
    /* Each dot-separated part starts and ends with an alphanumeric. */
    for (size_t i = 0; i < n; i++) {
        bool start = i == 0 || s[i - 1] == '.';
        bool end = i == n - 1 || s[i + 1] == '.';
        if ((start || end) && !is_alnum_lower(s[i]))
            return "must start and end with an alphanumeric character";
    }
    return NULL;
}

/* The name part of a qualified name: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static const char *check_name_part(const char *s, size_t n)
{
    if (n == 0)
        return "name part must not be empty";
    if (n > 63)
        return "name part must be at most 63 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return "name part must consist of alphanumeric characters, '-', '_' or '.'";
    if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return "name part must start and end with an alphanumeric character";
    return NULL;
}

const char *model__check_qualified_name(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return check_name_part(s, strlen(s));
    if (strchr(slash + 1, '/'))
        return "must have at most one '/'";
    char prefix[256];
    size_t pn = (size_t)(slash - s);
    if (pn == 0)
        return "prefix must not be empty";
    if (pn >= sizeof prefix)
        return "prefix must be at most 253 characters";
    memcpy(prefix, s, pn);
    prefix[pn] = 0;
    if (model__check_dns_subdomain(prefix))
        return "prefix must be a DNS subdomain";
    return check_name_part(slash + 1, strlen(slash + 1));
}

const char *model__check_label_value(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return NULL;
    if (n > 63)
        return "must be at most 63 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return "must consist of alphanumeric characters, '-', '_' or '.'";
    if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return "must start and end with an alphanumeric character";
    return NULL;
}

const char *model__check_resource_name(const char *s)
{
    return model__check_qualified_name(s);
}

const char *model__check_ns_name(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return "must be \"namespace/name\"";
    char ns[64];
    size_t n = (size_t)(slash - s);
    if (n == 0 || n >= sizeof ns)
        return "namespace must be a DNS label";
    memcpy(ns, s, n);
    ns[n] = 0;
    if (model__check_dns_label(ns))
        return "namespace must be a DNS label";
    if (model__check_dns_subdomain(slash + 1))
        return "name must be a DNS subdomain";
    return NULL;
}

/* ---- maps and lists ------------------------------------------------------- */

int model__get_string_map(struct model__dctx *c, json_t *obj, const char *key,
                          struct model_kv_list *out, enum model__kv_check check)
{
    json_t *m;
    if (model__get_object(c, obj, key, &m, false) < 0)
        return -1;
    if (!m)
        return 0;
    size_t n = json_object_size(m);
    out->v = arena_alloc(c->a, (n ? n : 1) * sizeof *out->v);
    out->len = 0;
    size_t old = model__push(c, key);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        size_t o2 = model__push_key(c, k);
        if (!json_is_string(v))
            return model__fail(c, "must be a string (got %s)", model__type_name(v));
        const char *val = json_string_value(v);
        if (memchr(val, 0, json_string_length(v)))
            return model__fail(c, "NUL byte in value");
        const char *why = NULL;
        switch (check) {
        case MODEL__KV_ANY:
            why = *k ? NULL : "key must not be empty";
            break;
        case MODEL__KV_LABELS:
            why = model__check_qualified_name(k);
            if (!why && model__check_label_value(val)) {
                why = model__check_label_value(val);
                return model__fail(c, "invalid label value \"%.64s\": %s", val, why);
            }
            break;
        case MODEL__KV_ANNOTATIONS:
            why = model__check_qualified_name(k);
            total += strlen(k) + json_string_length(v);
            if (!why && total > 256 * 1024) {
                model__pop(c, o2);
                return model__fail(c, "annotations must total at most 256 KiB");
            }
            break;
        case MODEL__KV_RESOURCE_FLAVOR:
            why = model__check_resource_name(k);
            if (!why && model__check_dns_subdomain(val))
                return model__fail(c, "invalid flavor name \"%.64s\": %s", val,
                                   model__check_dns_subdomain(val));
            break;
        }
        if (why)
            return model__fail(c, "invalid key \"%.64s\": %s", k, why);
        out->v[out->len].key = arena_strdup(c->a, k);
        out->v[out->len].value = arena_memdupz(c->a, val, json_string_length(v));
        out->len++;
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}

int model__get_string_list(struct model__dctx *c, json_t *obj, const char *key,
                           struct model_string_list *out, size_t max_items,
                           const char *(*check)(const char *s), bool unique)
{
    json_t *arr;
    if (model__get_array(c, obj, key, &arr, false, max_items) < 0)
        return -1;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    out->v = arena_alloc(c->a, (n ? n : 1) * sizeof *out->v);
    out->len = 0;
    size_t old = model__push(c, key);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        if (!json_is_string(v))
            return model__fail(c, "must be a string (got %s)", model__type_name(v));
        const char *s = json_string_value(v);
        const char *why = check ? check(s) : NULL;
        if (why)
            return model__fail(c, "invalid value \"%.64s\": %s", s, why);
        if (unique)
            for (size_t j = 0; j < out->len; j++)
                if (strcmp(out->v[j], s) == 0)
                    return model__fail(c, "duplicate value \"%.64s\"", s);
        out->v[out->len++] = arena_memdupz(c->a, s, json_string_length(v));
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}

int model__get_resources(struct model__dctx *c, json_t *obj, const char *key,
                         struct model_resource_list *out)
{
    json_t *m;
    if (model__get_object(c, obj, key, &m, false) < 0)
        return -1;
    if (!m)
        return 0;
    size_t n = json_object_size(m);
    out->v = arena_alloc(c->a, (n ? n : 1) * sizeof *out->v);
    out->len = 0;
    size_t old = model__push(c, key);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        const char *why = model__check_resource_name(k);
        if (why)
            return model__fail(c, "invalid resource name \"%.64s\": %s", k, why);
        int64_t milli;
        size_t o2 = model__push_key(c, k);
        if (json_is_null(v))
            return model__fail(c, "must be a quantity (got null)");
        if (quantity_at(c, v, &milli) < 0)
            return -1;
        if (milli < 0)
            return model__fail(c, "must be non-negative");
        model__pop(c, o2);
        out->v[out->len].name = arena_strdup(c->a, k);
        out->v[out->len].milli = milli;
        out->len++;
    }
    model__pop(c, old);
    return 0;
}

/* ---- selectors, taints, tolerations, conditions --------------------------- */

static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

int model__get_selector(struct model__dctx *c, json_t *obj, const char *key, struct selector *out)
{
    json_t *s;
    memset(out, 0, sizeof *out);
    if (model__get_object(c, obj, key, &s, false) < 0)
        return -1;
    if (!s)
        return 0;
    out->present = true;
    size_t old = model__push(c, key);
    static const char *const fields[] = {"matchLabels", "matchExpressions", NULL};
    if (model__fields(c, s, fields) < 0)
        return -1;
    if (model__get_string_map(c, s, "matchLabels", &out->match_labels, MODEL__KV_LABELS) < 0)
        return -1;
    json_t *exprs;
    if (model__get_array(c, s, "matchExpressions", &exprs, false, 0) < 0)
        return -1;
    if (exprs) {
        size_t n = json_array_size(exprs);
        out->exprs = arena_zalloc(c->a, (n ? n : 1) * sizeof *out->exprs);
        size_t o2 = model__push(c, "matchExpressions");
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(exprs, i);
            struct selector_req *r = &out->exprs[i];
            size_t o3 = model__push_index(c, i);
            static const char *const xf[] = {"key", "operator", "values", NULL};
            if (model__fields(c, x, xf) < 0 ||
                model__get_name(c, x, "key", &r->key, true, model__check_qualified_name) < 0)
                return -1;
            int op = -1;
            if (model__get_enum(c, x, "operator", selector_ops, &op) < 0)
                return -1;
            if (op < 0)
                return model__fail_at(c, "operator", "required");
            r->op = (enum selector_op)op;
            struct model_string_list vals = {0};
            if (model__get_string_list(c, x, "values", &vals, 0, model__check_label_value, false) <
                0)
                return -1;
            r->values = vals.v;
            r->n_values = vals.len;
            bool want = r->op == SELECTOR_OP_IN || r->op == SELECTOR_OP_NOT_IN;
            if (want && vals.len == 0)
                return model__fail_at(c, "values", "must be non-empty for operator %s",
                                      selector_op_name(r->op));
            if (!want && vals.len > 0)
                return model__fail_at(c, "values", "must be empty for operator %s",
                                      selector_op_name(r->op));
            model__pop(c, o3);
        }
        out->n_exprs = n;
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}

static const char *const effects[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

int model__get_taints(struct model__dctx *c, json_t *obj, const char *key, struct model_taint **out,
                      size_t *n, size_t max_items)
{
    json_t *arr;
    if (model__get_array(c, obj, key, &arr, false, max_items) < 0)
        return -1;
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    size_t cnt = json_array_size(arr);
    struct model_taint *t = arena_zalloc(c->a, (cnt ? cnt : 1) * sizeof *t);
    size_t old = model__push(c, key);
    static const char *const fields[] = {"key", "value", "effect", "timeAdded", NULL};
    for (size_t i = 0; i < cnt; i++) {
        json_t *x = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        t[i].value = "";
        int eff = 0;
        if (model__fields(c, x, fields) < 0 ||
            model__get_name(c, x, "key", &t[i].key, true, model__check_qualified_name) < 0 ||
            model__get_name(c, x, "value", &t[i].value, false, model__check_label_value) < 0 ||
            model__get_enum(c, x, "effect", effects, &eff) < 0)
            return -1;
        if (eff == 0)
            return model__fail_at(c, "effect", "required");
        int64_t ignored;
        if (model__get_time(c, x, "timeAdded", &ignored, NULL) < 0)
            return -1;
        t[i].effect = (enum model_taint_effect)eff;
        model__pop(c, o2);
    }
    model__pop(c, old);
    *out = t;
    *n = cnt;
    return 0;
}

int model__get_tolerations(struct model__dctx *c, json_t *obj, const char *key,
                           struct model_toleration **out, size_t *n, size_t max_items)
{
    json_t *arr;
    if (model__get_array(c, obj, key, &arr, false, max_items) < 0)
        return -1;
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    size_t cnt = json_array_size(arr);
    struct model_toleration *t = arena_zalloc(c->a, (cnt ? cnt : 1) * sizeof *t);
    size_t old = model__push(c, key);
    static const char *const fields[] = {"key",    "operator",          "value",
                                         "effect", "tolerationSeconds", NULL};
    static const char *const ops[] = {"Equal", "Exists", NULL};
    for (size_t i = 0; i < cnt; i++) {
        json_t *x = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        t[i].key = "";
        t[i].value = "";
        int op = 0, eff = 0;
        if (model__fields(c, x, fields) < 0 ||
            model__get_string(c, x, "key", &t[i].key, false) < 0 ||
            model__get_enum(c, x, "operator", ops, &op) < 0 ||
            model__get_name(c, x, "value", &t[i].value, false, model__check_label_value) < 0 ||
            model__get_enum(c, x, "effect", effects, &eff) < 0 ||
            model__get_int64(c, x, "tolerationSeconds", &t[i].toleration_seconds,
                             &t[i].has_seconds) < 0)
            return -1;
        if (*t[i].key && model__check_qualified_name(t[i].key))
            return model__fail_at(c, "key", "invalid value \"%.64s\": %s", t[i].key,
                                  model__check_qualified_name(t[i].key));
        t[i].op = (enum model_toleration_op)op;
        t[i].effect = (enum model_taint_effect)eff;
        if (!*t[i].key && t[i].op != MODEL_TOLERATION_EXISTS)
            return model__fail_at(c, "operator", "must be Exists when key is empty");
        if (t[i].op == MODEL_TOLERATION_EXISTS && *t[i].value)
            return model__fail_at(c, "value", "must be empty when operator is Exists");
        if (t[i].has_seconds && t[i].effect != MODEL_EFFECT_NO_EXECUTE)
            return model__fail_at(c, "effect", "must be NoExecute when tolerationSeconds is set");
        model__pop(c, o2);
    }
    model__pop(c, old);
    *out = t;
    *n = cnt;
    return 0;
}

int model__get_conditions(struct model__dctx *c, json_t *obj, const char *key,
                          struct model_condition **out, size_t *n)
{
    json_t *arr;
    if (model__get_array(c, obj, key, &arr, false, 64) < 0)
        return -1;
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    size_t cnt = json_array_size(arr);
    struct model_condition *t = arena_zalloc(c->a, (cnt ? cnt : 1) * sizeof *t);
    size_t old = model__push(c, key);
    static const char *const fields[] = {"type",
                                         "status",
                                         "reason",
                                         "message",
                                         "lastTransitionTime",
                                         "observedGeneration",
                                         "lastProbeTime",
                                         "lastHeartbeatTime",
                                         NULL};
    for (size_t i = 0; i < cnt; i++) {
        json_t *x = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        t[i].reason = "";
        t[i].message = "";
        if (model__fields(c, x, fields) < 0 ||
            model__get_name(c, x, "type", &t[i].type, true, NULL) < 0 ||
            model__get_string(c, x, "status", &t[i].status, true) < 0 ||
            model__get_string(c, x, "reason", &t[i].reason, false) < 0 ||
            model__get_string(c, x, "message", &t[i].message, false) < 0 ||
            model__get_time(c, x, "lastTransitionTime", &t[i].last_transition_ns,
                            &t[i].has_transition) < 0 ||
            model__get_int64(c, x, "observedGeneration", &t[i].observed_generation, NULL) < 0)
            return -1;
        int64_t ignored;
        if (model__get_time(c, x, "lastProbeTime", &ignored, NULL) < 0 ||
            model__get_time(c, x, "lastHeartbeatTime", &ignored, NULL) < 0)
            return -1;
        if (strcmp(t[i].status, "True") != 0 && strcmp(t[i].status, "False") != 0 &&
            strcmp(t[i].status, "Unknown") != 0)
            return model__fail_at(c, "status",
                                  "unsupported value \"%.40s\": must be one of True, False, "
                                  "Unknown",
                                  t[i].status);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t[j].type, t[i].type) == 0)
                return model__fail_at(c, "type", "duplicate condition type \"%.60s\"", t[i].type);
        model__pop(c, o2);
    }
    model__pop(c, old);
    *out = t;
    *n = cnt;
    return 0;
}
