/* api/patch: merge patch, JSON Patch, strategic merge patch and server-side
 * apply (see patch.h for the contract and what each implements). */
#include "api/patch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "model/jsonout.h"

/* ---- shared helpers ------------------------------------------------------ */

/* A field path for error messages ("spec.containers[1].env"), truncated (never
 * overflowed) past its size. */
struct ppath {
    char buf[256];
    size_t len;
};

/* Appends n bytes of s, as many as fit (the buffer keeps its NUL). */
static void ppath_add(struct ppath *p, const char *s, size_t n)
{
    size_t room = sizeof p->buf - 1 - p->len;
    if (n > room)
        n = room;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

/* (Called for every member a patch or a field set walks: no snprintf.) */
static size_t ppath_push_key(struct ppath *p, const char *key)
{
    size_t old = p->len;
    if (p->len)
        ppath_add(p, ".", 1);
    ppath_add(p, key, strlen(key));
    return old;
}

static size_t ppath_push_index(struct ppath *p, size_t i)
{
    size_t old = p->len;
    char d[24], *e = d + sizeof d, *q = e;
    *--q = ']';
    do
        *--q = (char)('0' + i % 10);
    while (i /= 10);
    *--q = '[';
    ppath_add(p, q, (size_t)(e - q));
    return old;
}

static void ppath_pop(struct ppath *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

static const char *ppath_str(const struct ppath *p)
{
    return p->len ? p->buf : "<root>";
}

/* The merge-rule path of an error path: the same with the [i] parts left out. */
static void ppath_rule(const struct ppath *p, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < p->len && o + 1 < size; i++) {
        if (p->buf[i] == '[') {
            while (i < p->len && p->buf[i] != ']')
                i++;
            continue;
        }
        out[o++] = p->buf[i];
    }
    out[o] = '\0';
}

/* Checks that v nests at most max levels; counts its values into *nodes. */
static int check_tree(json_t *v, int depth, size_t *nodes, const char *what, struct err *e)
{
    if (depth > PATCH_MAX_DEPTH)
        return errf(e, PATCH_ELIMIT, "%s nests deeper than %d levels", what, PATCH_MAX_DEPTH);
    if (++*nodes > PATCH_MAX_NODES)
        return errf(e, PATCH_ELIMIT, "%s has more than %d values", what, PATCH_MAX_NODES);
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) if (check_tree(c, depth + 1, nodes, what, e)) return -1;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) if (check_tree(c, depth + 1, nodes, what, e)) return -1;
    }
    return 0;
}

static int tree_depth(json_t *v)
{
    int d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            int cd = tree_depth(c);
            d = cd > d ? cd : d;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            int cd = tree_depth(c);
            d = cd > d ? cd : d;
        }
    }
    return d + 1;
}

/* JSON equality as RFC 6902's "test" defines it: numbers by value (jansson's
 * json_equal says 1 != 1.0), objects regardless of member order. */
static bool jeq(json_t *a, json_t *b)
{
    if (a == b)
        return a != NULL; /* a shared subtree (common: writes keep the stored members) */
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *c;
        json_object_foreach(a, k, c)
        {
            json_t *d = json_object_get(b, k);
            if (!d || !jeq(c, d))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!jeq(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

enum patch_type patch_type_from_content_type(const char *ct)
{
    static const struct {
        const char *media;
        enum patch_type t;
    } types[] = {
        {"application/merge-patch+json", PATCH_TYPE_MERGE},
        {"application/json-patch+json", PATCH_TYPE_JSON},
        {"application/strategic-merge-patch+json", PATCH_TYPE_STRATEGIC},
        {"application/apply-patch+yaml", PATCH_TYPE_APPLY},
    };
    if (!ct)
        return PATCH_TYPE_UNKNOWN;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].media) == n && !strncasecmp(ct, types[i].media, n))
            return types[i].t;
    return PATCH_TYPE_UNKNOWN;
}

/* ---- RFC 7386 merge patch ------------------------------------------------ */

static void merge_into(json_t *dst, json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v)
    {
        if (json_is_null(v)) {
            json_object_del(dst, k);
        } else if (json_is_object(v)) {
            json_t *cur = json_object_get(dst, k);
            if (!json_is_object(cur)) {
                cur = json_object();
                json_object_set_new(dst, k, cur);
            }
            merge_into(cur, v);
        } else {
            json_object_set_new(dst, k, json_deep_copy(v));
        }
    }
}

json_t *patch_merge(json_t *doc, json_t *patch, struct err *e)
{
    size_t nodes = 0;
    if (!patch)
        return errf(e, PATCH_EBAD, "merge patch: no body"), NULL;
    if (check_tree(patch, 1, &nodes, "merge patch", e) ||
        (doc && check_tree(doc, 1, &nodes, "object", e)))
        return NULL;
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *out = json_is_object(doc) ? json_deep_copy(doc) : json_object();
    merge_into(out, patch);
    return out;
}

/* ---- RFC 6902 JSON Patch ------------------------------------------------- */

/* A parsed RFC 6901 pointer: tokens unescaped (~1 -> '/', ~0 -> '~'). */
struct jptr {
    char *tok[PATCH_MAX_DEPTH + 1];
    int n;
};

static void jptr_release(struct jptr *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->tok[i]);
    p->n = 0;
}

static int jptr_parse(const char *s, struct jptr *p, const char *what, size_t op, struct err *e)
{
    p->n = 0;
    if (!*s)
        return 0;
    if (*s != '/')
        return errf(
            e, PATCH_EBAD,
            "operation %zu: %s \"%.60s\" is not a JSON pointer (must be empty or start with /)", op,
            what, s);
    while (*s == '/') {
        s++;
        size_t n = strcspn(s, "/");
        if (p->n >= PATCH_MAX_DEPTH) {
            jptr_release(p);
            return errf(e, PATCH_ELIMIT, "operation %zu: %s has more than %d tokens", op, what,
                        PATCH_MAX_DEPTH);
        }
        char *t = xmalloc(n + 1);
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] != '~') {
                t[o++] = s[i];
                continue;
            }
            if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
                t[o++] = s[i + 1] == '0' ? '~' : '/';
                i++;
                continue;
            }
            free(t);
            jptr_release(p);
            return errf(e, PATCH_EBAD, "operation %zu: %s: bad escape \"~\" (only ~0 and ~1)", op,
                        what);
        }
        t[o] = '\0';
        p->tok[p->n++] = t;
        s += n;
    }
    return 0;
}

/* Parses an array index token: "0" or digits without a leading zero, at most
 * max; "-" is max itself when dash_ok (the end of the array, for add). */
