/*
 * model/jsonout: compact JSON text of a jansson tree, byte for byte what
 * json_dumps(v, JSON_COMPACT) writes, in a fraction of its time: runs of plain
 * bytes are copied whole, numbers and literals written directly, and one
 * buffer grows for the whole text. Every stored object is encoded through it.
 */
#ifndef MUSTER_MODEL_JSONOUT_H
#define MUSTER_MODEL_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The text of v (any JSON value), malloc'd and NUL-terminated, its length in
 * *len (when len is not NULL); NULL when v holds what JSON cannot (a string
 * that is not UTF-8, a NaN), as json_dumps. */
char *jsonout_dumps(const json_t *v, size_t *len);

/* A text put together from pieces (parts of trees in an order of one's own,
 * text around them) with jsonout_dumps' encoding. Start from a zeroed struct;
 * jsonout_finish hands over the text. */
struct jsonout {
    char *buf;
    size_t len, cap;
    bool borrowed; /* internal: buf is not the writer's to realloc or free */
    bool failed;   /* a value could not be encoded: jsonout_finish gives NULL */
};

/* Appends n bytes of text as they are (the caller keeps it valid JSON). */
void jsonout_raw(struct jsonout *o, const char *s, size_t n);
/* Appends v's compact text. */
void jsonout_value(struct jsonout *o, const json_t *v);
/* Appends k as a JSON string and a colon. */
void jsonout_key(struct jsonout *o, const char *k);
/* The text (malloc'd, NUL-terminated; its length in *len), or NULL (nothing
 * to free) when a value or key could not be encoded. */
char *jsonout_finish(struct jsonout *o, size_t *len);

struct strbuf;

/* Appends s (n bytes) to sb as a JSON string, quoted and escaped as
 * jsonout_dumps writes it: for text built without a tree. 0, or -1 when s is
 * not UTF-8 (errno EILSEQ) or sb's limit is reached (E2BIG), sb unchanged. */
int jsonout_add_string(struct strbuf *sb, const char *s, size_t n);

#endif
