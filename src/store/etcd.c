/*
 * etcd.c: the etcd v3 backend, through etcd's JSON gateway (grpc-gateway, the
 * /v3/ prefix of etcd 3.4) with libcurl.
 *
 * Mapping. A store key k lives in etcd under prefix + k. etcd's revision 1 is
 * its empty state and its first write takes revision 2, so the store's revision
 * is etcd's minus one: a fresh etcd is a store at revision 0 whose first write is
 * revision 1, as with the other backends. Compaction at store revision c is
 * etcd's compaction at c + 1 (both keep the state at that revision readable).
 *
 * Writes are one Txn each: the compare is create-if-absent (create_revision == 0),
 * exists (create_revision > 0) or CAS (mod_revision == expected); the failure
 * branch reads the key, to tell not-found from conflict. etcd batches
 * concurrent proposals into its own raft entries and fsyncs, so group commit is
 * etcd's; each write here is one round trip on a pooled connection.
 *
 * Watch. One etcd watch stream (a thread running a curl multi handle, reading
 * the gateway's newline-delimited JSON) covers the whole prefix from the
 * revision the store was opened at. Each event becomes one version published to
 * the hub under pub_mu, in etcd's order, and advances `pub`. A writer returns
 * only once `pub` has reached its revision (invariant 6: a client that watches
 * from its write's revision minus one sees its write). A watch from the past
 * replays (from, pub] with a short-lived second watch request, under pub_mu so
 * that replay and live events meet without gap or duplicate.
 *
 * Locks: pool_mu guards the idle handle pool; pub_mu guards pub and compact and
 * serialises publication (before the hub's lock).
 */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "store/store_int.h"

#define ETCD_DEFAULT_TIMEOUT_MS 10000
#define ETCD_RESPONSE_MAX       ((size_t)1 << 30)  /* a list of everything, at most */
#define ETCD_LINE_MAX           ((size_t)64 << 20) /* one watch response */

struct etcd {
    struct store base;
    char *url; /* "http://host:port", no trailing slash */
    char *prefix;
    size_t prefix_len;
    long timeout_ms;

    pthread_mutex_t pool_mu;
    CURL **pool; /* idle handles, reused for keep-alive */
    size_t npool, pool_cap;

    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;
    int64_t pub;     /* etcd revision of the last published event (or of the open) */
    int64_t compact; /* store revision of the last compaction */
    _Atomic int64_t writes;

    pthread_t th;
    CURLM *multi;
    _Atomic bool stop;
};

static const char *const what_op[] = {"create", "update", "delete"};

/* --- base64 (etcd's JSON carries keys and values as base64) --- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const void *p, size_t n)
{
    const unsigned char *s = p;
    char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        *o++ = b64[v >> 18 & 63];
        *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes s into a malloc'd, NUL-terminated buffer; NULL on bad input. */
static char *b64_decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *out = xmalloc(n / 4 * 3 + 4);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* --- JSON helpers --- */

