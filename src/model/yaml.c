/*
 * yaml: a YAML stream into jansson trees, the shape every later rule sees.
 *
 * libfyaml parses the text; this file walks each document and builds a json_t
 * with the meaning Kubernetes gives YAML: mappings become objects (keys are
 * their text), sequences arrays, quoted and block scalars strings, and plain
 * scalars are typed by the YAML 1.2 core schema (null, booleans, integers in
 * decimal / 0o / 0x, floats). A plain integer too large for int64 becomes a
 * real, as it would in a JSON parser that reads numbers as doubles.
 *
 * What has no JSON meaning is an error that says so: .inf and .nan, tags other
 * than the standard !!str/!!int/!!float/!!bool/!!null/!!map/!!seq, merge keys
 * (<<), non-scalar keys, NUL bytes in strings. Aliases are expanded, with the
 * depth capped at MODEL_MAX_DEPTH (so a cycle fails rather than recursing) and
 * the number of values produced by expanding aliases capped at
 * YAML_MAX_ALIAS_NODES (so a "billion laughs" document fails fast rather than
 * eating memory; ordinary values are already bounded by the input cap).
 */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "model/model.h"
#include "model/model_internal.h"

/* The most JSON values one stream may gain by expanding aliases. Manifests
 * use aliases for a few shared blocks, far below this. */
#define YAML_MAX_ALIAS_NODES ((size_t)100000)

struct yconv {
    const char *source;
    int line;           /* last line seen (1-based), for errors */
    size_t alias_nodes; /* values made while expanding an alias */
    int in_alias;       /* nesting of alias expansions being walked */
    struct err *e;
};

static int yfail(struct yconv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int yfail(struct yconv *c, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->source)
        return errf(c->e, EINVAL, "%s:%d: %s", c->source, c->line, msg);
    return errf(c->e, EINVAL, "line %d: %s", c->line, msg);
}

static void note_line(struct yconv *c, struct fy_node *n)
{
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (m)
        c->line = m->line + 1;
}

/* The line of the first scalar in n (the first key of a mapping), or 0: where
 * a document's content starts, which libfyaml's document marks do not give
 * reliably for implicit documents. */
static int first_line(struct fy_node *n, int depth)
{
    if (!n || depth > 4)
        return 0;
    void *it = NULL;
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : 0;
    }
    case FYNT_MAPPING: {
        struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
        return p ? first_line(fy_node_pair_key(p), depth + 1) : 0;
    }
    case FYNT_SEQUENCE:
        return first_line(fy_node_sequence_iterate(n, &it), depth + 1);
    }
    return 0;
}

static bool is_one_of(const char *s, size_t len, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return true;
    return false;
}

static bool all_in(const char *s, size_t len, const char *set)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr(set, s[i]))
            return false;
    return true;
}

/* YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t intd = 0, fracd = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, intd++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, fracd++;
    }
    if (intd == 0 && fracd == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == len;
}

static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const trues[] = {"true", "True", "TRUE", NULL};
static const char *const falses[] = {"false", "False", "FALSE", NULL};
static const char *const specials[] = {".inf",  ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                                       "-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL};

/* Integer text in base 10, 8 (0o) or 16 (0x) into a json integer, or a real
 * when it does not fit. Returns NULL when s is not an integer. */
static json_t *int_value(const char *s, size_t len)
{
    char buf[128];
    if (len >= sizeof buf)
        len = sizeof buf - 1; /* longer text is never an integer that fits; see below */
    memcpy(buf, s, len);
    buf[len] = 0;
    int base = 10;
    const char *digits = buf;
    bool neg = false;
    if (len > 2 && buf[0] == '0' && buf[1] == 'o' && all_in(buf + 2, len - 2, "01234567")) {
        base = 8, digits = buf + 2;
    } else if (len > 2 && buf[0] == '0' && buf[1] == 'x' &&
               all_in(buf + 2, len - 2, "0123456789abcdefABCDEF")) {
        base = 16, digits = buf + 2;
    } else {
        const char *d = buf;
        if (*d == '+' || *d == '-')
            neg = *d == '-', d++;
        if (!all_in(d, strlen(d), "0123456789"))
            return NULL;
    }
    errno = 0;
    char *end;
    long long v = strtoll(digits, &end, base);
    if (errno == ERANGE) {
        if (base != 10)
            return json_real(neg ? -9.3e18 : 9.3e18);
        return json_real(strtod(buf, NULL));
    }
    return json_integer(v);
}

