/*
 * api/stored: the stored form of objects, the version a request sees them in,
 * and the metadata the server sets.
 *
 * Stored form. An object is stored as compact JSON whose first bytes are always
 *
 *     {"metadata":{"resourceVersion":""
 *
 * because the resourceVersion is the store revision of the write, which is only
 * known once the write is done. Reads splice the version's mod_rev into that
 * placeholder (api__write_obj) without parsing the object, so a get, a list page
 * and a watch event are byte copies of the stored value plus a number.
 *
 * Versions. The versions of a group share storage (registry.h), and objects
 * are stored in the group's preferred version: kueue.x-k8s.io objects in
 * v1beta2, Kueue's storage version. A request at another version (v1beta1)
 * sees them converted by model_kueue_convert(), both ways, as Kueue's
 * conversion webhook does: writes are converted to the storage version after
 * validation, reads (get, list, watch, the replies to writes) from it. Reads at
 * the storage version stay byte copies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/api_int.h"
#include "base/mtime.h"
#include "model/jsonin.h"
#include "model/jsonout.h"
#include "model/model.h"

static const char STORED_PREFIX[] = "{\"metadata\":{\"resourceVersion\":\"\"";

bool api__stored_form(const char *v, size_t len)
{
    size_t pl = sizeof STORED_PREFIX - 1;
    return len > pl && !memcmp(v, STORED_PREFIX, pl) && v[len - 1] == '}';
}

int api__write_obj(struct strbuf *out, const char *v, size_t len, int64_t rev)
{
    size_t pl = sizeof STORED_PREFIX - 1;
    if (len < pl || memcmp(v, STORED_PREFIX, pl))
        return strbuf_add(out, v, len); /* not ours; serve as stored */
    size_t mark = out->len;
    if (strbuf_addf(out, "{\"metadata\":{\"resourceVersion\":\"%" PRId64 "\"", rev) < 0 ||
        strbuf_add(out, v + pl, len - pl) < 0) {
        strbuf_truncate(out, mark);
        return -1;
    }
    return 0;
}

void api__now_rfc3339(char *buf, size_t size)
{
    time_t t = (time_t)(mtime_wall_ns() / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void api__rfc3339_after(char *buf, size_t size, int64_t add_s)
{
    time_t t = (time_t)(mtime_wall_ns() / 1000000000 + add_s);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void api__new_uid(char *buf, size_t size)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t x = (uint64_t)mtime_now_ns() * 0x9e3779b97f4a7c15ull;
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)(x >> ((i % 8) * 8)) ^ (unsigned char)i;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    /* 8-4-4-4-12 hex digits, written directly (one per created object) */
    static const char hex[] = "0123456789abcdef";
    char u[37];
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            u[n++] = '-';
        u[n++] = hex[b[i] >> 4];
        u[n++] = hex[b[i] & 15];
    }
    if (!size)
        return;
    if (n > size - 1)
        n = size - 1;
    memcpy(buf, u, n);
    buf[n] = '\0';
}

/* ---- versions ------------------------------------------------------------ */

bool api__converts(const struct api_kind *k)
{
    return k && !k->preferred;
}

/* Converts obj in place into version (a Kueue version: the only group served
 * in two versions). */
static int convert(json_t *obj, const char *version, struct err *e)
{
    enum model_api_version v = !strcmp(version, "v1beta1") ? MODEL_API_V1BETA1 : MODEL_API_V1BETA2;
    if (model_kueue_convert(obj, v, e) < 0) {
        /* The model's message is `Kind "name": path: reason`; the Status
         * wants "path: reason" (api__fail adds the object). */
        const char *rest = strstr(e->msg, "\": ");
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", rest ? rest + 3 : e->msg);
        errf(e, API_EINVALID, "%s", msg);
        return -1;
    }
    return 0;
}

/* The version objects of k are stored in: its group's preferred one. */
static const char *storage_version(const struct api_kind *k)
{
    const struct api_group *g = api_registry_find_group(k->group);
    return g ? g->versions[0] : k->version;
}

/* ---- the stored form ------------------------------------------------------ */

/* Appends ",key:value" for each member of obj but skip. */
static void put_members(struct jsonout *o, json_t *obj, const char *skip)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!strcmp(key, skip))
            continue;
        jsonout_raw(o, ",", 1);
        jsonout_key(o, key);
        jsonout_value(o, v);
    }
}

/* Encodes obj as it is into the stored form (see the top of the file):
 * written piece by piece, with no tree of the layout built and freed. */
