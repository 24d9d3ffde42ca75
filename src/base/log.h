/*
 * log: leveled diagnostic messages for people, written to stderr.
 *
 * Four levels, from most to least severe: error, warn, info, debug. A message is
 * written when its level is at or above the severity set with log_set_level
 * (info by default). The check is made in the macro, before the arguments are
 * evaluated, so a disabled log_debug costs one comparison.
 *
 * Each message becomes one line, "[timestamp] level: message", written with a
 * single fwrite so that lines from different threads do not interleave
 * mid-line. Messages longer than LOG_LINE_MAX are cut and end in "...". A
 * trailing newline in the format is optional. Timestamps (UTC, RFC 3339 with
 * milliseconds) are off by default and turned on with log_set_timestamps.
 *
 * The enum values are LOG_LEVEL_* rather than LOG_* because <syslog.h> defines
 * LOG_INFO and LOG_DEBUG as macros.
 *
 * State: the level, the timestamp flag and the stream are process globals. Set
 * them at start-up, before other threads run; logging itself is thread-safe as
 * far as stdio is.
 */
#ifndef MUSTER_BASE_LOG_H
#define MUSTER_BASE_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

/* The longest line written, newline included; longer messages are cut. */
#define LOG_LINE_MAX 4096

#define log_error(...) log__at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log__at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log__at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log__at(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define log__at(lvl, ...)                                                                          \
    do {                                                                                           \
        if (log_enabled(lvl))                                                                      \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)

/* Only messages at or above this severity are written. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Internal: the current level, read inline by log_enabled. */
extern enum log_level log__level;

/* Whether a message at level would be written. */
static inline bool log_enabled(enum log_level level)
{
    return level <= log__level;
}

/* Turns the timestamp prefix on or off. */
void log_set_timestamps(bool on);

/* Sends log lines to f instead of stderr (NULL restores stderr). For tests. */
void log_set_stream(FILE *f);

/* Parses "error", "warn", "info" or "debug" (any letter case) into *out.
 * Returns 0, or -1 with e filled (EINVAL) naming the bad value and the choices. */
int log_parse_level(const char *name, enum log_level *out, struct err *e);

/* The lower-case name of a level. */
const char *log_level_name(enum log_level level);

/* Writes one message at level, whatever the current level; the macros above
 * are the usual way in. */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
