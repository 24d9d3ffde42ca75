/*
 * api/protobuf: the protobuf wire decoder behind protobuf_decode() (see
 * protobuf.h for the mapping to JSON and protobuf_schema.c for the tables).
 *
 * The wire format, as far as it matters here: a message is a sequence of
 * fields, each a varint key (field number << 3 | wire type) and a value:
 * wire type 0 a varint, 1 eight bytes, 2 a varint length and that many bytes
 * (strings, bytes, nested messages, map entries, packed repeated scalars),
 * 5 four bytes. Groups (3, 4) are obsolete and refused, as are 6 and 7.
 * Nothing here trusts a length: each is checked against the bytes left in its
 * enclosing message before it is used.
 *
 * Well-known messages (Quantity, Time, IntOrString, FieldsV1, map entries,
 * the envelope's TypeMeta) are decoded through small tables of their own into
 * a scratch object, then turned into their JSON value, so wire-type checks,
 * unknown fields and error messages work the same everywhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_int.h"
#include "api/protobuf.h"

/* The error codes protobuf.h promises are the request layer's. */
_Static_assert(EINVAL == API_EBADREQ, "protobuf 400");
_Static_assert(EPROTO == API_EMEDIA, "protobuf 415");
_Static_assert(EDOM == API_EINVALID, "protobuf 422");
_Static_assert(sizeof(time_t) >= 8, "Time needs a 64-bit time_t");

static const char MAGIC[4] = {'k', '8', 's', 0};

#define QUANTITY_NAME "k8s.io.apimachinery.pkg.api.resource.Quantity"

/* ---- the well-known messages --------------------------------------------- */

static const struct protobuf_field quantity_f[] = {
    {1, PROTOBUF_STRING, PROTOBUF_F_KEEP, "string", NULL}};
static const struct protobuf_msg quantity = {QUANTITY_NAME, quantity_f, 1};

static const struct protobuf_field time_f[] = {
    {1, PROTOBUF_INT64, PROTOBUF_F_KEEP, "seconds", NULL},
    {2, PROTOBUF_INT32, PROTOBUF_F_KEEP, "nanos", NULL},
};
static const struct protobuf_msg time_msg = {"k8s.io.apimachinery.pkg.apis.meta.v1.Time", time_f,
                                             2};

static const struct protobuf_field intstr_f[] = {
    {1, PROTOBUF_INT64, PROTOBUF_F_KEEP, "type", NULL},
    {2, PROTOBUF_INT32, PROTOBUF_F_KEEP, "intVal", NULL},
    {3, PROTOBUF_STRING, PROTOBUF_F_KEEP, "strVal", NULL},
};
static const struct protobuf_msg intstr = {"k8s.io.apimachinery.pkg.util.intstr.IntOrString",
                                           intstr_f, 3};

/* Raw holds JSON text, so it is read as a (UTF-8 checked) string. */
static const struct protobuf_field fieldsv1_f[] = {
    {1, PROTOBUF_STRING, PROTOBUF_F_KEEP, "Raw", NULL}};
static const struct protobuf_msg fieldsv1 = {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
                                             fieldsv1_f, 1};

static const struct protobuf_field map_entry_f[] = {
    {1, PROTOBUF_STRING, PROTOBUF_F_KEEP, "key", NULL},
    {2, PROTOBUF_STRING, PROTOBUF_F_KEEP, "value", NULL},
};
static const struct protobuf_msg map_entry = {"map<string, string> entry", map_entry_f, 2};

static const struct protobuf_field qmap_entry_f[] = {
    {1, PROTOBUF_STRING, PROTOBUF_F_KEEP, "key", NULL},
    {2, PROTOBUF_QUANTITY, PROTOBUF_F_KEEP, "value", NULL},
};
static const struct protobuf_msg qmap_entry = {"map<string, Quantity> entry", qmap_entry_f, 2};

static const struct protobuf_field type_meta_f[] = {
    {1, PROTOBUF_STRING, PROTOBUF_F_KEEP, "apiVersion", NULL},
    {2, PROTOBUF_STRING, PROTOBUF_F_KEEP, "kind", NULL},
};
static const struct protobuf_msg type_meta = {"k8s.io.apimachinery.pkg.runtime.TypeMeta",
                                              type_meta_f, 2};

#define UNKNOWN_NAME "k8s.io.apimachinery.pkg.runtime.Unknown"

/* ---- decoder state and errors -------------------------------------------- */

struct dec {
    enum protobuf_unknown unknown;
    char *warning;
    size_t warning_size;
    struct err *e;
    char path[256]; /* JSON path of the object being filled ("" at the top) */
    size_t path_len;
};