static char *encode_layout(json_t *obj, size_t *len)
{
    static const char head[] = "{\"metadata\":{\"resourceVersion\":\"\"";
    struct jsonout o = {0};
    jsonout_raw(&o, head, sizeof head - 1);
    put_members(&o, json_object_get(obj, "metadata"), "resourceVersion");
    jsonout_raw(&o, "}", 1);
    put_members(&o, obj, "metadata");
    jsonout_raw(&o, "}", 1);
    *len = 0;
    return jsonout_finish(&o, len);
}

int api__to_storage(const struct api_kind *k, json_t *obj, struct err *e)
{
    return api__converts(k) ? convert(obj, storage_version(k), e) : 0;
}

char *api__encode_stored(const struct api_kind *k, json_t *obj, size_t *len, struct err *e)
{
    if (!api__converts(k))
        return encode_layout(obj, len);
    json_t *copy = json_deep_copy(obj);
    char *s = NULL;
    if (api__to_storage(k, copy, e) == 0)
        s = encode_layout(copy, len);
    json_decref(copy);
    return s;
}

json_t *api__decode_stored(const struct api_kind *k, const struct store_kv *kv)
{
    json_t *o = jsonin_loadb(kv->value, kv->value_len, 0, NULL);
    json_t *md = json_object_get(o, "metadata");
    if (json_is_object(md)) {
        char rv[24];
        snprintf(rv, sizeof rv, "%" PRId64, kv->mod_rev);
        json_object_set_new(md, "resourceVersion", json_string(rv));
    }
    struct err e;
    if (o && api__converts(k) && convert(o, k->version, &e) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Appends obj (any version) with resourceVersion rev in the stored layout. */
static int write_tree(struct strbuf *out, json_t *obj, int64_t rev)
{
    size_t len;
    char *s = encode_layout(obj, &len);
    int rc = s ? api__write_obj(out, s, len, rev) : -1;
    free(s);
    return rc;
}

int api__write_kv(struct strbuf *out, const struct api_kind *k, const struct store_kv *kv)
{
    if (!api__converts(k))
        return api__write_obj(out, kv->value, kv->value_len, kv->mod_rev);
    json_t *o = api__decode_stored(k, kv);
    if (!o) /* not JSON, or not convertible: serve as stored */
        return api__write_obj(out, kv->value, kv->value_len, kv->mod_rev);
    int rc = write_tree(out, o, kv->mod_rev);
    json_decref(o);
    return rc;
}

void api__reply_kv(struct api_resp *r, int code, const struct api_kind *k,
                   const struct store_kv *kv)
{
    strbuf_reset(&r->body);
    r->code = code;
    r->content_type = "application/json";
    api__write_kv(&r->body, k, kv);
}

void api__reply_obj(struct api_resp *r, int code, json_t *obj, int64_t rev)
{
    strbuf_reset(&r->body);
    r->code = code;
    r->content_type = "application/json";
    write_tree(&r->body, obj, rev);
}

int api__reply_list(struct api_resp *r, const struct api_kind *k, const struct store_list *l,
                    const struct api_selector *ls, const struct api_selector *fs,
                    int (*each)(void *arg, const struct store_kv *kv, struct err *e), void *arg,
                    struct err *e)
{
    char av[128];
    api_kind_api_version(k, av, sizeof av);
    strbuf_reset(&r->body);
    strbuf_addf(&r->body,
                "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                "\"%" PRId64 "\"",
                k->kind, av, l->rev);
    if (l->cont) {
        /* Store tokens are printable; escape through jansson to be safe. */
        json_t *c = json_string(l->cont);
        char *s = json_dumps(c, JSON_ENCODE_ANY);
        strbuf_addf(&r->body, ",\"continue\":%s", s ? s : "\"\"");
        free(s);
        json_decref(c);
    }
    strbuf_addstr(&r->body, "},\"items\":[");
    /* Without selectors, every item goes out: the stored bytes plus a
     * resourceVersion each, in one allocation rather than a buffer doubled (and
     * copied) a dozen times. */
    if (!ls->n && !fs->n) {
        size_t want = 0;
        for (size_t i = 0; i < l->len; i++)
            want += l->items[i]->value_len + 32;
        strbuf_reserve(&r->body, want);
    }
    bool first = true;
    for (size_t i = 0; i < l->len; i++) {
        const struct store_kv *kv = l->items[i];
        if (!api__selects(ls, fs, kv))
            continue;
        if (each && each(arg, kv, e) < 0)
            return -1;
        if ((!first && strbuf_addch(&r->body, ',') < 0) || api__write_kv(&r->body, k, kv) < 0)
            return errf(e, STORE_ETOOBIG, "the list is larger than %zu bytes; use limit",
                        (size_t)API_RESPONSE_MAX);
        first = false;
    }
    if (strbuf_addstr(&r->body, "]}") < 0)
        return errf(e, STORE_ETOOBIG, "the list is too large; use limit");
    r->code = 200;
    r->content_type = "application/json";
    return 0;
}