/* etcd's int64 fields come as JSON strings; zero values are omitted. */
static int64_t jint(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static json_t *jstr_b64(const void *p, size_t n)
{
    char *s = b64_encode(p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *jrev(int64_t r)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, r);
    return json_string(buf);
}

/* The etcd key of store key k (prefix + k), base64. */
static json_t *jkey(struct etcd *d, const char *k, size_t n, bool nul_after)
{
    char *buf = xmalloc(d->prefix_len + n + 1);
    memcpy(buf, d->prefix, d->prefix_len);
    memcpy(buf + d->prefix_len, k, n);
    buf[d->prefix_len + n] = '\0';
    json_t *j = jstr_b64(buf, d->prefix_len + n + (nul_after ? 1 : 0));
    free(buf);
    return j;
}

/* The end of the etcd range of keys starting with prefix + p: that string with
 * its last byte incremented (trailing 0xff bytes dropped first). */
static json_t *jrange_end(struct etcd *d, const char *p, size_t n)
{
    char *buf = xmalloc(d->prefix_len + n + 1);
    memcpy(buf, d->prefix, d->prefix_len);
    memcpy(buf + d->prefix_len, p, n);
    size_t len = d->prefix_len + n;
    while (len && (unsigned char)buf[len - 1] == 0xff)
        len--;
    json_t *j;
    if (!len) {
        j = json_string("AA=="); /* "\0": every key */
    } else {
        buf[len - 1]++;
        j = jstr_b64(buf, len);
    }
    free(buf);
    return j;
}

/* Makes a version from an etcd KeyValue (mvccpb JSON). For a deletion, prev is
 * the key's last version (prev_kv), which gives the value and create_rev.
 * Returns NULL when the key is not under the store's prefix or is malformed. */
static struct store_kv *kv_from_json(struct etcd *d, const json_t *kv, const json_t *prev,
                                     enum store_event_type type)
{
    const char *k64 = json_string_value(json_object_get(kv, "key"));
    const json_t *vsrc = type == STORE_DELETED ? prev : kv;
    const char *v64 = vsrc ? json_string_value(json_object_get(vsrc, "value")) : NULL;
    if (!k64)
        return NULL;
    size_t klen, vlen = 0;
    char *k = b64_decode(k64, &klen), *v = v64 ? b64_decode(v64, &vlen) : NULL;
    struct store_kv *out = NULL;
    if (k && (!v64 || v) && klen > d->prefix_len && !memcmp(k, d->prefix, d->prefix_len)) {
        int64_t mod = jint(kv, "mod_revision") - 1;
        int64_t create = jint(type == STORE_DELETED ? prev : kv, "create_revision") - 1;
        if (type == STORE_MODIFIED && create == mod)
            type = STORE_ADDED;
        out = store__kv_new(k + d->prefix_len, klen - d->prefix_len, v ? v : "", vlen, create, mod,
                            type);
    }
    free(k);
    free(v);
    return out;
}

/* --- HTTP --- */

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
    struct strbuf *sb = arg;
    return strbuf_add(sb, p, size * n) ? 0 : size * n;
}

static CURL *handle_get(struct etcd *d)
{
    pthread_mutex_lock(&d->pool_mu);
    CURL *h = d->npool ? d->pool[--d->npool] : NULL;
    pthread_mutex_unlock(&d->pool_mu);
    if (!h) {
        h = curl_easy_init();
        if (!h)
            abort();
    }
    return h;
}

static void handle_put(struct etcd *d, CURL *h)
{
    pthread_mutex_lock(&d->pool_mu);
    if (d->npool == d->pool_cap) {
        d->pool_cap = d->pool_cap ? 2 * d->pool_cap : 8;
        d->pool = xreallocarray(d->pool, d->pool_cap, sizeof *d->pool);
    }
    d->pool[d->npool++] = h;
    pthread_mutex_unlock(&d->pool_mu);
}

/* Sets the options every request shares. */
static void handle_setup(struct etcd *d, CURL *h, const char *path, const char *body,
                         struct curl_slist *hdr)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", d->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
}

/* Maps an etcd error message to a store code. */
static int etcd_code(const char *msg)
{
    if (strstr(msg, "required revision has been compacted"))
        return STORE_ECOMPACTED;
    if (strstr(msg, "required revision is a future revision"))
        return STORE_EFUTURE;
    if (strstr(msg, "request is too large"))
        return STORE_ETOOBIG;
    return STORE_EIO;
}

/* POSTs req (consumed) to path and parses the response into *resp (the caller
 * decrefs). what names the operation and its key for the error message. */
static int call(struct etcd *d, const char *path, json_t *req, json_t **resp, const char *what,
                struct err *e)
{
    *resp = NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct strbuf sb;
    strbuf_init(&sb, ETCD_RESPONSE_MAX);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *h = handle_get(d);
    handle_setup(d, h, path, body, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sb);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, d->timeout_ms);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    handle_put(d, h);
    curl_slist_free_all(hdr);
    free(body);
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = errf(e, STORE_EIO, "%s: etcd %s%s: %s", what, d->url, path, curl_easy_strerror(cc));
        goto out;
    }
    json_error_t je;
    json_t *j = json_loadb(sb.buf, sb.len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        rc = errf(e, STORE_EIO, "%s: etcd %s: HTTP %ld, unreadable response: %s", what, path,
                  status, je.text);
        goto out;
    }
    const char *emsg = json_string_value(json_object_get(j, "error"));
    if (emsg || status != 200) {
        rc = errf(e, emsg ? etcd_code(emsg) : STORE_EIO, "%s: etcd %s: %s", what, path,
                  emsg ? emsg : "HTTP error");
        json_decref(j);
        goto out;
    }
    *resp = j;
