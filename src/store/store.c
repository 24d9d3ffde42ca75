/*
 * store.c: the backend-independent layer: versions, argument checks, continue
 * tokens, dispatch to the backend.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/store_int.h"

/* --- versions --- */

/* A version is one allocation: the struct, then the key and its NUL, then the
 * value and its NUL. */
struct store_kv *store__kv_new(const char *key, size_t key_len, const void *value, size_t value_len,
                               int64_t create_rev, int64_t mod_rev, enum store_event_type type)
{
    struct store_kv *kv = xmalloc(sizeof *kv + key_len + 1 + value_len + 1);
    char *k = (char *)(kv + 1), *v = k + key_len + 1;
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    if (value_len)
        memcpy(v, value, value_len);
    v[value_len] = '\0';
    *kv = (struct store_kv){
        .key = k,
        .key_len = key_len,
        .value = v,
        .value_len = value_len,
        .create_rev = create_rev,
        .mod_rev = mod_rev,
        .type = type,
        .refs = 1,
    };
    return kv;
}

/* The attachment slot points at a holder of the pointer and its free function,
 * published with one compare-and-swap so the pair is never seen half-written. */
struct attachment {
    void *p;
    void (*free_fn)(void *);
};

struct store_kv *store_kv_ref(struct store_kv *kv)
{
    int old = atomic_fetch_add_explicit(&kv->refs, 1, memory_order_relaxed);
    assert(old > 0);
    (void)old;
    return kv;
}

void store_kv_unref(struct store_kv *kv)
{
    if (!kv)
        return;
    int old = atomic_fetch_sub_explicit(&kv->refs, 1, memory_order_acq_rel);
    assert(old > 0);
    if (old != 1)
        return;
    struct attachment *a = atomic_load_explicit(&kv->attach, memory_order_acquire);
    if (a) {
        if (a->free_fn)
            a->free_fn(a->p);
        free(a);
    }
    free(kv);
}

void *store_kv_attach(struct store_kv *kv, void *p, void (*free_fn)(void *))
{
    struct attachment *a = xmalloc(sizeof *a);
    *a = (struct attachment){p, free_fn};
    void *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&kv->attach, &expected, a, memory_order_acq_rel,
                                                memory_order_acquire))
        return p;
    free(a);
    if (free_fn)
        free_fn(p);
    return ((struct attachment *)expected)->p;
}

void *store_kv_attachment(const struct store_kv *kv)
{
    struct attachment *a = atomic_load_explicit(&kv->attach, memory_order_acquire);
    return a ? a->p : NULL;
}

bool store__has_prefix(const char *key, size_t key_len, const char *prefix, size_t prefix_len)
{
    return key_len >= prefix_len && memcmp(key, prefix, prefix_len) == 0;
}

void store__list_push(struct store_list *l, struct store_kv *kv)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = xreallocarray(l->items, l->cap, sizeof *l->items);
    }
    l->items[l->len++] = kv;
}

void store_list_release(struct store_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        store_kv_unref(l->items[i]);
    free(l->items);
    free(l->cont);
    memset(l, 0, sizeof *l);
}

/* --- checks --- */

static int check_key(const char *key, const char *what, struct err *e)
{
    if (!key)
        return errf(e, STORE_EINVAL, "%s: no key", what);
    size_t n = strnlen(key, STORE_KEY_MAX + 1);
    if (n > STORE_KEY_MAX)
        return errf(e, STORE_EINVAL, "%s %.60s...: key longer than %d bytes", what, key,
                    STORE_KEY_MAX);
    if (n < 2 || key[0] != '/' || key[n - 1] == '/')
        return errf(e, STORE_EINVAL, "%s \"%s\": a key starts with '/' and does not end with it",
                    what, key);
    return 0;
}

static int check_value(const char *key, const void *value, size_t len, struct err *e)
{
    if (!value && len)
        return errf(e, STORE_EINVAL, "write %s: no value", key);
    if (len > STORE_VALUE_MAX)
        return errf(e, STORE_ETOOBIG, "write %s: value of %zu bytes is over the %u-byte limit", key,
                    len, STORE_VALUE_MAX);
    return 0;
}

/* --- continue tokens: "<rev>:<last key, hex>" --- */