static int jptr_index(const char *t, size_t max, bool dash_ok, size_t *out)
{
    if (dash_ok && !strcmp(t, "-")) {
        *out = max;
        return 0;
    }
    if (!*t || (t[0] == '0' && t[1]) || strlen(t) > 18)
        return -1;
    size_t v = 0;
    for (const char *c = t; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (size_t)(*c - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* The value at tokens [0, n), or NULL. */
static json_t *jptr_walk(json_t *doc, const struct jptr *p, int n)
{
    json_t *cur = doc;
    for (int i = 0; i < n && cur; i++) {
        if (json_is_object(cur)) {
            cur = json_object_get(cur, p->tok[i]);
        } else if (json_is_array(cur)) {
            size_t idx;
            if (json_array_size(cur) == 0 ||
                jptr_index(p->tok[i], json_array_size(cur) - 1, false, &idx))
                return NULL;
            cur = json_array_get(cur, idx);
        } else {
            return NULL;
        }
    }
    return cur;
}

/* Adds val (stolen) at p in *doc. */
static int jp_add(json_t **doc, const struct jptr *p, json_t *val, size_t op, const char *path,
                  struct err *e)
{
    if (p->n == 0) {
        json_decref(*doc);
        *doc = val;
        return 0;
    }
    json_t *parent = jptr_walk(*doc, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent)) {
        json_object_set_new(parent, last, val);
        return 0;
    }
    if (json_is_array(parent)) {
        size_t idx;
        if (jptr_index(last, json_array_size(parent), true, &idx)) {
            json_decref(val);
            return errf(
                e, PATCH_EUNAPPLY,
                "operation %zu: path \"%.80s\": index \"%.20s\" out of range (array of %zu)", op,
                path, last, json_array_size(parent));
        }
        json_array_insert_new(parent, idx, val);
        return 0;
    }
    json_decref(val);
    return errf(e, PATCH_EUNAPPLY, "operation %zu: path \"%.80s\": %s", op, path,
                parent ? "parent is not an object or array" : "parent does not exist");
}

/* Removes the value at p; *removed (if not NULL) receives a new reference. */
static int jp_remove(json_t *doc, const struct jptr *p, json_t **removed, size_t op,
                     const char *path, struct err *e)
{
    if (p->n == 0)
        return errf(e, PATCH_EUNAPPLY, "operation %zu: cannot remove the whole document", op);
    json_t *parent = jptr_walk(doc, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    json_t *v = NULL;
    size_t idx = 0;
    if (json_is_object(parent))
        v = json_object_get(parent, last);
    else if (json_is_array(parent) && json_array_size(parent) &&
             !jptr_index(last, json_array_size(parent) - 1, false, &idx))
        v = json_array_get(parent, idx);
    if (!v)
        return errf(e, PATCH_EUNAPPLY, "operation %zu: path \"%.80s\" does not exist", op, path);
    if (removed)
        *removed = json_incref(v);
    if (json_is_object(parent))
        json_object_del(parent, last);
    else
        json_array_remove(parent, idx);
    return 0;
}

static int jp_one(json_t **doc, json_t *o, size_t i, size_t *nodes, struct err *e)
{
    if (!json_is_object(o))
        return errf(e, PATCH_EBAD, "operation %zu: not an object", i);
    const char *op = json_string_value(json_object_get(o, "op"));
    const char *path = json_string_value(json_object_get(o, "path"));
    if (!op)
        return errf(e, PATCH_EBAD, "operation %zu: \"op\" missing or not a string", i);
    if (!path)
        return errf(e, PATCH_EBAD, "operation %zu (%.20s): \"path\" missing or not a string", i,
                    op);
    bool is_add = !strcmp(op, "add"), is_rm = !strcmp(op, "remove"),
         is_rep = !strcmp(op, "replace"), is_mv = !strcmp(op, "move"), is_cp = !strcmp(op, "copy"),
         is_test = !strcmp(op, "test");
    if (!(is_add || is_rm || is_rep || is_mv || is_cp || is_test))
        return errf(e, PATCH_EBAD, "operation %zu: unknown op \"%.40s\"", i, op);
    json_t *value = json_object_get(o, "value");
    if ((is_add || is_rep || is_test) && !value)
        return errf(e, PATCH_EBAD, "operation %zu (%s): \"value\" missing", i, op);
    const char *from = json_string_value(json_object_get(o, "from"));
    if ((is_mv || is_cp) && !from)
        return errf(e, PATCH_EBAD, "operation %zu (%s): \"from\" missing or not a string", i, op);

    struct jptr p, f = {.n = 0};
    if (jptr_parse(path, &p, "path", i, e))
        return -1;
    if ((is_mv || is_cp) && jptr_parse(from, &f, "from", i, e)) {
        jptr_release(&p);
        return -1;
    }
    int rc = -1;
    if (is_add || is_rep || is_cp) {
        json_t *src = is_cp ? jptr_walk(*doc, &f, f.n) : value;
        if (is_cp && !src) {
            errf(e, PATCH_EUNAPPLY, "operation %zu (copy): from \"%.80s\" does not exist", i, from);
            goto out;
        }
        if (check_tree(src, 1, nodes, "patched object", e))
            goto out;
        if (p.n + tree_depth(src) > PATCH_MAX_DEPTH) {
            errf(e, PATCH_ELIMIT, "operation %zu (%s): result nests deeper than %d levels", i, op,
                 PATCH_MAX_DEPTH);
            goto out;
        }
        if (is_rep && !jptr_walk(*doc, &p, p.n)) {
            errf(e, PATCH_EUNAPPLY, "operation %zu (replace): path \"%.80s\" does not exist", i,
                 path);
            goto out;
        }
        if (is_rep && p.n > 0 && jp_remove(*doc, &p, NULL, i, path, e))
            goto out;
        rc = jp_add(doc, &p, json_deep_copy(src), i, path, e);
    } else if (is_rm) {
        rc = jp_remove(*doc, &p, NULL, i, path, e);
    } else if (is_mv) {
        size_t fl = strlen(from);
        if (!strcmp(from, path)) {
            if (!jptr_walk(*doc, &f, f.n)) {
                errf(e, PATCH_EUNAPPLY, "operation %zu (move): from \"%.80s\" does not exist", i,
                     from);
                goto out;
            }
            rc = 0;
            goto out;
        }
        if (!strncmp(path, from, fl) && path[fl] == '/') {
            errf(e, PATCH_EUNAPPLY,
                 "operation %zu (move): cannot move \"%.60s\" into its own child \"%.60s\"", i,
                 from, path);
            goto out;
        }
        json_t *v;
        if (jp_remove(*doc, &f, &v, i, from, e)) {
            e->code = PATCH_EUNAPPLY;
            goto out;
        }
        if (p.n + tree_depth(v) > PATCH_MAX_DEPTH) {
            json_decref(v);
            errf(e, PATCH_ELIMIT, "operation %zu (move): result nests deeper than %d levels", i,
                 PATCH_MAX_DEPTH);
            goto out;
        }
        rc = jp_add(doc, &p, v, i, path, e);
    } else {
        json_t *cur = jptr_walk(*doc, &p, p.n);
        if (!cur)
            errf(e, PATCH_EUNAPPLY, "operation %zu (test): path \"%.80s\" does not exist", i, path);
        else if (!jeq(cur, value))
            errf(e, PATCH_EUNAPPLY, "operation %zu (test): value at \"%.80s\" differs", i, path);
        else
            rc = 0;
    }
out:
    jptr_release(&p);
    jptr_release(&f);
    return rc;
}

json_t *patch_json(json_t *doc, json_t *ops, struct err *e)
{
    if (!json_is_array(ops))
        return errf(e, PATCH_EBAD, "JSON patch: body is not an array of operations"), NULL;
    if (json_array_size(ops) > PATCH_MAX_OPS)
        return errf(e, PATCH_ELIMIT, "JSON patch: more than %d operations", PATCH_MAX_OPS), NULL;
    size_t nodes = 0;
    if (doc && check_tree(doc, 1, &nodes, "object", e))
        return NULL;
    json_t *out = doc ? json_deep_copy(doc) : json_null();
    size_t i;
    json_t *o;
    json_array_foreach(ops, i, o)
    {
        if (jp_one(&out, o, i, &nodes, e)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* ---- merge rules --------------------------------------------------------- */

struct rule_row {
    const char *kind; /* NULL: every kind */
    const char *path;
    enum patch_list_strategy s;
    const char *key;
};

static const struct rule_row rules[] = {
    {NULL, "metadata.ownerReferences", PATCH_LIST_MAP, "uid"},
    {NULL, "metadata.finalizers", PATCH_LIST_SET, NULL},
    {NULL, "status.conditions", PATCH_LIST_MAP, "type"},
    {"Pod", "status.podIPs", PATCH_LIST_MAP, "ip"},
    {"Node", "spec.podCIDRs", PATCH_LIST_SET, NULL},
    {"Node", "status.addresses", PATCH_LIST_MAP, "type"},
    {"Workload", "spec.podSets", PATCH_LIST_MAP, "name"},
    {"Workload", "status.admission.podSetAssignments", PATCH_LIST_MAP, "name"},
    {"ClusterQueue", "status.flavorsReservation", PATCH_LIST_MAP, "name"},
    {"ClusterQueue", "status.flavorsUsage", PATCH_LIST_MAP, "name"},
};

/* Relative to a pod spec. */
static const struct rule_row pod_rules[] = {
    {NULL, "volumes", PATCH_LIST_MAP, "name"},
    {NULL, "imagePullSecrets", PATCH_LIST_MAP, "name"},
    {NULL, "resourceClaims", PATCH_LIST_MAP, "name"},
    {NULL, "schedulingGates", PATCH_LIST_MAP, "name"},
    {NULL, "hostAliases", PATCH_LIST_MAP, "ip"},
    {NULL, "topologySpreadConstraints", PATCH_LIST_MAP, "topologyKey"},
};

/* Relative to a container, under each of these. */
static const char *const container_lists[] = {"containers", "initContainers",
                                              "ephemeralContainers"};
static const struct rule_row container_rules[] = {
    {NULL, "env", PATCH_LIST_MAP, "name"},
    {NULL, "ports", PATCH_LIST_MAP, "containerPort"},
    {NULL, "volumeMounts", PATCH_LIST_MAP, "mountPath"},
    {NULL, "volumeDevices", PATCH_LIST_MAP, "devicePath"},
};

static const struct {
    const char *kind;
    const char *root;
} pod_roots[] = {
    {"Pod", "spec"},
    {"Job", "spec.template.spec"},
    {"Workload", "spec.podSets.template.spec"},
};

static struct patch_merge_rule rule_of(const struct rule_row *r)
{
    return (struct patch_merge_rule){r->s, r->key};
}

static const char *strip_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(path, prefix, n) && path[n] == '.' ? path + n + 1 : NULL;
}

struct patch_merge_rule patch_merge_rule_find(const char *kind, const char *path)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if ((!rules[i].kind || (kind && !strcmp(kind, rules[i].kind))) &&
            !strcmp(path, rules[i].path))
            return rule_of(&rules[i]);
    for (size_t r = 0; kind && r < sizeof pod_roots / sizeof pod_roots[0]; r++) {
        if (strcmp(kind, pod_roots[r].kind))
            continue;
        const char *rest = strip_prefix(path, pod_roots[r].root);
        if (!rest)
            continue;
        for (size_t i = 0; i < sizeof pod_rules / sizeof pod_rules[0]; i++)
            if (!strcmp(rest, pod_rules[i].path))
                return rule_of(&pod_rules[i]);
        for (size_t c = 0; c < sizeof container_lists / sizeof container_lists[0]; c++) {
            if (!strcmp(rest, container_lists[c]))
                return (struct patch_merge_rule){PATCH_LIST_MAP, "name"};
            const char *sub = strip_prefix(rest, container_lists[c]);
            for (size_t i = 0; sub && i < sizeof container_rules / sizeof container_rules[0]; i++)
                if (!strcmp(sub, container_rules[i].path))
                    return rule_of(&container_rules[i]);
        }
    }
    return (struct patch_merge_rule){PATCH_LIST_ATOMIC, NULL};
}

static struct patch_merge_rule rule_at(const char *kind, const struct ppath *p)
{
    char rp[sizeof p->buf];
    ppath_rule(p, rp, sizeof rp);
    return patch_merge_rule_find(kind, rp);
}

/* ---- strategic merge patch ----------------------------------------------- */

#define DIR_ORDER  "$setElementOrder/"
#define DIR_DELETE "$deleteFromPrimitiveList/"

struct smp {
    const char *kind;
    struct ppath path;
    struct err *e;
};

static int smp_map(struct smp *s, json_t *dst, json_t *patch, int depth, bool *deleted);

/* The index of the element of arr whose key field equals kv, or -1. */
static long find_keyed(json_t *arr, const char *key, json_t *kv, const unsigned char *taken)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *el = json_array_get(arr, i);
        json_t *v = json_object_get(el, key);
        if ((!taken || !taken[i]) && v && jeq(v, kv))
            return (long)i;
    }
    return -1;
}

static long find_value(json_t *arr, json_t *v, const unsigned char *taken)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if ((!taken || !taken[i]) && jeq(json_array_get(arr, i), v))
            return (long)i;
    return -1;
}

static int smp_keyed_list(struct smp *s, json_t *dst, json_t *patch, const char *key, int depth)
{
    size_t i;
    json_t *el;
    /* An element {"$patch": "replace"} means: the list is exactly the others. */
    json_array_foreach(patch, i, el)
    {
        const char *d = json_string_value(json_object_get(el, "$patch"));
        if (d && !strcmp(d, "replace")) {
            json_array_clear(dst);
            break;
        }
    }
    json_array_foreach(patch, i, el)
    {
        size_t mark = ppath_push_index(&s->path, i);
        if (!json_is_object(el)) {
            errf(s->e, PATCH_EBAD, "%s: element is not an object (list merged by key \"%s\")",
                 ppath_str(&s->path), key);
            return -1;
        }
        json_t *dj = json_object_get(el, "$patch");
        const char *d = json_string_value(dj);
        if (dj && (!d || (strcmp(d, "replace") && strcmp(d, "delete") && strcmp(d, "merge")))) {
            errf(s->e, PATCH_EBAD, "%s: unknown $patch directive", ppath_str(&s->path));
            return -1;
        }
        if (d && !strcmp(d, "replace")) {
            ppath_pop(&s->path, mark);
            continue;
        }
        json_t *kv = json_object_get(el, key);
        if (!kv) {
            errf(s->e, PATCH_EBAD, "%s: does not contain declared merge key \"%s\"",
                 ppath_str(&s->path), key);
            return -1;
        }
        long at = find_keyed(dst, key, kv, NULL);
        if (d && !strcmp(d, "delete")) {
            if (at >= 0)
                json_array_remove(dst, (size_t)at);
            ppath_pop(&s->path, mark);
            continue;
        }
        json_t *target;
        if (at >= 0 && json_is_object(json_array_get(dst, (size_t)at))) {
            target = json_array_get(dst, (size_t)at);
        } else {
            target = json_object();
            if (at >= 0)
                json_array_set_new(dst, (size_t)at, target);
            else
                json_array_append_new(dst, target);
        }
        bool gone = false;
        if (smp_map(s, target, el, depth + 1, &gone))
            return -1;
        if (gone) {
            at = find_keyed(dst, key, kv, NULL);
            if (at >= 0)
                json_array_remove(dst, (size_t)at);
        }
        ppath_pop(&s->path, mark);
    }
    return 0;
}

/* Orders dst's list at field by the directive's list (see patch.h). */
static int smp_order(struct smp *s, json_t *dst, const char *field, json_t *order)
{
    json_t *list = json_object_get(dst, field);
    if (!json_is_array(order)) {
        size_t mark = ppath_push_key(&s->path, DIR_ORDER);
        errf(s->e, PATCH_EBAD, "%s%s: not a list", ppath_str(&s->path), field);
        ppath_pop(&s->path, mark);
        return -1;
    }
    if (!json_is_array(list))
        return 0;
    size_t mark = ppath_push_key(&s->path, field);
    struct patch_merge_rule r = rule_at(s->kind, &s->path);
    ppath_pop(&s->path, mark);
    size_t n = json_array_size(list);
    unsigned char *taken = xcalloc(n ? n : 1, 1);
    json_t *out = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(order, i, o)
    {
        long at;
        if (r.strategy == PATCH_LIST_MAP) {
            json_t *kv = json_object_get(o, r.key);
            at = kv ? find_keyed(list, r.key, kv, taken) : -1;
        } else {
            at = find_value(list, o, taken);
        }
        if (at >= 0) {
            taken[at] = 1;
            json_array_append(out, json_array_get(list, (size_t)at));
        }
    }
    for (i = 0; i < n; i++)
        if (!taken[i])
            json_array_append(out, json_array_get(list, i));
    free(taken);
    json_object_set_new(dst, field, out);
    return 0;
}

static int smp_map(struct smp *s, json_t *dst, json_t *patch, int depth, bool *deleted)
{
    if (depth > PATCH_MAX_DEPTH)
        return errf(s->e, PATCH_ELIMIT, "%s: nests deeper than %d levels", ppath_str(&s->path),
                    PATCH_MAX_DEPTH);
    *deleted = false;
    json_t *dj = json_object_get(patch, "$patch");
    if (dj) {
        const char *d = json_string_value(dj);
        if (d && !strcmp(d, "delete")) {
            *deleted = true;
            return 0;
        }
        if (d && !strcmp(d, "replace"))
            json_object_clear(dst);
        else if (!d || strcmp(d, "merge"))
            return errf(s->e, PATCH_EBAD, "%s: unknown $patch directive", ppath_str(&s->path));
    }
    json_t *retain = json_object_get(patch, "$retainKeys");
    if (retain && !json_is_array(retain))
        return errf(s->e, PATCH_EBAD, "%s: $retainKeys is not a list", ppath_str(&s->path));

    const char *k;
    json_t *v;
    /* Deletions from primitive lists first, so that the same patch may add a
     * value back. */
    json_object_foreach(patch, k, v)
    {
        if (strncmp(k, DIR_DELETE, strlen(DIR_DELETE)))
            continue;
        const char *field = k + strlen(DIR_DELETE);
        if (!json_is_array(v))
            return errf(s->e, PATCH_EBAD, "%s%s%s: not a list", ppath_str(&s->path),
                        s->path.len ? "." : "", k);
        json_t *list = json_object_get(dst, field);
        if (!json_is_array(list))
            continue;
        size_t i;
        json_t *dv;
        json_array_foreach(v, i, dv)
        {
            long at;
            while ((at = find_value(list, dv, NULL)) >= 0)
                json_array_remove(list, (size_t)at);
        }
    }
    json_object_foreach(patch, k, v)
    {
        if (k[0] == '$') {
            if (!strcmp(k, "$patch") || !strcmp(k, "$retainKeys") ||
                !strncmp(k, DIR_DELETE, strlen(DIR_DELETE)) ||
                !strncmp(k, DIR_ORDER, strlen(DIR_ORDER)))
                continue;
            return errf(s->e, PATCH_EBAD, "%s: unknown directive \"%.60s\"", ppath_str(&s->path),
                        k);
        }
        size_t mark = ppath_push_key(&s->path, k);
        if (json_is_null(v)) {
            json_object_del(dst, k);
        } else if (json_is_object(v)) {
            json_t *cur = json_object_get(dst, k);
            if (!json_is_object(cur)) {
                cur = json_object();
                json_object_set_new(dst, k, cur);
            }
            bool gone;
            if (smp_map(s, cur, v, depth + 1, &gone))
                return -1;
            if (gone)
                json_object_del(dst, k);
        } else if (json_is_array(v)) {
            struct patch_merge_rule r = rule_at(s->kind, &s->path);
            json_t *cur = json_object_get(dst, k);
            if (r.strategy == PATCH_LIST_ATOMIC || !json_is_array(cur)) {
                cur = json_array();
                json_object_set_new(dst, k, cur);
            }
            if (r.strategy == PATCH_LIST_MAP) {
                if (smp_keyed_list(s, cur, v, r.key, depth + 1))
                    return -1;
            } else {
                size_t i;
                json_t *el;
                json_array_foreach(v, i, el)
                {
                    if (r.strategy == PATCH_LIST_ATOMIC || find_value(cur, el, NULL) < 0)
                        json_array_append_new(cur, json_deep_copy(el));
                }
            }
        } else {
            json_object_set_new(dst, k, json_deep_copy(v));
        }
        ppath_pop(&s->path, mark);
    }
    json_object_foreach(patch, k, v)
    {
        if (!strncmp(k, DIR_ORDER, strlen(DIR_ORDER)) &&
            smp_order(s, dst, k + strlen(DIR_ORDER), v))
            return -1;
    }
    if (retain) {
        size_t i;
        json_t *rk;
        json_array_foreach(retain, i, rk) if (!json_is_string(rk)) return errf(
            s->e, PATCH_EBAD, "%s: $retainKeys[%zu] is not a string", ppath_str(&s->path), i);
        void *tmp;
        json_object_foreach_safe(dst, tmp, k, v)
        {
            bool keep = false;
            json_array_foreach(retain, i, rk) keep = keep || !strcmp(json_string_value(rk), k);
            if (!keep)
                json_object_del(dst, k);
        }
    }
    return 0;
}

json_t *patch_strategic(json_t *doc, json_t *patch, const char *kind, struct err *e)
{
    size_t nodes = 0;
    if (!json_is_object(patch))
        return errf(e, PATCH_EBAD, "strategic merge patch: body is not an object"), NULL;
    if (check_tree(patch, 1, &nodes, "strategic merge patch", e) ||
        (doc && check_tree(doc, 1, &nodes, "object", e)))
        return NULL;
    struct smp s = {.kind = kind, .e = e};
    json_t *out = json_is_object(doc) ? json_deep_copy(doc) : json_object();
    bool gone = false;
    if (smp_map(&s, out, patch, 1, &gone)) {
        json_decref(out);
        return NULL;
    }
    if (gone)
        json_object_clear(out);
    return out;
}

/* ---- field sets (fieldsV1) ----------------------------------------------- */

/* A path in a field set: the keys from the root ("f:spec", "k:{...}", "."). The
 * strings belong to the set the path was read from. */
#define FPATH_MAX (PATCH_MAX_DEPTH + 2)
struct fpath {
    const char *seg[FPATH_MAX];
    int n;
};

struct fsb {
    const char *kind;
    struct ppath path;
    struct err *e;
};

/* Metadata the server owns; never part of a manager's fields. */
static bool server_meta(const char *k)
{
    static const char *const owned[] = {"name",
                                        "namespace",
                                        "uid",
                                        "resourceVersion",
                                        "generation",
                                        "creationTimestamp",
                                        "deletionTimestamp",
                                        "deletionGracePeriodSeconds",
                                        "managedFields",
                                        "selfLink"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (!strcmp(k, owned[i]))
            return true;
    return false;
}

static char *fs_key(const char *prefix, json_t *v)
{
    /* keys sorted; jsonout writes the same text where there is no order to
     * choose (a list-map key's one member, a scalar), several times faster */
    char *j = json_is_object(v) && json_object_size(v) > 1
                  ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                  : jsonout_dumps(v, NULL);
    if (!j)
        alloc_die(0);
    size_t pl = strlen(prefix), jl = strlen(j);
    char *k = xmalloc(pl + jl + 1);
    memcpy(k, prefix, pl);
    memcpy(k + pl, j, jl + 1);
    free(j);
    return k;
}

static int fs_map(struct fsb *b, json_t *obj, json_t *node, int level);

/* node["f:" + name] = child (stolen). */
static void fs_set_field(json_t *node, const char *name, json_t *child)
{
    char buf[128];
    size_t n = strlen(name);
    char *fk = n + 3 <= sizeof buf ? buf : xmalloc(n + 3);
    fk[0] = 'f';
    fk[1] = ':';
    memcpy(fk + 2, name, n + 1);
    json_object_setn_new_nocheck(node, fk, n + 2, child);
    if (fk != buf)
        free(fk);
}

static json_t *fs_value(struct fsb *b, json_t *v)
{
    if (json_is_object(v) && json_object_size(v)) {
        json_t *n = json_object();
        if (fs_map(b, v, n, 1)) {
            json_decref(n);
            return NULL;
        }
        return n;
    }
    if (!json_is_array(v))
        return json_object();
    struct patch_merge_rule r = rule_at(b->kind, &b->path);
    json_t *n = json_object();
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el)
    {
        if (r.strategy == PATCH_LIST_SET) {
            char *k = fs_key("v:", el);
            json_object_set_new(n, k, json_object());
            free(k);
        } else if (r.strategy == PATCH_LIST_MAP) {
            json_t *kv = json_object_get(el, r.key);
            size_t mark = ppath_push_index(&b->path, i);
            if (!json_is_object(el) || !kv || json_is_null(kv)) {
                errf(b->e, PATCH_EBAD, "%s: element of a list keyed by \"%s\" lacks the key",
                     ppath_str(&b->path), r.key);
                json_decref(n);
                return NULL;
            }
            json_t *kobj = json_object();
            json_object_set(kobj, r.key, kv);
            char *k = fs_key("k:", kobj);
            json_decref(kobj);
            json_t *sub = json_object_get(n, k);
            if (!sub) {
                sub = json_object();
                json_object_set_new(n, k, sub);
            }
            free(k);
            json_object_set_new(sub, ".", json_object());
            if (fs_map(b, el, sub, 1)) {
                json_decref(n);
                return NULL;
            }
            ppath_pop(&b->path, mark);
        }
    }
    return n; /* atomic: an empty node, a leaf */
}

/* Adds obj's fields to node. level 0 is the object's top. */
static int fs_map(struct fsb *b, json_t *obj, json_t *node, int level)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (json_is_null(v))
            continue;
        if (level == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
            continue;
        size_t mark = ppath_push_key(&b->path, k);
        json_t *child;
        if (level == 0 && !strcmp(k, "metadata") && json_is_object(v)) {
            child = json_object();
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv)
            {
                if (server_meta(mk) || json_is_null(mv))
                    continue;
                size_t m2 = ppath_push_key(&b->path, mk);
                json_t *c = fs_value(b, mv);
                if (!c) {
                    json_decref(child);
                    return -1;
                }
                fs_set_field(child, mk, c);
                ppath_pop(&b->path, m2);
            }
            if (!json_object_size(child)) {
                json_decref(child);
                ppath_pop(&b->path, mark);
                continue;
            }
        } else {
            child = fs_value(b, v);
            if (!child)
                return -1;
        }
        fs_set_field(node, k, child);
        ppath_pop(&b->path, mark);
    }
    return 0;
}

