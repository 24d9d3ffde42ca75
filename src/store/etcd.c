/*
 * etcd.c: the etcd v3 backend, through etcd's JSON gateway (grpc-gateway, the
 * /v3/ prefix of etcd 3.4) with libcurl, with reads served from a watch cache.
 *
 * Mapping. A store key k lives in etcd under prefix + k. etcd's revision 1 is
 * its empty state and its first write takes revision 2, so the store's revision
 * is etcd's minus one: a fresh etcd is a store at revision 0 whose first write is
 * revision 1, as with the other backends. Compaction at store revision c is
 * etcd's compaction at c + 1 (both keep the state at that revision readable).
 *
 * The watch cache. `mirror` is a memory store (mem.c, store__mem_mirror) holding
 * the keys under the prefix with the last `history` versions, at store
 * revisions, publishing into this store's hub. It is filled by one paged range
 * read at one revision and kept current by one etcd watch (a thread running a
 * curl multi handle, reading the gateway's newline-delimited JSON) from the
 * next revision on. The watch covers every etcd key, not only the prefix: etcd
 * gives each revision at least one event, so the events say exactly which
 * revision the mirror has reached even when others write outside the prefix
 * (those events only advance it). `pub` is that etcd revision.
 *
 * Reads. A get or a list at the latest revision asks etcd for its current
 * revision R (a linearizable one-key range, count only), waits until pub >= R
 * and answers from the mirror, so it sees every write acknowledged before it
 * began, whichever server made it (as Kubernetes' ConsistentListFromCache). If
 * the mirror does not get there within FRESH_WAIT_MS it reads etcd directly.
 * A list at an older revision (a continue token) is the mirror's, or
 * STORE_ECOMPACTED when older than the history it holds.
 *
 * Writes are one Txn each: the compare is create-if-absent (create_revision ==
 * 0), exists (create_revision > 0) or CAS (mod_revision == expected); the
 * failure branch reads the key's revision, to tell not-found from conflict.
 * etcd batches concurrent proposals into its own raft entries and fsyncs, so
 * group commit is etcd's; each write is one round trip on a pooled, kept-alive
 * connection. A writer returns once pub has reached its revision (invariant 6)
 * and hands back the mirror's version of its write, the one the watchers got.
 *
 * Resync. A watch that breaks resumes from pub + 1 and loses nothing. One that
 * cannot resume (etcd compacted past pub while it was away, etcd's revision went
 * back, or an event does not fit the mirror) re-reads the whole prefix at the
 * current revision and replaces the mirror (store__mem_reset), cancelling every
 * watcher with STORE_ECOMPACTED so its client re-lists.
 *
 * Locks: pool_mu guards the idle handle pool; pub_mu guards pub and the
 * waiters, each asleep on its own condition variable until pub reaches its
 * revision, so that an event wakes the writer waiting for it and not all of
 * them (with 64 writers in flight a broadcast cost more than the HTTP). The mirror has its own
 * lock, which is its publication lock; pub moves only after the mirror has the events, so pub >= R
 * means the mirror has R. Nothing holds pub_mu while calling into the mirror.
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
#define ETCD_DEFAULT_HISTORY    100000
#define ETCD_RESPONSE_MAX       ((size_t)1 << 30)  /* a list of everything, at most */
#define ETCD_LINE_MAX           ((size_t)64 << 20) /* one watch response */
#define ETCD_REQUEST_MAX        ((size_t)8 << 20)  /* base64 of a 3 MiB value, and keys */
#define ETCD_FILL_PAGE          10000              /* keys per range when filling the mirror */
#define FRESH_WAIT_MS           3000 /* how long a read waits for the mirror (Kubernetes: 3 s) */
#define WATCH_WAIT_MS           1000 /* how long a watch from a newer revision waits */
#define RECONNECT_MS            200

struct etcd {
    struct store base;
    char *url; /* "http://host:port", no trailing slash */
    char *prefix;
    size_t prefix_len;
    long timeout_ms;
    int64_t history;
    struct curl_slist *hdr; /* Content-Type, shared by every request */

    pthread_mutex_t pool_mu;
    CURL **pool; /* idle handles, reused for keep-alive */
    size_t npool, pool_cap;

    struct store *mirror; /* the watch cache, at store revisions */
    pthread_mutex_t pub_mu;
    struct waiter *waiters; /* threads waiting for pub to reach a revision */
    int64_t pub;            /* etcd revision the mirror has reached */
    _Atomic int64_t writes, resyncs, reads_direct;

