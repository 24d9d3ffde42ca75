/*
 * api/select: label and field selectors as they come in a query string, matched
 * against JSON objects.
 *
 * Label selectors: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k; comma is
 * AND (commas inside parentheses belong to the set). Field selectors: k=v, k==v,
 * k!=v with a dotted path as the key; an absent field reads as "" (so
 * spec.nodeName= matches unscheduled pods, as in Kubernetes).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/alloc.h"
#include "base/jscan.h"

enum api_sel_op { SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOTEXISTS };

#define SEL_MAX_LEN   4096
#define SEL_MAX_TERMS 64

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static bool valid_key(const char *k)
{
    if (!*k)
        return false;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
            return false;
    return true;
}

void api__selector_release(struct api_selector *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->terms[i].key);
        for (size_t j = 0; j < s->terms[i].n_values; j++)
            free(s->terms[i].values[j]);
        free(s->terms[i].values);
    }
    free(s->terms);
    s->terms = NULL;
    s->n = 0;
}

static void add_value(struct api_sel_term *t, const char *v)
{
    t->values = xreallocarray(t->values, t->n_values + 1, sizeof *t->values);
    t->values[t->n_values++] = xstrdup(v);
}

static int parse_term(char *s, bool field, struct api_sel_term *t, struct err *e)
{
    memset(t, 0, sizeof *t);
    s = trim(s);
    const char *what = field ? "field selector" : "label selector";
    char *op;
    if (!field && s[0] == '!') {
        t->op = SEL_NOTEXISTS;
        char *k = trim(s + 1);
        if (!valid_key(k))
            return errf(e, API_EBADREQ, "%s: invalid key \"%s\"", what, k);
        t->key = xstrdup(k);
        return 0;
    }
    if ((op = strstr(s, "!="))) {
        t->op = SEL_NE;
        *op = 0;
        op += 2;
    } else if ((op = strstr(s, "=="))) {
        t->op = SEL_EQ;
        *op = 0;
        op += 2;
    } else if ((op = strchr(s, '='))) {
        t->op = SEL_EQ;
        *op = 0;
        op += 1;
    } else if (!field) {
        /* key in (...), key notin (...), or key */
        char *sp = s;
        while (*sp && !isspace((unsigned char)*sp) && *sp != '(')
            sp++;
        char *rest = trim(sp);
        char keybuf[SEL_MAX_LEN];
        size_t klen = (size_t)(sp - s);
        memcpy(keybuf, s, klen);
        keybuf[klen] = 0;
        if (!valid_key(keybuf))
            return errf(e, API_EBADREQ, "%s: invalid key \"%s\"", what, keybuf);
        if (!*rest) {
            t->op = SEL_EXISTS;
            t->key = xstrdup(keybuf);
            return 0;
        }
        if (!strncmp(rest, "notin", 5)) {
            t->op = SEL_NOTIN;
            rest += 5;
        } else if (!strncmp(rest, "in", 2)) {
            t->op = SEL_IN;
            rest += 2;
        } else {
            return errf(e, API_EBADREQ, "%s: unknown operator in \"%s\"", what, s);
        }
        rest = trim(rest);
        size_t n = strlen(rest);
        if (n < 2 || rest[0] != '(' || rest[n - 1] != ')')
            return errf(e, API_EBADREQ, "%s: expected (values) after %s for \"%s\"", what,
                        t->op == SEL_IN ? "in" : "notin", keybuf);
        rest[n - 1] = 0;
        t->key = xstrdup(keybuf);
        for (char *save = NULL, *v = strtok_r(rest + 1, ",", &save); v;
             v = strtok_r(NULL, ",", &save))
            add_value(t, trim(v));
        return 0;
    } else {
        return errf(e, API_EBADREQ, "%s: invalid term \"%s\": expected key=value or key!=value",
                    what, s);
    }
    char *k = trim(s);
    if (!valid_key(k))
        return errf(e, API_EBADREQ, "%s: invalid key \"%s\"", what, k);
    t->key = xstrdup(k);
    add_value(t, trim(op));
    return 0;
}

