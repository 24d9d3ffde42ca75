/*
 * api/openapi: the OpenAPI v3 documents kubectl needs for create, apply and
 * explain.
 *
 * kubectl 1.32 refuses `create -f` and `apply -f` unless the server serves
 * /openapi/v3 (or the user passes --validate=false). It reads the root index,
 * then the document of the object's group-version, and checks that some path
 * has a `patch` operation tagged with the object's x-kubernetes-group-version-kind
 * and a `fieldValidation` query parameter; if so it leaves validation to the
 * server (?fieldValidation=Strict). `kubectl explain` walks
 * components.schemas from the schema tagged with the kind's GVK.
 *
 *   GET /openapi/v3                      openapi_root()
 *   GET /openapi/v3/api/v1?hash=...      openapi_doc("api/v1")
 *   GET /openapi/v3/apis/<g>/<v>?hash=.. openapi_doc("apis/<g>/<v>")
 *
 * One document per group-version of the registry (api/registry.h). Each has,
 * for every kind of that group-version: the collection path (list, create,
 * deletecollection), the item path (get, replace, patch, delete), the status
 * path where the kind has one, and for namespaced kinds the all-namespaces list
 * path; every patch operation carries the GVK and the fieldValidation,
 * fieldManager, dryRun and force parameters. components.schemas holds, for
 * every kind, the kind (tagged with its GVK) and its List, with types,
 * descriptions, required fields, enums and list types (x-kubernetes-list-type
 * and -list-map-keys, which match api/patch's merge keys; for built-in kinds also
 * x-kubernetes-patch-strategy and -patch-merge-key), plus the shared
 * ObjectMeta, ListMeta, Condition, LabelSelector, OwnerReference,
 * ManagedFieldsEntry and Patch. The schemas are generated from compact field
 * tables in openapi.c whose field names are the ones src/model decodes; fields
 * muster does not interpret (probes, affinity, DRA device lists) are objects
 * with x-kubernetes-preserve-unknown-fields.
 *
 * The hash in the root's serverRelativeURL is a 64-bit FNV-1a of the document
 * (canonical JSON, sorted keys), so it changes exactly when the document does;
 * kubectl caches documents by it.
 *
 * Everything is built on each call from static tables: pure and thread-safe.
 * Callers that serve documents often should cache them (they never change
 * while the process runs).
 */
#ifndef MUSTER_API_OPENAPI_H
#define MUSTER_API_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

#include "api/registry.h"

/* The root index {"paths": {"api/v1": {"serverRelativeURL":
 * "/openapi/v3/api/v1?hash=..."}, "apis/<g>/<v>": ...}}. Caller owns. */
json_t *openapi_root(void);

/* The document of one group-version, named as in the root ("api/v1",
 * "apis/kueue.x-k8s.io/v1beta2"; a leading '/' is accepted); NULL when no such
 * group-version is served (a 404 for the server). Caller owns. */
json_t *openapi_doc(const char *gv_path);

/* Writes the 16 hex digit hash of that document into buf (at least 17 bytes).
 * Returns 0, or -1 when the group-version is not served. */
int openapi_doc_hash(const char *gv_path, char *buf, size_t size);

/* The components.schemas name of a kind, as Kubernetes names them:
 * "io.k8s.api.core.v1.Pod", "io.k8s.api.batch.v1.Job",
 * "io.x-k8s.kueue.v1beta2.ClusterQueue". snprintf semantics. */
int openapi_schema_name(const struct api_kind *k, char *buf, size_t size);

#endif