    pthread_t th;
    CURLM *multi;
    _Atomic bool stop;
};

static const char *const what_op[] = {"create", "update", "delete"};

/* --- base64 (etcd's JSON carries keys and values as base64) --- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the base64 of p (n bytes) to sb, through a stack buffer. */
static void sb_b64(struct strbuf *sb, const void *p, size_t n)
{
    const unsigned char *s = p;
    char chunk[1024];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        chunk[o++] = b64[v >> 18 & 63];
        chunk[o++] = b64[v >> 12 & 63];
        chunk[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        chunk[o++] = i + 2 < n ? b64[v & 63] : '=';
        if (o == sizeof chunk) {
            strbuf_add(sb, chunk, o);
            o = 0;
        }
    }
    strbuf_add(sb, chunk, o);
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

/* Decodes s (n characters) into out, which has room for n / 4 * 3 + 3 bytes;
 * returns the length, or -1 on bad input. */
static long b64_decode_into(const char *s, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    return (long)o;
}

/* Decodes a JSON string of base64 into a malloc'd, NUL-terminated buffer;
 * NULL when j is not a string of base64. */
static char *b64_decode(const json_t *j, size_t *len)
{
    const char *s = json_string_value(j);
    if (!s)
        return NULL;
    size_t n = json_string_length(j);
    char *out = xmalloc(n / 4 * 3 + 4);
    long o = b64_decode_into(s, n, out);
    if (o < 0) {
        free(out);
        return NULL;
    }
    out[o] = '\0';
    *len = (size_t)o;
    return out;
}

/* --- request bodies, written directly (no JSON tree) --- */

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

/* Appends "<base64 of prefix + k>" (with a NUL byte after k when nul_after). */
static void sb_key(struct etcd *d, struct strbuf *sb, const char *k, size_t n, bool nul_after)
{
    char buf[2 * STORE_KEY_MAX + 2];
    assert(d->prefix_len + n + 1 <= sizeof buf);
    memcpy(buf, d->prefix, d->prefix_len);
    memcpy(buf + d->prefix_len, k, n);
    buf[d->prefix_len + n] = '\0';
    strbuf_addch(sb, '"');
    sb_b64(sb, buf, d->prefix_len + n + (nul_after ? 1 : 0));
    strbuf_addch(sb, '"');
}

/* Appends the quoted end of the etcd range of keys starting with prefix + p:
 * that string with its last byte incremented (trailing 0xff bytes dropped
 * first). */
static void sb_range_end(struct etcd *d, struct strbuf *sb, const char *p, size_t n)
{
    char buf[2 * STORE_KEY_MAX + 2];
    assert(d->prefix_len + n <= sizeof buf);
    memcpy(buf, d->prefix, d->prefix_len);
    memcpy(buf + d->prefix_len, p, n);
    size_t len = d->prefix_len + n;
    while (len && (unsigned char)buf[len - 1] == 0xff)
        len--;
    if (!len) {
        strbuf_addstr(sb, "\"AA==\""); /* "\0": every key */
        return;
    }
    buf[len - 1]++;
    strbuf_addch(sb, '"');
    sb_b64(sb, buf, len);
    strbuf_addch(sb, '"');
}

/* Makes a version from an etcd KeyValue (mvccpb JSON) of a watch event or a
 * range. *mod receives the store revision of the change (mod_revision - 1) even
 * when the key is not the store's. For a deletion (etcd's event has only the
 * key and mod_revision) the version is a stub that store__mem_apply completes.
 * Returns NULL when the key is not under the store's prefix or is malformed. */
static struct store_kv *kv_from_json(struct etcd *d, const json_t *kv, bool deleted, int64_t *mod)
{
    *mod = jint(kv, "mod_revision") - 1;
    const json_t *k64 = json_object_get(kv, "key");
    /* A key longer than prefix + STORE_KEY_MAX is not the store's. */
    if (!json_is_string(k64) || json_string_length(k64) / 4 * 3 > d->prefix_len + STORE_KEY_MAX + 3)
        return NULL;
    char k[2 * STORE_KEY_MAX + 8];
    long klen = b64_decode_into(json_string_value(k64), json_string_length(k64), k);
    if (klen <= (long)d->prefix_len + 1 || memcmp(k, d->prefix, d->prefix_len) ||
        k[d->prefix_len] != '/')
        return NULL;
    const char *key = k + d->prefix_len;
    size_t key_len = (size_t)klen - d->prefix_len;
    if (deleted)
        return store__kv_new(key, key_len, "", 0, 0, *mod, STORE_DELETED);
    size_t vlen = 0;
    const json_t *v64 = json_object_get(kv, "value");
    char *v = v64 ? b64_decode(v64, &vlen) : NULL; /* an empty value is omitted */
    if (v64 && !v)
        return NULL;
    int64_t create = jint(kv, "create_revision") - 1;
    struct store_kv *out = store__kv_new(key, key_len, v ? v : "", vlen, create, *mod,
                                         create == *mod ? STORE_ADDED : STORE_MODIFIED);
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
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->hdr);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
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

static void set_url(struct etcd *d, CURL *h, const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", d->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
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

/* POSTs body to path and parses the response into *resp (the caller decrefs).
 * what names the operation and its key for the error message. */
static int call(struct etcd *d, const char *path, const struct strbuf *body, json_t **resp,
                const char *what, struct err *e)
{
    *resp = NULL;
    struct strbuf sb;
    strbuf_init(&sb, ETCD_RESPONSE_MAX);
    CURL *h = handle_get(d);
    set_url(d, h, path);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->buf);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sb);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, d->timeout_ms);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    handle_put(d, h);
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

