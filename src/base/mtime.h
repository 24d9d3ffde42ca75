/*
 * mtime: clocks and durations, in int64 nanoseconds.
 *
 * Named mtime rather than time so that "time.h" never shadows <time.h>.
 *
 * One unit everywhere: a time or a duration is an int64_t count of nanoseconds,
 * which covers +-292 years and subtracts without surprises. The engine itself
 * has no clock (it is given `now`); these clocks are for the edges: the live
 * controller loop, timeouts, log timestamps and benchmarks.
 *
 * Durations are written the way Go and Kubernetes write them: one or more
 * <number><unit> terms, such as "30s", "1m30s", "500ms", "1.5h", "2h45m", with
 * units ns, us (or µs), ms, s, m, h. "0" alone is also accepted. Negative
 * durations, spaces and numbers without a unit are rejected with an error that
 * quotes the input and says what was expected.
 *
 * No state; every function is thread-safe.
 */
#ifndef MUSTER_BASE_MTIME_H
#define MUSTER_BASE_MTIME_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MTIME_NS   ((int64_t)1)
#define MTIME_US   ((int64_t)1000)
#define MTIME_MS   ((int64_t)1000 * 1000)
#define MTIME_S    ((int64_t)1000 * 1000 * 1000)
#define MTIME_MIN  (60 * MTIME_S)
#define MTIME_HOUR (60 * MTIME_MIN)

/* A buffer this large always holds mtime_format_duration's output. */
#define MTIME_DURATION_BUFSZ 40

/* Nanoseconds on a monotonic clock (CLOCK_MONOTONIC) with an arbitrary origin:
 * for measuring intervals, never for dates. */
int64_t mtime_now_ns(void);

/* Nanoseconds since the Unix epoch (CLOCK_REALTIME), which can jump when the
 * system clock is set: for timestamps shown to people and stored in objects. */
int64_t mtime_wall_ns(void);

/* Writes the wall-clock time wall_ns (from mtime_wall_ns) as RFC 3339 in UTC
 * with whole seconds, "2026-11-24T02:05:36Z", as Kubernetes writes metav1.Time.
 * Returns snprintf's count. */
int mtime_format_rfc3339(int64_t wall_ns, char *buf, size_t size);

/* Parses the NUL-terminated duration s into *ns. Returns 0, or -1 with e filled
 * (EINVAL for bad syntax, ERANGE past about 292 years) and *ns unchanged. */
int mtime_parse_duration(const char *s, int64_t *ns, struct err *e);

/* Days from 1970-01-01 to year y, month m (1-12), day d in the proleptic
 * Gregorian calendar, without the C library's time zone (Howard Hinnant's
 * days_from_civil). Callers validate the ranges. */
int64_t mtime_days_from_civil(int64_t y, int m, int d);

/* The same for the len bytes at s, which need not be NUL-terminated. */
int mtime_parse_duration_n(const char *s, size_t len, int64_t *ns, struct err *e);

/* Writes ns as a duration that mtime_parse_duration reads back exactly, using
 * each non-zero unit from h down to ns: "1h30m", "1m30s", "1s500ms", "0s".
 * A negative value gets a leading '-'. Writes at most size bytes including the
 * NUL, like snprintf, and returns the length the full text has. */
int mtime_format_duration(int64_t ns, char *buf, size_t size);

#endif
