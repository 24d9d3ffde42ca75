/*
 * api/patch: the four PATCH bodies the API server accepts, as pure functions on
 * jansson trees.
 *
 *   application/merge-patch+json           patch_merge()      RFC 7386
 *   application/json-patch+json            patch_json()       RFC 6902 (+ RFC 6901 pointers)
 *   application/strategic-merge-patch+json patch_strategic()  the subset kubectl sends
 *   application/apply-patch+yaml           patch_apply()      server-side apply, simplified
 *
 * Every function takes the stored object and the patch without changing either
 * (jansson's API is not const-correct, so the parameters are plain json_t *; the
 * functions only read them) and returns a new tree that the caller owns and
 * json_decref()s, or NULL with e filled. Errors name the field path and the
 * reason. Codes, which the server maps to HTTP statuses in one place:
 *
 *   PATCH_EBAD       (EINVAL) the patch is malformed: not an array of operations,
 *                    an unknown op, a bad pointer, a bad directive      -> 400
 *   PATCH_EUNAPPLY   (EPROTO) well-formed but cannot be applied to this object:
 *                    a path that does not exist, a failed "test"        -> 422
 *   PATCH_ECONFLICT  (EBUSY)  server-side apply: another manager owns a field
 *                    being changed and force was not given              -> 409
 *   PATCH_ELIMIT     (E2BIG)  a cap below was exceeded                  -> 422
 *
 * Caps, so that hostile input fails cleanly instead of exhausting the stack or
 * memory: PATCH_MAX_DEPTH levels of nesting in the document, the patch and the
 * result; PATCH_MAX_OPS operations in one JSON Patch; PATCH_MAX_NODES JSON values
 * in a result (a JSON Patch "copy" of the root into itself doubles the document,
 * so a short patch could otherwise ask for 2^10000 values).
 *
 * ---- Strategic merge patch ---------------------------------------------------
 *
 * Like a merge patch, except for lists and the "$" directives:
 *
 *   - A list field with a merge key (the table below) is merged element by
 *     element: a patch element whose key matches a stored element is merged into
 *     it (recursively, strategically); others are appended. An element
 *     {"<key>": v, "$patch": "delete"} removes the stored element with that key;
 *     an element {"$patch": "replace"} makes the list exactly the patch's other
 *     elements. A patch element without the merge key is an error.
 *   - A primitive list with the "merge" strategy (finalizers) is a set union.
 *   - Every other list is replaced, as in a merge patch (tolerations, taints,
 *     args, command, ...).
 *   - "$patch": "replace" in a map replaces the map with the rest of the patch
 *     map; "$patch": "delete" deletes the map (at the top: the result is {}).
 *   - "$retainKeys": [k...] keeps only those keys of the merged map.
 *   - "$deleteFromPrimitiveList/<f>": [v...] removes those values from list f.
 *   - "$setElementOrder/<f>": [...] orders list f: for keyed lists the entries are
 *     {"<key>": v} maps, for primitive lists the values. Elements named there come
 *     first, in that order; elements not named (present only on the server) keep
 *     their relative order after them. Go interleaves the server-only elements
 *     where they were; kubectl lists every element, so the two agree in practice.
 *   - null deletes a field, as in a merge patch.
 *
 * Merge keys (patch_merge_rule_find), by field path with list elements adding no
 * segment. "<pod>" stands for the pod spec at "spec" (Pod), "spec.template.spec"
 * (Job) and "spec.podSets.template.spec" (Workload):
 *
 *   any kind   metadata.ownerReferences           key uid
 *              metadata.finalizers                primitive merge (set)
 *              status.conditions                  key type
 *   Pod etc.   <pod>.containers, .initContainers, .ephemeralContainers   key name
 *              <pod>.{containers,...}.env          key name
 *              <pod>.{containers,...}.ports        key containerPort
 *              <pod>.{containers,...}.volumeMounts key mountPath
 *              <pod>.{containers,...}.volumeDevices key devicePath
 *              <pod>.volumes, .imagePullSecrets, .resourceClaims, .schedulingGates   key name
 *              <pod>.hostAliases                  key ip
 *              <pod>.topologySpreadConstraints    key topologyKey
 *              <pod>.tolerations                  replace (as in Kubernetes)
 *   Pod        status.podIPs                      key ip
 *   Node       spec.taints                        replace
 *              spec.podCIDRs                      primitive merge (set)
 *              status.addresses                   key type
 *   Workload   spec.podSets                       key name
 *   ClusterQueue/Cohort  spec.resourceGroups.flavors, .flavors.resources  key name
 *
 * Kubernetes refuses strategic merge patches for custom resources (415); that
 * choice is the server's. Applied to a kind with no rows here, the function is a
 * merge patch that understands the directives.
 *
 * ---- Server-side apply -------------------------------------------------------
 *
 * What is implemented, on the JSON body kubectl sends:
 *
 *   - The applied configuration is merged into the live object: maps field by
 *     field, lists with a merge key (the table above) element by element (an
 *     element keeps its place; new ones are appended), primitive "merge" lists
 *     as sets, every other list and every scalar replaced. null values in the
 *     applied configuration are ignored.
 *   - The fields the configuration sets become the manager's field set, stored in
 *     metadata.managedFields as {manager, operation: "Apply", apiVersion, time,
 *     fieldsType: "FieldsV1", fieldsV1} with the f:/k:/v:/"." encoding of
 *     Kubernetes (f:<field>, k:{"<key>":v} for keyed list elements, v:<json> for
 *     set elements, "." for an element itself).
 *   - Fields the manager applied before but no longer sets are removed from the
 *     object, unless another manager also owns them; a keyed list element is
 *     removed when nobody owns anything in it any more.
 *   - A conflict is a field the configuration sets to a value different from
 *     the live one while another manager owns it. Without force the apply fails
 *     with PATCH_ECONFLICT, a message in Kubernetes' words, and (if asked) a
 *     details.causes array; with force the field changes hands.
 *   - Updates that are not applies (PUT, merge/strategic/JSON patch) are recorded
 *     with patch_managed_update(): the fields they change move to that manager's
 *     "Update" entry, so a later apply conflicts with them, as in Kubernetes. A
 *     keyed list element itself (its "." entry) changes hands only when the
 *     update creates it; a change inside it moves just the fields changed.
 *
 * What is not: OpenAPI-driven list types for every field (only the table above;
 * an unknown list is atomic), defaulting before the comparison, per-version field
 * sets (apiVersion is recorded but fields are compared as written), "i:" (atomic
 * index) keys, ownership of "status" through the main resource (the server
 * strips status from the configuration when asked: PATCH_APPLY_F_IGNORE_STATUS),
 * and the reordering of list elements to follow the configuration.
 */