/* etcd's current revision, by a linearizable range of one key, count only:
 * the cheapest request that goes through etcd's read index. */
static int etcd_now(struct etcd *d, int64_t *rev, const char *what, struct err *e)
{
    struct strbuf b;
    strbuf_init(&b, ETCD_REQUEST_MAX);
    strbuf_addstr(&b, "{\"key\":");
    sb_key(d, &b, "/", 1, false);
    strbuf_addstr(&b, ",\"count_only\":true}");
    json_t *resp;
    int rc = call(d, "/v3/kv/range", &b, &resp, what, e);
    strbuf_release(&b);
    if (rc)
        return -1;
    *rev = jint(json_object_get(resp, "header"), "revision");
    json_decref(resp);
    if (*rev < 1)
        return errf(e, STORE_EIO, "%s: etcd %s answered without a revision", what, d->url);
    return 0;
}

/* One range read of the keys under store prefix r->prefix (after r->after, at
 * most r->limit, at store revision r->rev or the latest), straight from etcd:
 * how the mirror is filled, and the fallback of a read the mirror cannot serve
 * in time. Fills out->items and out->rev (the etcd revision read, minus one);
 * sets *more when keys remain. */
static int range_read(struct etcd *d, const struct store__range *r, struct store_list *out,
                      bool *more, struct err *e)
{
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "list %s", r->prefix);
    struct strbuf b;
    strbuf_init(&b, ETCD_REQUEST_MAX);
    strbuf_addstr(&b, "{\"key\":");
    if (r->after)
        sb_key(d, &b, r->after, r->after_len, true);
    else
        sb_key(d, &b, r->prefix, r->prefix_len, false);
    strbuf_addstr(&b, ",\"range_end\":");
    sb_range_end(d, &b, r->prefix, r->prefix_len);
    if (r->limit)
        strbuf_addf(&b, ",\"limit\":\"%zu\"", r->limit);
    if (r->rev)
        strbuf_addf(&b, ",\"revision\":\"%" PRId64 "\"", r->rev + 1);
    strbuf_addch(&b, '}');
    json_t *resp;
    int rc = call(d, "/v3/kv/range", &b, &resp, what, e);
    strbuf_release(&b);
    if (rc)
        return -1;
    out->rev = r->rev ? r->rev : jint(json_object_get(resp, "header"), "revision") - 1;
    *more = json_is_true(json_object_get(resp, "more"));
    size_t i;
    json_t *kv;
    json_array_foreach(json_object_get(resp, "kvs"), i, kv)
    {
        int64_t mod;
        struct store_kv *v = kv_from_json(d, kv, false, &mod);
        if (v)
            store__list_push(out, v);
    }
    json_decref(resp);
    return 0;
}

/* Reads every key under the prefix, by pages, at etcd revision at (0: the
 * current one) into out; *rev receives the etcd revision read. */
