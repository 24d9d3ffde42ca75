/*
 * selector: matching labels against metav1.LabelSelector.
 *
 * Label sets are small (tens of entries), so lookups are linear scans: no
 * allocation, no index to keep in step with the list.
 */
#include "model/selector.h"

#include <string.h>

const char *model_kv_get(const struct model_kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->v[i].key, key) == 0)
            return l->v[i].value;
    return NULL;
}

static bool value_in(const struct selector_req *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i], v) == 0)
            return true;
    return false;
}

bool selector_matches(const struct selector *s, const struct model_kv_list *labels)
{
    if (!s->present)
        return false;
    for (size_t i = 0; i < s->match_labels.len; i++) {
        const char *v = model_kv_get(labels, s->match_labels.v[i].key);
        if (!v || strcmp(v, s->match_labels.v[i].value) != 0)
            return false;
    }
    for (size_t i = 0; i < s->n_exprs; i++) {
        const struct selector_req *r = &s->exprs[i];
        const char *v = model_kv_get(labels, r->key);
        switch (r->op) {
        case SELECTOR_OP_IN:
            if (!v || !value_in(r, v))
                return false;
            break;
        case SELECTOR_OP_NOT_IN:
            if (v && value_in(r, v))
                return false;
            break;
        case SELECTOR_OP_EXISTS:
            if (!v)
                return false;
            break;
        case SELECTOR_OP_DOES_NOT_EXIST:
            if (v)
                return false;
            break;
        }
    }
    return true;
}

bool selector_is_everything(const struct selector *s)
{
    return s->present && s->match_labels.len == 0 && s->n_exprs == 0;
}

const char *selector_op_name(enum selector_op op)
{
    switch (op) {
    case SELECTOR_OP_IN:
        return "In";
    case SELECTOR_OP_NOT_IN:
        return "NotIn";
    case SELECTOR_OP_EXISTS:
        return "Exists";
    case SELECTOR_OP_DOES_NOT_EXIST:
        return "DoesNotExist";
    }
    return "?";
}
