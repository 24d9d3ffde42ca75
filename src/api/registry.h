/*
 * api/registry: the table of the kinds the API server serves.
 *
 * One row per (group, version, kind): what discovery advertises, what the router
 * accepts in a path, what the Table and OpenAPI code describe, and where the store
 * keeps the objects. The table is static, immutable and ordered: groups in the
 * order /apis lists them, versions within a group in preference order (the first
 * version of a group is its preferred one), kinds within a version in the order
 * discovery lists them. Every function here is thread-safe and returns pointers
 * into that static table (never freed).
 *
 * Versions of one group share storage: the key of an object depends on its group
 * and resource, not on its version (as in Kubernetes, where kueue.x-k8s.io
 * v1beta1 and v1beta2 are two views of one stored object). The store key is
 *
 *     /registry/<group>/<resource>/<namespace>/<name>   (namespaced)
 *     /registry/<group>/<resource>/<name>               (cluster-scoped)
 *
 * with <group> "core" for the legacy group "" (api_kind_key_prefix).
 */
#ifndef MUSTER_API_REGISTRY_H
#define MUSTER_API_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"

/* Verbs, as bits; discovery lists them by name in this (alphabetical) order. */
enum api_verb {
    API_VERB_CREATE = 1u << 0,
    API_VERB_DELETE = 1u << 1,
    API_VERB_DELETECOLLECTION = 1u << 2,
    API_VERB_GET = 1u << 3,
    API_VERB_LIST = 1u << 4,
    API_VERB_PATCH = 1u << 5,
    API_VERB_UPDATE = 1u << 6,
    API_VERB_WATCH = 1u << 7,
};
#define API_VERB_COUNT 8
/* What an ordinary resource supports. */
#define API_VERBS_ALL 0xffu

/* Subresources, as bits. */
enum api_subresource {
    API_SUB_STATUS = 1u << 0,   /* <resource>/status: get, patch, update; touches only status */
    API_SUB_BINDING = 1u << 1,  /* pods/binding: create */
    API_SUB_LOG = 1u << 2,      /* pods/log: get, proxied to the node's agent (podlog.c) */
    API_SUB_FINALIZE = 1u << 3, /* namespaces/finalize: update; touches only spec.finalizers */
};
#define API_SUB_COUNT 4

/* One served (group, version, kind). Strings are never NULL; lists are
 * NULL-terminated arrays (empty: a pointer to a lone NULL). */
struct api_kind {
    const char *group;    /* "" for the legacy core group */
    const char *version;  /* "v1", "v1beta2", ... */
    const char *kind;     /* "ClusterQueue" */
    const char *resource; /* plural, lower case: "clusterqueues" */
    const char *singular; /* "clusterqueue" */
    bool namespaced;
    const char *const *short_names; /* {"cq", NULL} */
    const char *const *categories;  /* {"all", NULL} */
    unsigned verbs;                 /* enum api_verb bits of the main resource */
    unsigned subresources;          /* enum api_subresource bits */
    enum model_kind model;          /* the decoder in src/model, or MODEL_KIND_NONE:
                                       structural checks only */
    bool preferred;                 /* version is its group's preferred version */
    bool return_deleted;            /* DELETE answers with the deleted object, not a
                                       Status (Kubernetes' ReturnDeletedObject: pods,
                                       namespaces, custom resources) */
};

/* A group and its versions, preferred first. */
#define API_GROUP_MAX_VERSIONS 4
struct api_group {
    const char *name; /* "" for the legacy core group (served under /api) */
    const char *versions[API_GROUP_MAX_VERSIONS];
    size_t n_versions;
};

/* Every served kind, in table order: api_registry_kind(i) for i < api_registry_len(). */
size_t api_registry_len(void);
const struct api_kind *api_registry_kind(size_t i);

/* Every group, core first: api_registry_group(i) for i < api_registry_groups_len(). */
size_t api_registry_groups_len(void);
const struct api_group *api_registry_group(size_t i);

/* The group named name ("" for core), or NULL. */
const struct api_group *api_registry_find_group(const char *name);

/* The kind served at /apis/<group>/<version>/<resource> (group "" means /api/v1),
 * or NULL. resource is the plural; a subresource is looked up separately with
 * api_kind_subresource(). */
const struct api_kind *api_registry_find(const char *group, const char *version,
                                         const char *resource);

/* The kind with that group, version and kind name, or NULL. */
const struct api_kind *api_registry_find_kind(const char *group, const char *version,
                                              const char *kind);

/* The kind named kind in its group's preferred version, or NULL. Kind names are
 * unique across the served groups. */
const struct api_kind *api_registry_by_kind(const char *kind);

/* Splits an apiVersion ("v1", "batch/v1") and finds the kind; NULL when either is
 * unknown. */
const struct api_kind *api_registry_by_api_version(const char *api_version, const char *kind);

/* Whether a kind has the named subresource ("status", "binding", "log"); stores
 * the bit in *bit (if not NULL). Unknown names return false. */
bool api_kind_subresource(const struct api_kind *k, const char *name, unsigned *bit);

/* The verbs a subresource supports (enum api_verb bits). */
unsigned api_subresource_verbs(unsigned sub_bit);

/* The name of one subresource bit ("status"), or NULL. */
const char *api_subresource_name(unsigned sub_bit);

/* The name of one verb bit ("create"), or NULL. */
const char *api_verb_name(unsigned verb_bit);

/* Writes the apiVersion ("v1", "batch/v1") of k into buf, snprintf style;
 * returns the full length. */
int api_kind_api_version(const struct api_kind *k, char *buf, size_t size);

/* Writes "/registry/<group or core>/<resource>/" into buf, snprintf style;
 * returns the full length. */
int api_kind_key_prefix(const struct api_kind *k, char *buf, size_t size);

/* Writes "<resource>" for core kinds and "<resource>.<group>" otherwise (the
 * qualified resource Kubernetes puts in error messages), snprintf style. */
int api_kind_qualified_resource(const struct api_kind *k, char *buf, size_t size);

#endif
