/*
 * api/table: server-side Table conversion (meta.k8s.io/v1 Table), what makes
 * `kubectl get` print useful columns instead of NAME AGE.
 *
 * kubectl asks for a Table with the Accept header
 * `application/json;as=Table;v=v1;g=meta.k8s.io`; the server answers with the
 * object table_convert() builds, Content-Type
 * `application/json;as=Table;v=v1;g=meta.k8s.io`. Columns with priority 1 are
 * shown only by `kubectl get -o wide`. Cells are JSON strings or integers, as
 * kubectl prints them verbatim; ages are formatted here (table_age), because
 * kubectl does not turn timestamps into ages.
 *
 * Column sets, per kind (Name first everywhere; "wide:" marks priority 1):
 *
 *   Node                   Status, Roles, GPUs, Age, Version; wide: Internal-IP,
 *                          Zone, Rack, GPU-Product, OS-Image, Kernel-Version,
 *                          Container-Runtime
 *   Pod                    Ready, Status, Restarts, Node, Age; wide: IP, GPUs,
 *                          Nominated Node
 *   Namespace              Status, Age
 *   Event                  Last Seen, Type, Reason, Object, Message; wide: Source,
 *                          First Seen, Count
 *   Job                    Status, Completions, Duration, Queue, Age; wide:
 *                          Containers, Images
 *   Lease                  Holder, Age
 *   PriorityClass          Value, Global-Default, Preemption-Policy, Age
 *   ResourceFlavor         Node Labels, Age; wide: Node Taints, Topology
 *   ClusterQueue           Cohort, Strategy, Pending Workloads, Admitted Workloads,
 *                          Age; wide: Quota, Usage, Reserved
 *   Cohort                 Parent, Age
 *   LocalQueue             ClusterQueue, Pending Workloads, Admitted Workloads, Age
 *   Workload               Queue, Reserved In, Admitted, Finished, Age; wide:
 *                          Priority, Pending Reason
 *   WorkloadPriorityClass  Value, Age; wide: Description
 *   Topology               Levels, Age
 *   ResourceSlice          Node, Driver, Pool, Age
 *   ResourceClaim          State, Age
 *   anything else          Age (the generic converter: NAME AGE)
 *
 * Node GPUs: "<free>/<total>" where total is status.allocatable (or capacity)
 * of nvidia.com/gpu and used is the sum of the GPU requests of the pods given in
 * opts.pods that are bound to the node (spec.nodeName) and not finished; without
 * pods, just "<total>". A node with no GPUs shows "-".
 * ClusterQueue Quota: per resource, the nominal quota summed over flavors, e.g.
 * "cpu=64,nvidia.com/gpu=16"; Usage and Reserved: per resource, total over
 * flavors of status.flavorsUsage / status.flavorsReservation over the quota,
 * e.g. "nvidia.com/gpu=12/16". "<none>" when the status has no figures.
 *
 * Rows carry `object` according to includeObject: Metadata (the default; a
 * PartialObjectMetadata with the object's metadata, managedFields left out),
 * Object (the whole object, for --sort-by) or None (no object).
 *
 * Pure functions: no I/O, no clock (the caller passes `now`). Thread-safe.
 */
#ifndef MUSTER_API_TABLE_H
#define MUSTER_API_TABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TABLE_CONTENT_TYPE "application/json;as=Table;v=v1;g=meta.k8s.io"

/* A buffer this large always holds table_age's output. */
#define TABLE_AGE_BUFSZ 32

enum table_include {
    TABLE_INCLUDE_METADATA = 0, /* the default */
    TABLE_INCLUDE_NONE,
    TABLE_INCLUDE_OBJECT,
};

/* Parses the includeObject query value ("None", "Metadata", "Object"; NULL or ""
 * is Metadata). Returns 0, or -1 with e filled (EINVAL: a 400 for the server). */
int table_include_parse(const char *s, enum table_include *out, struct err *e);

struct table_opts {
    enum table_include include;
    int64_t now_ns;               /* wall clock, ns since the Unix epoch, for ages */
    const char *resource_version; /* the list's; NULL: left out */
    const char *continue_token;   /* the list's; NULL or "": left out */
    json_t *pods;                 /* Node only: an array of Pods, to count the GPUs
                                     in use per node; may be NULL. Borrowed. */
};

/* Converts the objects (an array of objects of one kind; borrowed, not changed)
 * into a Table. kind is the kind name ("Node"); an unknown kind gets the generic
 * NAME AGE converter. Returns a new Table the caller json_decref()s, or NULL
 * with e filled (EINVAL: objs is not an array, or an item is not an object). */
json_t *table_convert(const char *kind, json_t *objs, const struct table_opts *o, struct err *e);

/* The columnDefinitions of kind, as a new array (caller owns). */
json_t *table_columns(const char *kind);

/* Formats the age of a duration in ns as kubectl does ("45s", "5m30s", "3h2m",
 * "2d", "3y45d"; "<invalid>" for a time more than 2 s in the future; "0s" for
 * one less than that). snprintf semantics; returns the length of the full text. */
int table_age(int64_t d_ns, char *buf, size_t size);

/* The age of an RFC 3339 timestamp at now_ns, into buf; "<unknown>" when the
 * timestamp is NULL or does not parse. Returns the length. */
int table_age_since(const char *rfc3339, int64_t now_ns, char *buf, size_t size);

#endif
