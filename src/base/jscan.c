/*
 * base/jscan: see jscan.h.
 */
#include "base/jscan.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* The scan of a string, object or array from its first byte s[i]: only quotes,
 * backslashes and brackets matter, and they are found 16 bytes at a time where
 * SSE2 is there (x86-64 always), byte by byte elsewhere. A backslash in a string
 * makes the scan skip the byte after it. */
static bool jscan_special(char ch)
{
    return ch == '"' || ch == '\\' || ch == '{' || ch == '}' || ch == '[' || ch == ']';
}

struct jstate {
    int depth;
    bool str;
    size_t skip; /* bytes before it are escaped */
};

/* One special byte at s[at]; returns true when the value ends just past it. */
static inline bool jscan_step(struct jstate *st, char ch, size_t at)
{
    if (at < st->skip)
        return false;
    if (st->str) {
        if (ch == '\\')
            st->skip = at + 2;
        else if (ch == '"') {
            st->str = false;
            return st->depth == 0;
        }
        return false;
    }
    if (ch == '"')
        st->str = true;
    else if (ch == '{' || ch == '[')
        st->depth++;
    else if (ch == '}' || ch == ']')
        return --st->depth <= 0;
    return false;
}

static size_t structure_end(const char *s, size_t n, size_t i)
{
    struct jstate st = {0, false, 0};
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ob = _mm_set1_epi8('{'),
                  cb = _mm_set1_epi8('}'), os = _mm_set1_epi8('['), cs = _mm_set1_epi8(']');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, ob), _mm_cmpeq_epi8(v, cb))),
            _mm_or_si128(_mm_cmpeq_epi8(v, os), _mm_cmpeq_epi8(v, cs)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        while (m) {
            size_t at = i + (size_t)__builtin_ctz(m);
            m &= m - 1;
            if (jscan_step(&st, s[at], at))
                return at + 1;
        }
    }
#endif
    for (; i < n; i++)
        if (jscan_special(s[i]) && jscan_step(&st, s[i], i))
            return i + 1;
    return n;
}

#ifdef __SSE2__
/* Objects and arrays 64 bytes at a time, with no branch per byte: masks of
 * the quotes, backslashes and brackets of a block; the bytes escaped by a
 * backslash (a run of them escapes the byte after when its length is odd),
 * which are taken out of the quotes; then the bytes inside strings, the
 * prefix XOR of the quotes (carried from block to block), which are taken out
 * of the brackets. A block whose closing brackets cannot bring the depth to
 * 0 is counted whole; only the block where the value may end is walked, one
 * bracket at a time. Managed fields, most of a stored object, are brackets and
 * short strings (with a backslash in many): byte by byte, each of them was a
 * branch that mispredicted. */
static uint64_t mask16(__m128i v, __m128i c, int shift)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << shift;
}

/* Set bits (x86-64's baseline has no popcnt instruction: the builtin would be
 * a call into libgcc). */
static inline int64_t bits64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int64_t)((x * 0x0101010101010101ULL) >> 56);
}

