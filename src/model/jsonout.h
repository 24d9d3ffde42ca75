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

struct strbuf;

/* Appends s (n bytes) to sb as a JSON string, quoted and escaped as
 * jsonout_dumps writes it: for text built without a tree. 0, or -1 when s is
 * not UTF-8 (errno EILSEQ) or sb's limit is reached (E2BIG), sb unchanged. */
int jsonout_add_string(struct strbuf *sb, const char *s, size_t n);

#endif
