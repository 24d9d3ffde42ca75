/* Tests for model/selector: matchLabels and every matchExpressions operator,
 * nil versus empty selectors, and selectors decoded from YAML (the way a
 * ClusterQueue's namespaceSelector arrives). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

static struct model_kv team_a_kv[] = {{"team", "a"}, {"tier", "gold"}};
static const struct model_kv_list team_a = {team_a_kv, 2};
static struct model_kv team_b_kv[] = {{"team", "b"}};
static const struct model_kv_list team_b = {team_b_kv, 1};
static const struct model_kv_list no_labels = {NULL, 0};

static void test_nil_and_empty(void **state)
{
    struct selector nil = {0};
    assert_false(selector_matches(&nil, &team_a));
    assert_false(selector_matches(&nil, &no_labels));
    assert_false(selector_is_everything(&nil));
    struct selector empty = {.present = true};
    assert_true(selector_matches(&empty, &team_a));
    assert_true(selector_matches(&empty, &no_labels));
    assert_true(selector_is_everything(&empty));
}

static void test_match_labels(void **state)
{
    struct model_kv want[] = {{"team", "a"}};
    struct selector s = {.present = true, .match_labels = {want, 1}};
    assert_true(selector_matches(&s, &team_a));
    assert_false(selector_matches(&s, &team_b));
    assert_false(selector_matches(&s, &no_labels));
    assert_false(selector_is_everything(&s));
}

static void test_expressions(void **state)
{
    static const char *ab[] = {"a", "b"};
    static const char *b[] = {"b"};
    static const struct {
        struct selector_req req;
        bool a, b, none;
    } cases[] = {
        {{"team", SELECTOR_OP_IN, ab, 2}, true, true, false},
        {{"team", SELECTOR_OP_IN, b, 1}, false, true, false},
        {{"team", SELECTOR_OP_NOT_IN, b, 1}, true, false, true},
        {{"tier", SELECTOR_OP_EXISTS, NULL, 0}, true, false, false},
        {{"tier", SELECTOR_OP_DOES_NOT_EXIST, NULL, 0}, false, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct selector_req r = cases[i].req;
        struct selector s = {.present = true, .exprs = &r, .n_exprs = 1};
        if (selector_matches(&s, &team_a) != cases[i].a ||
            selector_matches(&s, &team_b) != cases[i].b ||
            selector_matches(&s, &no_labels) != cases[i].none)
            fail_msg("case %zu (%s %s) wrong", i, r.key, selector_op_name(r.op));
    }
}

/* Terms are ANDed: labels and expressions must all hold. */
static void test_and(void **state)
{
    struct model_kv want[] = {{"team", "a"}};
    struct selector_req r = {"tier", SELECTOR_OP_DOES_NOT_EXIST, NULL, 0};
    struct selector s = {.present = true, .match_labels = {want, 1}, .exprs = &r, .n_exprs = 1};
    assert_false(selector_matches(&s, &team_a));
    struct model_kv only_team[] = {{"team", "a"}};
    struct model_kv_list l = {only_team, 1};
    assert_true(selector_matches(&s, &l));
}

static struct model_obj *decode_cq(const char *selector_yaml)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {name: cq}\n"
             "spec:\n%s",
             selector_yaml);
    struct model_obj **objs;
    size_t n;
    struct err e;
    if (model_decode_yaml_stream(buf, strlen(buf), NULL, &objs, &n, &e) < 0)
        fail_msg("decode: %s", e.msg);
    assert_int_equal(n, 1);
    struct model_obj *o = objs[0];
    free(objs);
    return o;
}

static void test_decoded(void **state)
{
    struct model_obj *o = decode_cq("  queueingStrategy: StrictFIFO\n");
    assert_false(o->u.cluster_queue.namespace_selector.present); /* nil: no namespace */
    assert_false(selector_matches(&o->u.cluster_queue.namespace_selector, &team_a));
    model_obj_free(o);

    o = decode_cq("  namespaceSelector: {}\n");
    assert_true(selector_is_everything(&o->u.cluster_queue.namespace_selector));
    model_obj_free(o);

    o = decode_cq("  namespaceSelector:\n"
                  "    matchLabels: {tier: gold}\n"
                  "    matchExpressions:\n"
                  "    - {key: team, operator: In, values: [a, c]}\n");
    const struct selector *s = &o->u.cluster_queue.namespace_selector;
    assert_int_equal(s->n_exprs, 1);
    assert_int_equal(s->exprs[0].op, SELECTOR_OP_IN);
    assert_int_equal(s->exprs[0].n_values, 2);
    assert_true(selector_matches(s, &team_a));
    assert_false(selector_matches(s, &team_b));
    model_obj_free(o);
}

static void test_decode_errors(void **state)
{
    static const struct {
        const char *yaml;
        const char *msg;
    } cases[] = {
        {"  namespaceSelector:\n    matchExpressions:\n    - {key: team, operator: In}\n",
         "ClusterQueue \"cq\": spec.namespaceSelector.matchExpressions[0].values: must be "
         "non-empty for operator In"},
        {"  namespaceSelector:\n    matchExpressions:\n    - {key: team, operator: Exists, "
         "values: [a]}\n",
         "ClusterQueue \"cq\": spec.namespaceSelector.matchExpressions[0].values: must be "
         "empty for operator Exists"},
        {"  namespaceSelector:\n    matchExpressions:\n    - {key: team, operator: Has}\n",
         "ClusterQueue \"cq\": spec.namespaceSelector.matchExpressions[0].operator: "
         "unsupported value \"Has\": must be one of In, NotIn, Exists, DoesNotExist"},
        {"  namespaceSelector:\n    matchLabel: {a: b}\n",
         "ClusterQueue \"cq\": unknown field \"spec.namespaceSelector.matchLabel\""},
        {"  namespaceSelector:\n    matchLabels: {team: \"a b\"}\n",
         "ClusterQueue \"cq\": spec.namespaceSelector.matchLabels[team]: invalid label value "
         "\"a b\": must consist of alphanumeric characters, '-', '_' or '.'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf,
                 "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {name: cq}\n"
                 "spec:\n%s",
                 cases[i].yaml);
        struct model_obj **objs = NULL;
        size_t n = 0;
        struct err e = {0};
        if (model_decode_yaml_stream(buf, strlen(buf), NULL, &objs, &n, &e) == 0)
            fail_msg("case %zu accepted", i);
        if (strcmp(e.msg, cases[i].msg) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, e.msg, cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nil_and_empty), cmocka_unit_test(test_match_labels),
        cmocka_unit_test(test_expressions),   cmocka_unit_test(test_and),
        cmocka_unit_test(test_decoded),       cmocka_unit_test(test_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