int api__selector_parse(const char *s, bool field, struct api_selector *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return 0;
    if (strlen(s) >= SEL_MAX_LEN)
        return errf(e, API_EBADREQ, "%s selector longer than %d bytes", field ? "field" : "label",
                    SEL_MAX_LEN);
    char buf[SEL_MAX_LEN];
    strcpy(buf, s);
    int depth = 0;
    char *start = buf;
    for (char *p = buf;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if ((*p == ',' && depth == 0) || *p == 0) {
            bool end = *p == 0;
            *p = 0;
            if (out->n == SEL_MAX_TERMS) {
                api__selector_release(out);
                return errf(e, API_EBADREQ, "selector: more than %d terms", SEL_MAX_TERMS);
            }
            out->terms = xreallocarray(out->terms, out->n + 1, sizeof *out->terms);
            if (parse_term(start, field, &out->terms[out->n], e) < 0) {
                struct api_sel_term *t = &out->terms[out->n];
                free(t->key);
                for (size_t j = 0; j < t->n_values; j++)
                    free(t->values[j]);
                free(t->values);
                api__selector_release(out);
                return -1;
            }
            out->n++;
            if (end)
                break;
            start = p + 1;
        }
    }
    return 0;
}

/* The field at a dotted path as a string: strings as written, numbers and
 * booleans printed, absent or null as "". Writes into buf. */
static const char *field_value(json_t *obj, const char *path, char *buf, size_t size)
{
    char seg[256];
    json_t *cur = obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof seg)
            return "";
        memcpy(seg, p, n);
        seg[n] = 0;
        cur = json_is_object(cur) ? json_object_get(cur, seg) : NULL;
        p = dot ? dot + 1 : p + n;
    }
    if (!cur)
        return "";
    if (json_is_string(cur))
        return json_string_value(cur);
    if (json_is_integer(cur)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(cur));
        return buf;
    }
    if (json_is_boolean(cur))
        return json_is_true(cur) ? "true" : "false";
    return "";
}

/* Reads the value of a selector term: *has whether it is there (for a label:
 * a string), the value as api__selector_matches compares it. */
typedef const char *(*term_value_fn)(void *ctx, const struct api_sel_term *t, bool field,
                                     char *buf, size_t size, bool *has);

static bool terms_match(const struct api_selector *s, bool field, term_value_fn get, void *ctx)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct api_sel_term *t = &s->terms[i];
        char buf[256];
        bool has;
        const char *v = get(ctx, t, field, buf, sizeof buf, &has);
        bool in = false;
        for (size_t j = 0; j < t->n_values; j++)
            in |= !strcmp(v, t->values[j]);
        switch ((enum api_sel_op)t->op) {
        case SEL_EQ:
            if (!has || strcmp(v, t->values[0]))
                return false;
            break;
        case SEL_NE:
            if (has && !strcmp(v, t->values[0]))
                return false;
            break;
        case SEL_IN:
            if (!has || !in)
                return false;
            break;
        case SEL_NOTIN:
            if (has && in)
                return false;
            break;
        case SEL_EXISTS:
            if (!has)
                return false;
            break;
        case SEL_NOTEXISTS:
            if (has)
                return false;
            break;
        }
    }
    return true;
}

static const char *tree_value(void *ctx, const struct api_sel_term *t, bool field, char *buf,
                              size_t size, bool *has)
{
    json_t *obj = ctx;
    if (field) {
        *has = true;
        return field_value(obj, t->key, buf, size);
    }
    json_t *lv = json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"),
                                 t->key);
    *has = json_is_string(lv);
    return *has ? json_string_value(lv) : "";
}

bool api__selector_matches(const struct api_selector *s, bool field, json_t *obj)
{
    return terms_match(s, field, tree_value, obj);
}

/* The same values read from the stored text by a scan (base/jscan): a watch
 * looks at every event of its resource, and parsing each into a tree to read
 * one field was most of a filtered watch's cost. */