static int fill_read(struct etcd *d, int64_t at, struct store_list *out, int64_t *rev,
                     struct err *e)
{
    struct store__range r = {.prefix = "/", .prefix_len = 1, .limit = ETCD_FILL_PAGE};
    r.rev = at ? at - 1 : 0;
    for (;;) {
        struct store_list page = {0};
        bool more = false;
        if (range_read(d, &r, &page, &more, e)) {
            store_list_release(&page);
            return -1;
        }
        r.rev = page.rev; /* every page at the first one's revision */
        for (size_t i = 0; i < page.len; i++)
            store__list_push(out, page.items[i]);
        page.len = 0;
        if (!more || !out->len) {
            store_list_release(&page);
            break;
        }
        struct store_kv *last = out->items[out->len - 1];
        r.after = last->key;
        r.after_len = last->key_len;
        store_list_release(&page);
    }
    *rev = r.rev + 1;
    return 0;
}

/* --- the mirror's progress --- */

/* A thread waiting in wait_mirror, on its own stack. */
struct waiter {
    int64_t rev;
    pthread_cond_t cv;
    struct waiter *next;
    bool linked;
};

static void set_pub(struct etcd *d, int64_t rev)
{
    pthread_mutex_lock(&d->pub_mu);
    d->pub = rev;
    for (struct waiter **p = &d->waiters; *p;) {
        struct waiter *w = *p;
        if (w->rev <= rev) {
            *p = w->next;
            w->linked = false;
            pthread_cond_signal(&w->cv);
        } else {
            p = &w->next;
        }
    }
    pthread_mutex_unlock(&d->pub_mu);
}

/* Waits at most ms until the mirror has reached etcd revision rev. */
static bool wait_mirror(struct etcd *d, int64_t rev, long ms)
{
    pthread_mutex_lock(&d->pub_mu);
    if (d->pub >= rev) {
        pthread_mutex_unlock(&d->pub_mu);
        return true;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += ms % 1000 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    struct waiter w = {.rev = rev, .next = d->waiters, .linked = true};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &ca);
    pthread_condattr_destroy(&ca);
    d->waiters = &w;
    while (w.linked && !pthread_cond_timedwait(&w.cv, &d->pub_mu, &until))
        ;
    if (w.linked) { /* timed out */
        struct waiter **p = &d->waiters;
        while (*p != &w)
            p = &(*p)->next;
        *p = w.next;
    }
    bool ok = d->pub >= rev;
    pthread_mutex_unlock(&d->pub_mu);
    pthread_cond_destroy(&w.cv);
    return ok;
}

/* Replaces the mirror with the keys as etcd has them now. */
static int resync(struct etcd *d, struct err *e)
{
    struct store_list l = {0};
    int64_t rev;
    int rc = fill_read(d, 0, &l, &rev, e);
    if (!rc) {
        /* Counted before the reset cancels the watchers: whoever sees the
         * cancellation sees the resync counted. */
        atomic_fetch_add(&d->resyncs, 1);
        store__mem_reset(d->mirror, rev - 1, &l);
        set_pub(d, rev);
    }
    store_list_release(&l);
    return rc;
}

/* --- watch streams --- */

/* A watch request being read: the gateway sends one JSON object per line. */
struct stream {
    struct etcd *d;
    struct strbuf line;
    /* Called per response; returns false to end the stream. */
    bool (*on_msg)(struct stream *st, json_t *result);
    bool ended;          /* on_msg asked to stop */
    int64_t compact_rev; /* etcd's compact_revision of a cancelled watch */
    bool failed;
    bool resync; /* the live stream cannot go on from where it is */
    bool got;    /* a response came */
    char why[200];
};

/* Handles one complete line; returns false to stop reading. */
static bool stream_line(struct stream *st, const char *p, size_t n)
{
    json_t *j = json_loadb(p, n, 0, NULL);
    json_t *res = json_object_get(j, "result");
    const char *emsg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    bool go_on = false;
    if (!res) {
        st->failed = true;
        snprintf(st->why, sizeof st->why, "watch: %s", emsg ? emsg : "unreadable response");
    } else if (json_is_true(json_object_get(res, "canceled"))) {
        st->compact_rev = jint(res, "compact_revision");
        st->failed = true;
        snprintf(st->why, sizeof st->why, "watch cancelled by etcd (compacted at %" PRId64 ")",
                 st->compact_rev - 1);
    } else {
        st->got = true;
        go_on = st->on_msg(st, res);
        st->ended = !go_on;
    }
    json_decref(j);
    return go_on;
}