json_t *patch_field_set(json_t *obj, const char *kind, struct err *e)
{
    size_t nodes = 0;
    if (!json_is_object(obj))
        return errf(e, PATCH_EBAD, "field set: object is not a JSON object"), NULL;
    if (check_tree(obj, 1, &nodes, "object", e))
        return NULL;
    struct fsb b = {.kind = kind, .e = e};
    json_t *set = json_object();
    if (fs_map(&b, obj, set, 0)) {
        json_decref(set);
        return NULL;
    }
    return set;
}

typedef int (*leaf_fn)(void *ctx, struct fpath *p);

/* Calls fn for every leaf of the set: an empty node, or a "." member. */
static int fs_walk(json_t *node, struct fpath *p, leaf_fn fn, void *ctx)
{
    if (!json_is_object(node) || !json_object_size(node))
        return p->n ? fn(ctx, p) : 0;
    const char *k;
    json_t *c;
    json_object_foreach(node, k, c)
    {
        if (p->n >= FPATH_MAX)
            return 0;
        p->seg[p->n++] = k;
        int rc = !strcmp(k, ".") ? fn(ctx, p) : fs_walk(c, p, fn, ctx);
        p->n--;
        if (rc)
            return rc;
    }
    return 0;
}

static json_t *fs_node_at(json_t *set, const char *const *seg, int n)
{
    json_t *cur = set;
    for (int i = 0; i < n && cur; i++)
        cur = json_is_object(cur) ? json_object_get(cur, seg[i]) : NULL;
    return cur;
}