static size_t nested_end(const char *s, size_t n, size_t i)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), lo = _mm_set1_epi8(0x20),
                  op = _mm_set1_epi8('{'), cl = _mm_set1_epi8('}');
    uint64_t esc_carry = 0;    /* the block's first byte is escaped */
    uint64_t str_carry = 0;    /* all ones when the block starts inside a string */
    int64_t depth = 0;
    char tail[64];
    for (size_t b = i; b < n; b += 64) {
        const char *p = s + b;
        if (n - b < 64) { /* the last bytes, padded with spaces (nothing special) */
            memset(tail, ' ', sizeof tail);
            memcpy(tail, p, n - b);
            p = tail;
        }
        uint64_t quote = 0, bsl = 0, open = 0, close = 0;
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
            /* '{' and '[' differ only in 0x20, as '}' and ']' do */
            __m128i v20 = _mm_or_si128(v, lo);
            quote |= mask16(v, q, 16 * k);
            bsl |= mask16(v, bs, 16 * k);
            open |= mask16(v20, op, 16 * k);
            close |= mask16(v20, cl, 16 * k);
        }
        /* Escaped bytes: each backslash not itself escaped escapes the next. */
        uint64_t escaped = esc_carry, rest = bsl & ~esc_carry, escapers = 0;
        uint64_t next_esc = 0;
        while (rest) {
            int at = __builtin_ctzll(rest);
            escapers |= 1ULL << at;
            if (at == 63) {
                next_esc = 1;
                break;
            }
            escaped |= 2ULL << at;
            rest &= ~(3ULL << at);
        }
        quote &= ~escaped;
        /* Inside strings: the opening quote and what follows, up to the
         * closing quote (not included). */
        uint64_t in = quote;
        in ^= in << 1;
        in ^= in << 2;
        in ^= in << 4;
        in ^= in << 8;
        in ^= in << 16;
        in ^= in << 32;
        in ^= str_carry;
        if (escapers & ~in) {
            /* A backslash outside a string (not JSON): it escapes nothing
             * there, so this block goes byte by byte. */
            struct jstate st = {(int)depth, str_carry != 0, esc_carry ? b + 1 : 0};
            size_t end = b + 64 < n ? b + 64 : n;
            for (size_t at = b; at < end; at++)
                if (jscan_special(s[at]) && jscan_step(&st, s[at], at))
                    return at + 1;
            depth = st.depth;
            str_carry = st.str ? ~(uint64_t)0 : 0;
            esc_carry = st.skip > end;
            continue;
        }
        esc_carry = next_esc;
        str_carry = (uint64_t)0 - (in >> 63);
        open &= ~in;
        close &= ~in;
        int64_t nclose = close ? bits64(close) : 0;
        if (depth - nclose > 0) {
            depth += bits64(open) - nclose;
            continue;
        }
        for (uint64_t m = open | close; m; m &= m - 1) {
            int at = __builtin_ctzll(m);
            if (open >> at & 1) {
                depth++;
            } else if (--depth <= 0) {
                return b + (size_t)at + 1;
            }
        }
    }
    return n;
}
#endif

size_t jscan_value_end(const char *s, size_t n, size_t i)
{
    i = skip_ws(s, n, i);
    /* a scalar: up to what ends it */
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ':' ||
            ch == '}' || ch == ']')
            return i;
#ifdef __SSE2__
        if (ch == '{' || ch == '[')
            return nested_end(s, n, i);
#endif
        if (ch == '"' || ch == '{' || ch == '[')
            return structure_end(s, n, i);
    }
    return n;
}

/* The member that starts at s[i] (after whitespace): key [*k0, *k1) with its
 * quotes, value from *v0; its end *v1 only when v1 is not NULL. */
static bool member_at(const char *s, size_t n, size_t i, size_t *k0, size_t *k1, size_t *v0,
                      size_t *v1)
{
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '"')
        return false;
    size_t ke = jscan_value_end(s, n, i);
    if (ke >= n)
        return false;
    size_t j = skip_ws(s, n, ke);
    if (j >= n || s[j] != ':')
        return false;
    *k0 = i;
    *k1 = ke;
    *v0 = skip_ws(s, n, j + 1);
    if (v1) {
        *v1 = jscan_value_end(s, n, *v0);
        if (*v1 >= n || *v1 == *v0)
            return false;
    }
    return true;
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
        size_t k0, k1, v0, v1;
        if (!member_at(s, n, i, &k0, &k1, &v0, NULL))
            return false;
        bool match = k1 - k0 == keylen + 2 && memcmp(s + k0 + 1, key, keylen) == 0;
        if (match && !ve) {
            *ks = k0;
            *vs = v0;
            return true; /* the value is not scanned: the caller needs only its start */
        }
        v1 = jscan_value_end(s, n, v0);
        if (v1 >= n || v1 == v0)
            return false;
        if (match) {
            *ks = k0;
            *vs = v0;
            *ve = v1;
            return true;
        }
        i = skip_ws(s, n, v1);
        if (i >= n || s[i] != ',')
            return false;
        i++;
    }
}

