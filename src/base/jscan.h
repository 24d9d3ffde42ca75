/*
 * base/jscan: finding values in a JSON text without parsing it into a tree.
 *
 * For hot paths that need a few fields of a large object (a watch's field
 * selector on every event, the controllers skipping managedFields): a scan
 * touches each byte once and allocates nothing. The text is trusted to be JSON
 * (stored objects, which the server wrote); on text that is not, the functions
 * fail (return false) rather than read past n.
 */
#ifndef MUSTER_BASE_JSCAN_H
#define MUSTER_BASE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The index just past the JSON value that starts at s[i] (after whitespace),
 * or n when it does not end within n. */
size_t jscan_value_end(const char *s, size_t n, size_t i);

/* Finds member key (keylen bytes, compared with the raw bytes of the member's
 * name, so a key with escapes never matches) of the object that starts at s[obj]
 * (after whitespace). On success *ks is the index of the member's opening quote
 * and [*vs, *ve) the raw value (ve may be NULL: the value is then not scanned,
 * for a caller that only needs where it starts). */
bool jscan_member(const char *s, size_t n, size_t obj, const char *key, size_t keylen,
                  size_t *ks, size_t *vs, size_t *ve);

/* Iterates the members of the object that starts at s[obj] (after whitespace):
 * *it starts at 0 and is moved past each member; each call gives the next
 * member's key [*ks, *ke) (its raw text, quotes included) and value [*vs, *ve).
 * False at the end of the object, or where the text is not JSON. */
bool jscan_next(const char *s, size_t n, size_t obj, size_t *it, size_t *ks, size_t *ke,
                size_t *vs, size_t *ve);

/* The raw value at a path of object members from the top: [*vs, *ve). */
bool jscan_path(const char *s, size_t n, const char *const *keys, size_t nkeys, size_t *vs,
                size_t *ve);

/* Copies the string value s[vs..ve) (with its quotes) unescaped into buf
 * (NUL-terminated). False when it is not a string, or when its text (escapes
 * included) does not fit in size - 1 bytes. */
bool jscan_string(const char *s, size_t vs, size_t ve, char *buf, size_t size);

/* Unescapes the n bytes inside a JSON string (between its quotes) into out, which
 * has room for n bytes (unescaping never lengthens); *len is the result's length.
 * False on a bad escape or a lone surrogate. \u0000 gives a NUL byte. */
bool jscan_unescape(const char *s, size_t n, char *out, size_t *len);

/* Whether s[0..n) is UTF-8 as JSON text must be (no overlong forms, no
 * surrogates, nothing past U+10FFFF), as jansson checks it. */
bool jscan_utf8_valid(const char *s, size_t n);

/* The length of the UTF-8 sequence that starts at s[i] (1 for ASCII), under the
 * rules of jscan_utf8_valid; 0 when it is not valid there. */
size_t jscan_utf8_seq(const char *s, size_t n, size_t i);

/* The index of the first byte at or after i that a JSON string's reader or
 * writer must look at: a quote, a backslash, a control character (< 0x20) or a
 * byte of a non-ASCII character (>= 0x80); n when there is none. Eight bytes at
 * a time. */
size_t jscan_string_special(const char *s, size_t n, size_t i);

/* The span [*from, *to) to leave out of an object's text to drop its member
 * metadata.managedFields, with the comma that joins it to a neighbour. */
bool jscan_managed_fields(const char *s, size_t n, size_t *from, size_t *to);

#endif