/* The member key of node, to change: a node shared with another set (a
 * manager's set copied from the stored object shares its nodes with it) is
 * replaced by a shallow copy first, so that a change copies only the nodes on
 * its path. */
static json_t *fs_own(json_t *node, const char *key)
{
    json_t *c = json_object_get(node, key);
    if (json_is_object(c) && c->refcount > 1) {
        c = json_copy(c);
        json_object_set_new(node, key, c);
    }
    return c;
}

static void fs_add(json_t *set, const char *const *seg, int n)
{
    json_t *cur = set;
    for (int i = 0; i < n; i++) {
        json_t *c = fs_own(cur, seg[i]);
        if (!json_is_object(c)) {
            c = json_object();
            json_object_set_new(cur, seg[i], c);
        }
        cur = c;
    }
}

/* Removes the node at the path and every parent it leaves empty. */
static void fs_remove(json_t *node, const char *const *seg, int n)
{
    if (n == 0 || !json_is_object(node))
        return;
    json_t *c = json_object_get(node, seg[0]);
    if (!c)
        return;
    if (n > 1) {
        c = fs_own(node, seg[0]);
        fs_remove(c, seg + 1, n - 1);
        if (!json_is_object(c) || json_object_size(c))
            return;
    }
    json_object_del(node, seg[0]);
}