bool jscan_next(const char *s, size_t n, size_t obj, size_t *it, size_t *ks, size_t *ke,
                size_t *vs, size_t *ve)
{
    size_t i;
    if (*it == 0) {
        i = skip_ws(s, n, obj);
        if (i >= n || s[i] != '{')
            return false;
        i = skip_ws(s, n, i + 1);
        if (i < n && s[i] == '}')
            return false;
    } else {
        i = skip_ws(s, n, *it);
        if (i >= n || s[i] != ',')
            return false;
        i++;
    }
    if (!member_at(s, n, i, ks, ke, vs, ve))
        return false;
    *it = *ve;
    return true;
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

static bool hex4(const char *s, size_t i, size_t n, uint32_t *out)
{
    if (i + 4 > n)
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

bool jscan_unescape(const char *s, size_t n, char *out, size_t *len)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (c != '\\') {
            out[m++] = c;
            continue;
        }
        if (++k >= n)
            return false;
        switch (s[k]) {
        case '"': out[m++] = '"'; break;
        case '\\': out[m++] = '\\'; break;
        case '/': out[m++] = '/'; break;
        case 'b': out[m++] = '\b'; break;
        case 'f': out[m++] = '\f'; break;
        case 'n': out[m++] = '\n'; break;
        case 'r': out[m++] = '\r'; break;
        case 't': out[m++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!hex4(s, k + 1, n, &cp))
                return false;
            k += 4;
            if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
                uint32_t lo;
                if (k + 2 >= n || s[k + 1] != '\\' || s[k + 2] != 'u' ||
                    !hex4(s, k + 3, n, &lo) || lo < 0xdc00 || lo >= 0xe000)
                    return false;
                k += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return false; /* a lone low surrogate */
            }
            /* the escape is 6 or 12 bytes, its UTF-8 at most 4: out keeps up */
            if (cp < 0x80) {
                out[m++] = (char)cp;
            } else if (cp < 0x800) {
                out[m++] = (char)(0xc0 | cp >> 6);
                out[m++] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                out[m++] = (char)(0xe0 | cp >> 12);
                out[m++] = (char)(0x80 | (cp >> 6 & 0x3f));
                out[m++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[m++] = (char)(0xf0 | cp >> 18);
                out[m++] = (char)(0x80 | (cp >> 12 & 0x3f));
                out[m++] = (char)(0x80 | (cp >> 6 & 0x3f));
                out[m++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default:
            return false;
        }
    }
    *len = m;
    return true;
}

bool jscan_string(const char *s, size_t vs, size_t ve, char *buf, size_t size)
{
    if (ve < vs + 2 || s[vs] != '"' || s[ve - 1] != '"' || size == 0)
        return false;
    size_t n = ve - vs - 2, len;
    if (n >= size || !jscan_unescape(s + vs + 1, n, buf, &len))
        return false;
    buf[len] = '\0';
    return true;
}

size_t jscan_utf8_seq(const char *str, size_t n, size_t i)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[i];
    if (c < 0x80)
        return 1;
    size_t k;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t j = 1; j <= k; j++) {
        if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k + 1;
}

bool jscan_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs, eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        size_t k = jscan_utf8_seq(str, n, i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

/* Bytes of w (eight, little-endian order of memory) that a JSON string needs
 * looked at have their high bit set in the result; the lowest such bit is
 * exact (borrows can only mark bytes above a marked one). */
static inline uint64_t string_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t ctl = (w - ones * 0x20) & ~w;  /* bytes < 0x20 (and some above one) */
    uint64_t isq = (q - ones) & ~q, isb = (b - ones) & ~b;
    return (ctl | isq | isb | w) & high;
}

size_t jscan_string_special(const char *s, size_t n, size_t i)
{
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t m = string_special(w);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
        i += 8;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
            return i;
    }
    return n;
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