static size_t stream_sink(char *p, size_t size, size_t n, void *arg)
{
    struct stream *st = arg;
    size_t len = size * n, i = 0;
    while (i < len) {
        const char *nl = memchr(p + i, '\n', len - i);
        size_t take = nl ? (size_t)(nl - (p + i)) : len - i;
        if (!nl || st->line.len) {
            if (strbuf_add(&st->line, p + i, take)) {
                st->failed = true;
                snprintf(st->why, sizeof st->why, "watch response over %zu bytes", ETCD_LINE_MAX);
                return 0;
            }
        }
        if (!nl)
            break;
        /* A whole line: parse it in place when it came in one piece. */
        bool go_on = st->line.len ? stream_line(st, st->line.buf, st->line.len)
                                  : stream_line(st, p + i, take);
        strbuf_reset(&st->line);
        if (!go_on)
            return 0;
        i += take + 1;
    }
    return len;
}

/* Sets up h to watch the etcd range [key, end) (base64) from etcd revision
 * start; returns the request body, which must live as long as the transfer. */
static char *stream_setup(struct stream *st, CURL *h, const char *key, const char *end,
                          int64_t start)
{
    struct etcd *d = st->d;
    size_t n = strlen(key) + strlen(end) + 128;
    char *body = xmalloc(n);
    snprintf(body, n,
             "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\","
             "\"start_revision\":\"%" PRId64 "\"}}",
             key, end, start);
    set_url(d, h, "/v3/watch");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, d->hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
    strbuf_init(&st->line, ETCD_LINE_MAX);
    return body;
}

/* Runs a watch of [key, end) from etcd revision start in the calling thread
 * until on_msg ends it. Returns 0, or -1 with st->why (and compact_rev) set. */
static int stream_run_sync(struct stream *st, const char *key, const char *end, int64_t start)
{
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    char *body = stream_setup(st, h, key, end, start);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, st->d->timeout_ms);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    free(body);
    strbuf_release(&st->line);
    if (st->ended)
        return 0;
    if (!st->failed)
        snprintf(st->why, sizeof st->why, "watch stream: %s", curl_easy_strerror(cc));
    return -1;
}

/* The live stream: applies each event to the mirror, in etcd's order, then
 * moves pub past the response. Events outside the prefix only advance the
 * mirror's revision, once per response, so that a change of the store's at the
 * same revision (a transaction of another client's) still applies. */
static bool live_msg(struct stream *st, json_t *res)
{
    struct etcd *d = st->d;
    size_t i;
    json_t *ev;
    int64_t last = 0, start = d->pub; /* only this thread moves pub */
    json_array_foreach(json_object_get(res, "events"), i, ev)
    {
        const char *type = json_string_value(json_object_get(ev, "type"));
        int64_t mod;
        struct store_kv *kv =
            kv_from_json(d, json_object_get(ev, "kv"), type && !strcmp(type, "DELETE"), &mod);
        if (mod + 1 <= start) { /* a resumed stream may repeat what the mirror has */
            store_kv_unref(kv);
            continue;
        }
        struct err e;
        if (kv && store__mem_apply(d->mirror, kv, &e)) {
            st->resync = true;
            snprintf(st->why, sizeof st->why, "%s", e.msg);
            break;
        }
        if (mod + 1 > last)
            last = mod + 1;
    }
    if (last) {
        store__mem_advance(d->mirror, last - 1);
        set_pub(d, last);
    }
    return !st->resync && !atomic_load(&d->stop);
}

