#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errf(struct err *e, int code, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    old[sizeof old - 1] = '\0';

    /* Joined by hand rather than with snprintf("%s: %s"): the result is cut at
     * ERR_MSG_MAX-1 bytes by contract, and gcc's -Wformat-truncation (an error in
     * this build) cannot be told that the cut is deliberate. */
    const char *parts[] = {prefix, ": ", old};
    size_t room = sizeof e->msg - 1, n = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && n < room; i++) {
        size_t k = strnlen(parts[i], room - n);
        memcpy(e->msg + n, parts[i], k);
        n += k;
    }
    e->msg[n] = '\0';
    return -1;
}

void err_clear(struct err *e)
{
    if (e) {
        e->code = 0;
        e->msg[0] = '\0';
    }
}