/* Whether element el matches a k: or v: segment. */
static bool seg_matches(const char *seg, json_t *want, json_t *el)
{
    if (seg[0] == 'v')
        return jeq(el, want);
    if (!json_is_object(el) || !json_is_object(want))
        return false;
    const char *k;
    json_t *kv;
    json_object_foreach(want, k, kv)
    {
        json_t *ev = json_object_get(el, k);
        if (!ev || !jeq(ev, kv))
            return false;
    }
    return true;
}

/* The index in arr of the element a k: or v: segment names, or -1. */
static long seg_find(json_t *arr, const char *seg)
{
    if (!json_is_array(arr))
        return -1;
    json_t *want = json_loads(seg + 2, JSON_DECODE_ANY, NULL);
    if (!want)
        return -1;
    long at = -1;
    for (size_t i = 0; i < json_array_size(arr) && at < 0; i++)
        if (seg_matches(seg, want, json_array_get(arr, i)))
            at = (long)i;
    json_decref(want);
    return at;
}

/* The value a field-set path names in v, or NULL ("." names the element). */
static json_t *val_at(json_t *v, const char *const *seg, int n)
{
    for (int i = 0; i < n && v; i++) {
        const char *s = seg[i];
        if (!strcmp(s, "."))
            return v;
        if (!strncmp(s, "f:", 2)) {
            v = json_object_get(v, s + 2);
        } else if (!strncmp(s, "k:", 2) || !strncmp(s, "v:", 2)) {
            long at = seg_find(v, s);
            v = at >= 0 ? json_array_get(v, (size_t)at) : NULL;
        } else {
            return NULL;
        }
    }
    return v;
}