/* One field off the wire. */
struct wire {
    uint32_t num;
    unsigned wt;
    uint64_t v;          /* wire types 0, 1, 5 */
    const uint8_t *data; /* wire type 2 */
    size_t len;
};

static const char *const wt_names[8] = {"varint",    "64-bit", "length-delimited", "start-group",
                                        "end-group", "32-bit", "6 (invalid)",      "7 (invalid)"};

/* A malformed body: 400 naming the message, the field (0: none) and where. */
__attribute__((format(printf, 4, 5))) static int fail(struct dec *d, const struct protobuf_msg *m,
                                                      uint32_t num, const char *fmt, ...)
{
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    char field[24] = "";
    if (num)
        snprintf(field, sizeof field, " field %u", num);
    return errf(d->e, EINVAL, "protobuf body: %s%s%s%s: %s", m->name, field,
                d->path_len ? " at " : "", d->path, reason);
}

static size_t path_push(struct dec *d, const char *name, size_t index, bool is_index)
{
    size_t saved = d->path_len, room = sizeof d->path - d->path_len;
    int n = is_index ? snprintf(d->path + d->path_len, room, "[%zu]", index)
                     : snprintf(d->path + d->path_len, room, "%s%s", d->path_len ? "." : "", name);
    if (n > 0)
        d->path_len += (size_t)n < room ? (size_t)n : room - 1;
    return saved;
}

static void path_pop(struct dec *d, size_t saved)
{
    d->path_len = saved;
    d->path[saved] = 0;
}

/* A field number m has no row for: the unknown policy. */
static int unknown_field(struct dec *d, const struct protobuf_msg *m, uint32_t num)
{
    if (d->unknown == PROTOBUF_UNKNOWN_REJECT) {
        /* "path: reason" so that the Status names the field (api__fail). */
        if (d->path_len)
            return errf(d->e, EDOM, "%s: unknown field number %u in protobuf message %s", d->path,
                        num, m->name);
        return errf(d->e, EDOM, "unknown field number %u in protobuf message %s", num, m->name);
    }
    if (d->unknown == PROTOBUF_UNKNOWN_WARN && d->warning && d->warning_size && !d->warning[0])
        snprintf(d->warning, d->warning_size, "unknown field number %u in %s%s%s dropped", num,
                 m->name, d->path_len ? " at " : "", d->path);
    return 0;
}

/* ---- the wire ------------------------------------------------------------ */

/* Reads a varint; 0, or -1 truncated, -2 longer than 64 bits. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*p == end)
            return -1;
        uint8_t b = *(*p)++;
        if (i == 9 && b > 1)
            return -2;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -2;
}

static int varint_fail(struct dec *d, const struct protobuf_msg *m, uint32_t num, int rc,
                       const char *what)
{
    return fail(d, m, num, rc == -1 ? "truncated varint (%s)" : "varint longer than 10 bytes (%s)",
                what);
}

/* Reads the next field of m from *p (< end). 1: *w is filled; 0: the end; -1. */
static int next_field(struct dec *d, const struct protobuf_msg *m, const uint8_t **p,
                      const uint8_t *end, struct wire *w)
{
    if (*p == end)
        return 0;
    uint64_t key;
    int rc = read_varint(p, end, &key);
    if (rc < 0)
        return varint_fail(d, m, 0, rc, "field key");
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
        return fail(d, m, 0, "invalid field number %llu", (unsigned long long)(key >> 3));
    w->num = (uint32_t)(key >> 3);
    w->wt = (unsigned)(key & 7);
    size_t left;
    switch (w->wt) {
    case 0:
        if ((rc = read_varint(p, end, &w->v)) < 0)
            return varint_fail(d, m, w->num, rc, "value");
        return 1;
    case 1:
    case 5: {
        size_t n = w->wt == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return fail(d, m, w->num, "truncated %s value", wt_names[w->wt]);
        w->v = 0;
        for (size_t i = 0; i < n; i++)
            w->v |= (uint64_t)(*p)[i] << (8 * i);
        *p += n;
        return 1;
    }
    case 2: {
        uint64_t len;
        if ((rc = read_varint(p, end, &len)) < 0)
            return varint_fail(d, m, w->num, rc, "length");
        left = (size_t)(end - *p);
        if (len > left)
            return fail(d, m, w->num, "length %llu past the end of the message (%zu bytes left)",
                        (unsigned long long)len, left);
        w->data = *p;
        w->len = (size_t)len;
        *p += len;
        return 1;
    }
    default:
        return fail(d, m, w->num, "wire type %s is not supported", wt_names[w->wt]);
    }
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
 * without NUL, as the JSON path accepts in strings. */
static bool text_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (!len || c > 0xf4 || n - i < len)
            return false;
        uint32_t cp = c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += len;
    }
    return true;
}