static void *live_main(void *arg)
{
    struct etcd *d = arg;
    bool need_resync = false, logged = false;
    while (!atomic_load(&d->stop)) {
        struct err e;
        if (need_resync) {
            if (resync(d, &e)) {
                fprintf(stderr, "store etcd %s: re-reading the prefix: %s; retrying\n", d->url,
                        e.msg);
                curl_multi_poll(d->multi, NULL, 0, RECONNECT_MS, NULL);
                continue;
            }
            need_resync = false;
        }
        struct stream st = {.d = d, .on_msg = live_msg};
        CURL *h = curl_easy_init();
        if (!h)
            abort();
        pthread_mutex_lock(&d->pub_mu);
        int64_t from = d->pub + 1;
        pthread_mutex_unlock(&d->pub_mu);
        char *body = stream_setup(&st, h, "AA==", "AA==", from);
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
        free(body);
        strbuf_release(&st.line);
        if (atomic_load(&d->stop))
            break;
        /* The stream ended (etcd restarted, the connection dropped). Resume from
         * pub + 1 unless that cannot give every change since: etcd compacted
         * past it, its revision went back (a new etcd), or the mirror refused
         * an event. */
        int64_t now;
        if (st.resync || st.compact_rev) {
            need_resync = true;
        } else if (!etcd_now(d, &now, "watch", &e)) {
            pthread_mutex_lock(&d->pub_mu);
            need_resync = now < d->pub;
            pthread_mutex_unlock(&d->pub_mu);
            if (need_resync)
                snprintf(st.why, sizeof st.why,
                         "etcd's revision went back from %" PRId64 " to %" PRId64, from - 1, now);
        }
        /* Once per outage: a stream that got nothing is the same outage. */
        if (st.got)
            logged = false;
        if (!logged || need_resync)
            fprintf(stderr, "store etcd %s: %s; %s\n", d->url,
                    st.failed || st.resync || need_resync ? st.why : "watch stream ended",
                    need_resync ? "re-reading the prefix" : "reconnecting");
        logged = true;
        if (!need_resync)
            curl_multi_poll(d->multi, NULL, 0, RECONNECT_MS, NULL);
    }
    return NULL;
}

/* --- ops --- */

/* Asks etcd for its revision and waits until the mirror has it. Returns 1 when
 * the mirror can serve a consistent read, 0 when it did not catch up in time
 * (read etcd instead), -1 with e filled when etcd did not answer. */
static int fresh(struct etcd *d, const char *what, struct err *e)
{
    int64_t rev;
    if (etcd_now(d, &rev, what, e))
        return -1;
    if (wait_mirror(d, rev, FRESH_WAIT_MS))
        return 1;
    atomic_fetch_add(&d->reads_direct, 1);
    return 0;
}

static int etcd_get(struct store *s, const char *key, size_t key_len, struct store_kv **out,
                    struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "get %s", key);
    int ok = fresh(d, what, e);
    if (ok < 0)
        return -1;
    if (ok)
        return d->mirror->ops->get(d->mirror, key, key_len, out, e);
    struct store__range r = {.prefix = key, .prefix_len = key_len, .limit = 1};
    struct store_list l = {0};
    bool more;
    if (range_read(d, &r, &l, &more, e)) {
        store_list_release(&l);
        return -1;
    }
    /* The range is the key's prefix range: the first key is the key itself or
     * a longer one. */
    if (l.len && l.items[0]->key_len == key_len)
        *out = store_kv_ref(l.items[0]);
    store_list_release(&l);
    return *out ? 0 : errf(e, STORE_ENOTFOUND, "get %s: not found", key);
}

static int etcd_list(struct store *s, const struct store__range *r, struct store_list *out,
                     bool *more, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    bool mirror;
    if (!r->rev) {
        char what[STORE_KEY_MAX + 16];
        snprintf(what, sizeof what, "list %s", r->prefix);
        int ok = fresh(d, what, e);
        if (ok < 0)
            return -1;
        mirror = ok;
    } else {
        /* A page of a list at a revision the mirror may not have reached yet
         * (a token from another server). */
        mirror = wait_mirror(d, r->rev + 1, FRESH_WAIT_MS);
        if (!mirror)
            atomic_fetch_add(&d->reads_direct, 1);
    }
    if (mirror)
        return d->mirror->ops->list(d->mirror, r, out, more, e);
    return range_read(d, r, out, more, e);
}