out:
    strbuf_release(&sb);
    return rc;
}

/* --- watch streams --- */

/* A watch request being read: the gateway sends one JSON object per line. */
struct stream {
    struct etcd *d;
    struct strbuf line;
    /* Called per response; returns false to end the stream. */
    bool (*on_msg)(struct stream *st, json_t *result);
    void *arg;
    bool ended;          /* on_msg asked to stop */
    int64_t compact_rev; /* etcd's compact_revision of a cancelled watch */
    bool failed;
    bool all; /* watch every key, not only the store's prefix */
    char why[160];
};

static size_t stream_sink(char *p, size_t size, size_t n, void *arg)
{
    struct stream *st = arg;
    size_t len = size * n;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n') {
            if (strbuf_addch(&st->line, p[i])) {
                st->failed = true;
                snprintf(st->why, sizeof st->why, "watch response over %zu bytes", ETCD_LINE_MAX);
                return 0;
            }
            continue;
        }
        json_t *j = json_loadb(st->line.buf, st->line.len, 0, NULL);
        strbuf_reset(&st->line);
        json_t *res = json_object_get(j, "result");
        const char *emsg =
            json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        if (!res) {
            st->failed = true;
            snprintf(st->why, sizeof st->why, "watch: %s", emsg ? emsg : "unreadable response");
            json_decref(j);
            return 0;
        }
        if (json_is_true(json_object_get(res, "canceled"))) {
            st->compact_rev = jint(res, "compact_revision");
            st->failed = true;
            snprintf(st->why, sizeof st->why, "watch cancelled by etcd (compacted at %" PRId64 ")",
                     st->compact_rev - 1);
            json_decref(j);
            return 0;
        }
        bool go_on = st->on_msg(st, res);
        json_decref(j);
        if (!go_on) {
            st->ended = true;
            return 0;
        }
    }
    return len;
}

/* Sets up h to watch the store's whole prefix from etcd revision start. */
static struct curl_slist *stream_setup(struct stream *st, CURL *h, int64_t start)
{
    struct etcd *d = st->d;
    json_t *cr = json_object();
    if (d->prefix_len && !st->all) {
        json_object_set_new(cr, "key", jstr_b64(d->prefix, d->prefix_len));
        json_object_set_new(cr, "range_end", jrange_end(d, "", 0));
    } else {
        json_object_set_new(cr, "key", json_string("AA=="));
        json_object_set_new(cr, "range_end", json_string("AA=="));
    }
    json_object_set_new(cr, "start_revision", jrev(start));
    json_object_set_new(cr, "prev_kv", json_true());
    json_t *req = json_pack("{s:o}", "create_request", cr);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    handle_setup(d, h, "/v3/watch", body, hdr);
    free(body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
    strbuf_init(&st->line, ETCD_LINE_MAX);
    return hdr;
}

/* Calls fn for each event of a watch response (in order); stops at false. */
static bool each_event(struct stream *st, json_t *res,
                       bool (*fn)(struct stream *st, struct store_kv *kv))
{
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(res, "events"), i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "type"));
        bool del = type && !strcmp(type, "DELETE");
        struct store_kv *kv =
            kv_from_json(st->d, json_object_get(ev, "kv"), json_object_get(ev, "prev_kv"),
                         del ? STORE_DELETED : STORE_MODIFIED);
        if (!kv)
            continue;
        bool go_on = fn(st, kv);
        store_kv_unref(kv);
        if (!go_on)
            return false;
    }
    return true;
}

/* Runs a watch from etcd revision start in the calling thread until on_msg
 * ends it. Returns 0, or -1 with st->why (and compact_rev) set. */
static int stream_run_sync(struct stream *st, int64_t start)
{
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    struct curl_slist *hdr = stream_setup(st, h, start);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, st->d->timeout_ms);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    strbuf_release(&st->line);
    if (st->ended)
        return 0;
    if (!st->failed)
        snprintf(st->why, sizeof st->why, "watch stream: %s", curl_easy_strerror(cc));
    return -1;
}

