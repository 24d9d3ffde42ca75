/*
 * model/jsonin: JSON text to a jansson tree, the same tree json_loadb builds, in
 * about half its time: strings are found with memchr and taken whole when they
 * hold no escapes, numbers and literals are read in place, and nothing goes
 * through a per-character stream. Every stored object the server reads back and
 * every request body passes through it.
 *
 * Exactly json_loadb's result for flags 0 and JSON_REJECT_DUPLICATES: on any
 * text it does not accept (malformed, a NUL, an integer out of range, too deep,
 * a duplicate key when rejected...) it hands the text to json_loadb, so errors
 * and their messages are jansson's own.
 */
#ifndef MUSTER_MODEL_JSONIN_H
#define MUSTER_MODEL_JSONIN_H

#include <stddef.h>

#include <jansson.h>

json_t *jsonin_loadb(const char *s, size_t n, size_t flags, json_error_t *je);

/* s parsed as jsonin_loadb(s, n, 0, je) would, but without the metadata.managedFields
 * of the object that starts at s[obj] (0: the top; a watch event's "object"):
 * readers that never look at it (the controllers' cache, the agent) skip half of
 * a pod's bytes. Text without that member is parsed as it is. */
json_t *jsonin_loadb_slim(const char *s, size_t n, size_t obj, json_error_t *je);

#endif
