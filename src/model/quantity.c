/*
 * quantity: exact parsing of Kubernetes quantities into int64 milli.
 *
 * The value is mantissa * 10^e10 * 1024^k * 1000 (milli), rounded away from
 * zero. To stay exact for any input up to QUANTITY_MAX_LEN bytes the arithmetic
 * is done on an array of decimal digits: the mantissa's digits, shifted by the
 * decimal exponent, multiplied by the binary factor, then split into the
 * integer part and a remainder that only decides the rounding. Only the integer
 * part is converted to binary, with an overflow check.
 */
#include "model/quantity.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits kept for the arithmetic: the mantissa (at most QUANTITY_MAX_LEN
 * digits) plus room for the binary factor (1024^6 < 10^19) and the carry. */
#define QDIGITS (QUANTITY_MAX_LEN + 24)

/* INT64_MAX has 19 digits; an integer part longer than this overflows. */
#define INT64_DIGITS 19

static int q_fail(struct err *e, int code, const char *s, size_t len, const char *why)
{
    return errf(e, code, "invalid quantity \"%.*s\": %s", (int)len, s, why);
}

struct suffix {
    const char *text;
    int e10; /* decimal exponent */
    int k2;  /* power of 1024 */
};

static const struct suffix suffixes[] = {
    {"", 0, 0},   {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"k", 3, 0},  {"M", 6, 0},
    {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0}, {"E", 18, 0}, {"Ki", 0, 1}, {"Mi", 0, 2},
    {"Gi", 0, 3}, {"Ti", 0, 4}, {"Pi", 0, 5}, {"Ei", 0, 6},
};

/* Parses the suffix at s[0..len) into a decimal exponent and a power of 1024.
 * Returns false when it is not a suffix Kubernetes knows. */
static bool parse_suffix(const char *s, size_t len, int *e10, int *k2)
{
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strlen(suffixes[i].text) == len && memcmp(suffixes[i].text, s, len) == 0) {
            *e10 = suffixes[i].e10;
            *k2 = suffixes[i].k2;
            return true;
        }
    }
    /* e<int> or E<int>: a decimal exponent, optionally signed. */
    if (len >= 2 && (s[0] == 'e' || s[0] == 'E')) {
        size_t i = 1;
        bool neg = false;
        if (s[i] == '+' || s[i] == '-') {
            neg = s[i] == '-';
            i++;
        }
        if (i == len)
            return false;
        int v = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            if (v < 100000) /* beyond this the value is 0 or out of range anyway */
                v = v * 10 + (s[i] - '0');
        }
        *e10 = neg ? -v : v;
        *k2 = 0;
        return true;
    }
    return false;
}