/* The live stream: publishes each event in order. */
static bool live_event(struct stream *st, struct store_kv *kv)
{
    struct etcd *d = st->d;
    pthread_mutex_lock(&d->pub_mu);
    if (kv->mod_rev + 1 > d->pub) { /* a reconnect may repeat what was published */
        store__hub_publish(d->base.hub, kv);
        d->pub = kv->mod_rev + 1;
        pthread_cond_broadcast(&d->pub_cv);
    }
    pthread_mutex_unlock(&d->pub_mu);
    return true;
}

static bool live_msg(struct stream *st, json_t *res)
{
    each_event(st, res, live_event);
    return !atomic_load(&st->d->stop);
}

static void *live_main(void *arg)
{
    struct etcd *d = arg;
    while (!atomic_load(&d->stop)) {
        struct stream st = {.d = d, .on_msg = live_msg};
        CURL *h = curl_easy_init();
        if (!h)
            abort();
        pthread_mutex_lock(&d->pub_mu);
        int64_t from = d->pub + 1;
        pthread_mutex_unlock(&d->pub_mu);
        struct curl_slist *hdr = stream_setup(&st, h, from);
        curl_multi_add_handle(d->multi, h);
        int running = 1;
        while (running && !atomic_load(&d->stop)) {
            if (curl_multi_perform(d->multi, &running) != CURLM_OK)
                break;
            if (running)
                curl_multi_poll(d->multi, NULL, 0, 1000, NULL);
        }
        curl_multi_remove_handle(d->multi, h);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        strbuf_release(&st.line);
        /* The stream ended (etcd restarted, the connection dropped): reconnect
         * from the last published revision after a pause, unless closing. */
        if (!atomic_load(&d->stop)) {
            if (st.failed)
                fprintf(stderr, "store etcd %s: %s; reconnecting\n", d->url, st.why);
            curl_multi_poll(d->multi, NULL, 0, 200, NULL);
        }
    }
    return NULL;
}

/* --- ops --- */

static int etcd_get(struct store *s, const char *key, size_t key_len, struct store_kv **out,
                    struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "get %s", key);
    json_t *resp;
    if (call(d, "/v3/kv/range", json_pack("{s:o}", "key", jkey(d, key, key_len, false)), &resp,
             what, e))
        return -1;
    json_t *kv = json_array_get(json_object_get(resp, "kvs"), 0);
    *out = kv ? kv_from_json(d, kv, NULL, STORE_MODIFIED) : NULL;
    json_decref(resp);
    return *out ? 0 : errf(e, STORE_ENOTFOUND, "get %s: not found", key);
}

static int etcd_list(struct store *s, const struct store__range *r, struct store_list *out,
                     bool *more, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "list %s", r->prefix);
    json_t *req = json_object();
    if (r->after)
        json_object_set_new(req, "key", jkey(d, r->after, r->after_len, true));
    else
        json_object_set_new(req, "key", jkey(d, r->prefix, r->prefix_len, false));
    json_object_set_new(req, "range_end", jrange_end(d, r->prefix, r->prefix_len));
    if (r->limit)
        json_object_set_new(req, "limit", jrev((int64_t)r->limit + 1));
    if (r->rev)
        json_object_set_new(req, "revision", jrev(r->rev + 1));
    json_t *resp;
    if (call(d, "/v3/kv/range", req, &resp, what, e))
        return -1;
    out->rev = r->rev ? r->rev : jint(json_object_get(resp, "header"), "revision") - 1;
    size_t i;
    json_t *kv;
    json_array_foreach(json_object_get(resp, "kvs"), i, kv)
    {
        if (r->limit && out->len == r->limit) {
            *more = true;
            break;
        }
        struct store_kv *v = kv_from_json(d, kv, NULL, STORE_MODIFIED);
        if (v)
            store__list_push(out, v);
    }
    json_decref(resp);
    return 0;
}