/* ---- messages ------------------------------------------------------------ */

static int decode_msg(struct dec *d, const struct protobuf_msg *m, const uint8_t *data, size_t len,
                      json_t *obj, int depth);

static const struct protobuf_field *find_field(const struct protobuf_msg *m, uint32_t num)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (m->fields[i].num == num)
            return &m->fields[i];
    return NULL;
}

/* Stores v (stolen) as f's value in obj: appended when repeated, dropped when
 * zero and f does not keep zeros, else set (the last occurrence wins). */
static void put(json_t *obj, const struct protobuf_field *f, json_t *v, bool zero)
{
    if (f->flags & PROTOBUF_F_REPEATED) {
        json_t *a = json_object_get(obj, f->json);
        if (!json_is_array(a)) {
            a = json_array();
            json_object_set_new(obj, f->json, a);
        }
        json_array_append_new(a, v);
    } else if (zero && !(f->flags & PROTOBUF_F_KEEP)) {
        json_object_del(obj, f->json);
        json_decref(v);
    } else {
        json_object_set_new(obj, f->json, v);
    }
}

/* Decodes the well-known message m at w into a new scratch object, or NULL. */
static json_t *scratch(struct dec *d, const struct protobuf_msg *m, const struct wire *w, int depth)
{
    json_t *o = json_object();
    if (decode_msg(d, m, w->data, w->len, o, depth + 1) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *quantity_value(struct dec *d, const struct wire *w, int depth)
{
    json_t *o = scratch(d, &quantity, w, depth);
    if (!o)
        return NULL;
    json_t *s = json_object_get(o, "string");
    /* A zero Quantity prints as "0". */
    json_t *v = json_string_length(s) ? json_incref(s) : json_string("0");
    json_decref(o);
    return v;
}

/* RFC 3339 at whole seconds, as metav1.Time prints (it drops the nanoseconds
 * when read from protobuf too); an empty message is the zero Time, null. */
static json_t *time_value(struct dec *d, const struct protobuf_field *f, const struct wire *w,
                          int depth)
{
    if (!w->len)
        return json_null();
    json_t *o = scratch(d, &time_msg, w, depth);
    if (!o)
        return NULL;
    int64_t s = json_integer_value(json_object_get(o, "seconds"));
    json_decref(o);
    /* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
    if (s < -62135596800LL || s > 253402300799LL) {
        fail(d, &time_msg, 1, "%s: %lld seconds is outside the years 1 to 9999", f->json,
             (long long)s);
        return NULL;
    }
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[80];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return json_string(buf);
}

static json_t *intstr_value(struct dec *d, const struct wire *w, int depth)
{
    json_t *o = scratch(d, &intstr, w, depth);
    if (!o)
        return NULL;
    json_int_t type = json_integer_value(json_object_get(o, "type"));
    json_t *v = NULL;
    if (type == 0) {
        v = json_integer(json_integer_value(json_object_get(o, "intVal")));
    } else if (type == 1) {
        json_t *s = json_object_get(o, "strVal");
        v = s ? json_incref(s) : json_string("");
    } else {
        fail(d, &intstr, 1, "type %lld is neither 0 (int) nor 1 (string)", (long long)type);
    }
    json_decref(o);
    return v;
}

static json_t *fieldsv1_value(struct dec *d, const struct wire *w, int depth)
{
    json_t *o = scratch(d, &fieldsv1, w, depth);
    if (!o)
        return NULL;
    const char *raw = json_string_value(json_object_get(o, "Raw"));
    size_t n = json_string_length(json_object_get(o, "Raw"));
    json_t *v = n ? json_loadb(raw, n, JSON_REJECT_DUPLICATES, NULL) : json_null();
    json_decref(o);
    if (!v)
        fail(d, &fieldsv1, 1, "Raw is not JSON");
    return v;
}

/* One map entry into the object at f->json. */
static int map_entry_into(struct dec *d, const struct protobuf_field *f, const struct wire *w,
                          json_t *obj, int depth)
{
    const struct protobuf_msg *em = f->type == PROTOBUF_QMAP ? &qmap_entry : &map_entry;
    json_t *o = scratch(d, em, w, depth);
    if (!o)
        return -1;
    json_t *k = json_object_get(o, "key"), *v = json_object_get(o, "value");
    json_t *map = json_object_get(obj, f->json);
    if (!json_is_object(map)) {
        map = json_object();
        json_object_set_new(obj, f->json, map);
    }
    /* Absent parts are protobuf's defaults. */
    json_object_setn_new(map, k ? json_string_value(k) : "", k ? json_string_length(k) : 0,
                         v                          ? json_incref(v)
                         : f->type == PROTOBUF_QMAP ? json_string("0")
                                                    : json_string(""));
    json_decref(o);
    return 0;
}

/* Decodes a nested message field into its object (a new element of an array
 * when repeated; merged into an existing object otherwise, as protobuf merges
 * repeated occurrences of a message). */
static int message_into(struct dec *d, const struct protobuf_field *f, const struct wire *w,
                        json_t *obj, int depth)
{
    size_t saved = path_push(d, f->json, 0, false);
    json_t *child;
    if (f->flags & PROTOBUF_F_REPEATED) {
        json_t *a = json_object_get(obj, f->json);
        if (!json_is_array(a)) {
            a = json_array();
            json_object_set_new(obj, f->json, a);
        }
        path_push(d, NULL, json_array_size(a), true);
        child = json_object();
        json_array_append_new(a, child);
    } else {
        child = json_object_get(obj, f->json);
        if (!json_is_object(child)) {
            child = json_object();
            json_object_set_new(obj, f->json, child);
        }
    }
    int rc = decode_msg(d, f->msg, w->data, w->len, child, depth + 1);
    path_pop(d, saved);
    return rc;
}

/* A scalar value of f from a varint. */
static void scalar_into(const struct protobuf_field *f, uint64_t v, json_t *obj)
{
    switch (f->type) {
    case PROTOBUF_BOOL:
        put(obj, f, json_boolean(v != 0), !v);
        break;
    case PROTOBUF_INT32: /* Go truncates an int32 from the 64-bit varint too */
        put(obj, f, json_integer((int32_t)(uint32_t)v), !(uint32_t)v);
        break;
    default:
        put(obj, f, json_integer((json_int_t)(int64_t)v), !v);
        break;
    }
}

static int field_into(struct dec *d, const struct protobuf_msg *m, const struct protobuf_field *f,
                      const struct wire *w, json_t *obj, int depth)
{
    bool varint =
        f->type == PROTOBUF_BOOL || f->type == PROTOBUF_INT32 || f->type == PROTOBUF_INT64;
    if (varint && w->wt == 2 && (f->flags & PROTOBUF_F_REPEATED)) {
        /* Packed: the payload is a run of varints. */
        const uint8_t *p = w->data, *end = w->data + w->len;
        while (p < end) {
            uint64_t v;
            int rc = read_varint(&p, end, &v);
            if (rc < 0)
                return varint_fail(d, m, w->num, rc, "packed value");
            scalar_into(f, v, obj);
        }
        return 0;
    }
    if (w->wt != (varint ? 0u : 2u))
        return fail(d, m, w->num, "%s has wire type %s, expected %s", f->json ? f->json : "inline",
                    wt_names[w->wt], wt_names[varint ? 0 : 2]);
    if (varint) {
        scalar_into(f, w->v, obj);
        return 0;
    }
    json_t *v = NULL;
    switch (f->type) {
    case PROTOBUF_STRING:
        if (!text_ok(w->data, w->len))
            return fail(d, m, w->num, "%s is not UTF-8 text without NUL", f->json);
        put(obj, f, json_stringn((const char *)w->data, w->len), !w->len);
        return 0;
    case PROTOBUF_MESSAGE:
        return message_into(d, f, w, obj, depth);
    case PROTOBUF_INLINE:
        return decode_msg(d, f->msg, w->data, w->len, obj, depth + 1);
    case PROTOBUF_MAP:
    case PROTOBUF_QMAP:
        return map_entry_into(d, f, w, obj, depth);
    case PROTOBUF_QUANTITY:
        v = quantity_value(d, w, depth);
        break;
    case PROTOBUF_TIME:
        v = time_value(d, f, w, depth);
        break;
    case PROTOBUF_INTSTR:
        /* Go never omits the struct: a zero IntOrString prints as 0. */
        v = intstr_value(d, w, depth);
        break;
    case PROTOBUF_FIELDSV1:
        v = fieldsv1_value(d, w, depth);
        break;
    default:
        abort(); /* a table row with a type this switch does not know */
    }
    if (!v)
        return -1;
    put(obj, f, v, false);
    return 0;
}

static int decode_msg(struct dec *d, const struct protobuf_msg *m, const uint8_t *data, size_t len,
                      json_t *obj, int depth)
{
    if (depth > PROTOBUF_MAX_DEPTH)
        return fail(d, m, 0, "messages nested deeper than %d", PROTOBUF_MAX_DEPTH);
    const uint8_t *p = data, *end = data + len;
    struct wire w;
    int rc;
    while ((rc = next_field(d, m, &p, end, &w)) > 0) {
        const struct protobuf_field *f = find_field(m, w.num);
        if (!f ? unknown_field(d, m, w.num) < 0 : field_into(d, m, f, &w, obj, depth) < 0)
            return -1;
    }
    return rc;
}

/* ---- the envelope -------------------------------------------------------- */

bool protobuf_is_media_type(const char *ct)
{
    static const char mt[] = PROTOBUF_MEDIA_TYPE;
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, mt, sizeof mt - 1))
        return false;
    ct += sizeof mt - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return !*ct || *ct == ';';
}

bool protobuf_kind_supported(const char *kind)
{
    return protobuf_schema_find(kind) != NULL;
}

static const struct protobuf_msg unknown_msg = {UNKNOWN_NAME, NULL, 0};

json_t *protobuf_decode(const void *body, size_t len, const char *kind,
                        enum protobuf_unknown unknown, char *warning, size_t warning_size,
                        struct err *e)
{
    if (warning && warning_size)
        warning[0] = 0;
    const struct protobuf_msg *m = protobuf_schema_find(kind);
    if (!m) {
        char kinds[160] = "";
        for (size_t i = 0, n = 0; i < protobuf_schema_len(); i++)
            n += (size_t)snprintf(kinds + n, n < sizeof kinds ? sizeof kinds - n : 0, "%s%s",
                                  i ? ", " : "", protobuf_schema_kind(i));
        errf(e, EPROTO,
             "the body's media type %s is not supported for %s (only for %s); "
             "send application/json",
             PROTOBUF_MEDIA_TYPE, kind ? kind : "this resource", kinds);
        return NULL;
    }
    struct dec d = {.unknown = unknown, .warning = warning, .warning_size = warning_size, .e = e};
    const uint8_t *p = body;
    if (len < sizeof MAGIC || memcmp(p, MAGIC, sizeof MAGIC)) {
        errf(e, EINVAL, "protobuf body: it does not start with the 4 bytes \"k8s\\0\"");
        return NULL;
    }
    /* runtime.Unknown: 1 typeMeta, 2 raw, 3 contentEncoding, 4 contentType. */
    const uint8_t *end = p + len, *raw = NULL;
    size_t raw_len = 0;
    p += sizeof MAGIC;
    json_t *tm = json_object();
    struct wire w;
    int rc;
    while ((rc = next_field(&d, &unknown_msg, &p, end, &w)) > 0) {
        if (w.num > 4) {
            if (unknown_field(&d, &unknown_msg, w.num) < 0)
                goto fail;
            continue;
        }
        if (w.wt != 2) {
            fail(&d, &unknown_msg, w.num, "wire type %s, expected %s", wt_names[w.wt], wt_names[2]);
            goto fail;
        }
        if (w.num == 1) {
            if (decode_msg(&d, &type_meta, w.data, w.len, tm, 1) < 0)
                goto fail;
        } else if (w.num == 2) {
            raw = w.data;
            raw_len = w.len;
        } else if (w.len) {
            const char *what = w.num == 3 ? "content encoding" : "content type";
            if (!text_ok(w.data, w.len)) {
                fail(&d, &unknown_msg, w.num, "the %s is not UTF-8 text", what);
                goto fail;
            }
            char val[64];
            snprintf(val, sizeof val, "%.*s", (int)(w.len < 63 ? w.len : 63), (const char *)w.data);
            if (w.num == 3 || !protobuf_is_media_type(val)) {
                errf(e, EPROTO, "protobuf body: the %s \"%s\" is not supported", what, val);
                goto fail;
            }
        }
    }
    if (rc < 0)
        goto fail;
    const char *av = json_string_value(json_object_get(tm, "apiVersion"));
    const char *k = json_string_value(json_object_get(tm, "kind"));
    if (k && *k && strcmp(k, kind)) {
        errf(e, EINVAL, "protobuf body: it holds a %s %s, but this request takes a %s",
             av && *av ? av : "(no apiVersion)", k, kind);
        goto fail;
    }
    /* apiVersion and kind first, as the JSON path's objects have them. */
    json_t *obj = json_object();
    if (av && *av)
        json_object_set_new(obj, "apiVersion", json_string(av));
    if (k && *k)
        json_object_set_new(obj, "kind", json_string(k));
    json_decref(tm);
    if (raw && decode_msg(&d, m, raw, raw_len, obj, 1) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
fail:
    json_decref(tm);
    return NULL;
}
