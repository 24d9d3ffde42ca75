/*
 * model/jsonout: compact JSON text of a jansson tree, byte for byte what
 * json_dumps(v, JSON_COMPACT) writes, in a fraction of its time: runs of plain
 * bytes are copied whole, numbers and literals written directly, and one
 * buffer grows for the whole text. Every stored object is encoded through it.
 */
#ifndef MUSTER_MODEL_JSONOUT_H
#define MUSTER_MODEL_JSONOUT_H

#include <stddef.h>

#include <jansson.h>

/* The text of v (any JSON value), malloc'd and NUL-terminated, its length in
 * *len (when len is not NULL); NULL when v holds what JSON cannot (a string
 * that is not UTF-8, a NaN), as json_dumps. */
char *jsonout_dumps(const json_t *v, size_t *len);

#endif