/* Waits until the live stream has published etcd revision rev. */
static int wait_published(struct etcd *d, int64_t rev, const char *what, struct err *e)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += d->timeout_ms / 1000 + 1;
    int rc = 0;
    pthread_mutex_lock(&d->pub_mu);
    while (d->pub < rev)
        if (pthread_cond_timedwait(&d->pub_cv, &d->pub_mu, &until)) {
            rc = errf(e, STORE_EIO,
                      "%s: etcd committed revision %" PRId64
                      " but its event did not come back on the watch stream",
                      what, rev - 1);
            break;
        }
    pthread_mutex_unlock(&d->pub_mu);
    return rc;
}

static int etcd_write(struct store *s, const struct store__op *op, struct store_kv **out,
                      struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "%s %s", what_op[op->kind], op->key);
    json_t *cmp = json_pack("{s:o}", "key", jkey(d, op->key, op->key_len, false));
    if (op->kind == STORE__CREATE || !op->expect_rev) {
        json_object_set_new(cmp, "target", json_string("CREATE"));
        json_object_set_new(cmp, "result",
                            json_string(op->kind == STORE__CREATE ? "EQUAL" : "GREATER"));
        json_object_set_new(cmp, "create_revision", json_string("0"));
    } else {
        json_object_set_new(cmp, "target", json_string("MOD"));
        json_object_set_new(cmp, "result", json_string("EQUAL"));
        json_object_set_new(cmp, "mod_revision", jrev(op->expect_rev + 1));
    }
    json_t *then;
    if (op->kind == STORE__DELETE)
        then = json_pack("{s:{s:o,s:b}}", "request_delete_range", "key",
                         jkey(d, op->key, op->key_len, false), "prev_kv", 1);
    else
        then = json_pack("{s:{s:o,s:o,s:b}}", "request_put", "key",
                         jkey(d, op->key, op->key_len, false), "value",
                         jstr_b64(op->value, op->value_len), "prev_kv", 1);
    json_t *req =
        json_pack("{s:[o],s:[o],s:[{s:{s:o}}]}", "compare", cmp, "success", then, "failure",
                  "request_range", "key", jkey(d, op->key, op->key_len, false));
    json_t *resp;
    if (call(d, "/v3/kv/txn", req, &resp, what, e))
        return -1;
    int rc = 0;
    int64_t rev = jint(json_object_get(resp, "header"), "revision");
    json_t *r0 = json_array_get(json_object_get(resp, "responses"), 0);
    if (!json_is_true(json_object_get(resp, "succeeded"))) {
        json_t *cur =
            json_array_get(json_object_get(json_object_get(r0, "response_range"), "kvs"), 0);
        if (op->kind == STORE__CREATE)
            rc = errf(e, STORE_EEXISTS, "%s: already exists", what);
        else if (!cur)
            rc = errf(e, STORE_ENOTFOUND, "%s: not found", what);
        else
            rc = errf(e, STORE_ECONFLICT,
                      "%s: the object has been modified (revision %" PRId64 ", expected %" PRId64
                      ")",
                      what, jint(cur, "mod_revision") - 1, op->expect_rev);
        goto out;
    }
    /* The writer's copy of the version; the watchers get the stream's. */
    if (op->kind == STORE__CREATE) {
        *out = store__kv_new(op->key, op->key_len, op->value, op->value_len, rev - 1, rev - 1,
                             STORE_ADDED);
    } else {
        json_t *prev =
            op->kind == STORE__UPDATE
                ? json_object_get(json_object_get(r0, "response_put"), "prev_kv")
                : json_array_get(
                      json_object_get(json_object_get(r0, "response_delete_range"), "prev_kvs"), 0);
        int64_t create = jint(prev, "create_revision") - 1;
        if (op->kind == STORE__UPDATE) {
            *out = store__kv_new(op->key, op->key_len, op->value, op->value_len, create, rev - 1,
                                 STORE_MODIFIED);
        } else {
            const char *v64 = json_string_value(json_object_get(prev, "value"));
            size_t vlen = 0;
            char *v = v64 ? b64_decode(v64, &vlen) : NULL;
            *out = store__kv_new(op->key, op->key_len, v ? v : "", vlen, create, rev - 1,
                                 STORE_DELETED);
            free(v);
        }
    }
    atomic_fetch_add(&d->writes, 1);
    rc = wait_published(d, rev, what, e);
    if (rc) {
        store_kv_unref(*out);
        *out = NULL;
    }
out:
    json_decref(resp);
    return rc;
}

