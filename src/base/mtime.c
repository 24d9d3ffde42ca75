#include "base/mtime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mtime__clock(clockid_t id)
{
    struct timespec ts;
    /* Cannot fail for these clock ids on Linux; a failure would mean a broken
     * libc, which is not worth an error path in every caller. */
    if (clock_gettime(id, &ts) != 0)
        abort();
    return (int64_t)ts.tv_sec * MTIME_S + ts.tv_nsec;
}

int64_t mtime_now_ns(void)
{
    return mtime__clock(CLOCK_MONOTONIC);
}

int64_t mtime_wall_ns(void)
{
    return mtime__clock(CLOCK_REALTIME);
}

struct mtime__unit {
    const char *name;
    int64_t ns;
};

/* A unit is the whole run of non-digit bytes after a number, compared exactly
 * against these names, so "ms" never matches as "m" followed by junk. The table
 * is kept one unit per line, out of clang-format's reach. */
/* clang-format off */
static const struct mtime__unit mtime__units[] = {
    { "h", MTIME_HOUR },
    { "m", MTIME_MIN },
    { "s", MTIME_S },
    { "ms", MTIME_MS },
    { "us", MTIME_US },
    { "\xc2\xb5s", MTIME_US }, /* U+00B5 MICRO SIGN */
    { "\xce\xbcs", MTIME_US }, /* U+03BC GREEK SMALL LETTER MU */
    { "ns", MTIME_NS },
};
/* clang-format on */

#define MTIME__UNITS_HELP "units are ns, us, ms, s, m, h"

static bool mtime__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A unit is the run of bytes after a number up to the next digit or '.', which
 * covers the two-byte UTF-8 micro signs. */
static bool mtime__is_unit_byte(char c)
{
    return !mtime__is_digit(c) && c != '.';
}

int mtime_parse_duration(const char *s, int64_t *ns, struct err *e)
{
    return mtime_parse_duration_n(s, strlen(s), ns, e);
}

int mtime_parse_duration_n(const char *s, size_t len, int64_t *ns, struct err *e)
{
    /* Error messages quote the input; %.*s with an int, and at most 64 bytes so
     * the reason still fits in the message. */
    int qlen = len > 64 ? 64 : (int)len;
    const char *more = len > 64 ? "..." : "";
    if (len == 0)
        return errf(e, EINVAL,
                    "empty duration: expected a number and a unit such as 30s, 1m30s or 500ms");
    if (len == 1 && s[0] == '0') {
        *ns = 0;
        return 0;
    }
    if (s[0] == '-')
        return errf(e, EINVAL, "duration \"%.*s%s\" is negative", qlen, s, more);

    int64_t total = 0;
    size_t i = 0;
    while (i < len) {
        /* The number: digits, optionally a '.' and more digits. */
        size_t start = i;
        uint64_t whole = 0;
        bool whole_overflow = false;
        while (i < len && mtime__is_digit(s[i])) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (whole > (UINT64_MAX - d) / 10)
                whole_overflow = true;
            else
                whole = whole * 10 + d;
            i++;
        }
        size_t ndigits = i - start;
        uint64_t frac = 0, scale = 1;
        if (i < len && s[i] == '.') {
            i++;
            size_t fstart = i;
            while (i < len && mtime__is_digit(s[i])) {
                /* Beyond 19 decimals even an hour's fraction is far below a
                 * nanosecond, so further digits are read and ignored. */
                if (scale <= UINT64_MAX / 10) {
                    frac = frac * 10 + (uint64_t)(s[i] - '0');
                    scale *= 10;
                }
                i++;
            }
            ndigits += i - fstart;
        }
        if (ndigits == 0)
            return errf(e, EINVAL, "duration \"%.*s%s\": expected a number at \"%.*s\"", qlen, s,
                        more, (int)(len - start > 16 ? 16 : len - start), s + start);

        /* The unit. */
        size_t ustart = i;
        while (i < len && mtime__is_unit_byte(s[i]))
            i++;
        size_t ulen = i - ustart;
        if (ulen == 0)
            return errf(e, EINVAL, "duration \"%.*s%s\": missing unit after \"%.*s\" (%s)", qlen, s,
                        more, (int)(i - start > 32 ? 32 : i - start), s + start, MTIME__UNITS_HELP);
        int64_t unit = 0;
        for (size_t u = 0; u < sizeof mtime__units / sizeof mtime__units[0]; u++) {
            if (strlen(mtime__units[u].name) == ulen &&
                memcmp(mtime__units[u].name, s + ustart, ulen) == 0) {
                unit = mtime__units[u].ns;
                break;
            }
        }
        if (unit == 0)
            return errf(e, EINVAL, "duration \"%.*s%s\": unknown unit \"%.*s\" (%s)", qlen, s, more,
                        (int)(ulen > 16 ? 16 : ulen), s + ustart, MTIME__UNITS_HELP);

        /* term = whole * unit + frac * unit / scale, all checked for overflow.
         * The fraction is exact (128-bit), truncated to whole nanoseconds. */
        int64_t term;
        if (whole_overflow || whole > (uint64_t)INT64_MAX ||
            __builtin_mul_overflow((int64_t)whole, unit, &term))
            goto too_big;
        int64_t part = (int64_t)((unsigned __int128)frac * (uint64_t)unit / scale);
        if (__builtin_add_overflow(term, part, &term) ||
            __builtin_add_overflow(total, term, &total))
            goto too_big;
    }
    *ns = total;
    return 0;

too_big:
    return errf(e, ERANGE, "duration \"%.*s%s\" is too long (the most is about 292 years)", qlen, s,
                more);
}

int mtime_format_duration(int64_t ns, char *buf, size_t size)
{
    static const struct mtime__unit order[] = {
        {"h", MTIME_HOUR}, {"m", MTIME_MIN}, {"s", MTIME_S},
        {"ms", MTIME_MS},  {"us", MTIME_US}, {"ns", MTIME_NS},
    };
    char tmp[MTIME_DURATION_BUFSZ];
    size_t n = 0;
    /* Work on the magnitude as unsigned so that INT64_MIN has one too. */
    uint64_t left = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
    if (ns < 0)
        tmp[n++] = '-';
    if (left == 0) {
        memcpy(tmp + n, "0s", 2);
        n += 2;
    }
    for (size_t u = 0; u < sizeof order / sizeof order[0] && left; u++) {
        uint64_t q = left / (uint64_t)order[u].ns;
        if (q == 0)
            continue;
        left -= q * (uint64_t)order[u].ns;
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%llu%s", (unsigned long long)q,
                              order[u].name);
    }
    tmp[n] = '\0';
    return snprintf(buf, size, "%s", tmp);
}

int64_t mtime_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int mtime_format_rfc3339(int64_t wall_ns, char *buf, size_t size)
{
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