static int etcd_write(struct store *s, const struct store__op *op, struct store_kv **out,
                      struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    char what[STORE_KEY_MAX + 16];
    snprintf(what, sizeof what, "%s %s", what_op[op->kind], op->key);
    struct strbuf b;
    strbuf_init(&b, ETCD_REQUEST_MAX);
    strbuf_addstr(&b, "{\"compare\":[{\"key\":");
    sb_key(d, &b, op->key, op->key_len, false);
    if (op->kind == STORE__CREATE || !op->expect_rev)
        strbuf_addf(&b, ",\"target\":\"CREATE\",\"result\":\"%s\",\"create_revision\":\"0\"}]",
                    op->kind == STORE__CREATE ? "EQUAL" : "GREATER");
    else
        strbuf_addf(&b,
                    ",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\"%" PRId64 "\"}]",
                    op->expect_rev + 1);
    strbuf_addstr(&b, op->kind == STORE__DELETE
                          ? ",\"success\":[{\"request_delete_range\":{\"key\":"
                          : ",\"success\":[{\"request_put\":{\"key\":");
    sb_key(d, &b, op->key, op->key_len, false);
    if (op->kind != STORE__DELETE) {
        strbuf_addstr(&b, ",\"value\":\"");
        sb_b64(&b, op->value, op->value_len);
        strbuf_addch(&b, '"');
    }
    strbuf_addstr(&b, "}}]");
    if (op->kind != STORE__CREATE) {
        /* To tell not-found from conflict, and name the revision found. */
        strbuf_addstr(&b, ",\"failure\":[{\"request_range\":{\"key\":");
        sb_key(d, &b, op->key, op->key_len, false);
        strbuf_addstr(&b, ",\"keys_only\":true}}]");
    }
    strbuf_addch(&b, '}');
    assert(b.len < ETCD_REQUEST_MAX);
    json_t *resp;
    int rc = call(d, "/v3/kv/txn", &b, &resp, what, e);
    strbuf_release(&b);
    if (rc)
        return -1;
    int64_t rev = jint(json_object_get(resp, "header"), "revision");
    if (!json_is_true(json_object_get(resp, "succeeded"))) {
        json_t *r0 = json_array_get(json_object_get(resp, "responses"), 0);
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
        json_decref(resp);
        return rc;
    }
    json_decref(resp);
    atomic_fetch_add(&d->writes, 1);
    if (!wait_mirror(d, rev, d->timeout_ms + 1000))
        return errf(e, STORE_EIO,
                    "%s: etcd committed revision %" PRId64
                    " but its event did not come back on the watch stream",
                    what, rev - 1);
    /* The version the watchers got. The mirror lacks it only if it re-read
     * etcd (or compacted) past the write meanwhile: read it back from etcd. */
    *out = store__mem_version(d->mirror, op->key, op->key_len, rev - 1);
    if (*out)
        return 0;
    struct store__range r = {.prefix = op->key,
                             .prefix_len = op->key_len,
                             .limit = 1,
                             .rev = op->kind == STORE__DELETE ? rev - 2 : rev - 1};
    struct store_list l = {0};
    bool more;
    if (range_read(d, &r, &l, &more, e) == 0 && l.len && l.items[0]->key_len == op->key_len) {
        struct store_kv *v = l.items[0];
        *out = op->kind == STORE__DELETE ? store__kv_new(v->key, v->key_len, v->value, v->value_len,
                                                         v->create_rev, rev - 1, STORE_DELETED)
                                         : store_kv_ref(v);
    } else {
        errf(e, STORE_EIO, "%s: committed at revision %" PRId64 ", but its version is gone", what,
             rev - 1);
    }
    store_list_release(&l);
    return *out ? 0 : -1;
}

static int etcd_watch(struct store *s, struct store_watch *w, int64_t from_rev, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    /* A list may have read a revision etcd committed that the mirror has not
     * yet brought: give it a moment before the mirror calls it the future. */
    if (from_rev)
        wait_mirror(d, from_rev + 1, WATCH_WAIT_MS);
    return d->mirror->ops->watch(d->mirror, w, from_rev, e);
}

static int etcd_compact(struct store *s, int64_t rev, struct err *e)
{
    struct etcd *d = (struct etcd *)s;
    if (rev <= d->mirror->ops->compacted_rev(d->mirror))
        return 0;
    char what[64];
    snprintf(what, sizeof what, "compact at %" PRId64, rev);
    struct strbuf b;
    strbuf_init(&b, 128);
    strbuf_addf(&b, "{\"revision\":\"%" PRId64 "\",\"physical\":true}", rev + 1);
    json_t *resp;
    /* physical: etcd answers once the compaction is applied, so a read right
     * after it sees it. */
    int rc = call(d, "/v3/kv/compaction", &b, &resp, what, e);
    strbuf_release(&b);
    if (rc && e->code != STORE_ECOMPACTED) /* another client compacted further */
        return -1;
    json_decref(resp);
    return d->mirror->ops->compact(d->mirror, rev, e);
}