/* Like fs_walk, for a set and two values it describes, walked together: fn
 * receives the values the leaf's path names in a and in b (NULL where absent).
 * Each k:/v: key is parsed once per set node, not once per leaf below it. */
typedef int (*leaf2_fn)(void *ctx, struct fpath *p, json_t *a, json_t *b);

static json_t *seg_child(json_t *v, const char *seg, json_t *want)
{
    if (!v)
        return NULL;
    if (!strncmp(seg, "f:", 2))
        return json_object_get(v, seg + 2);
    if (!want || !json_is_array(v))
        return NULL;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (seg_matches(seg, want, json_array_get(v, i)))
            return json_array_get(v, i);
    return NULL;
}

static int fs_walk2(json_t *node, struct fpath *p, json_t *a, json_t *b, leaf2_fn fn, void *ctx)
{
    if (!json_is_object(node) || !json_object_size(node))
        return p->n ? fn(ctx, p, a, b) : 0;
    const char *k;
    json_t *c;
    json_object_foreach(node, k, c)
    {
        if (p->n >= FPATH_MAX)
            return 0;
        p->seg[p->n++] = k;
        int rc;
        if (!strcmp(k, ".")) {
            rc = fn(ctx, p, a, b);
        } else {
            json_t *want = NULL;
            if (!strncmp(k, "k:", 2) || !strncmp(k, "v:", 2))
                want = json_loads(k + 2, JSON_DECODE_ANY, NULL);
            json_t *ca = seg_child(a, k, want), *cb = seg_child(b, k, want);
            json_decref(want);
            rc = fs_walk2(c, p, ca, cb, fn, ctx);
        }
        p->n--;
        if (rc)
            return rc;
    }
    return 0;
}

/* Removes the value a path names from root (for ".", the element itself). */
static void val_remove(json_t *root, const char *const *seg, int n)
{
    if (n > 0 && !strcmp(seg[n - 1], "."))
        n--;
    if (n == 0)
        return;
    json_t *parent = val_at(root, seg, n - 1);
    const char *last = seg[n - 1];
    if (!strncmp(last, "f:", 2)) {
        if (json_is_object(parent))
            json_object_del(parent, last + 2);
    } else {
        long at = seg_find(parent, last);
        if (at >= 0)
            json_array_remove(parent, (size_t)at);
    }
}

/* Writes the path as Kubernetes prints it: .spec.containers[name="c"].image */
static void fpath_format(const struct fpath *p, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n && o + 1 < size; i++) {
        const char *s = p->seg[i];
        int w = 0;
        if (!strncmp(s, "f:", 2)) {
            w = snprintf(buf + o, size - o, ".%s", s + 2);
        } else if (!strncmp(s, "k:", 2)) {
            json_t *k = json_loads(s + 2, 0, NULL);
            const char *kk;
            json_t *kv;
            w = snprintf(buf + o, size - o, "[");
            json_object_foreach(k, kk, kv)
            {
                char *j = json_dumps(kv, JSON_ENCODE_ANY | JSON_COMPACT);
                if (o + (size_t)w < size)
                    w += snprintf(buf + o + w, size - o - w, "%s=%s", kk, j ? j : "?");
                free(j);
            }
            if (o + (size_t)w < size)
                w += snprintf(buf + o + w, size - o - w, "]");
            json_decref(k);
        } else if (!strncmp(s, "v:", 2)) {
            w = snprintf(buf + o, size - o, "[=%s]", s + 2);
        }
        if (w > 0)
            o += (size_t)w < size - o ? (size_t)w : size - o - 1;
    }
}

/* ---- managers ------------------------------------------------------------ */

struct mgr {
    json_t *entry; /* a shallow copy of the managedFields entry (owned) */
    json_t *set;   /* its fieldsV1 ({} when absent or malformed) */
    bool shared;   /* set is still the stored object's: copy before changing it */
    const char *name, *op;
};

/* The manager's set, to change: copied from the stored object first (most
 * writes change few managers' sets), and only its top (fs_add and fs_remove
 * copy the nodes on the path they change: a deep copy of a large set was a good
 * part of an ownership change's cost). */
static json_t *mset(struct mgr *g)
{
    if (g->shared) {
        json_t *copy = json_copy(g->set);
        json_decref(g->set);
        g->set = copy;
        g->shared = false;
    }
    return g->set;
}

/* Removes a path from g's set, copying the set only when the path is there. */
static void mset_remove(struct mgr *g, const char *const *seg, int n)
{
    if (fs_node_at(g->set, seg, n))
        fs_remove(mset(g), seg, n);
}

struct mgrs {
    struct mgr v[64];
    size_t n;
};

static void mgrs_release(struct mgrs *m)
{
    for (size_t i = 0; i < m->n; i++) {
        json_decref(m->v[i].entry);
        json_decref(m->v[i].set);
    }
    m->n = 0;
}

static void mgrs_load(struct mgrs *m, json_t *obj)
{
    m->n = 0;
    json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    size_t i;
    json_t *en;
    json_array_foreach(mf, i, en)
    {
        if (!json_is_object(en))
            continue;
        /* Entries past the cap are dropped rather than refused, leaving room for
         * the writer's own: refusing would block every later write, including
         * the one that repairs the object. Losing ownership only loses
         * conflict detection. */
        if (m->n == sizeof m->v / sizeof m->v[0] - 1)
            break;
        struct mgr *g = &m->v[m->n++];
        g->entry = json_copy(en);
        json_t *fs = json_object_get(en, "fieldsV1");
        g->shared = json_is_object(fs);
        g->set = g->shared ? json_incref(fs) : json_object();
        g->name = json_string_value(json_object_get(g->entry, "manager"));
        g->op = json_string_value(json_object_get(g->entry, "operation"));
        if (!g->name)
            g->name = "";
        if (!g->op)
            g->op = "";
    }
}

/* The entry of (name, op), added empty when absent; NULL when full. */
static struct mgr *mgrs_get(struct mgrs *m, const char *name, const char *op, struct err *e)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->v[i].name, name) && !strcmp(m->v[i].op, op))
            return &m->v[i];
    if (m->n == sizeof m->v / sizeof m->v[0])
        return errf(e, PATCH_ELIMIT, "metadata.managedFields: more than %zu entries",
                    sizeof m->v / sizeof m->v[0]),
               NULL;
    struct mgr *g = &m->v[m->n++];
    g->entry = json_pack("{ss ss}", "manager", name, "operation", op);
    g->set = json_object();
    g->shared = false;
    g->name = json_string_value(json_object_get(g->entry, "manager"));
    g->op = json_string_value(json_object_get(g->entry, "operation"));
    return g;
}

