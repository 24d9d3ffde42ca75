/*
 * selector: Kubernetes label selectors (metav1.LabelSelector).
 *
 * A selector is matchLabels (key = value pairs, all required) plus
 * matchExpressions (key, operator In / NotIn / Exists / DoesNotExist, values),
 * all ANDed. Two empty selectors differ in meaning, and the difference matters
 * to Kueue: a ClusterQueue whose namespaceSelector is absent (nil) admits from
 * no namespace, while `namespaceSelector: {}` admits from every namespace.
 * `present` records which one was written; selector_matches() applies it.
 *
 * Ownership: a selector decoded by the model lives in its object's arena; the
 * arrays and strings are not freed individually. A caller that builds one by
 * hand owns whatever memory it points at. selector_matches never allocates.
 */
#ifndef MUSTER_MODEL_SELECTOR_H
#define MUSTER_MODEL_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

/* A key/value string pair: a label, an annotation, a map entry. */
struct model_kv {
    const char *key;
    const char *value;
};

/* A list of pairs in the order written; keys are unique within a list. */
struct model_kv_list {
    struct model_kv *v;
    size_t len;
};

/* The value stored under key, or NULL when there is none. */
const char *model_kv_get(const struct model_kv_list *l, const char *key);

enum selector_op {
    SELECTOR_OP_IN,
    SELECTOR_OP_NOT_IN,
    SELECTOR_OP_EXISTS,
    SELECTOR_OP_DOES_NOT_EXIST,
};

struct selector_req {
    const char *key;
    enum selector_op op;
    const char **values; /* In / NotIn: at least one; Exists / DoesNotExist: none */
    size_t n_values;
};

struct selector {
    bool present; /* false: the field was absent or null (matches nothing) */
    struct model_kv_list match_labels;
    struct selector_req *exprs;
    size_t n_exprs;
};

/* Whether labels satisfy s. An absent selector (present == false) matches
 * nothing; a present selector with no terms matches everything. NotIn and
 * DoesNotExist match a label set that lacks the key, as in Kubernetes. */
bool selector_matches(const struct selector *s, const struct model_kv_list *labels);

/* Whether the selector, present, has no terms at all (matches everything). */
bool selector_is_everything(const struct selector *s);

/* The name of op as written in YAML ("In", "NotIn", ...). */
const char *selector_op_name(enum selector_op op);

#endif
