/*
 * model/jsonin: see jsonin.h.
 */
#include "model/jsonin.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/jscan.h"

#define MAX_DEPTH 2000 /* below jansson's 2048: deeper text goes to jansson */

struct in {
    const char *s;
    size_t n, i;
    size_t flags;
    char *tmp; /* unescaping buffer */
    size_t tmp_cap;
};

static void skip_ws(struct in *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->i++;
    }
}

/* Reads the string at p->i (its opening quote). *out points to its bytes (into
 * the text, or into p->tmp when it had escapes), *len their count. */
/* One pass, eight bytes at a time between the bytes that need a look
 * (jscan_string_special): the closing quote, escapes (unescaped afterwards,
 * when there are any), control characters (refused) and non-ASCII characters
 * (checked). */
static bool read_string(struct in *p, const char **out, size_t *len)
{
    const char *s = p->s;
    size_t n = p->n, start = ++p->i, i = start;
    bool esc = false;
    for (;;) {
        i = jscan_string_special(s, n, i);
        if (i >= n)
            return false;
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            esc = true;
            i += 2; /* the escaped byte is jscan_unescape's to judge */
            if (i > n)
                return false;
            continue;
        }
        if (c < 0x20)
            return false; /* a raw control character */
        size_t k = jscan_utf8_seq(s, n, i);
        if (!k)
            return false;
        i += k;
    }
    p->i = i + 1;
    const char *str = s + start;
    size_t m = i - start;
    if (!esc) {
        *out = str;
        *len = m;
        return true;
    }
    if (p->tmp_cap < m + 1) {
        p->tmp_cap = m + 64;
        p->tmp = xrealloc(p->tmp, p->tmp_cap);
    }
    size_t um;
    if (!jscan_unescape(str, m, p->tmp, &um) || !jscan_utf8_valid(p->tmp, um))
        return false;
    *out = p->tmp;
    *len = um;
    return true;
}

static json_t *read_number(struct in *p)
{
    size_t i = p->i, n = p->n;
    const char *s = p->s;
    size_t start = i;
    bool real = false;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return NULL;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return NULL;
    }
    if (i < n && s[i] == '.') {
        real = true;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return NULL;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        real = true;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return NULL;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    size_t len = i - start;
    char buf[64];
    if (len >= sizeof buf)
        return NULL; /* long numbers: jansson's own reading */
    memcpy(buf, s + start, len);
    buf[len] = '\0';
    p->i = i;
    errno = 0;
    if (!real) {
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return NULL;
        return json_integer((json_int_t)v);
    }
    /* Reals are rare in objects; their exact reading (locale, overflow) is
     * jansson's: it parses this number alone. */
    json_t *r = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
    return json_is_real(r) ? r : (json_decref(r), NULL);
}

static json_t *read_value(struct in *p, int depth);

/* After a member or an element: 1 when a comma says another follows, 0 at the
 * closing byte, -1 at anything else. */
static int after_item(struct in *p, char close)
{
    skip_ws(p);
    if (p->i >= p->n)
        return -1;
    char ch = p->s[p->i++];
    return ch == ',' ? 1 : ch == close ? 0 : -1;
}

static json_t *read_object(struct in *p, int depth)
{
    json_t *o = json_object();
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        return o;
    }
    for (;;) {
        skip_ws(p);
        const char *k;
        size_t klen;
        if (p->i >= p->n || p->s[p->i] != '"' || !read_string(p, &k, &klen) ||
            memchr(k, '\0', klen))
            goto fail;
        char kbuf[256];
        char *key = klen < sizeof kbuf ? kbuf : xmalloc(klen + 1);
        memcpy(key, k, klen);
        key[klen] = '\0';
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            if (key != kbuf)
                free(key);
            goto fail;
        }
        p->i++;
        json_t *v = read_value(p, depth + 1);
        if (!v || ((p->flags & JSON_REJECT_DUPLICATES) && json_object_getn(o, key, klen))) {
            json_decref(v);
            if (key != kbuf)
                free(key);
            goto fail;
        }
        json_object_setn_new_nocheck(o, key, klen, v);
        if (key != kbuf)
            free(key);
        int more = after_item(p, '}');
        if (more < 0)
            goto fail;
        if (!more)
            return o;
    }
fail:
    json_decref(o);
    return NULL;
}

static json_t *read_array(struct in *p, int depth)
{
    json_t *a = json_array();
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') {
        p->i++;
        return a;
    }
    for (;;) {
        json_t *v = read_value(p, depth + 1);
        if (!v)
            goto fail;
        json_array_append_new(a, v);
        int more = after_item(p, ']');
        if (more < 0)
            goto fail;
        if (!more)
            return a;
    }
fail:
    json_decref(a);
    return NULL;
}

static bool literal(struct in *p, const char *word, size_t len)
{
    if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
        return false;
    p->i += len;
    return true;
}

static json_t *read_value(struct in *p, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    skip_ws(p);
    if (p->i >= p->n)
        return NULL;
    switch (p->s[p->i]) {
    case '{':
        return read_object(p, depth);
    case '[':
        return read_array(p, depth);
    case '"': {
        const char *s;
        size_t len;
        if (!read_string(p, &s, &len) || memchr(s, '\0', len))
            return NULL;
        return json_stringn_nocheck(s, len);
    }
    case 't':
        return literal(p, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(p, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(p, "null", 4) ? json_null() : NULL;
    default:
        return read_number(p);
    }
}

json_t *jsonin_loadb(const char *s, size_t n, size_t flags, json_error_t *je)
{
    if (!s || (flags & ~(size_t)JSON_REJECT_DUPLICATES))
        return json_loadb(s, n, flags, je);
    struct in p = {.s = s, .n = n, .flags = flags};
    skip_ws(&p);
    json_t *v = NULL;
    if (p.i < n && (s[p.i] == '{' || s[p.i] == '[')) {
        v = read_value(&p, 1);
        skip_ws(&p);
        if (v && p.i != n) {
            json_decref(v);
            v = NULL;
        }
    }
    free(p.tmp);
    if (!v)
        return json_loadb(s, n, flags, je); /* jansson's error, or what it makes of it */
    if (je) {
        memset(je, 0, sizeof *je);
        je->line = je->column = -1; /* as jansson leaves it on success */
    }
    return v;
}

json_t *jsonin_loadb_slim(const char *s, size_t n, size_t obj, json_error_t *je)
{
    size_t from, to;
    if (obj > n || !jscan_managed_fields(s + obj, n - obj, &from, &to))
        return jsonin_loadb(s, n, 0, je);
    from += obj;
    to += obj;
    char stackbuf[8192];
    size_t len = n - (to - from);
    char *buf = len <= sizeof stackbuf ? stackbuf : xmalloc(len);
    memcpy(buf, s, from);
    memcpy(buf + from, s + to, n - to);
    json_t *j = jsonin_loadb(buf, len, 0, je);
    if (buf != stackbuf)
        free(buf);
    return j;
}