/* Writes the entries with a non-empty set into obj's metadata.managedFields;
 * touched gets the time and apiVersion. Releases m. */
static void mgrs_store(struct mgrs *m, json_t *obj, struct mgr *touched, const char *api_version,
                       const char *now)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < m->n; i++) {
        struct mgr *g = &m->v[i];
        if (!json_object_size(g->set))
            continue;
        if (g == touched) {
            if (api_version)
                json_object_set_new(g->entry, "apiVersion", json_string(api_version));
            if (now)
                json_object_set_new(g->entry, "time", json_string(now));
        }
        json_object_set_new(g->entry, "fieldsType", json_string("FieldsV1"));
        json_object_set(g->entry, "fieldsV1", g->set);
        json_array_append(arr, g->entry);
    }
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    if (json_array_size(arr))
        json_object_set_new(md, "managedFields", arr);
    else {
        json_decref(arr);
        json_object_del(md, "managedFields");
    }
    mgrs_release(m);
}

/* ---- server-side apply --------------------------------------------------- */

static void ssa_merge(struct fsb *b, json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v)
    {
        if (json_is_null(v))
            continue;
        size_t mark = ppath_push_key(&b->path, k);
        json_t *cur = json_object_get(dst, k);
        if (json_is_object(v)) {
            if (!json_is_object(cur)) {
                cur = json_object();
                json_object_set_new(dst, k, cur);
            }
            ssa_merge(b, cur, v);
        } else if (json_is_array(v)) {
            struct patch_merge_rule r = rule_at(b->kind, &b->path);
            if (r.strategy == PATCH_LIST_ATOMIC) {
                /* Replaced as written, nulls inside included. */
                json_object_set_new(dst, k, json_deep_copy(v));
                ppath_pop(&b->path, mark);
                continue;
            }
            if (!json_is_array(cur)) {
                cur = json_array();
                json_object_set_new(dst, k, cur);
            }
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el)
            {
                long at = r.strategy == PATCH_LIST_MAP
                              ? find_keyed(cur, r.key, json_object_get(el, r.key), NULL)
                              : find_value(cur, el, NULL);
                if (at < 0) {
                    json_t *c = json_is_object(el) ? json_object() : json_deep_copy(el);
                    json_array_append_new(cur, c);
                    if (json_is_object(el)) {
                        size_t m2 = ppath_push_index(&b->path, json_array_size(cur) - 1);
                        ssa_merge(b, c, el);
                        ppath_pop(&b->path, m2);
                    }
                } else if (r.strategy == PATCH_LIST_MAP) {
                    json_t *c = json_array_get(cur, (size_t)at);
                    if (!json_is_object(c)) {
                        c = json_object();
                        json_array_set_new(cur, (size_t)at, c);
                    }
                    size_t m2 = ppath_push_index(&b->path, (size_t)at);
                    ssa_merge(b, c, el);
                    ppath_pop(&b->path, m2);
                }
            }
        } else {
            json_object_set_new(dst, k, json_deep_copy(v));
        }
        ppath_pop(&b->path, mark);
    }
}

struct apply_ctx {
    json_t *out, *conf, *newset;
    struct mgrs *m;
    struct mgr *ours;
    bool force;
    const char *api_version;
    json_t *causes; /* conflicts found */
    char first[200];
};

/* a: the value in the configuration; b: the live one. */
static int apply_conflict_leaf(void *vctx, struct fpath *p, json_t *av, json_t *lv)
{
    struct apply_ctx *c = vctx;
    if (!strcmp(p->seg[p->n - 1], "."))
        return 0;
    if (!lv || !av || jeq(lv, av))
        return 0;
    for (size_t i = 0; i < c->m->n; i++) {
        struct mgr *g = &c->m->v[i];
        if (g == c->ours || !fs_node_at(g->set, p->seg, p->n))
            continue;
        if (c->force) {
            fs_remove(mset(g), p->seg, p->n);
            continue;
        }
        char field[160], msg[200];
        fpath_format(p, field, sizeof field);
        const char *av_g = json_string_value(json_object_get(g->entry, "apiVersion"));
        snprintf(msg, sizeof msg, "conflict with \"%.60s\"%s%.60s", g->name, av_g ? " using " : "",
                 av_g ? av_g : "");
        if (!json_array_size(c->causes))
            snprintf(c->first, sizeof c->first, "%.100s: %.90s", msg, field);
        json_array_append_new(c->causes, json_pack("{ss ss ss}", "type", "FieldManagerConflict",
                                                   "message", msg, "field", field));
    }
    return 0;
}

static int apply_remove_leaf(void *vctx, struct fpath *p)
{
    struct apply_ctx *c = vctx;
    if (fs_node_at(c->newset, p->seg, p->n))
        return 0;
    /* For an element, anything another manager owns inside it keeps it. */
    int n = !strcmp(p->seg[p->n - 1], ".") ? p->n - 1 : p->n;
    for (size_t i = 0; i < c->m->n; i++)
        if (&c->m->v[i] != c->ours && fs_node_at(c->m->v[i].set, p->seg, n))
            return 0;
    val_remove(c->out, p->seg, p->n);
    return 0;
}

json_t *patch_apply(json_t *live, json_t *cfg, const struct patch_apply_opts *o, struct err *e)
{
    size_t nodes = 0;
    if (o->causes)
        *o->causes = NULL;
    if (!json_is_object(cfg))
        return errf(e, PATCH_EBAD, "apply: configuration is not an object"), NULL;
    if (!o->manager || !o->manager[0] || strlen(o->manager) > 128)
        return errf(e, PATCH_EBAD, "apply: fieldManager is required (at most 128 bytes)"), NULL;
    if (check_tree(cfg, 1, &nodes, "apply configuration", e) ||
        (live && check_tree(live, 1, &nodes, "object", e)))
        return NULL;
    if (live && !json_is_object(live))
        return errf(e, PATCH_EBAD, "apply: live object is not an object"), NULL;

    json_t *conf = json_deep_copy(cfg);
    if (o->flags & PATCH_APPLY_F_IGNORE_STATUS)
        json_object_del(conf, "status");
    json_object_del(json_object_get(conf, "metadata"), "managedFields");
    json_t *out = live ? json_deep_copy(live) : json_object();
    json_t *newset = patch_field_set(conf, o->kind, e);
    struct mgrs *m = xcalloc(1, sizeof *m);
    json_t *result = NULL;
    struct apply_ctx c = {.out = out, .conf = conf, .newset = newset, .m = m, .force = o->force};
    if (!newset)
        goto done;
    mgrs_load(m, out);
    c.ours = mgrs_get(m, o->manager, "Apply", e);
    if (!c.ours)
        goto done;
    c.causes = json_array();
    struct fpath p = {.n = 0};
    fs_walk2(newset, &p, conf, out, apply_conflict_leaf, &c);
    if (json_array_size(c.causes)) {
        size_t n = json_array_size(c.causes);
        errf(e, PATCH_ECONFLICT, "Apply failed with %zu conflict%s: %s%s", n, n > 1 ? "s" : "",
             c.first, n > 1 ? " (and more)" : "");
        if (o->causes)
            *o->causes = json_incref(c.causes);
        goto done;
    }
    p.n = 0;
    fs_walk(c.ours->set, &p, apply_remove_leaf, &c);
    struct fsb b = {.kind = o->kind, .e = e};
    ssa_merge(&b, out, conf);
    json_decref(c.ours->set);
    c.ours->set = json_incref(newset);
    c.ours->shared = true;
    const char *av =
        o->api_version ? o->api_version : json_string_value(json_object_get(conf, "apiVersion"));
    mgrs_store(m, out, c.ours, av, o->now);
    result = out;
    out = NULL;
done:
    mgrs_release(m);
    free(m);
    json_decref(c.causes);
    json_decref(newset);
    json_decref(conf);
    json_decref(out);
    return result;
}