/* A replay: pushes the events up to etcd revision `until` into the watcher. */
struct replay {
    struct store_watch *w;
    const char *prefix;
    size_t plen;
    int64_t until;
    bool done;
};

static bool replay_event(struct stream *st, struct store_kv *kv)
{
    struct replay *r = st->arg;
    if (kv->mod_rev + 1 > r->until) {
        r->done = true;
        return false;
    }
    if (store__has_prefix(kv->key, kv->key_len, r->prefix, r->plen) &&
        !store__watch_push(r->w, kv)) {
        r->done = true; /* cancelled: past its cap */
        return false;
    }
    if (kv->mod_rev + 1 == r->until)
        r->done = true;
    return true;
}

static bool replay_msg(struct stream *st, json_t *res)
{
    struct replay *r = st->arg;
    each_event(st, res, replay_event);
    return !r->done;
}

static int etcd_watch(struct store *s, struct store_watch *w, int64_t from_rev, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    size_t plen;
    const char *prefix = store__watch_prefix(w, &plen);
    int rc = 0;
    pthread_mutex_lock(&d->pub_mu);
    int64_t from = from_rev ? from_rev : d->pub - 1;
    if (from > d->pub - 1) {
        /* A list may have read a revision etcd committed that the stream has
         * not yet brought: give it a moment before calling it the future. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        while (from > d->pub - 1 && !pthread_cond_timedwait(&d->pub_cv, &d->pub_mu, &until))
            ;
    }
    if (from > d->pub - 1) {
        rc = errf(e, STORE_EFUTURE, "watch %s from %" PRId64 ": the store is at revision %" PRId64,
                  prefix, from, d->pub - 1);
        goto out;
    }
    if (from < d->compact) {
        rc = errf(e, STORE_ECOMPACTED,
                  "watch %s from %" PRId64 ": too old (history starts at %" PRId64 ")", prefix,
                  from, d->compact);
        goto out;
    }
    if (from + 2 <= d->pub) {
        struct replay r = {.w = w, .prefix = prefix, .plen = plen, .until = d->pub};
        struct stream st = {.d = d, .on_msg = replay_msg, .arg = &r};
        if (stream_run_sync(&st, from + 2)) {
            rc = errf(e, st.compact_rev ? STORE_ECOMPACTED : STORE_EIO,
                      "watch %s from %" PRId64 ": %s", prefix, from, st.why);
            goto out;
        }
    }
    store__hub_add(d->base.hub, w);
out:
    pthread_mutex_unlock(&d->pub_mu);
    return rc;
}

static int etcd_compact(struct store *s, int64_t rev, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    pthread_mutex_lock(&d->pub_mu);
    bool noop = rev <= d->compact;
    pthread_mutex_unlock(&d->pub_mu);
    if (noop)
        return 0;
    char what[64];
    snprintf(what, sizeof what, "compact at %" PRId64, rev);
    json_t *resp;
    /* physical: etcd answers once the compaction is applied, so a read right
     * after it sees it. */
    if (call(d, "/v3/kv/compaction",
             json_pack("{s:o,s:b}", "revision", jrev(rev + 1), "physical", 1), &resp, what, e)) {
        if (e->code != STORE_ECOMPACTED) /* another client compacted further */
            return -1;
    }
    json_decref(resp);
    pthread_mutex_lock(&d->pub_mu);
    if (rev > d->compact)
        d->compact = rev;
    pthread_mutex_unlock(&d->pub_mu);
    return 0;
}

static int64_t etcd_rev(struct store *s)
{
    struct etcd *d = (struct etcd *)s;
    pthread_mutex_lock(&d->pub_mu);
    int64_t r = d->pub - 1;
    pthread_mutex_unlock(&d->pub_mu);
    return r;
}

static int64_t etcd_compacted_rev(struct store *s)
{
    struct etcd *d = (struct etcd *)s;
    pthread_mutex_lock(&d->pub_mu);
    int64_t r = d->compact;
    pthread_mutex_unlock(&d->pub_mu);
    return r;
}

static void etcd_stats(struct store *s, struct store_stats *st)
{
    struct etcd *d = (struct etcd *)s;
    pthread_mutex_lock(&d->pub_mu);
    st->rev = d->pub - 1;
    st->compact_rev = d->compact;
    pthread_mutex_unlock(&d->pub_mu);
    /* etcd batches proposals itself; its batches are not visible here. */
    st->writes = st->commits = atomic_load(&d->writes);
}

static void etcd_free(struct etcd *d)
{
    for (size_t i = 0; i < d->npool; i++)
        curl_easy_cleanup(d->pool[i]);
    free(d->pool);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    pthread_mutex_destroy(&d->pool_mu);
    pthread_mutex_destroy(&d->pub_mu);
    pthread_cond_destroy(&d->pub_cv);
    free(d->url);
    free(d->prefix);
    free(d);
}

static void etcd_close(struct store *s)
{
    struct etcd *d = (struct etcd *)s;
    atomic_store(&d->stop, true);
    curl_multi_wakeup(d->multi);
    pthread_join(d->th, NULL);
    etcd_free(d);
}

static const struct store__ops etcd_ops = {
    .name = "etcd",
    .get = etcd_get,
    .list = etcd_list,
    .write = etcd_write,
    .watch = etcd_watch,
    .compact = etcd_compact,
    .rev = etcd_rev,
    .compacted_rev = etcd_compacted_rev,
    .stats = etcd_stats,
    .close = etcd_close,
};

/* The compaction probe: a watch of everything from etcd revision 1 is either
 * cancelled with etcd's compact_revision or starts sending history. */
static bool probe_msg(struct stream *st, json_t *res)
{
    (void)st;
    return !json_array_size(json_object_get(res, "events"));
}

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        abort();
}

