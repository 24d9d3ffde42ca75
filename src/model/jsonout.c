/*
 * model/jsonout: see jsonout.h.
 */
#include "model/jsonout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/jscan.h"
#include "base/strbuf.h"

#define out jsonout /* the writer is public (jsonout.h) */

static void reserve(struct out *o, size_t n)
{
    if (o->len + n + 1 <= o->cap)
        return;
    size_t cap = o->cap ? o->cap : 256;
    while (o->len + n + 1 > cap)
        cap *= 2;
    if (o->borrowed) {
        char *b = xmalloc(cap);
        memcpy(b, o->buf, o->len);
        o->buf = b;
        o->borrowed = false;
    } else {
        o->buf = xrealloc(o->buf, cap);
    }
    o->cap = cap;
}

static void put(struct out *o, const char *p, size_t n)
{
    reserve(o, n);
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void putc_(struct out *o, char c)
{
    reserve(o, 1);
    o->buf[o->len++] = c;
}

/* One pass, eight bytes at a time between the bytes that need a look
 * (jscan_string_special): quotes, backslashes and control characters are
 * escaped as jansson does, non-ASCII characters checked and copied. */
static bool put_string(struct out *o, const char *s, size_t n)
{
    reserve(o, n + 2);
    o->buf[o->len++] = '"';
    size_t run = 0, i = 0;
    while ((i = jscan_string_special(s, n, i)) < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = jscan_utf8_seq(s, n, i);
            if (!k)
                return false; /* not UTF-8: the whole text is refused */
            i += k;
            continue;
        }
        put(o, s + run, i - run);
        run = ++i;
        char esc[8];
        switch (c) {
        case '"': put(o, "\\\"", 2); break;
        case '\\': put(o, "\\\\", 2); break;
        case '\b': put(o, "\\b", 2); break;
        case '\f': put(o, "\\f", 2); break;
        case '\n': put(o, "\\n", 2); break;
        case '\r': put(o, "\\r", 2); break;
        case '\t': put(o, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            put(o, esc, 6);
        }
    }
    put(o, s + run, n - run);
    putc_(o, '"');
    return true;
}

static bool put_value(struct out *o, const json_t *v, int depth)
{
    if (depth > 2048) /* jansson's own limit is lower; this only bounds the stack */
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        putc_(o, '{');
        bool first = true;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!first)
                putc_(o, ',');
            first = false;
            if (!put_string(o, k, strlen(k)))
                return false;
            putc_(o, ':');
            if (!put_value(o, x, depth + 1))
                return false;
        }
        putc_(o, '}');
        return true;
    }
    case JSON_ARRAY: {
        putc_(o, '[');
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)v, i, x)
        {
            if (i)
                putc_(o, ',');
            if (!put_value(o, x, depth + 1))
                return false;
        }
        putc_(o, ']');
        return true;
    }
    case JSON_STRING:
        return put_string(o, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        char b[24], *e = b + sizeof b, *q = e;
        json_int_t x = json_integer_value(v);
        /* digits from the end; through unsigned, so the most negative value works */
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        do {
            *--q = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0)
            *--q = '-';
        put(o, q, (size_t)(e - q));
        return true;
    }
    case JSON_REAL: { /* rare in objects: jansson's own formatting, exactly */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return false;
        put(o, s, strlen(s));
        free(s);
        return true;
    }
    case JSON_TRUE:
        put(o, "true", 4);
        return true;
    case JSON_FALSE:
        put(o, "false", 5);
        return true;
    case JSON_NULL:
        put(o, "null", 4);
        return true;
    }
    return false;
}

char *jsonout_dumps(const json_t *v, size_t *len)
{
    struct out o = {0};
    if (!v || !put_value(&o, v, 0)) {
        free(o.buf);
        return NULL;
    }
    reserve(&o, 0);
    o.buf[o.len] = '\0';
    if (len)
        *len = o.len;
    return o.buf;
}

void jsonout_raw(struct jsonout *o, const char *s, size_t n)
{
    put(o, s, n);
}

void jsonout_value(struct jsonout *o, const json_t *v)
{
    if (!o->failed && (!v || !put_value(o, v, 0)))
        o->failed = true;
}

void jsonout_key(struct jsonout *o, const char *k)
{
    if (!o->failed && !put_string(o, k, strlen(k)))
        o->failed = true;
    putc_(o, ':');
}

char *jsonout_finish(struct jsonout *o, size_t *len)
{
    if (o->failed) {
        if (!o->borrowed)
            free(o->buf);
        return NULL;
    }
    reserve(o, 0);
    o->buf[o->len] = '\0';
    if (len)
        *len = o->len;
    return o->buf;
}

int jsonout_add_string(struct strbuf *sb, const char *s, size_t n)
{
    char small[256];
    struct out o = {small, 0, sizeof small, true, false}; /* onto the heap if need be */
    bool ok = put_string(&o, s, n);
    int rc = ok ? strbuf_add(sb, o.buf, o.len) : -1;
    if (!o.borrowed)
        free(o.buf);
    if (!ok)
        errno = EILSEQ;
    return rc;
}
