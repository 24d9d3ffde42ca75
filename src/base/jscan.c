/*
 * base/jscan: see jscan.h.
 */
#include "base/jscan.h"

#include <stdint.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

size_t jscan_value_end(const char *s, size_t n, size_t i)
{
    i = skip_ws(s, n, i);
    int depth = 0;
    bool str = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (str) {
            /* Most of a Kubernetes object's bytes are inside strings: jump to
             * the next quote and look back for escaping backslashes. */
            const char *q = memchr(s + i, '"', n - i);
            if (!q)
                return n;
            size_t at = (size_t)(q - s), bs = 0;
            while (at - bs > i && s[at - bs - 1] == '\\')
                bs++;
            i = at;
            if (bs % 2)
                continue; /* an escaped quote */
            str = false;
            if (depth == 0)
                return i + 1;
        } else if (ch == '"') {
            str = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return i; /* a scalar ended by its container */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' ||
                                  ch == '\r' || ch == ':')) {
            return i; /* the end of a scalar */
        }
    }
    return n;
}

bool jscan_member(const char *s, size_t n, size_t obj, const char *key, size_t keylen,
                  size_t *ks, size_t *vs, size_t *ve)
{
    size_t i = skip_ws(s, n, obj);
    if (i >= n || s[i] != '{')
        return false;
    i = skip_ws(s, n, i + 1);
    if (i < n && s[i] == '}')
        return false;
    for (;;) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return false;
        size_t k0 = i, k1 = jscan_value_end(s, n, i);
        if (k1 >= n)
            return false;
        size_t j = skip_ws(s, n, k1);
        if (j >= n || s[j] != ':')
            return false;
        size_t v0 = skip_ws(s, n, j + 1), v1 = jscan_value_end(s, n, v0);
        if (v1 >= n || v1 == v0)
            return false;
        if (k1 - k0 == keylen + 2 && memcmp(s + k0 + 1, key, keylen) == 0) {
            *ks = k0;
            *vs = v0;
            if (ve)
                *ve = v1;
            return true;
        }
        i = skip_ws(s, n, v1);
        if (i >= n || s[i] != ',')
            return false;
        i++;
    }
}

bool jscan_path(const char *s, size_t n, const char *const *keys, size_t nkeys, size_t *vs,
                size_t *ve)
{
    /* Only the last value is scanned to its end: an object's members stop at
     * its own closing brace, so the whole text bounds every level. */
    size_t at = 0, end = n, ks;
    for (size_t k = 0; k < nkeys; k++)
        if (!jscan_member(s, n, at, keys[k], strlen(keys[k]), &ks, &at,
                          k + 1 == nkeys ? &end : NULL))
            return false;
    *vs = skip_ws(s, n, at);
    *ve = end;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(const char *s, size_t i, size_t ve, uint32_t *out)
{
    if (i + 4 > ve)
        return false;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return true;
}

bool jscan_string(const char *s, size_t vs, size_t ve, char *buf, size_t size)
{
    if (ve < vs + 2 || s[vs] != '"' || s[ve - 1] != '"' || size == 0)
        return false;
    size_t o = 0;
    for (size_t i = vs + 1; i < ve - 1; i++) {
        char ch = s[i];
        char tmp[4];
        size_t len = 1;
        tmp[0] = ch;
        if (ch == '\\') {
            if (++i >= ve - 1)
                return false;
            switch (s[i]) {
            case '"': tmp[0] = '"'; break;
            case '\\': tmp[0] = '\\'; break;
            case '/': tmp[0] = '/'; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (!hex4(s, i + 1, ve - 1, &cp))
                    return false;
                i += 4;
                if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
                    uint32_t lo;
                    if (i + 2 >= ve - 1 || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                        !hex4(s, i + 3, ve - 1, &lo) || lo < 0xdc00 || lo >= 0xe000)
                        return false;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    return false;
                }
                if (cp < 0x80) {
                    tmp[0] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (char)(0xc0 | cp >> 6);
                    tmp[1] = (char)(0x80 | (cp & 0x3f));
                    len = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (char)(0xe0 | cp >> 12);
                    tmp[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                    tmp[2] = (char)(0x80 | (cp & 0x3f));
                    len = 3;
                } else {
                    tmp[0] = (char)(0xf0 | cp >> 18);
                    tmp[1] = (char)(0x80 | (cp >> 12 & 0x3f));
                    tmp[2] = (char)(0x80 | (cp >> 6 & 0x3f));
                    tmp[3] = (char)(0x80 | (cp & 0x3f));
                    len = 4;
                }
                break;
            }
            default:
                return false;
            }
        }
        if (o + len >= size)
            return false;
        memcpy(buf + o, tmp, len);
        o += len;
    }
    buf[o] = '\0';
    return true;
}

bool jscan_managed_fields(const char *s, size_t n, size_t *from, size_t *to)
{
    size_t ks, ms, fs, fe;
    if (!jscan_member(s, n, 0, "metadata", 8, &ks, &ms, NULL) ||
        !jscan_member(s, n, ms, "managedFields", 13, &ks, &fs, &fe))
        return false;
    size_t b = ks;
    while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\n' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    if (b > 0 && s[b - 1] == ',') {
        *from = b - 1;
        *to = fe;
    } else {
        size_t a = skip_ws(s, n, fe);
        *from = ks;
        *to = a < n && s[a] == ',' ? a + 1 : fe;
    }
    return true;
}