static char *token_make(int64_t rev, const char *key, size_t key_len)
{
    static const char hex[] = "0123456789abcdef";
    char *t = xmalloc(24 + 2 * key_len + 1);
    int n = snprintf(t, 24, "%" PRId64 ":", rev);
    for (size_t i = 0; i < key_len; i++) {
        t[n++] = hex[(unsigned char)key[i] >> 4];
        t[n++] = hex[(unsigned char)key[i] & 15];
    }
    t[n] = '\0';
    return t;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Reads token into *rev and a malloc'd key. */
static int token_read(const char *t, const char *prefix, int64_t *rev, char **key, size_t *key_len,
                      struct err *e)
{
    char *end;
    errno = 0;
    long long r = strtoll(t, &end, 10);
    if (errno || end == t || *end != ':' || r <= 0)
        goto bad;
    const char *h = end + 1;
    size_t hl = strlen(h);
    if (hl % 2 || hl / 2 > STORE_KEY_MAX)
        goto bad;
    char *k = xmalloc(hl / 2 + 1);
    for (size_t i = 0; i < hl / 2; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(k);
            goto bad;
        }
        k[i] = (char)(a << 4 | b);
    }
    k[hl / 2] = '\0';
    if (!store__has_prefix(k, hl / 2, prefix, strlen(prefix))) {
        free(k);
        return errf(e, STORE_EINVAL, "list %s: the continue token belongs to another prefix",
                    prefix);
    }
    *rev = r;
    *key = k;
    *key_len = hl / 2;
    return 0;
bad:
    return errf(e, STORE_EINVAL, "list %s: continue token \"%.40s\" is not one this store made",
                prefix, t);
}

/* --- dispatch --- */

const char *store_backend(const struct store *s)
{
    return s->ops->name;
}

int64_t store_rev(struct store *s)
{
    return s->ops->rev(s);
}

int64_t store_compacted_rev(struct store *s)
{
    return s->ops->compacted_rev(s);
}

int store_get(struct store *s, const char *key, struct store_kv **out, struct err *e)
{
    *out = NULL;
    if (check_key(key, "get", e))
        return -1;
    return s->ops->get(s, key, strlen(key), out, e);
}

static int write_op(struct store *s, struct store__op *op, struct store_kv **out, struct err *e)
{
    static const char *const what[] = {"create", "update", "delete"};
    if (out)
        *out = NULL;
    if (check_key(op->key, what[op->kind], e))
        return -1;
    if (op->kind != STORE__DELETE && check_value(op->key, op->value, op->value_len, e))
        return -1;
    if (op->expect_rev < 0)
        return errf(e, STORE_EINVAL, "%s %s: negative expected revision", what[op->kind], op->key);
    op->key_len = strlen(op->key);
    struct store_kv *kv = NULL;
    if (s->ops->write(s, op, &kv, e))
        return -1;
    if (out)
        *out = kv;
    else
        store_kv_unref(kv);
    return 0;
}

int store_create(struct store *s, const char *key, const void *value, size_t len,
                 struct store_kv **out, struct err *e)
{
    struct store__op op = {.kind = STORE__CREATE, .key = key, .value = value, .value_len = len};
    return write_op(s, &op, out, e);
}

int store_update(struct store *s, const char *key, const void *value, size_t len,
                 int64_t expect_rev, struct store_kv **out, struct err *e)
{
    struct store__op op = {.kind = STORE__UPDATE,
                           .key = key,
                           .value = value,
                           .value_len = len,
                           .expect_rev = expect_rev};
    return write_op(s, &op, out, e);
}

int store_delete(struct store *s, const char *key, int64_t expect_rev, struct store_kv **out,
                 struct err *e)
{
    struct store__op op = {.kind = STORE__DELETE, .key = key, .expect_rev = expect_rev};
    return write_op(s, &op, out, e);
}

int store_list(struct store *s, const char *prefix, const struct store_list_opts *o,
               struct store_list *out, struct err *e)
{
    static const struct store_list_opts none;
    memset(out, 0, sizeof *out);
    if (!o)
        o = &none;
    if (!prefix || prefix[0] != '/' || strlen(prefix) > STORE_KEY_MAX)
        return errf(e, STORE_EINVAL, "list \"%.60s\": a prefix starts with '/'",
                    prefix ? prefix : "(null)");
    if (o->rev < 0)
        return errf(e, STORE_EINVAL, "list %s: negative revision", prefix);
    struct store__range r = {
        .prefix = prefix, .prefix_len = strlen(prefix), .limit = o->limit, .rev = o->rev};
    char *after = NULL;
    if (o->cont && o->cont[0]) {
        if (token_read(o->cont, prefix, &r.rev, &after, &r.after_len, e))
            return -1;
        r.after = after;
    }
    bool more = false;
    int rc = s->ops->list(s, &r, out, &more, e);
    free(after);
    if (rc)
        return -1;
    if (more && out->len) {
        struct store_kv *last = out->items[out->len - 1];
        out->cont = token_make(out->rev, last->key, last->key_len);
    }
    return 0;
}

int store_compact(struct store *s, int64_t rev, struct err *e)
{
    int64_t cur = s->ops->rev(s);
    if (rev < 0 || rev > cur)
        return errf(e, rev < 0 ? STORE_EINVAL : STORE_EFUTURE,
                    "compact at %" PRId64 ": the store is at revision %" PRId64, rev, cur);
    return s->ops->compact(s, rev, e);
}

void store_stats(struct store *s, struct store_stats *st)
{
    memset(st, 0, sizeof *st);
    s->ops->stats(s, st);
    store__hub_counts(s->hub, &st->watchers, &st->watch_cancelled);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    struct store__hub *h = s->hub;
    s->ops->close(s);
    store__hub_close(h);
}
