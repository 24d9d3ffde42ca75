/*
 * api/protobuf: request bodies in Kubernetes' protobuf encoding, decoded into
 * the JSON tree the JSON path would have parsed.
 *
 * kubectl's typed commands (`create namespace`, `create job`, `create
 * priorityclass`, `debug`, `drain`) send `Content-Type:
 * application/vnd.kubernetes.protobuf`. Such a body is the 4-byte magic "k8s\0"
 * followed by a runtime.Unknown message:
 *
 *     1 typeMeta        { 1 apiVersion, 2 kind }
 *     2 raw             the object's own message (Pod, Job, ...), without its
 *                       apiVersion and kind
 *     3 contentEncoding "" (anything else is refused)
 *     4 contentType     "" or the protobuf media type
 *
 * protobuf_decode() walks raw with one table per message (protobuf_schema.c:
 * field number -> JSON name, type, nested message), written from Kubernetes'
 * generated.proto files, and builds the object Go's encoding/json would print
 * for the same Go struct, so everything after the body parse (identity checks,
 * validation, storage) is the JSON path's:
 *
 *   - Go serialises every non-pointer field, zero or not; JSON omits the zero
 *     ones (`omitempty`). A Go pointer is on the wire only when set, so its
 *     zero value is kept (`suspend: false`, `backoffLimit: 0`), and so is a
 *     field without omitempty (`value: 0` of a PriorityClass): both are marked
 *     PROTOBUF_F_KEEP. Other scalar fields are dropped when zero.
 *   - Nested messages always become objects (Go never omits a struct:
 *     `"resources": {}`, `"status": {}`); an inline (embedded) message such as
 *     the LocalObjectReference of a ConfigMapKeySelector adds its fields to
 *     its parent's object.
 *   - meta.v1.Time is RFC 3339 at whole seconds, or null when empty;
 *     resource.Quantity is its string; intstr.IntOrString an integer or a
 *     string; map<string, V> an object; FieldsV1 its raw JSON.
 *   - A field that occurs twice: a scalar's last value wins, a message's
 *     occurrences merge, repeated fields append (protobuf's rules).
 *
 * Field numbers the tables do not know are handled by the unknown policy,
 * which the caller takes from `fieldValidation`: Strict rejects (422, naming
 * the field number, the message and the path), Warn drops and reports the
 * first in *warning, Ignore drops silently.
 *
 * Limits: the body is at most API_BODY_MAX bytes (the HTTP layer's cap), every
 * length is checked against what is left of its enclosing message, varints are
 * at most 10 bytes, and message nesting is at most PROTOBUF_MAX_DEPTH (the
 * tables are acyclic, so only they bound it; unknown fields are skipped, never
 * descended into).
 *
 * No state; every function is thread-safe.
 */
#ifndef MUSTER_API_PROTOBUF_H
#define MUSTER_API_PROTOBUF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The media type, without parameters. */
#define PROTOBUF_MEDIA_TYPE "application/vnd.kubernetes.protobuf"

#define PROTOBUF_MAX_DEPTH 32

/* What to do with a field number a message's table does not have. */
enum protobuf_unknown {
    PROTOBUF_UNKNOWN_REJECT, /* fail with EDOM (422) */
    PROTOBUF_UNKNOWN_WARN,   /* drop it; describe the first in *warning */
    PROTOBUF_UNKNOWN_DROP,   /* drop it */
};

/* Whether a Content-Type header value names the protobuf media type (case is
 * ignored, parameters after ';' too). NULL is not. */
bool protobuf_is_media_type(const char *content_type);

/* Whether bodies of this kind ("Pod", "DeleteOptions") can be decoded. */
bool protobuf_kind_supported(const char *kind);

/* Decodes the protobuf body at body (len bytes) of a request whose path takes
 * objects of kind `kind` ("Pod"; "DeleteOptions" for a DELETE, "Binding" for
 * pods/binding). Returns a new JSON object (apiVersion and kind from the
 * envelope, when it names them, then the fields) that the caller
 * json_decref()s, or NULL with e filled:
 *   EPROTO  (415) kind has no tables, or the envelope names a content encoding
 *                 or a content type other than protobuf;
 *   EINVAL  (400) the body is malformed (magic, varint, wire type, length,
 *                 UTF-8, time range, nesting), or the envelope names a kind
 *                 other than `kind`;
 *   EDOM    (422) an unknown field number under PROTOBUF_UNKNOWN_REJECT; the
 *                 message starts with the JSON path of the enclosing object.
 * The codes are those of api_int.h's API_EMEDIA, API_EBADREQ and API_EINVALID.
 * Under PROTOBUF_UNKNOWN_WARN, warning (warning_size bytes, may be NULL) gets a
 * one-line description of the first unknown field, or "" when there was none. */
json_t *protobuf_decode(const void *body, size_t len, const char *kind,
                        enum protobuf_unknown unknown, char *warning, size_t warning_size,
                        struct err *e);

/* ---- the message tables (protobuf_schema.c) ------------------------------ */

/* How a field's value becomes JSON. */
enum protobuf_type {
    PROTOBUF_STRING,   /* string */
    PROTOBUF_BOOL,     /* bool (varint) */
    PROTOBUF_INT32,    /* int32 (varint; a negative one is 10 bytes) */
    PROTOBUF_INT64,    /* int64 (varint) */
    PROTOBUF_MESSAGE,  /* a nested message -> an object */
    PROTOBUF_INLINE,   /* a nested message whose fields join the parent object */
    PROTOBUF_MAP,      /* map<string, string> -> an object */
    PROTOBUF_QMAP,     /* map<string, resource.Quantity> -> an object of strings */
    PROTOBUF_QUANTITY, /* resource.Quantity { 1 string } -> its string */
    PROTOBUF_TIME,     /* meta.v1.Time { 1 seconds, 2 nanos } -> RFC 3339 or null */
    PROTOBUF_INTSTR,   /* intstr.IntOrString { 1 type, 2 intVal, 3 strVal } */
    PROTOBUF_FIELDSV1, /* meta.v1.FieldsV1 { 1 Raw } -> the JSON in Raw */
};

/* Field flags: repeated (a JSON array); keep (a zero value is kept: a Go
 * pointer, or a field without omitempty). */
#define PROTOBUF_F_REPEATED 1u
#define PROTOBUF_F_KEEP     2u

struct protobuf_msg;

struct protobuf_field {
    uint32_t num;
    uint8_t type;                   /* enum protobuf_type */
    uint8_t flags;                  /* PROTOBUF_F_* */
    const char *json;               /* the JSON name; NULL for PROTOBUF_INLINE */
    const struct protobuf_msg *msg; /* PROTOBUF_MESSAGE and PROTOBUF_INLINE */
};

struct protobuf_msg {
    const char *name; /* the full protobuf name: "k8s.io.api.core.v1.Pod" */
    const struct protobuf_field *fields;
    size_t n_fields;
};

/* The top-level message of a kind ("Pod"), or NULL. */
const struct protobuf_msg *protobuf_schema_find(const char *kind);

/* Top-level kinds, for iteration: protobuf_schema_kind(i) for i < protobuf_schema_len(). */
size_t protobuf_schema_len(void);
const char *protobuf_schema_kind(size_t i);

#endif