#ifndef MUSTER_API_PATCH_H
#define MUSTER_API_PATCH_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define PATCH_EBAD      EINVAL
#define PATCH_EUNAPPLY  EPROTO
#define PATCH_ECONFLICT EBUSY
#define PATCH_ELIMIT    E2BIG

#define PATCH_MAX_DEPTH 64
#define PATCH_MAX_OPS   10000
#define PATCH_MAX_NODES 1000000

enum patch_type {
    PATCH_TYPE_UNKNOWN = 0,
    PATCH_TYPE_MERGE,     /* application/merge-patch+json */
    PATCH_TYPE_JSON,      /* application/json-patch+json */
    PATCH_TYPE_STRATEGIC, /* application/strategic-merge-patch+json */
    PATCH_TYPE_APPLY,     /* application/apply-patch+yaml (and +cbor is refused) */
};

/* The patch type of a Content-Type header value (parameters after ';' and case
 * of the media type are ignored); PATCH_TYPE_UNKNOWN for anything else (415). */
enum patch_type patch_type_from_content_type(const char *content_type);

/* RFC 7386: a patch that is not an object replaces the document; otherwise
 * each member is merged, null removing. Returns a new tree (caller owns). */
json_t *patch_merge(json_t *doc, json_t *patch, struct err *e);

/* RFC 6902: applies the operations in order to a copy of doc; all or nothing.
 * ops must be an array of {op, path, value | from}. Returns a new tree. */
json_t *patch_json(json_t *doc, json_t *ops, struct err *e);

/* Strategic merge patch for an object of the given kind ("Pod"; NULL or an
 * unknown kind: no keyed lists). Returns a new tree. */
json_t *patch_strategic(json_t *doc, json_t *patch, const char *kind, struct err *e);

/* How a list field merges (strategic merge patch and server-side apply). */
enum patch_list_strategy {
    PATCH_LIST_ATOMIC = 0, /* replaced as a whole */
    PATCH_LIST_MAP,        /* list of maps merged by key */
    PATCH_LIST_SET,        /* primitive list merged as a set */
};

struct patch_merge_rule {
    enum patch_list_strategy strategy;
    const char *key; /* PATCH_LIST_MAP: the merge key; otherwise NULL */
};

/* The rule for the list at path ("spec.containers.env") in an object of kind;
 * {PATCH_LIST_ATOMIC, NULL} when the table has none. */
struct patch_merge_rule patch_merge_rule_find(const char *kind, const char *path);

/* ---- server-side apply -------------------------------------------------- */

/* Drop "status" from the applied configuration (main resource of a kind with a
 * status subresource, as Kubernetes does). */
#define PATCH_APPLY_F_IGNORE_STATUS 1u

struct patch_apply_opts {
    const char *kind;        /* for the merge keys; may be NULL */
    const char *manager;     /* fieldManager; required, at most 128 bytes */
    const char *api_version; /* recorded in managedFields; NULL: the object's */
    const char *now;         /* RFC 3339 time recorded in managedFields */
    bool force;              /* take over conflicting fields */
    unsigned flags;          /* PATCH_APPLY_F_* */
    json_t **causes;         /* if not NULL, on PATCH_ECONFLICT receives a new
                                array of {type: "FieldManagerConflict", message,
                                field} for Status details.causes (caller owns) */
};

/* Server-side apply of the configuration cfg to live (NULL when the object does
 * not exist yet: the result is cfg with managedFields). Returns the new object
 * (caller owns), with metadata.managedFields updated, or NULL with e filled
 * (PATCH_ECONFLICT on a conflict). live and cfg are not changed. */
json_t *patch_apply(json_t *live, json_t *cfg, const struct patch_apply_opts *o, struct err *e);

/* Records a non-apply write: every field whose value differs between old (NULL
 * on create) and obj becomes owned by manager with operation "Update" (and is
 * released by the other managers); removed fields are released by everyone.
 * Changes obj's metadata.managedFields in place. Returns 0, or -1 with e filled
 * (a cap was exceeded, or obj is not an object). */
int patch_managed_update(json_t *obj, json_t *old, const char *kind, const char *manager,
                         const char *api_version, const char *now, struct err *e);

/* The field set (fieldsV1) of a JSON object as server-side apply records it:
 * every leaf value, keyed list elements as k:, set elements as v:. Metadata the
 * server owns (name, namespace, uid, resourceVersion, generation,
 * creationTimestamp, managedFields) and apiVersion/kind are left out. Returns a
 * new tree, or NULL with e filled. */
json_t *patch_field_set(json_t *obj, const char *kind, struct err *e);

#endif