static json_t *plain_scalar(struct yconv *c, const char *s, size_t len)
{
    if (is_one_of(s, len, nulls))
        return json_null();
    if (is_one_of(s, len, trues))
        return json_true();
    if (is_one_of(s, len, falses))
        return json_false();
    if (is_one_of(s, len, specials)) {
        yfail(c, "%.*s has no JSON meaning", (int)len, s);
        return NULL;
    }
    if (len < 100) {
        json_t *i = int_value(s, len);
        if (i)
            return i;
    }
    if (is_float(s, len)) {
        char buf[400];
        if (len >= sizeof buf)
            return json_stringn(s, len); /* absurd: keep the text, the decoder rejects it */
        memcpy(buf, s, len);
        buf[len] = 0;
        return json_real(strtod(buf, NULL));
    }
    return json_stringn(s, len);
}

/* The tag's short name ("str", "int", ...) for the standard YAML tags, "" for
 * no tag or the non-specific "!", NULL for anything else. */
static const char *std_tag(struct fy_node *n)
{
    size_t len;
    const char *t = fy_node_get_tag(n, &len);
    if (!t || len == 0 || (len == 1 && t[0] == '!'))
        return "";
    static const char *const names[] = {"str", "int", "float", "bool", "null", "map", "seq"};
    static const char pfx[] = "tag:yaml.org,2002:";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t nl = strlen(names[i]);
        if ((len == sizeof pfx - 1 + nl && memcmp(t, pfx, sizeof pfx - 1) == 0 &&
             memcmp(t + sizeof pfx - 1, names[i], nl) == 0) ||
            (len == 2 + nl && memcmp(t, "!!", 2) == 0 && memcmp(t + 2, names[i], nl) == 0))
            return names[i];
    }
    return NULL;
}

static json_t *convert(struct yconv *c, struct fy_node *n, int depth);

static json_t *convert_scalar(struct yconv *c, struct fy_node *n, const char *tag)
{
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        s = "", len = 0;
    if (memchr(s, 0, len)) {
        yfail(c, "NUL byte in a string");
        return NULL;
    }
    bool plain = fy_node_get_style(n) == FYNS_PLAIN;
    json_t *v;
    if (strcmp(tag, "str") == 0 || (!plain && tag[0] == 0)) {
        v = json_stringn(s, len);
        if (!v)
            yfail(c, "string is not valid UTF-8");
        return v;
    }
    if (strcmp(tag, "map") == 0 || strcmp(tag, "seq") == 0) {
        yfail(c, "tag !!%s on a scalar", tag);
        return NULL;
    }
    v = plain_scalar(c, s, len);
    if (!v)
        return NULL;
    bool ok = true;
    if (strcmp(tag, "int") == 0)
        ok = json_is_integer(v);
    else if (strcmp(tag, "float") == 0) {
        ok = json_is_number(v);
        if (ok && json_is_integer(v)) {
            json_t *r = json_real((double)json_integer_value(v));
            json_decref(v);
            v = r;
        }
    } else if (strcmp(tag, "bool") == 0)
        ok = json_is_boolean(v);
    else if (strcmp(tag, "null") == 0)
        ok = json_is_null(v);
    if (!ok) {
        json_decref(v);
        yfail(c, "\"%.*s\" is not a valid !!%s", (int)(len > 40 ? 40 : len), s, tag);
        return NULL;
    }
    if (json_is_string(v) && !json_string_value(v)) {
        json_decref(v);
        yfail(c, "string is not valid UTF-8");
        return NULL;
    }
    return v;
}