struct store *store_open_etcd(const char *endpoint, const char *prefix,
                              const struct store_etcd_opts *o, struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    if (!endpoint || !*endpoint || strlen(endpoint) > 400) {
        errf(e, STORE_EINVAL, "etcd: bad endpoint \"%.60s\"", endpoint ? endpoint : "(null)");
        return NULL;
    }
    if (!prefix)
        prefix = "";
    if (strlen(prefix) > STORE_KEY_MAX) {
        errf(e, STORE_EINVAL, "etcd: prefix longer than %d bytes", STORE_KEY_MAX);
        return NULL;
    }
    struct etcd *d = xcalloc(1, sizeof *d);
    d->base.ops = &etcd_ops;
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/')
        n--;
    d->url = strstr(endpoint, "://") ? xstrndup(endpoint, n) : NULL;
    if (!d->url) {
        d->url = xmalloc(n + 8);
        snprintf(d->url, n + 8, "http://%.*s", (int)n, endpoint);
    }
    d->prefix = xstrdup(prefix);
    d->prefix_len = strlen(prefix);
    d->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : ETCD_DEFAULT_TIMEOUT_MS;
    pthread_mutex_init(&d->pool_mu, NULL);
    pthread_mutex_init(&d->pub_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->pub_cv, &ca);
    pthread_condattr_destroy(&ca);

    /* etcd's current revision: where the live stream starts. */
    json_t *resp;
    json_t *req = json_pack("{s:s,s:s,s:b}", "key", "AA==", "range_end", "AA==", "count_only", 1);
    if (call(d, "/v3/kv/range", req, &resp, "open etcd store", e))
        goto fail;
    d->pub = jint(json_object_get(resp, "header"), "revision");
    json_decref(resp);
    if (d->pub < 1) {
        errf(e, STORE_EIO, "open etcd store: %s answered without a revision", d->url);
        goto fail;
    }
    if (d->pub >= 2) {
        struct stream st = {.d = d, .on_msg = probe_msg, .all = true};
        if (stream_run_sync(&st, 1)) {
            if (!st.compact_rev) {
                errf(e, STORE_EIO, "open etcd store: %s", st.why);
                goto fail;
            }
            d->compact = st.compact_rev - 1;
        }
    }
    d->multi = curl_multi_init();
    if (!d->multi)
        abort();
    d->base.hub = store__hub_create();
    if (pthread_create(&d->th, NULL, live_main, d)) {
        store__hub_close(d->base.hub);
        errf(e, STORE_EIO, "open etcd store: cannot start the watch thread");
        goto fail;
    }
    return &d->base;
fail:
    etcd_free(d);
    return NULL;
}