int quantity_parse(const char *s, size_t len, int64_t *milli, struct err *e)
{
    if (len == 0)
        return q_fail(e, EINVAL, s, len, "empty");
    if (len > QUANTITY_MAX_LEN)
        return errf(e, EINVAL, "invalid quantity \"%.20s...\": longer than %d bytes", s,
                    QUANTITY_MAX_LEN);

    size_t i = 0;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    unsigned char dig[QDIGITS];
    size_t nd = 0, nfrac = 0;
    bool dot = false, any = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (nd == 0 && c == '0') { /* leading zeros carry no value */
                if (dot)
                    nfrac++;
                continue;
            }
            dig[nd++] = (unsigned char)(c - '0');
            if (dot)
                nfrac++;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return q_fail(e, EINVAL, s, len, "expected a number");

    int e10, k2;
    if (!parse_suffix(s + i, len - i, &e10, &k2)) {
        char why[QUANTITY_MAX_LEN + 32];
        snprintf(why, sizeof why, "unknown suffix \"%.*s\"", (int)(len - i), s + i);
        return q_fail(e, EINVAL, s, len, why);
    }
    if (nd == 0) { /* zero, whatever the exponent */
        *milli = 0;
        return 0;
    }

    /* value = dig * 10^x * 1024^k2, in milli. */
    long x = (long)e10 + 3 - (long)nfrac;
    if (x > 0) {
        if ((long)nd + x > INT64_DIGITS + 1)
            return q_fail(e, ERANGE, s, len, "out of range");
        for (long z = 0; z < x; z++)
            dig[nd++] = 0;
        x = 0;
    }
    /* Multiply by 1024^k2, least significant digit first. */
    if (k2 > 0) {
        uint64_t mul = (uint64_t)1 << (10 * k2);
        unsigned __int128 carry = 0;
        unsigned char tmp[QDIGITS];
        size_t nt = 0;
        for (size_t j = nd; j-- > 0;) {
            unsigned __int128 v = (unsigned __int128)dig[j] * mul + carry;
            tmp[nt++] = (unsigned char)(v % 10);
            carry = v / 10;
        }
        while (carry > 0) {
            tmp[nt++] = (unsigned char)(carry % 10);
            carry /= 10;
        }
        for (size_t j = 0; j < nt; j++) /* back to most significant first */
            dig[j] = tmp[nt - 1 - j];
        nd = nt;
    }
    /* Split at 10^-x: the integer part and whether a fraction remains. */
    size_t nint = 0;
    bool frac = false;
    if (x < 0) {
        size_t drop = (size_t)(-x);
        if (drop >= nd) {
            nint = 0;
            frac = true; /* the digits are non-zero (no leading zeros kept) */
        } else {
            nint = nd - drop;
            for (size_t j = nint; j < nd; j++)
                frac |= dig[j] != 0;
        }
    } else {
        nint = nd;
    }
    /* Skip leading zeros the multiplication cannot produce, but be safe. */
    size_t start = 0;
    while (start < nint && dig[start] == 0)
        start++;
    if (nint - start > INT64_DIGITS)
        return q_fail(e, ERANGE, s, len, "out of range");
    uint64_t v = 0;
    for (size_t j = start; j < nint; j++)
        v = v * 10 + dig[j];
    if (frac)
        v++;
    if (v > (uint64_t)INT64_MAX)
        return q_fail(e, ERANGE, s, len, "out of range");
    *milli = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int quantity_parse_str(const char *s, int64_t *milli, struct err *e)
{
    return quantity_parse(s, strlen(s), milli, e);
}

int quantity_from_int(int64_t i, int64_t *milli, struct err *e)
{
    int64_t r;
    if (__builtin_mul_overflow(i, (int64_t)1000, &r))
        return errf(e, ERANGE, "invalid quantity \"%" PRId64 "\": out of range", i);
    *milli = r;
    return 0;
}

int quantity_from_real(double d, int64_t *milli, struct err *e)
{
    if (!isfinite(d))
        return errf(e, EINVAL, "invalid quantity: not a finite number");
    /* The shortest decimal form that reads back as d is what the writer meant
     * (0.1, not 0.1000000000000000055). */
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return quantity_parse(buf, strlen(buf), milli, e);
}

int64_t quantity_units_ceil(int64_t milli)
{
    int64_t q = milli / 1000, r = milli % 1000;
    if (r > 0)
        q++;
    else if (r < 0)
        q--;
    return q;
}

int64_t quantity_canonical(const char *resource, int64_t milli)
{
    if (strcmp(resource, "cpu") == 0)
        return milli;
    return quantity_units_ceil(milli);
}

int quantity_format(int64_t milli, char *buf, size_t size)
{
    if (milli % 1000 == 0)
        return snprintf(buf, size, "%" PRId64, milli / 1000);
    return snprintf(buf, size, "%" PRId64 "m", milli);
}

int quantity_format_binary(int64_t milli, char *buf, size_t size)
{
    static const char *const suffix[] = {"Ki", "Mi", "Gi", "Ti", "Pi"};
    if (milli % 1000 != 0 || milli == 0)
        return quantity_format(milli, buf, size);
    int64_t v = milli / 1000;
    int k = -1;
    while (k < 4 && v % 1024 == 0) {
        v /= 1024;
        k++;
    }
    return k < 0 ? snprintf(buf, size, "%" PRId64, v)
                 : snprintf(buf, size, "%" PRId64 "%s", v, suffix[k]);
}