static json_t *convert_mapping(struct yconv *c, struct fy_node *n, int depth)
{
    json_t *obj = json_object();
    void *it = NULL;
    for (struct fy_node_pair *p; (p = fy_node_mapping_iterate(n, &it));) {
        struct fy_node *k = fy_node_pair_key(p);
        if (k && fy_node_is_alias(k))
            k = fy_node_resolve_alias(k);
        if (!k || fy_node_get_type(k) != FYNT_SCALAR) {
            yfail(c, "mapping keys must be scalars");
            goto fail;
        }
        note_line(c, k);
        size_t klen;
        const char *ks = fy_node_get_scalar(k, &klen);
        if (!ks)
            ks = "", klen = 0;
        if (memchr(ks, 0, klen)) {
            yfail(c, "NUL byte in a key");
            goto fail;
        }
        if (klen == 2 && memcmp(ks, "<<", 2) == 0 && fy_node_get_style(k) == FYNS_PLAIN) {
            yfail(c, "merge keys (<<) are not supported");
            goto fail;
        }
        char *key = xstrndup(ks, klen);
        if (json_object_get(obj, key)) {
            yfail(c, "duplicate key \"%.60s\"", key);
            free(key);
            goto fail;
        }
        json_t *v = convert(c, fy_node_pair_value(p), depth + 1);
        if (!v) {
            free(key);
            goto fail;
        }
        if (json_object_set_new(obj, key, v) < 0) {
            free(key);
            yfail(c, "key is not valid UTF-8");
            goto fail;
        }
        free(key);
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static json_t *convert(struct yconv *c, struct fy_node *n, int depth)
{
    if (depth > MODEL_MAX_DEPTH) {
        yfail(c, "nested deeper than %d levels (or an alias cycle)", MODEL_MAX_DEPTH);
        return NULL;
    }
    if (c->in_alias && ++c->alias_nodes > YAML_MAX_ALIAS_NODES) {
        yfail(c, "more than %zu values from aliases expanded", YAML_MAX_ALIAS_NODES);
        return NULL;
    }
    if (!n) /* an empty value, as in "key:" */
        return json_null();
    if (fy_node_is_alias(n)) {
        note_line(c, n);
        struct fy_node *target = fy_node_resolve_alias(n);
        if (!target) {
            yfail(c, "alias to an unknown anchor");
            return NULL;
        }
        c->in_alias++;
        json_t *v = convert(c, target, depth + 1);
        c->in_alias--;
        return v;
    }
    const char *tag = std_tag(n);
    if (!tag) {
        size_t len;
        const char *t = fy_node_get_tag(n, &len);
        yfail(c, "unsupported tag \"%.*s\"", (int)(len > 60 ? 60 : len), t);
        return NULL;
    }
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR:
        note_line(c, n);
        return convert_scalar(c, n, tag);
    case FYNT_MAPPING:
        if (tag[0] && strcmp(tag, "map") != 0) {
            yfail(c, "tag !!%s on a mapping", tag);
            return NULL;
        }
        return convert_mapping(c, n, depth);
    case FYNT_SEQUENCE: {
        if (tag[0] && strcmp(tag, "seq") != 0) {
            yfail(c, "tag !!%s on a sequence", tag);
            return NULL;
        }
        json_t *arr = json_array();
        void *it = NULL;
        for (struct fy_node *item; (item = fy_node_sequence_iterate(n, &it));) {
            json_t *v = convert(c, item, depth + 1);
            if (!v) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    }
    yfail(c, "unknown node type");
    return NULL;
}

/* The offset of the first byte of s that is not part of well-formed UTF-8
 * (no overlong forms, surrogates or code points past U+10FFFF), or len. */
static size_t utf8_bad_offset(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* bounds of the second byte */
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            if (c == 0xf4)
                hi = 0x8f; /* past U+10FFFF */
        } else {
            return i;
        }
        if (i + n >= len || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return i;
        i += n + 1;
    }
    return len;
}

/* The first collected libfyaml error, as "source:line: YAML: message". */
static int parse_error(struct fy_diag *diag, const char *source, struct err *e)
{
    void *it = NULL;
    struct fy_diag_error *de = fy_diag_errors_iterate(diag, &it);
    const char *src = source ? source : "<input>";
    if (de)
        return errf(e, EINVAL, "%s:%d: invalid YAML: %s", src, de->line + 1, de->msg);
    return errf(e, EINVAL, "%s: invalid YAML", src);
}

int model_yaml_to_json(const char *buf, size_t len, const char *source_name, json_t ***docs,
                       size_t *n, int **lines, struct err *e)
{
    if (len > MODEL_MAX_INPUT)
        return errf(e, E2BIG, "%s: input is %zu bytes, more than the limit of %zu",
                    source_name ? source_name : "<input>", len, MODEL_MAX_INPUT);
    /* YAML streams here are UTF-8, as Kubernetes reads them. Checking first is
     * also a guard: libfyaml 0.7.12 loops forever on some malformed UTF-8
     * inside a directive line (found by tests/fuzz). */
    size_t bad = utf8_bad_offset((const unsigned char *)buf, len);
    if (bad < len) {
        int line = 1;
        for (size_t i = 0; i < bad; i++)
            line += buf[i] == '\n';
        return errf(e, EINVAL, "%s:%d: input is not valid UTF-8 (byte %zu)",
                    source_name ? source_name : "<input>", line, bad);
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.level = FYET_ERROR;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        alloc_die(sizeof dcfg);
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {
        .flags =
            FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_DISABLE_MMAP_OPT,
        .diag = diag,
    };
    struct fy_parser *fyp = fy_parser_create(&cfg);
    if (!fyp)
        alloc_die(sizeof cfg);
    json_t **out = NULL;
    int *outl = NULL;
    size_t nout = 0, cap = 0;
    int rc = -1;
    /* libfyaml reads from its own copy-free view of buf; an empty input would
     * be refused, so it is simply an empty stream. */
    if (len == 0) {
        rc = 0;
        goto done;
    }
    if (fy_parser_set_string(fyp, buf, len) != 0) {
        errf(e, EINVAL, "%s: cannot read YAML input", source_name ? source_name : "<input>");
        goto done;
    }
    struct yconv c = {.source = source_name ? source_name : "<input>", .e = e};
    for (;;) {
        struct fy_document *fyd = fy_parse_load_document(fyp);
        if (!fyd)
            break;
        struct fy_node *root = fy_document_root(fyd);
        if (!root) {
            fy_parse_document_destroy(fyp, fyd);
            continue;
        }
        c.line = first_line(root, 0);
        if (c.line == 0) {
            struct fy_document_state *st = fy_document_get_document_state(fyd);
            const struct fy_mark *m = st ? fy_document_state_start_mark(st) : NULL;
            c.line = m ? m->line + 1 : 1;
        }
        int doc_line = c.line;
        json_t *v = convert(&c, root, 0);
        fy_parse_document_destroy(fyp, fyd);
        if (!v)
            goto done;
        if (json_is_null(v)) { /* a document of only comments or "~" */
            json_decref(v);
            continue;
        }
        if (nout == MODEL_MAX_DOCS) {
            json_decref(v);
            errf(e, E2BIG, "%s: more than %d documents", c.source, MODEL_MAX_DOCS);
            goto done;
        }
        if (nout == cap) {
            cap = cap ? cap * 2 : 8;
            out = xreallocarray(out, cap, sizeof *out);
            outl = xreallocarray(outl, cap, sizeof *outl);
        }
        out[nout] = v;
        outl[nout] = doc_line;
        nout++;
    }
    if (fy_parser_get_stream_error(fyp)) {
        parse_error(diag, source_name, e);
        goto done;
    }
    rc = 0;
done:
    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    if (rc < 0) {
        for (size_t i = 0; i < nout; i++)
            json_decref(out[i]);
        free(out);
        free(outl);
        return -1;
    }
    *docs = out;
    *n = nout;
    if (lines)
        *lines = outl;
    else
        free(outl);
    return 0;
}