static int64_t etcd_rev(struct store *s)
{
    struct etcd *d = (struct etcd *)s;
    return d->mirror->ops->rev(d->mirror);
}

static int64_t etcd_compacted_rev(struct store *s)
{
    struct etcd *d = (struct etcd *)s;
    return d->mirror->ops->compacted_rev(d->mirror);
}

static void etcd_stats(struct store *s, struct store_stats *st)
{
    struct etcd *d = (struct etcd *)s;
    d->mirror->ops->stats(d->mirror, st);
    /* etcd batches proposals itself; its batches are not visible here. */
    st->writes = st->commits = atomic_load(&d->writes);
    st->resyncs = atomic_load(&d->resyncs);
    st->reads_direct = atomic_load(&d->reads_direct);
}

static void etcd_free(struct etcd *d)
{
    for (size_t i = 0; i < d->npool; i++)
        curl_easy_cleanup(d->pool[i]);
    free(d->pool);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    if (d->mirror)
        d->mirror->ops->close(d->mirror);
    curl_slist_free_all(d->hdr);
    pthread_mutex_destroy(&d->pool_mu);
    pthread_mutex_destroy(&d->pub_mu);
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

/* The compaction probe: etcd answers a watch from before its compaction with
 * "created", then cancels it with its compact_revision; read until then. */
static bool probe_msg(struct stream *st, json_t *res)
{
    (void)st;
    return !json_array_size(json_object_get(res, "events"));
}

/* etcd's compaction revision (0: none). A range at revision 1 succeeds when
 * nothing was compacted; otherwise a watch of one key from revision 1 is
 * cancelled with the revision. */
static int etcd_compaction(struct etcd *d, int64_t *compact, struct err *e)
{
    *compact = 0;
    struct strbuf b;
    strbuf_init(&b, 256);
    strbuf_addstr(&b, "{\"key\":\"AA==\",\"count_only\":true,\"revision\":\"1\"}");
    json_t *resp;
    int rc = call(d, "/v3/kv/range", &b, &resp, "open etcd store", e);
    strbuf_release(&b);
    json_decref(resp);
    if (!rc || e->code != STORE_ECOMPACTED)
        return rc;
    struct stream st = {.d = d, .on_msg = probe_msg};
    if (!stream_run_sync(&st, "AA==", "", 1) || !st.compact_rev)
        return errf(e, STORE_EIO, "open etcd store: compaction probe: %s",
                    st.why[0] ? st.why : "not cancelled");
    *compact = st.compact_rev;
    return 0;
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
    d->history = o && o->history > 0 ? o->history : ETCD_DEFAULT_HISTORY;
    d->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    pthread_mutex_init(&d->pool_mu, NULL);
    pthread_mutex_init(&d->pub_mu, NULL);

    /* Fill the mirror at the oldest revision whose history it will hold (etcd's
     * compaction, or `history` revisions back), so that watches from before
     * the open replay as they would have on the last server; the live stream
     * then brings it to the present. */
    int64_t now, compact, start;
    struct store_list l = {0};
    if (etcd_now(d, &now, "open etcd store", e) || etcd_compaction(d, &compact, e))
        goto fail;
    start = now - d->history > compact ? now - d->history : compact;
    if (start <= 1) {
        start = 1; /* etcd's empty state */
    } else if (fill_read(d, start, &l, &start, e)) {
        if (e->code != STORE_ECOMPACTED || fill_read(d, 0, &l, &start, e))
            goto fail; /* (compacted meanwhile: start from the present) */
    }
    d->base.hub = store__hub_create();
    d->mirror = store__mem_mirror(d->base.hub, d->history);
    store__mem_reset(d->mirror, start - 1, &l);
    store_list_release(&l);
    d->pub = start;
    d->multi = curl_multi_init();
    if (!d->multi)
        abort();
    if (pthread_create(&d->th, NULL, live_main, d)) {
        errf(e, STORE_EIO, "open etcd store: cannot start the watch thread");
        goto fail;
    }
    if (!wait_mirror(d, now, d->timeout_ms))
        fprintf(stderr,
                "store etcd %s: the watch cache has not reached revision %" PRId64
                " after %ld ms; reads wait for it\n",
                d->url, now - 1, d->timeout_ms);
    return &d->base;
fail:
    store_list_release(&l);
    if (d->base.hub)
        store__hub_close(d->base.hub);
    etcd_free(d);
    return NULL;
}
