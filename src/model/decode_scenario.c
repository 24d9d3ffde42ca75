/*
 * decode_scenario: muster.dev/v1alpha1 Scenario, the expectations document of a
 * scenario file (docs/scenarios.md).
 *
 * For each list of an expectation the struct records whether the key was
 * written at all, since an omitted list is unchecked while `[]` asserts that
 * the set is empty. Workloads are named "namespace/name" everywhere.
 */
#include <string.h>

#include "base/mtime.h"
#include "model/model_internal.h"

static const char *const strategies[] = {"LessThanOrEqualToFinalShare", "LessThanInitialShare",
                                         NULL};

static int decode_config(struct model__dctx *c, json_t *spec, struct model_scenario *s)
{
    json_t *cfg, *fs, *bf, *pl;
    if (model__get_object(c, spec, "config", &cfg, false) < 0)
        return -1;
    size_t old = model__push(c, "config");
    static const char *const fields[] = {"fairSharing", "backfill", "placement", NULL};
    if (model__fields(c, cfg, fields) < 0 ||
        model__get_object(c, cfg, "fairSharing", &fs, false) < 0 ||
        model__get_object(c, cfg, "backfill", &bf, false) < 0 ||
        model__get_object(c, cfg, "placement", &pl, false) < 0)
        return -1;

    size_t o2 = model__push(c, "fairSharing");
    static const char *const fs_fields[] = {"enable", "preemptionStrategies", NULL};
    if (model__fields(c, fs, fs_fields) < 0 ||
        model__get_bool(c, fs, "enable", &s->fair_sharing, NULL) < 0 ||
        model__get_string_list(c, fs, "preemptionStrategies", &s->preemption_strategies, 2, NULL,
                               true) < 0)
        return -1;
    for (size_t i = 0; i < s->preemption_strategies.len; i++) {
        const char *v = s->preemption_strategies.v[i];
        if (strcmp(v, strategies[0]) != 0 && strcmp(v, strategies[1]) != 0) {
            size_t o3 = model__push(c, "preemptionStrategies");
            model__push_index(c, i);
            model__fail(c, "unsupported value \"%.60s\": must be one of %s, %s", v, strategies[0],
                        strategies[1]);
            model__pop(c, o3);
            return -1;
        }
    }
    model__pop(c, o2);

    o2 = model__push(c, "backfill");
    static const char *const bf_fields[] = {"enable", NULL};
    if (model__fields(c, bf, bf_fields) < 0 ||
        model__get_bool(c, bf, "enable", &s->backfill, NULL) < 0)
        return -1;
    model__pop(c, o2);

    o2 = model__push(c, "placement");
    static const char *const pl_fields[] = {"policy", NULL};
    if (model__fields(c, pl, pl_fields) < 0 ||
        model__get_name(c, pl, "policy", &s->placement_policy, false, NULL) < 0)
        return -1;
    if (s->placement_policy && !*s->placement_policy)
        return model__fail_at(c, "policy", "must not be empty");
    model__pop(c, o2);
    model__pop(c, old);
    return 0;
}

/* A list of "ns/name"; *has records whether the key was written. */
static int workload_list(struct model__dctx *c, json_t *x, const char *key,
                         struct model_string_list *out, bool *has)
{
    *has = json_object_get(x, key) != NULL;
    if (*has && json_is_null(json_object_get(x, key)))
        return model__fail_at(c, key, "must be a list (got null); write [] for an empty set");
    return model__get_string_list(c, x, key, out, 0, model__check_ns_name, true);
}

/* Checks that a map key is "ns/name" with the key pushed on the path. */
static int check_key(struct model__dctx *c, const char *k)
{
    const char *why = model__check_ns_name(k);
    if (why)
        return model__fail(c, "invalid workload \"%.64s\": %s", k, why);
    return 0;
}