static const char *text_value(void *ctx, const struct api_sel_term *t, bool field, char *buf,
                              size_t size, bool *has)
{
    const struct store_kv *kv = ctx;
    const char *keys[8];
    size_t nkeys = 0;
    char path[256];
    if (field) {
        snprintf(path, sizeof path, "%s", t->key);
        for (char *p = path; p && nkeys < 8;) {
            keys[nkeys++] = p;
            p = strchr(p, '.');
            if (p)
                *p++ = '\0';
        }
    } else {
        keys[nkeys++] = "metadata";
        keys[nkeys++] = "labels";
        keys[nkeys++] = t->key;
    }
    size_t vs, ve;
    bool found = jscan_path(kv->value, kv->value_len, keys, nkeys, &vs, &ve);
    *has = field;
    if (!found)
        return "";
    const char *v = kv->value;
    if (v[vs] == '"') {
        if (!jscan_string(v, vs, ve, buf, size))
            return ""; /* longer than any value a selector compares */
        *has = true;
        return buf;
    }
    if (!field)
        return ""; /* a label that is not a string */
    if (v[vs] == 't' || v[vs] == 'f')
        return v[vs] == 't' ? "true" : "false";
    if (v[vs] == '-' || (v[vs] >= '0' && v[vs] <= '9')) {
        /* integers as printed; other numbers as field_value does ("") */
        size_t len = ve - vs;
        if (len >= size || memchr(v + vs, '.', len) || memchr(v + vs, 'e', len) ||
            memchr(v + vs, 'E', len))
            return "";
        memcpy(buf, v + vs, len);
        buf[len] = '\0';
        return buf;
    }
    return "";
}

bool api__field_supported(const struct api_kind *k, const char *key)
{
    if (!strcmp(key, "metadata.name") || !strcmp(key, "metadata.namespace"))
        return true;
    if (!strcmp(k->kind, "Pod"))
        return !strcmp(key, "spec.nodeName") || !strcmp(key, "spec.schedulerName") ||
               !strcmp(key, "status.phase") || !strcmp(key, "spec.restartPolicy") ||
               !strcmp(key, "spec.serviceAccountName") || !strcmp(key, "spec.hostNetwork") ||
               !strcmp(key, "status.podIP") || !strcmp(key, "status.nominatedNodeName");
    if (!strcmp(k->kind, "Event"))
        return !strncmp(key, "involvedObject.", 15) || !strcmp(key, "reason") ||
               !strcmp(key, "reportingComponent") || !strcmp(key, "source") || !strcmp(key, "type");
    if (!strcmp(k->kind, "ResourceSlice"))
        return !strcmp(key, "spec.nodeName") || !strcmp(key, "spec.driver");
    if (!strcmp(k->kind, "Node"))
        return !strcmp(key, "spec.unschedulable");
    if (!strcmp(k->kind, "Namespace"))
        return !strcmp(key, "status.phase");
    return false;
}

int api__selectors(const struct api_req *req, const struct api_kind *k, struct api_selector *ls,
                   struct api_selector *fs, struct err *e)
{
    if (api__selector_parse(api_req_query(req, "labelSelector"), false, ls, e) < 0 ||
        api__selector_parse(api_req_query(req, "fieldSelector"), true, fs, e) < 0)
        return -1;
    for (size_t i = 0; i < fs->n; i++)
        if (!api__field_supported(k, fs->terms[i].key)) {
            char q[128];
            api_kind_qualified_resource(k, q, sizeof q);
            return errf(e, API_EBADREQ, "field label not supported: %s (for %s)", fs->terms[i].key,
                        q);
        }
    return 0;
}

bool api__selects(const struct api_selector *ls, const struct api_selector *fs,
                  const struct store_kv *kv)
{
    if (!ls->n && !fs->n)
        return true;
    return terms_match(ls, false, text_value, (void *)kv) &&
           terms_match(fs, true, text_value, (void *)kv);
}