/* ---- non-apply writes ---------------------------------------------------- */

struct upd_ctx {
    json_t *obj, *old, *objset;
    struct mgrs *m;
    struct mgr *ours;
};

/* nv: the value in the new object; ov: the old one. */
static int upd_changed_leaf(void *vctx, struct fpath *p, json_t *nv, json_t *ov)
{
    struct upd_ctx *c = vctx;
    /* An element ("." leaf) changes hands only when it is new; a change inside
     * it moves just the fields changed. */
    bool element = !strcmp(p->seg[p->n - 1], ".");
    if (ov && (element || (nv && jeq(ov, nv))))
        return 0;
    for (size_t i = 0; i < c->m->n; i++)
        if (&c->m->v[i] != c->ours)
            mset_remove(&c->m->v[i], p->seg, p->n);
    fs_add(mset(c->ours), p->seg, p->n);
    return 0;
}

static int upd_removed_leaf(void *vctx, struct fpath *p)
{
    struct upd_ctx *c = vctx;
    if (fs_node_at(c->objset, p->seg, p->n))
        return 0;
    for (size_t i = 0; i < c->m->n; i++)
        mset_remove(&c->m->v[i], p->seg, p->n);
    return 0;
}

static void diff_into(json_t *a, json_t *b, bool top_meta, json_t *vo, json_t *vd);

/* Whether o is an object with a member that is not null: in a field set such
 * an object is a node with fields under it, any other value a leaf. */
static bool fs_node(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_null(v))
            return true;
    }
    return false;
}

/* Adds member k, whose values v (new) and ov (old, may be NULL) differ, to the
 * views: where both are nodes, only what differs inside them, as long as the
 * parts stay nodes too (a part that would read as a leaf where the whole is a
 * node would change the field set); else both values whole. */
static void diff_member(const char *k, json_t *v, json_t *ov, json_t *vo, json_t *vd)
{
    if (json_is_object(v) && json_is_object(ov) && fs_node(v) && fs_node(ov)) {
        json_t *so = json_object(), *sd = json_object();
        diff_into(v, ov, false, so, sd);
        bool ok = (!json_object_size(so) || fs_node(so)) && (!json_object_size(sd) || fs_node(sd));
        if (ok) {
            if (json_object_size(so))
                json_object_set(vo, k, so);
            if (json_object_size(sd))
                json_object_set(vd, k, sd);
        }
        json_decref(so);
        json_decref(sd);
        if (ok)
            return;
    }
    json_object_set(vo, k, v);
    if (ov)
        json_object_set(vd, k, ov);
}

/* Adds to vo and vd what differs between the objects a (new) and b (old):
 * members only one has, and members whose values differ (diff_member). In
 * metadata (top) the members the server owns are left out. */
static void diff_into(json_t *a, json_t *b, bool top_meta, json_t *vo, json_t *vd)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        if (top_meta && server_meta(k))
            continue;
        json_t *ov = json_object_get(b, k);
        if (!ov || !jeq(v, ov))
            diff_member(k, v, ov, vo, vd);
    }
    json_object_foreach(b, k, v)
    {
        if (!(top_meta && server_meta(k)) && !json_object_get(a, k))
            json_object_set(vd, k, v);
    }
}

/* Views of obj and old that hold only what differs between them: an update
 * changes ownership only where a value changed, was added or was removed. A
 * subtree equal in both has the same fields in both sets and no changed leaf,
 * so the sets and the walks over them need only the rest (a pod's status update
 * leaves its metadata and spec alone; a Job's unsuspension changes one field of
 * a spec that holds a whole pod template). Lists are compared whole. The
 * metadata view is always there (an update's metadata is always walked). */
static void diff_views(json_t *obj, json_t *old, json_t **vo, json_t **vd)
{
    *vo = json_object();
    *vd = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        json_t *ov = json_object_get(old, k);
        if (!strcmp(k, "metadata") && json_is_object(v) && json_is_object(ov)) {
            json_t *mo = json_object(), *md = json_object();
            diff_into(v, ov, true, mo, md);
            json_object_set_new(*vo, k, mo);
            json_object_set_new(*vd, k, md);
            continue;
        }
        if (ov && jeq(v, ov))
            continue;
        diff_member(k, v, ov, *vo, *vd);
    }
    json_object_foreach(old, k, v)
    {
        if (!json_object_get(obj, k))
            json_object_set(*vd, k, v);
    }
}

int patch_managed_update(json_t *obj, json_t *old, const char *kind, const char *manager,
                         const char *api_version, const char *now, struct err *e)
{
    if (!json_is_object(obj) || (old && !json_is_object(old)))
        return errf(e, PATCH_EBAD, "managed fields: object is not a JSON object");
    if (!manager || !manager[0] || strlen(manager) > 128)
        return errf(e, PATCH_EBAD, "managed fields: fieldManager is required (at most 128 bytes)");
    json_t *vo = NULL, *vd = NULL;
    if (old)
        diff_views(obj, old, &vo, &vd);
    json_t *objset = patch_field_set(old ? vo : obj, kind, e);
    json_t *oldset = old ? patch_field_set(vd, kind, e) : json_object();
    struct mgrs *m = xcalloc(1, sizeof *m);
    int rc = -1;
    if (!objset || !oldset)
        goto done;
    mgrs_load(m, old ? old : obj);
    struct upd_ctx c = {.obj = obj, .old = old, .objset = objset, .m = m};
    c.ours = mgrs_get(m, manager, "Update", e);
    if (!c.ours)
        goto done;
    /* A top-level member the old object did not have (on a create, every
     * member), in which no manager owns anything: every field in it is new and
     * the writer's, taken whole (a create's whole set, a pod's first status).
     * The walk is for the rest; an update's metadata is always walked, since its
     * view holds only the members that changed. */
    const char *k;
    json_t *v;
    struct fpath p = {.n = 0};
    json_object_foreach(objset, k, v)
    {
        bool fresh = (!old || strcmp(k, "f:metadata") != 0) && !json_object_get(oldset, k) &&
                     !json_object_get(c.ours->set, k);
        for (size_t i = 0; fresh && i < m->n; i++)
            fresh = &m->v[i] == c.ours || !json_object_get(m->v[i].set, k);
        if (fresh) {
            json_object_set(mset(c.ours), k, v);
            continue;
        }
        /* one member at a time, so the writer's set keeps the object's order */
        json_t *one = json_pack("{sO}", k, v);
        p.n = 0;
        fs_walk2(one, &p, old ? vo : obj, old ? vd : NULL, upd_changed_leaf, &c);
        json_decref(one);
    }
    p.n = 0;
    fs_walk(oldset, &p, upd_removed_leaf, &c);
    mgrs_store(m, obj, c.ours, api_version, now);
    rc = 0;
done:
    mgrs_release(m);
    free(m);
    json_decref(objset);
    json_decref(oldset);
    json_decref(vo);
    json_decref(vd);
    return rc;
}