static int decode_expect_maps(struct model__dctx *c, json_t *x, struct model_expect *ex)
{
    json_t *fl, *nodes;
    if (model__get_object(c, x, "flavors", &fl, false) < 0 ||
        model__get_string_map(c, x, "reasons", &ex->reasons, MODEL__KV_ANY) < 0 ||
        model__get_object(c, x, "nodes", &nodes, false) < 0)
        return -1;
    for (size_t i = 0; i < ex->reasons.len; i++) {
        size_t o = model__push(c, "reasons");
        if (check_key(c, ex->reasons.v[i].key) < 0)
            return -1;
        model__pop(c, o);
    }
    const char *k;
    json_t *v;
    if (fl) {
        size_t n = json_object_size(fl);
        ex->flavors = arena_zalloc(c->a, (n ? n : 1) * sizeof *ex->flavors);
        size_t o = model__push(c, "flavors");
        json_object_foreach(fl, k, v)
        {
            struct model_expect_flavors *f = &ex->flavors[ex->n_flavors++];
            if (check_key(c, k) < 0 ||
                model__get_string_map(c, fl, k, &f->flavors, MODEL__KV_RESOURCE_FLAVOR) < 0)
                return -1;
            if (!json_is_object(v))
                return model__fail_at(c, k, "must be a map of resource to flavor");
            f->workload = model__strdup(c, k);
        }
        model__pop(c, o);
    }
    if (nodes) {
        size_t n = json_object_size(nodes);
        ex->nodes = arena_zalloc(c->a, (n ? n : 1) * sizeof *ex->nodes);
        size_t o = model__push(c, "nodes");
        json_object_foreach(nodes, k, v)
        {
            struct model_expect_nodes *nd = &ex->nodes[ex->n_nodes++];
            if (check_key(c, k) < 0 || model__get_string_list(c, nodes, k, &nd->nodes, 0,
                                                              model__check_dns_subdomain, true) < 0)
                return -1;
            if (!json_is_array(v))
                return model__fail_at(c, k, "must be a list of node names");
            nd->workload = model__strdup(c, k);
        }
        model__pop(c, o);
    }
    return 0;
}

static int decode_expect(struct model__dctx *c, json_t *spec, struct model_scenario *s)
{
    json_t *arr;
    if (model__get_array(c, spec, "expect", &arr, false, 0) < 0)
        return -1;
    size_t n = arr ? json_array_size(arr) : 0;
    s->expect = arena_zalloc(c->a, (n ? n : 1) * sizeof *s->expect);
    s->n_expect = n;
    size_t old = model__push(c, "expect");
    static const char *const fields[] = {"at",      "admitted", "pending", "preempted", "finished",
                                         "flavors", "reasons",  "nodes",   NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        struct model_expect *ex = &s->expect[i];
        size_t o2 = model__push_index(c, i);
        const char *at = NULL;
        if (model__fields(c, x, fields) < 0 || model__get_string(c, x, "at", &at, true) < 0)
            return -1;
        struct err de;
        if (mtime_parse_duration(at, &ex->at_ns, &de) < 0)
            return model__fail_at(c, "at", "%s", de.msg);
        if (workload_list(c, x, "admitted", &ex->admitted, &ex->has_admitted) < 0 ||
            workload_list(c, x, "pending", &ex->pending, &ex->has_pending) < 0 ||
            workload_list(c, x, "preempted", &ex->preempted, &ex->has_preempted) < 0 ||
            workload_list(c, x, "finished", &ex->finished, &ex->has_finished) < 0 ||
            decode_expect_maps(c, x, ex) < 0)
            return -1;
        /* A workload cannot be both admitted and pending at one instant. */
        for (size_t a = 0; a < ex->admitted.len; a++)
            for (size_t p = 0; p < ex->pending.len; p++)
                if (strcmp(ex->admitted.v[a], ex->pending.v[p]) == 0)
                    return model__fail_at(c, "pending", "\"%s\" is also listed in admitted",
                                          ex->pending.v[p]);
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}

int model__decode_scenario(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_scenario *s = &o->u.scenario;
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    json_t *spec;
    s->description = "";
    if (model__fields(c, root, top) < 0 || model__get_object(c, root, "spec", &spec, true) < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"description", "config", "expect", NULL};
    if (model__fields(c, spec, fields) < 0 ||
        model__get_string(c, spec, "description", &s->description, false) < 0 ||
        decode_config(c, spec, s) < 0 || decode_expect(c, spec, s) < 0)
        return -1;
    model__pop(c, old);
    return 0;
}
