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

bool api__selector_matches(const struct api_selector *s, bool field, json_t *obj)
{
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    for (size_t i = 0; i < s->n; i++) {
        const struct api_sel_term *t = &s->terms[i];
        const char *v;
        char buf[32];
        bool has;
        if (field) {
            v = field_value(obj, t->key, buf, sizeof buf);
            has = true;
        } else {
            json_t *lv = json_object_get(labels, t->key);
            has = json_is_string(lv);
            v = has ? json_string_value(lv) : "";
        }
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
    json_t *o = json_loadb(kv->value, kv->value_len, 0, NULL);
    bool ok = o && api__selector_matches(ls, false, o) && api__selector_matches(fs, true, o);
    json_decref(o);
    return ok;
}
