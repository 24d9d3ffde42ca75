#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum log_level log__level = LOG_LEVEL_INFO;
static bool log__timestamps;
static FILE *log__stream;

static const char *const log__names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

#define LOG__NLEVELS (sizeof log__names / sizeof log__names[0])

void log_set_level(enum log_level level)
{
    log__level = level;
}

enum log_level log_get_level(void)
{
    return log__level;
}

void log_set_timestamps(bool on)
{
    log__timestamps = on;
}

void log_set_stream(FILE *f)
{
    log__stream = f;
}

const char *log_level_name(enum log_level level)
{
    return (size_t)level < LOG__NLEVELS ? log__names[level] : "?";
}

int log_parse_level(const char *name, enum log_level *out, struct err *e)
{
    for (size_t i = 0; i < LOG__NLEVELS; i++) {
        if (strcasecmp(name, log__names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return errf(e, EINVAL, "log level \"%s\" is not one of error, warn, info, debug", name);
}

/* Appends "YYYY-MM-DDTHH:MM:SS.mmmZ " at p; returns the bytes written. */
static size_t log__timestamp(char *p, size_t room)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(p, room, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(p + n, room - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    return m > 0 && (size_t)m < room - n ? n + (size_t)m : n;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    /* The whole line is built here and written with one call: stdio locks the
     * stream per call, so concurrent lines do not interleave. */
    char line[LOG_LINE_MAX];
    const size_t room = sizeof line - 1; /* keep one byte for the newline */
    size_t n = 0;
    if (log__timestamps)
        n += log__timestamp(line, room);
    int k = snprintf(line + n, room - n, "%s: ", log_level_name(level));
    n += k > 0 ? (size_t)k : 0;

    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, room - n, fmt, ap);
    va_end(ap);
    if (k < 0) {
        /* The format itself failed (a bad wide string, say): say so rather than
         * lose the line. */
        k = snprintf(line + n, room - n, "(unformattable message: %s)", fmt);
    }
    if (k >= 0 && (size_t)k >= room - n) {
        /* Cut: vsnprintf filled up to room - 1 bytes; mark the cut. */
        n = room - 1;
        memcpy(line + n - 3, "...", 3);
    } else if (k > 0) {
        n += (size_t)k;
    }
    if (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    fwrite(line, 1, n, log__stream ? log__stream : stderr);
}
