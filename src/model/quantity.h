/*
 * quantity: Kubernetes resource quantities ("500m", "40Gi", "1e3") as exact
 * integers.
 *
 * A quantity is held as an int64_t count of thousandths of a unit ("milli"),
 * which is the finest precision the scheduler needs: "500m" is 500, "2" is
 * 2000, "1Ki" is 1024000. A value with a finer fraction ("0.1m", "100u") is
 * rounded away from zero to the next milli, as Kubernetes' MilliValue() does.
 * Anything past INT64_MAX milli (about 9.2e15 whole units, so "8Ei" and up) is
 * an error rather than a silent wrap.
 *
 * Syntax, as Kubernetes accepts it: an optional sign, digits with at most one
 * '.', then one suffix: none; a decimal SI suffix n u m k M G T P E; a binary
 * suffix Ki Mi Gi Ti Pi Ei; or an exponent e<int> / E<int>. No spaces. Inputs
 * longer than QUANTITY_MAX_LEN bytes are refused.
 *
 * The scheduler compares resources the way Kueue does: "cpu" in milli units,
 * every other resource in whole units rounded up. quantity_canonical() applies
 * that rule.
 *
 * No state; every function is thread-safe.
 */
#ifndef MUSTER_MODEL_QUANTITY_H
#define MUSTER_MODEL_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The longest quantity text accepted, in bytes. */
#define QUANTITY_MAX_LEN 64

/* A buffer this large always holds quantity_format's output. */
#define QUANTITY_BUFSZ 32

/* Parses the len bytes at s (not necessarily NUL-terminated) into *milli.
 * Returns 0, or -1 with e filled (EINVAL bad syntax, ERANGE out of range) and
 * *milli unchanged. The message reads `invalid quantity "12x": unknown suffix
 * "x"`, so callers prefix only the object and the field path. */
int quantity_parse(const char *s, size_t len, int64_t *milli, struct err *e);

/* The same for a NUL-terminated string. */
int quantity_parse_str(const char *s, int64_t *milli, struct err *e);

/* Parses a JSON number's value the way Kubernetes reads a number where a
 * quantity is expected (int-or-string): an integer i is i units; a real is
 * read back from its shortest decimal form, so 0.1 is exactly 100m. Errors as
 * quantity_parse, with the number shown in the message. */
int quantity_from_int(int64_t i, int64_t *milli, struct err *e);
int quantity_from_real(double d, int64_t *milli, struct err *e);

/* The value the scheduler compares for resource `resource`: milli itself for
 * "cpu"; for every other resource, whole units, rounded away from zero. */
int64_t quantity_canonical(const char *resource, int64_t milli);

/* Whole units of milli rounded away from zero ("1500m" -> 2). */
int64_t quantity_units_ceil(int64_t milli);

/* Writes milli as a quantity that quantity_parse reads back exactly: whole
 * units when divisible by 1000 ("2"), otherwise milli units ("1500m").
 * snprintf semantics; returns the length of the full text. */
int quantity_format(int64_t milli, char *buf, size_t size);

/* Like quantity_format, but a whole number of bytes with the largest binary
 * suffix that divides it exactly ("256Gi", "600Mi", "1536"), for memory. */
int quantity_format_binary(int64_t milli, char *buf, size_t size);

#endif
