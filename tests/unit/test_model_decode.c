/* Tests for model decoding: every kind from real-looking manifests in Kueue's
 * v1beta1 and v1beta2 (the same structs either way), JSON as well as YAML,
 * defaults, the YAML-to-JSON typing rules, and a table of bad inputs whose
 * errors must name the object, the field and the reason exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

/* Decodes a YAML stream that must succeed; fails the test with the error. */
static struct model_obj **decode_ok(const char *yaml, size_t *n)
{
    struct model_obj **objs = NULL;
    struct err e = {0};
    if (model_decode_yaml_stream(yaml, strlen(yaml), "test.yaml", &objs, n, &e) != 0)
        fail_msg("unexpected error: %s", e.msg);
    return objs;
}

static struct model_obj *decode_one(const char *yaml)
{
    size_t n;
    struct model_obj **objs = decode_ok(yaml, &n);
    assert_int_equal(n, 1);
    struct model_obj *o = objs[0];
    free(objs);
    return o;
}

static int64_t canon(const struct model_resource_list *l, const char *name)
{
    return model_resources_canonical(l, name);
}

/* ---- Kueue's own example: the single ClusterQueue setup ----------------- */

static const char kueue_example_v1beta1[] =
    "apiVersion: kueue.x-k8s.io/v1beta1\n"
    "kind: ResourceFlavor\n"
    "metadata:\n"
    "  name: \"default-flavor\"\n"
    "---\n"
    "apiVersion: kueue.x-k8s.io/v1beta1\n"
    "kind: ClusterQueue\n"
    "metadata:\n"
    "  name: \"cluster-queue\"\n"
    "spec:\n"
    "  namespaceSelector: {} # match all.\n"
    "  resourceGroups:\n"
    "  - coveredResources: [\"cpu\", \"memory\", \"nvidia.com/gpu\"]\n"
    "    flavors:\n"
    "    - name: \"default-flavor\"\n"
    "      resources:\n"
    "      - name: \"cpu\"\n"
    "        nominalQuota: 9\n"
    "      - name: \"memory\"\n"
    "        nominalQuota: 36Gi\n"
    "      - name: \"nvidia.com/gpu\"\n"
    "        nominalQuota: 8\n"
    "---\n"
    "apiVersion: kueue.x-k8s.io/v1beta1\n"
    "kind: LocalQueue\n"
    "metadata:\n"
    "  namespace: \"default\"\n"
    "  name: \"user-queue\"\n"
    "spec:\n"
    "  clusterQueue: \"cluster-queue\"\n";

static void check_kueue_example(struct model_obj **objs, size_t n)
{
    assert_int_equal(n, 3);
    assert_int_equal(objs[0]->kind, MODEL_RESOURCE_FLAVOR);
    assert_string_equal(objs[0]->meta.name, "default-flavor");
    assert_null(objs[0]->meta.namespace);

    struct model_obj *cq = objs[1];
    assert_int_equal(cq->kind, MODEL_CLUSTER_QUEUE);
    const struct model_cluster_queue *q = &cq->u.cluster_queue;
    assert_null(q->cohort);
    assert_true(selector_is_everything(&q->namespace_selector));
    assert_int_equal(q->queueing_strategy, MODEL_BEST_EFFORT_FIFO);
    assert_int_equal(q->stop_policy, MODEL_STOP_NONE);
    assert_int_equal(q->preemption.within_cluster_queue, MODEL_PREEMPT_NEVER);
    assert_int_equal(q->preemption.reclaim_within_cohort, MODEL_PREEMPT_NEVER);
    assert_int_equal(q->preemption.borrow_within_cohort, MODEL_PREEMPT_NEVER);
    assert_int_equal(q->flavor_fungibility.when_can_borrow, MODEL_FUNGIBILITY_MAY_STOP_SEARCH);
    assert_int_equal(q->flavor_fungibility.when_can_preempt, MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR);
    assert_int_equal(q->n_groups, 1);
    assert_int_equal(q->groups[0].covered.len, 3);
    assert_string_equal(q->groups[0].covered.v[2], "nvidia.com/gpu");
    assert_int_equal(q->groups[0].n_flavors, 1);
    const struct model_flavor_quotas *f = &q->groups[0].flavors[0];
    assert_string_equal(f->name, "default-flavor");
    assert_int_equal(f->n_resources, 3);
    assert_int_equal(f->resources[0].nominal, 9000);
    assert_int_equal(f->resources[1].nominal, (int64_t)36 * 1024 * 1024 * 1024 * 1000);
    assert_int_equal(f->resources[2].nominal, 8000);
    assert_false(f->resources[2].has_borrowing_limit);
    assert_false(f->resources[2].has_lending_limit);

    struct model_obj *lq = objs[2];
    assert_int_equal(lq->kind, MODEL_LOCAL_QUEUE);
    assert_string_equal(lq->meta.namespace, "default");
    assert_string_equal(lq->u.local_queue.cluster_queue, "cluster-queue");
    char key[64];
    model_obj_key(lq, key, sizeof key);
    assert_string_equal(key, "default/user-queue");
}

static void test_kueue_example_v1beta1(void **state)
{
    size_t n;
    struct model_obj **objs = decode_ok(kueue_example_v1beta1, &n);
    check_kueue_example(objs, n);
    assert_int_equal(objs[1]->version, MODEL_API_V1BETA1);
    assert_string_equal(objs[1]->source, "test.yaml");
    assert_int_equal(objs[0]->line, 1);
    assert_int_equal(objs[1]->line, 6);
    model_objs_free(objs, n);
}

static void test_kueue_example_v1beta2(void **state)
{
    /* The same manifests in v1beta2: only the apiVersion changes. */
    char buf[sizeof kueue_example_v1beta1 + 16];
    const char *src = kueue_example_v1beta1;
    size_t w = 0;
    while (*src) {
        if (strncmp(src, "v1beta1", 7) == 0) {
            memcpy(buf + w, "v1beta2", 7);
            w += 7, src += 7;
        } else {
            buf[w++] = *src++;
        }
    }
    buf[w] = 0;
    size_t n;
    struct model_obj **objs = decode_ok(buf, &n);
    check_kueue_example(objs, n);
    assert_int_equal(objs[1]->version, MODEL_API_V1BETA2);
    model_objs_free(objs, n);
}

/* ---- ClusterQueue: v1beta1 and v1beta2 field names, same struct --------- */

static void check_cq_full(const struct model_obj *o)
{
    const struct model_cluster_queue *q = &o->u.cluster_queue;
    assert_string_equal(q->cohort, "research");
    assert_int_equal(q->queueing_strategy, MODEL_STRICT_FIFO);
    assert_int_equal(q->stop_policy, MODEL_STOP_HOLD);
    assert_int_equal(q->preemption.within_cluster_queue,
                     MODEL_PREEMPT_LOWER_OR_NEWER_EQUAL_PRIORITY);
    assert_int_equal(q->preemption.reclaim_within_cohort, MODEL_PREEMPT_ANY);
    assert_int_equal(q->preemption.borrow_within_cohort, MODEL_PREEMPT_LOWER_PRIORITY);
    assert_true(q->preemption.has_max_priority_threshold);
    assert_int_equal(q->preemption.max_priority_threshold, 100);
    assert_int_equal(q->flavor_fungibility.when_can_borrow, MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR);
    assert_int_equal(q->flavor_fungibility.when_can_preempt, MODEL_FUNGIBILITY_MAY_STOP_SEARCH);
    assert_true(q->has_fair_sharing);
    assert_int_equal(q->fair_sharing_weight, 2500);
    assert_int_equal(q->n_groups, 2);
    assert_int_equal(q->groups[0].n_flavors, 2);
    const struct model_quota *gpu = &q->groups[1].flavors[0].resources[0];
    assert_string_equal(gpu->resource, "nvidia.com/gpu");
    assert_int_equal(gpu->nominal, 16000);
    assert_true(gpu->has_borrowing_limit);
    assert_int_equal(gpu->borrowing_limit, 8000);
    assert_true(gpu->has_lending_limit);
    assert_int_equal(gpu->lending_limit, 4000);
    const struct model_quota *mem = &q->groups[0].flavors[1].resources[1];
    assert_int_equal(mem->nominal, (int64_t)512 * 1024 * 1024 * 1024 * 1000);
    assert_int_equal(q->groups[0].flavors[0].resources[0].nominal, 100500);
    struct model_kv ml[] = {{"team", "ml"}};
    struct model_kv_list labels = {ml, 1};
    assert_true(selector_matches(&q->namespace_selector, &labels));
}

static void test_cluster_queue_versions(void **state)
{
    static const char v1[] =
        "apiVersion: kueue.x-k8s.io/v1beta1\n"
        "kind: ClusterQueue\n"
        "metadata: {name: team-ml}\n"
        "spec:\n"
        "  cohort: research\n"
        "  queueingStrategy: StrictFIFO\n"
        "  stopPolicy: Hold\n"
        "  namespaceSelector:\n"
        "    matchExpressions:\n"
        "    - {key: team, operator: In, values: [ml, vision]}\n"
        "  preemption:\n"
        "    withinClusterQueue: LowerOrNewerEqualPriority\n"
        "    reclaimWithinCohort: Any\n"
        "    borrowWithinCohort: {policy: LowerPriority, maxPriorityThreshold: 100}\n"
        "  flavorFungibility: {whenCanBorrow: TryNextFlavor, whenCanPreempt: Preempt}\n"
        "  fairSharing: {weight: \"2.5\"}\n"
        "  admissionChecks: [prov]\n"
        "  resourceGroups:\n"
        "  - coveredResources: [cpu, memory]\n"
        "    flavors:\n"
        "    - name: on-demand\n"
        "      resources:\n"
        "      - {name: cpu, nominalQuota: 100500m}\n"
        "      - {name: memory, nominalQuota: 256Gi}\n"
        "    - name: spot\n"
        "      resources:\n"
        "      - {name: cpu, nominalQuota: 64}\n"
        "      - {name: memory, nominalQuota: 512Gi}\n"
        "  - coveredResources: [nvidia.com/gpu]\n"
        "    flavors:\n"
        "    - name: a100\n"
        "      resources:\n"
        "      - name: nvidia.com/gpu\n"
        "        nominalQuota: 16\n"
        "        borrowingLimit: 8\n"
        "        lendingLimit: 4\n";
    struct model_obj *o = decode_one(v1);
    check_cq_full(o);
    /* v1beta1's admissionChecks list becomes v1beta2's strategy. */
    assert_int_equal(o->u.cluster_queue.n_admission_check_rules, 1);
    assert_string_equal(o->u.cluster_queue.admission_check_rules[0].name, "prov");
    assert_int_equal(o->u.cluster_queue.admission_check_rules[0].on_flavors.len, 0);
    model_obj_free(o);

    static const char v2[] =
        "apiVersion: kueue.x-k8s.io/v1beta2\n"
        "kind: ClusterQueue\n"
        "metadata: {name: team-ml}\n"
        "spec:\n"
        "  cohortName: research\n"
        "  queueingStrategy: StrictFIFO\n"
        "  stopPolicy: Hold\n"
        "  namespaceSelector:\n"
        "    matchExpressions:\n"
        "    - {key: team, operator: In, values: [ml, vision]}\n"
        "  preemption:\n"
        "    withinClusterQueue: LowerOrNewerEqualPriority\n"
        "    reclaimWithinCohort: Any\n"
        "    borrowWithinCohort: {policy: LowerPriority, maxPriorityThreshold: 100}\n"
        "  flavorFungibility: {whenCanBorrow: TryNextFlavor, whenCanPreempt: MayStopSearch}\n"
        "  fairSharing: {weight: 2.5}\n"
        "  admissionChecksStrategy:\n"
        "    admissionChecks:\n"
        "    - {name: prov, onFlavors: [a100]}\n"
        "  resourceGroups:\n"
        "  - coveredResources: [cpu, memory]\n"
        "    flavors:\n"
        "    - name: on-demand\n"
        "      resources:\n"
        "      - {name: cpu, nominalQuota: 100.5}\n"
        "      - {name: memory, nominalQuota: 256Gi}\n"
        "    - name: spot\n"
        "      resources:\n"
        "      - {name: cpu, nominalQuota: \"64\"}\n"
        "      - {name: memory, nominalQuota: 512Gi}\n"
        "  - coveredResources: [nvidia.com/gpu]\n"
        "    flavors:\n"
        "    - name: a100\n"
        "      resources:\n"
        "      - {name: nvidia.com/gpu, nominalQuota: 16, borrowingLimit: 8, lendingLimit: 4}\n";
    o = decode_one(v2);
    check_cq_full(o);
    assert_int_equal(o->u.cluster_queue.n_admission_check_rules, 1);
    assert_string_equal(o->u.cluster_queue.admission_check_rules[0].on_flavors.v[0], "a100");
    model_obj_free(o);
}

/* ---- Cohort, ResourceFlavor, Topology, priority classes ----------------- */

static void test_cohort_versions(void **state)
{
    static const char *const docs[] = {
        "apiVersion: kueue.x-k8s.io/v1beta1\nkind: Cohort\nmetadata: {name: team}\n"
        "spec:\n  parent: org\n  fairSharing: {weight: 2}\n",
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata: {name: team}\n"
        "spec:\n  parentName: org\n  fairSharing: {weight: 2}\n",
        "apiVersion: kueue.x-k8s.io/v1alpha1\nkind: Cohort\nmetadata: {name: team}\n"
        "spec:\n  parent: org\n  fairSharing: {weight: 2}\n",
    };
    for (size_t i = 0; i < 3; i++) {
        struct model_obj *o = decode_one(docs[i]);
        assert_int_equal(o->kind, MODEL_COHORT);
        assert_string_equal(o->u.cohort.parent, "org");
        assert_int_equal(o->u.cohort.fair_sharing_weight, 2000);
        model_obj_free(o);
    }
    struct model_obj *o =
        decode_one("apiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata: {name: root}\n"
                   "spec:\n  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n"
                   "    - name: default\n      resources: [{name: cpu, nominalQuota: 10}]\n");
    assert_null(o->u.cohort.parent);
    assert_int_equal(o->u.cohort.n_groups, 1);
    assert_int_equal(o->u.cohort.fair_sharing_weight, 1000);
    model_obj_free(o);
}

static void test_resource_flavor_and_topology(void **state)
{
    size_t n;
    struct model_obj **objs =
        decode_ok("apiVersion: kueue.x-k8s.io/v1beta1\n"
                  "kind: ResourceFlavor\n"
                  "metadata: {name: tas-a100}\n"
                  "spec:\n"
                  "  nodeLabels: {cloud.provider.com/node-group: a100, gpu: \"true\"}\n"
                  "  nodeTaints:\n"
                  "  - {key: nvidia.com/gpu, value: present, effect: NoSchedule}\n"
                  "  tolerations:\n"
                  "  - {key: spot, operator: Exists, effect: NoSchedule}\n"
                  "  topologyName: default\n"
                  "---\n"
                  "apiVersion: kueue.x-k8s.io/v1alpha1\n"
                  "kind: Topology\n"
                  "metadata: {name: default}\n"
                  "spec:\n"
                  "  levels:\n"
                  "  - nodeLabel: cloud.provider.com/topology-block\n"
                  "  - nodeLabel: cloud.provider.com/topology-rack\n"
                  "  - nodeLabel: kubernetes.io/hostname\n",
                  &n);
    assert_int_equal(n, 2);
    const struct model_resource_flavor *rf = &objs[0]->u.resource_flavor;
    assert_int_equal(rf->node_labels.len, 2);
    assert_string_equal(model_kv_get(&rf->node_labels, "gpu"), "true");
    assert_int_equal(rf->n_node_taints, 1);
    assert_int_equal(rf->node_taints[0].effect, MODEL_EFFECT_NO_SCHEDULE);
    assert_int_equal(rf->n_tolerations, 1);
    assert_int_equal(rf->tolerations[0].op, MODEL_TOLERATION_EXISTS);
    assert_string_equal(rf->topology_name, "default");
    struct model_taint spot = {"spot", "", MODEL_EFFECT_NO_SCHEDULE};
    assert_true(model_toleration_tolerates(&rf->tolerations[0], &spot));
    assert_false(model_toleration_tolerates(&rf->tolerations[0], &rf->node_taints[0]));
    const struct model_topology *t = &objs[1]->u.topology;
    assert_int_equal(t->levels.len, 3);
    assert_string_equal(t->levels.v[2], "kubernetes.io/hostname");
    model_objs_free(objs, n);
}

static void test_priority_classes(void **state)
{
    size_t n;
    struct model_obj **objs = decode_ok("apiVersion: scheduling.k8s.io/v1\n"
                                        "kind: PriorityClass\n"
                                        "metadata: {name: high-priority}\n"
                                        "value: 1000000\n"
                                        "globalDefault: false\n"
                                        "preemptionPolicy: Never\n"
                                        "description: \"For urgent jobs.\"\n"
                                        "---\n"
                                        "apiVersion: kueue.x-k8s.io/v1beta1\n"
                                        "kind: WorkloadPriorityClass\n"
                                        "metadata: {name: sample-priority}\n"
                                        "value: 10000\n"
                                        "description: \"Sample priority\"\n"
                                        "---\n"
                                        "apiVersion: scheduling.k8s.io/v1\n"
                                        "kind: PriorityClass\n"
                                        "metadata: {name: system-node-critical}\n"
                                        "value: 2000001000\n",
                                        &n);
    assert_int_equal(n, 3);
    assert_int_equal(objs[0]->u.priority_class.value, 1000000);
    assert_int_equal(objs[0]->u.priority_class.preemption_policy, MODEL_PC_PREEMPT_NEVER);
    assert_string_equal(objs[0]->u.priority_class.description, "For urgent jobs.");
    assert_int_equal(objs[1]->kind, MODEL_WORKLOAD_PRIORITY_CLASS);
    assert_int_equal(objs[1]->u.workload_priority_class.value, 10000);
    assert_int_equal(objs[2]->u.priority_class.value, 2000001000);
    assert_int_equal(objs[2]->u.priority_class.preemption_policy, MODEL_PC_PREEMPT_LOWER_PRIORITY);
    model_objs_free(objs, n);
}

/* ---- Namespace and Node ---------------------------------------------------- */

static void test_namespace_and_node(void **state)
{
    size_t n;
    struct model_obj **objs =
        decode_ok("apiVersion: v1\n"
                  "kind: Namespace\n"
                  "metadata:\n"
                  "  name: team-a\n"
                  "  labels: {kubernetes.io/metadata.name: team-a, team: a}\n"
                  "---\n"
                  "apiVersion: v1\n"
                  "kind: Node\n"
                  "metadata:\n"
                  "  name: gpu-node-1\n"
                  "  labels:\n"
                  "    kubernetes.io/hostname: gpu-node-1\n"
                  "    cloud.provider.com/topology-rack: r1\n"
                  "  creationTimestamp: \"2024-05-01T10:00:00Z\"\n"
                  "spec:\n"
                  "  unschedulable: true\n"
                  "  taints:\n"
                  "  - {key: nvidia.com/gpu, effect: NoSchedule}\n"
                  "status:\n"
                  "  capacity: {cpu: \"96\", memory: 1Ti, nvidia.com/gpu: \"8\", pods: \"110\"}\n"
                  "  allocatable: {cpu: 95500m, memory: 1000Gi, nvidia.com/gpu: 8, pods: 110}\n"
                  "  conditions:\n"
                  "  - {type: Ready, status: \"True\"}\n"
                  "  nodeInfo: {kubeletVersion: v1.30.0}\n",
                  &n);
    assert_int_equal(n, 2);
    assert_int_equal(objs[0]->kind, MODEL_NAMESPACE);
    assert_string_equal(model_kv_get(&objs[0]->meta.labels, "team"), "a");
    const struct model_node *nd = &objs[1]->u.node;
    assert_true(nd->unschedulable);
    assert_int_equal(nd->n_taints, 1);
    assert_string_equal(nd->taints[0].value, "");
    assert_int_equal(canon(&nd->capacity, "cpu"), 96000);
    assert_int_equal(canon(&nd->allocatable, "cpu"), 95500);
    assert_int_equal(canon(&nd->allocatable, "nvidia.com/gpu"), 8);
    assert_int_equal(canon(&nd->allocatable, "memory"), (int64_t)1000 * 1024 * 1024 * 1024);
    assert_true(objs[1]->meta.has_creation);
    assert_int_equal(objs[1]->meta.creation_ns, (int64_t)1714557600 * 1000000000);
    model_objs_free(objs, n);

    /* Without status.allocatable, allocatable is the capacity. */
    struct model_obj *o = decode_one("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"
                                     "status: {capacity: {nvidia.com/gpu: 4}}\n");
    assert_false(o->u.node.has_allocatable);
    assert_int_equal(canon(&o->u.node.allocatable, "nvidia.com/gpu"), 4);
    model_obj_free(o);
}

/* ---- Workload --------------------------------------------------------------- */

static const char workload_v1beta1[] =
    "apiVersion: kueue.x-k8s.io/v1beta1\n"
    "kind: Workload\n"
    "metadata:\n"
    "  name: job-train-3f2a\n"
    "  namespace: team-a\n"
    "  creationTimestamp: \"2024-05-01T10:00:00.5Z\"\n"
    "  ownerReferences:\n"
    "  - {apiVersion: batch/v1, kind: Job, name: train, uid: \"1234\", controller: true}\n"
    "spec:\n"
    "  queueName: user-queue\n"
    "  priorityClassName: high\n"
    "  priorityClassSource: kueue.x-k8s.io/workloadpriorityclass\n"
    "  priority: 1000\n"
    "  active: true\n"
    "  maximumExecutionTimeSeconds: 3600\n"
    "  podSets:\n"
    "  - name: launcher\n"
    "    count: 1\n"
    "    template:\n"
    "      spec:\n"
    "        containers:\n"
    "        - name: main\n"
    "          image: busybox\n"
    "          command: [sleep, \"60\"]\n"
    "          resources:\n"
    "            requests: {cpu: 500m, memory: 1Gi}\n"
    "        restartPolicy: Never\n"
    "  - name: workers\n"
    "    count: 4\n"
    "    minCount: 2\n"
    "    template:\n"
    "      metadata:\n"
    "        annotations:\n"
    "          kueue.x-k8s.io/podset-preferred-topology: cloud.provider.com/topology-rack\n"
    "      spec:\n"
    "        nodeSelector: {cloud.provider.com/node-group: a100}\n"
    "        tolerations:\n"
    "        - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}\n"
    "        initContainers:\n"
    "        - name: fetch\n"
    "          resources: {requests: {cpu: \"4\", memory: 2Gi}}\n"
    "        - name: proxy\n"
    "          restartPolicy: Always\n"
    "          resources: {requests: {cpu: 100m}}\n"
    "        containers:\n"
    "        - name: trainer\n"
    "          resources:\n"
    "            requests: {cpu: \"2\", memory: 8Gi}\n"
    "            limits: {nvidia.com/gpu: \"8\", memory: 8Gi}\n"
    "        - name: logger\n"
    "          resources:\n"
    "            requests: {cpu: 250m}\n"
    "status:\n"
    "  admission:\n"
    "    clusterQueue: cluster-queue\n"
    "    podSetAssignments:\n"
    "    - name: launcher\n"
    "      flavors: {cpu: default-flavor, memory: default-flavor}\n"
    "      resourceUsage: {cpu: 500m, memory: 1Gi}\n"
    "      count: 1\n"
    "    - name: workers\n"
    "      flavors: {nvidia.com/gpu: a100}\n"
    "      resourceUsage: {nvidia.com/gpu: \"32\"}\n"
    "      count: 4\n"
    "  conditions:\n"
    "  - type: QuotaReserved\n"
    "    status: \"True\"\n"
    "    reason: QuotaReserved\n"
    "    message: Quota reserved in ClusterQueue cluster-queue\n"
    "    lastTransitionTime: \"2024-05-01T10:00:05Z\"\n"
    "  requeueState: {count: 2, requeueAt: \"2024-05-01T11:00:00+01:00\"}\n";

static void check_workload(const struct model_obj *o)
{
    const struct model_workload *w = &o->u.workload;
    assert_string_equal(o->meta.namespace, "team-a");
    assert_int_equal(o->meta.creation_ns, (int64_t)1714557600 * 1000000000 + 500000000);
    assert_string_equal(w->queue_name, "user-queue");
    assert_string_equal(w->priority_class_name, "high");
    assert_int_equal(w->priority_source, MODEL_PRIORITY_SOURCE_WORKLOAD);
    assert_true(w->has_priority);
    assert_int_equal(w->priority, 1000);
    assert_true(w->active);
    assert_int_equal(w->max_exec_seconds, 3600);
    assert_int_equal(w->n_pod_sets, 2);
    const struct model_pod_set *l = &w->pod_sets[0], *wk = &w->pod_sets[1];
    assert_string_equal(l->name, "launcher");
    assert_int_equal(canon(&l->template.pod_requests, "cpu"), 500);
    assert_false(l->has_topology_request);
    assert_int_equal(wk->count, 4);
    assert_true(wk->has_min_count);
    assert_int_equal(wk->min_count, 2);
    /* Requests default to limits: the trainer asks for 8 GPUs. Main
     * containers plus the sidecar: 2 + 0.25 + 0.1 cpu; the fetch init
     * container with the sidecar before it... runs alone: 4 cpu is larger. */
    assert_int_equal(canon(&wk->template.pod_requests, "nvidia.com/gpu"), 8);
    assert_int_equal(canon(&wk->template.pod_requests, "cpu"), 4000);
    assert_int_equal(canon(&wk->template.pod_requests, "memory"), (int64_t)8 << 30);
    assert_true(wk->template.init_containers[1].sidecar);
    assert_string_equal(model_kv_get(&wk->template.node_selector, "cloud.provider.com/node-group"),
                        "a100");
    assert_true(wk->has_topology_request);
    assert_string_equal(wk->topology.preferred, "cloud.provider.com/topology-rack");
    assert_null(wk->topology.required);
    assert_false(wk->topology.unconstrained);
    assert_true(w->has_admission);
    assert_string_equal(w->admission_cluster_queue, "cluster-queue");
    assert_int_equal(w->n_assignments, 2);
    assert_string_equal(model_kv_get(&w->assignments[1].flavors, "nvidia.com/gpu"), "a100");
    assert_int_equal(canon(&w->assignments[1].resource_usage, "nvidia.com/gpu"), 32);
    const struct model_condition *qr = model_workload_condition(w, "QuotaReserved");
    assert_non_null(qr);
    assert_string_equal(qr->status, "True");
    assert_int_equal(qr->last_transition_ns, (int64_t)1714557605 * 1000000000);
    assert_null(model_workload_condition(w, "Finished"));
    assert_int_equal(w->requeue_count, 2);
    assert_int_equal(w->requeue_at_ns, (int64_t)1714557600 * 1000000000);
}

static void test_workload_v1beta1(void **state)
{
    struct model_obj *o = decode_one(workload_v1beta1);
    check_workload(o);
    assert_int_equal(o->meta.n_owners, 1);
    assert_true(o->meta.owners[0].controller);
    model_obj_free(o);
}

static void test_workload_v1beta2(void **state)
{
    /* v1beta2 replaces priorityClassName/priorityClassSource by priorityClassRef. */
    const char *from = "  priorityClassName: high\n"
                       "  priorityClassSource: kueue.x-k8s.io/workloadpriorityclass\n";
    const char *to = "  priorityClassRef: {group: kueue.x-k8s.io, kind: WorkloadPriorityClass, "
                     "name: high}\n";
    char buf[sizeof workload_v1beta1 + 200];
    const char *at = strstr(workload_v1beta1, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - workload_v1beta1), workload_v1beta1, to,
             at + strlen(from));
    char *v = strstr(buf, "v1beta1");
    memcpy(v, "v1beta2", 7);
    struct model_obj *o = decode_one(buf);
    assert_int_equal(o->version, MODEL_API_V1BETA2);
    check_workload(o);
    model_obj_free(o);
}

static void test_workload_defaults_and_topology(void **state)
{
    struct model_obj *o = decode_one(
        "apiVersion: kueue.x-k8s.io/v1beta2\n"
        "kind: Workload\n"
        "metadata: {name: w}\n"
        "spec:\n"
        "  queueName: q\n"
        "  podSets:\n"
        "  - template:\n"
        "      metadata:\n"
        "        annotations:\n"
        "          kueue.x-k8s.io/podset-required-topology: cloud.provider.com/topology-block\n"
        "      spec:\n"
        "        containers: [{name: c, resources: {requests: {nvidia.com/gpu: 1}}}]\n"
        "    topologyRequest:\n"
        "      required: cloud.provider.com/topology-block\n"
        "      podIndexLabel: kubernetes.io/job-completion-index\n");
    const struct model_workload *w = &o->u.workload;
    assert_string_equal(o->meta.namespace, "default");
    assert_true(w->active);
    assert_false(w->has_priority);
    assert_null(w->priority_class_name);
    assert_int_equal(w->priority_source, MODEL_PRIORITY_SOURCE_NONE);
    assert_false(w->has_admission);
    assert_string_equal(w->pod_sets[0].name, "main");
    assert_int_equal(w->pod_sets[0].count, 1);
    assert_string_equal(w->pod_sets[0].topology.required, "cloud.provider.com/topology-block");
    assert_string_equal(w->pod_sets[0].topology.pod_index_label,
                        "kubernetes.io/job-completion-index");
    model_obj_free(o);

    o = decode_one("apiVersion: kueue.x-k8s.io/v1beta1\nkind: Workload\n"
                   "metadata: {name: w, namespace: ns1}\n"
                   "spec:\n  active: false\n  podSets:\n  - name: main\n    count: 3\n"
                   "    template:\n      metadata:\n        annotations:\n"
                   "          kueue.x-k8s.io/podset-unconstrained-topology: \"true\"\n"
                   "      spec: {containers: [{name: c}]}\n");
    assert_false(o->u.workload.active);
    assert_true(o->u.workload.pod_sets[0].has_topology_request);
    assert_true(o->u.workload.pod_sets[0].topology.unconstrained);
    assert_int_equal(o->u.workload.pod_sets[0].template.pod_requests.len, 0);
    model_obj_free(o);
}

/* ---- Scenario ---------------------------------------------------------------- */

static void test_scenario(void **state)
{
    struct model_obj *o = decode_one(
        "apiVersion: muster.dev/v1alpha1\n"
        "kind: Scenario\n"
        "metadata: {name: preempt-lowest-priority}\n"
        "spec:\n"
        "  description: free text, optional\n"
        "  config:\n"
        "    fairSharing:\n"
        "      enable: true\n"
        "      preemptionStrategies: [LessThanOrEqualToFinalShare, LessThanInitialShare]\n"
        "    backfill: {enable: true}\n"
        "    placement: {policy: bestfit}\n"
        "  expect:\n"
        "  - at: 0s\n"
        "    admitted: [default/high, default/incoming]\n"
        "    pending: [default/low]\n"
        "    preempted: [default/low]\n"
        "    flavors:\n"
        "      default/high: {cpu: on-demand, nvidia.com/gpu: a100}\n"
        "    reasons:\n"
        "      default/low: \"insufficient quota\"\n"
        "    nodes:\n"
        "      default/gang: [node-1, node-2]\n"
        "  - at: 1m30s\n"
        "    finished: []\n");
    const struct model_scenario *s = &o->u.scenario;
    assert_int_equal(o->kind, MODEL_SCENARIO);
    assert_string_equal(s->description, "free text, optional");
    assert_true(s->fair_sharing);
    assert_int_equal(s->preemption_strategies.len, 2);
    assert_true(s->backfill);
    assert_string_equal(s->placement_policy, "bestfit");
    assert_int_equal(s->n_expect, 2);
    const struct model_expect *e0 = &s->expect[0], *e1 = &s->expect[1];
    assert_int_equal(e0->at_ns, 0);
    assert_true(e0->has_admitted && e0->has_pending && e0->has_preempted);
    assert_false(e0->has_finished);
    assert_int_equal(e0->admitted.len, 2);
    assert_string_equal(e0->admitted.v[1], "default/incoming");
    assert_int_equal(e0->n_flavors, 1);
    assert_string_equal(e0->flavors[0].workload, "default/high");
    assert_string_equal(model_kv_get(&e0->flavors[0].flavors, "nvidia.com/gpu"), "a100");
    assert_string_equal(model_kv_get(&e0->reasons, "default/low"), "insufficient quota");
    assert_int_equal(e0->n_nodes, 1);
    assert_int_equal(e0->nodes[0].nodes.len, 2);
    assert_int_equal(e1->at_ns, (int64_t)90 * 1000000000);
    assert_true(e1->has_finished);
    assert_int_equal(e1->finished.len, 0);
    assert_false(e1->has_admitted);
    model_obj_free(o);

    o = decode_one("apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\n"
                   "spec: {}\n");
    assert_false(o->u.scenario.fair_sharing);
    assert_false(o->u.scenario.backfill);
    assert_null(o->u.scenario.placement_policy);
    assert_int_equal(o->u.scenario.n_expect, 0);
    model_obj_free(o);
}

/* ---- JSON, Lists, streams ------------------------------------------------------ */

static void test_json(void **state)
{
    static const char json[] =
        "{\"apiVersion\":\"kueue.x-k8s.io/v1beta1\",\"kind\":\"ClusterQueue\","
        "\"metadata\":{\"name\":\"cluster-queue\"},"
        "\"spec\":{\"namespaceSelector\":{},\"resourceGroups\":[{\"coveredResources\":"
        "[\"cpu\",\"memory\",\"nvidia.com/gpu\"],\"flavors\":[{\"name\":\"default-flavor\","
        "\"resources\":[{\"name\":\"cpu\",\"nominalQuota\":9},{\"name\":\"memory\","
        "\"nominalQuota\":\"36Gi\"},{\"name\":\"nvidia.com/gpu\",\"nominalQuota\":\"8\"}]}]}]}}";
    struct model_obj *o;
    struct err e;
    if (model_decode_json(json, strlen(json), &o, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(o->kind, MODEL_CLUSTER_QUEUE);
    assert_int_equal(o->u.cluster_queue.groups[0].flavors[0].resources[1].nominal,
                     (int64_t)36 * 1024 * 1024 * 1024 * 1000);
    assert_true(json_is_object(o->raw));
    model_obj_free(o);

    /* The same rules as YAML: an unknown field is an error. */
    static const char bad[] = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                              "\"metadata\":{\"name\":\"a\"},\"spec\":{\"foo\":1}}";
    assert_int_equal(model_decode_json(bad, strlen(bad), &o, &e), -1);
    assert_string_equal(e.msg, "Namespace \"a\": unknown field \"spec.foo\"");
    static const char dup[] = "{\"apiVersion\":\"v1\",\"apiVersion\":\"v1\"}";
    assert_int_equal(model_decode_json(dup, strlen(dup), &o, &e), -1);
    assert_non_null(strstr(e.msg, "invalid JSON"));

    static const char list[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}]}";
    struct model_obj **objs;
    size_t n;
    assert_int_equal(model_decode_json_stream(list, strlen(list), &objs, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(objs[1]->meta.name, "b");
    model_objs_free(objs, n);
    assert_int_equal(model_decode_json(list, strlen(list), &o, &e), -1);
}

static void test_stream_shapes(void **state)
{
    size_t n;
    /* Comments, empty documents, a leading ---, a trailing ---, CRLF. */
    struct model_obj **objs = decode_ok("# header\n---\n---\napiVersion: v1\r\nkind: Namespace\r\n"
                                        "metadata: {name: a}\r\n---\n# only a comment\n---\n",
                                        &n);
    assert_int_equal(n, 1);
    model_objs_free(objs, n);
    objs = decode_ok("", &n);
    assert_int_equal(n, 0);
    model_objs_free(objs, n);
    /* Aliases expand like copies. */
    objs = decode_ok("apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n"
                     "  labels: &l {a: b}\n  annotations: *l\n",
                     &n);
    assert_string_equal(model_kv_get(&objs[0]->meta.annotations, "a"), "b");
    model_objs_free(objs, n);
    /* A v1 List in YAML is flattened. */
    objs = decode_ok("apiVersion: v1\nkind: List\nitems:\n"
                     "- {apiVersion: v1, kind: Namespace, metadata: {name: x}}\n"
                     "- {apiVersion: v1, kind: Namespace, metadata: {name: y}}\n",
                     &n);
    assert_int_equal(n, 2);
    model_objs_free(objs, n);
}

/* YAML scalars get JSON types by the YAML 1.2 core schema; where a string is
 * wanted, a number is an error, as with kubectl. */
static void test_yaml_typing(void **state)
{
    json_t **docs;
    size_t n;
    struct err e;
    static const char y[] = "a: 1\nb: 1.5\nc: \"1\"\nd: true\ne: ~\nf: 0x10\ng: 0o17\nh: yes\n"
                            "i: 1e3\nj: !!str 12\nk: 99999999999999999999\nl: |\n  text\n";
    assert_int_equal(model_yaml_to_json(y, strlen(y), NULL, &docs, &n, NULL, &e), 0);
    assert_int_equal(n, 1);
    json_t *d = docs[0];
    assert_true(json_is_integer(json_object_get(d, "a")));
    assert_true(json_is_real(json_object_get(d, "b")));
    assert_true(json_is_string(json_object_get(d, "c")));
    assert_true(json_is_true(json_object_get(d, "d")));
    assert_true(json_is_null(json_object_get(d, "e")));
    assert_int_equal(json_integer_value(json_object_get(d, "f")), 16);
    assert_int_equal(json_integer_value(json_object_get(d, "g")), 15);
    assert_string_equal(json_string_value(json_object_get(d, "h")), "yes");
    assert_true(json_is_real(json_object_get(d, "i")));
    assert_string_equal(json_string_value(json_object_get(d, "j")), "12");
    assert_true(json_is_real(json_object_get(d, "k")));
    assert_string_equal(json_string_value(json_object_get(d, "l")), "text\n");
    json_decref(d);
    free(docs);

    static const struct {
        const char *yaml;
        const char *msg;
    } bad[] = {
        {"a: .inf\n", "<input>:1: .inf has no JSON meaning"},
        {"a: !foo x\n", "<input>:1: unsupported tag \"!foo\""},
        {"a: &x [*x]\n", NULL}, /* an alias cycle or an unknown anchor: refused either way */
        {"<<: {a: 1}\n", "<input>:1: merge keys (<<) are not supported"},
        {"? [a]\n: 1\n", "<input>:1: mapping keys must be scalars"},
        {"a: !!int x\n", "<input>:1: \"x\" is not a valid !!int"},
        {"a: [\n", NULL},
        {"a: 1\na: 2\n", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = 0;
        if (model_yaml_to_json(bad[i].yaml, strlen(bad[i].yaml), NULL, &docs, &n, NULL, &e) == 0)
            fail_msg("case %zu accepted", i);
        if (bad[i].msg && strcmp(e.msg, bad[i].msg) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, e.msg, bad[i].msg);
        assert_true(e.msg[0] != 0);
    }
}

/* A billion-laughs document fails on the expansion cap instead of eating memory. */
static void test_alias_bomb(void **state)
{
    char buf[2048];
    size_t w = (size_t)snprintf(buf, sizeof buf, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++)
        w += (size_t)snprintf(buf + w, sizeof buf - w,
                              "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                              "*a%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    json_t **docs;
    size_t n;
    struct err e;
    assert_int_equal(model_yaml_to_json(buf, w, "bomb.yaml", &docs, &n, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "aliases expanded"));
}

/* Found by tests/fuzz: malformed UTF-8 in a directive made libfyaml 0.7.12
 * loop forever. Input that is not UTF-8 is now refused before parsing. */
static void test_invalid_utf8_directive_does_not_hang(void **state)
{
    static const char y[] = "%YA\xd4ML 1.2\n---\napiVersion: v1\n";
    json_t **docs;
    size_t n;
    struct err e;
    assert_int_equal(model_yaml_to_json(y, strlen(y), "bad.yaml", &docs, &n, NULL, &e), -1);
    assert_string_equal(e.msg, "bad.yaml:1: input is not valid UTF-8 (byte 3)");
    static const char *const bad[] = {"a: \xc0\xaf\n", "a: \xed\xa0\x80\n", "a: \xf4\x90\x80\x80\n",
                                      "a: \xe2\x82\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(model_yaml_to_json(bad[i], strlen(bad[i]), NULL, &docs, &n, NULL, &e), -1);
    static const char ok[] = "a: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"\n";
    assert_int_equal(model_yaml_to_json(ok, strlen(ok), NULL, &docs, &n, NULL, &e), 0);
    json_decref(docs[0]);
    free(docs);
}

static void test_caps(void **state)
{
    size_t len = MODEL_MAX_INPUT + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    struct model_obj **objs;
    size_t n;
    struct err e;
    assert_int_equal(model_decode_yaml_stream(big, len, "big.yaml", &objs, &n, &e), -1);
    assert_int_equal(e.code, E2BIG);
    struct model_obj *o;
    assert_int_equal(model_decode_json(big, len, &o, &e), -1);
    assert_int_equal(e.code, E2BIG);
    free(big);

    /* Nesting past MODEL_MAX_DEPTH. */
    char deep[400];
    size_t w = 0;
    for (int i = 0; i < 100; i++)
        deep[w++] = '[';
    for (int i = 0; i < 100; i++)
        deep[w++] = ']';
    deep[w] = 0;
    assert_int_equal(model_decode_yaml_stream(deep, w, NULL, &objs, &n, &e), -1);
    assert_int_equal(model_decode_json(deep, w, &o, &e), -1);
}

static void test_kind_names(void **state)
{
    for (int k = MODEL_KIND_NONE + 1; k < MODEL_KIND_COUNT; k++)
        assert_int_equal(model_kind_from_name(model_kind_name((enum model_kind)k)), k);
    assert_string_equal(model_kind_name(MODEL_KIND_NONE), "");
    assert_int_equal(model_kind_from_name("Pod"), MODEL_KIND_NONE);
    assert_true(model_kind_namespaced(MODEL_WORKLOAD));
    assert_true(model_kind_namespaced(MODEL_LOCAL_QUEUE));
    assert_false(model_kind_namespaced(MODEL_CLUSTER_QUEUE));
}

static void test_time(void **state)
{
    int64_t ns;
    struct err e;
    assert_int_equal(model_parse_time("1970-01-01T00:00:00Z", &ns, &e), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(model_parse_time("2000-02-29T23:59:59.123456789Z", &ns, &e), 0);
    assert_int_equal(ns, (int64_t)951868799 * 1000000000 + 123456789);
    assert_int_equal(model_parse_time("2024-05-01T12:00:00+02:00", &ns, &e), 0);
    assert_int_equal(ns, (int64_t)1714557600 * 1000000000);
    /* Found by tests/fuzz: years past 2262 overflowed int64 nanoseconds. */
    assert_int_equal(model_parse_time("3024-05-01T10:00:00Z", &ns, &e), -1);
    assert_string_equal(e.msg, "invalid time \"3024-05-01T10:00:00Z\": out of range (years "
                               "1678 to 2261)");
    assert_int_equal(model_parse_time("0001-01-01T00:00:00Z", &ns, &e), -1);
    assert_int_equal(model_parse_time("2261-12-31T23:59:59Z", &ns, &e), 0);
    assert_int_equal(model_parse_time("2023-02-29T00:00:00Z", &ns, &e), -1);
    assert_int_equal(model_parse_time("2024-05-01 10:00:00Z", &ns, &e), -1);
    assert_int_equal(model_parse_time("2024-05-01T10:00:00", &ns, &e), -1);
    assert_string_equal(e.msg, "invalid time \"2024-05-01T10:00:00\": want RFC 3339, e.g. "
                               "2024-05-01T10:00:00Z");
}

/* ---- bad inputs: each error names the object, the field and the reason ---- */

#define CQ  "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: team-a}\n"
#define CQ1 "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {name: team-a}\n"
#define WL  "apiVersion: kueue.x-k8s.io/v1beta1\nkind: Workload\nmetadata: {name: w1}\n"
#define WL2 "apiVersion: kueue.x-k8s.io/v1beta2\nkind: Workload\nmetadata: {name: w1}\n"
#define PODS(extra)                                                                                \
    "  podSets:\n  - name: main\n    count: 1\n" extra "    template:\n      spec:\n"              \
    "        containers: [{name: c, resources: {requests: {cpu: 1}}}]\n"
#define GROUP_CPU(quota)                                                                           \
    "  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n    - name: f\n"                \
    "      resources:\n      - {name: cpu, " quota "}\n"

static const struct {
    const char *yaml;
    const char *msg;
} bad_cases[] = {
    /* 0: quantity */
    {CQ "spec:\n  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n"
        "    - name: f0\n      resources: [{name: cpu, nominalQuota: 1}]\n"
        "    - name: f1\n      resources:\n      - {name: cpu, nominalQuota: 12x}\n",
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[1].resources[0].nominalQuota: "
     "invalid quantity \"12x\": unknown suffix \"x\""},
    {WL "spec:\n  podSets:\n  - name: main\n    count: 0\n    template:\n      spec:\n"
        "        containers: [{name: c}]\n",
     "Workload \"default/w1\": spec.podSets[0].count: must be >= 1 (got 0)"},
    {CQ "spec:\n  foo: 1\n", "ClusterQueue \"team-a\": unknown field \"spec.foo\""},
    {CQ "spec:\n  cohort: x\n", "ClusterQueue \"team-a\": unknown field \"spec.cohort\""},
    {CQ1 "spec:\n  cohortName: x\n", "ClusterQueue \"team-a\": unknown field \"spec.cohortName\""},
    /* 5 */
    {"apiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata: {name: c}\nspec: {parent: p}\n",
     "Cohort \"c\": unknown field \"spec.parent\""},
    {"kind: Namespace\nmetadata: {name: a}\n", "object: apiVersion: required"},
    {"apiVersion: v1\nmetadata: {name: a}\n", "object: kind: required"},
    {"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
     "unknown kind \"Pod\" (apiVersion \"v1\")"},
    {"apiVersion: kueue.x-k8s.io/v1\nkind: ClusterQueue\nmetadata: {name: a}\n",
     "ClusterQueue: unsupported apiVersion \"kueue.x-k8s.io/v1\" (supported: "
     "kueue.x-k8s.io/v1beta2, kueue.x-k8s.io/v1beta1)"},
    /* 10 */
    {"apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n",
     "Namespace: metadata.name: required"},
    {"apiVersion: v1\nkind: Namespace\n", "Namespace: metadata: required"},
    {"apiVersion: v1\nkind: Namespace\nmetadata: {name: Team_A}\n",
     "Namespace: metadata.name: invalid value \"Team_A\": must consist of lower case "
     "alphanumeric characters, '-' or '.'"},
    {CQ1 "spec:\n  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n"
         "    - name: f\n      resources: [{name: cpu, nominalQuota: 1}]\n"
         "  - coveredResources: [memory]\n    flavors:\n"
         "    - name: f\n      resources: [{name: memory, nominalQuota: 1}]\n",
     "ClusterQueue \"team-a\": spec.resourceGroups[1].flavors[0].name: flavor \"f\" already "
     "appears in resourceGroups[0].flavors[0]"},
    {CQ1 "spec:\n  resourceGroups:\n  - coveredResources: [cpu, memory]\n    flavors:\n"
         "    - name: f\n      resources:\n      - {name: memory, nominalQuota: 1}\n"
         "      - {name: cpu, nominalQuota: 1}\n",
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].name: must be "
     "\"cpu\" (got \"memory\"): each flavor lists the covered resources in order"},
    /* 15 */
    {CQ1 "spec:\n  resourceGroups:\n  - coveredResources: [cpu, memory]\n    flavors:\n"
         "    - name: f\n      resources:\n      - {name: cpu, nominalQuota: 1}\n",
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources: must list the 2 "
     "covered resources (got 1)"},
    {CQ1 "spec:\n" GROUP_CPU("nominalQuota: 4, borrowingLimit: 2"),
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].borrowingLimit: "
     "must not be set when spec.cohort is empty"},
    {CQ "spec:\n" GROUP_CPU("nominalQuota: 4, lendingLimit: 2"),
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].lendingLimit: "
     "must not be set when spec.cohortName is empty"},
    {CQ "spec:\n  cohortName: c\n" GROUP_CPU("nominalQuota: 4, lendingLimit: 5"),
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].lendingLimit: "
     "must be less than or equal to nominalQuota"},
    {CQ "spec:\n" GROUP_CPU("nominalQuota: -1"),
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: "
     "must be non-negative"},
    /* 20 */
    {CQ "spec:\n" GROUP_CPU("borrowingLimit: 1"),
     "ClusterQueue \"team-a\": spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: "
     "required"},
    {CQ "spec:\n  queueingStrategy: FIFO\n",
     "ClusterQueue \"team-a\": spec.queueingStrategy: unsupported value \"FIFO\": must be one "
     "of BestEffortFIFO, StrictFIFO"},
    {CQ "spec:\n  stopPolicy: Drain\n",
     "ClusterQueue \"team-a\": spec.stopPolicy: unsupported value \"Drain\": must be one of "
     "None, Hold, HoldAndDrain"},
    {CQ "spec:\n  preemption: {withinClusterQueue: Any}\n",
     "ClusterQueue \"team-a\": spec.preemption.withinClusterQueue: unsupported value \"Any\": "
     "must be one of Never, LowerPriority, LowerOrNewerEqualPriority"},
    {CQ "spec:\n  preemption: {borrowWithinCohort: {policy: LowerPriority}}\n",
     "ClusterQueue \"team-a\": spec.preemption: borrowWithinCohort.policy must be Never when "
     "reclaimWithinCohort is Never"},
    /* 25 */
    {CQ "spec:\n  flavorFungibility: {whenCanBorrow: Borrow}\n",
     "ClusterQueue \"team-a\": spec.flavorFungibility.whenCanBorrow: unsupported value "
     "\"Borrow\": must be one of MayStopSearch, TryNextFlavor"},
    {CQ "spec:\n  flavorFungibility: {preference: BorrowingOverPreemption}\n",
     "ClusterQueue \"team-a\": spec.flavorFungibility.preference: can only be set when "
     "whenCanBorrow and whenCanPreempt are both TryNextFlavor"},
    {CQ "spec:\n  resourceGroups: {}\n",
     "ClusterQueue \"team-a\": spec.resourceGroups: must be a list (got an object)"},
    {CQ "spec:\n  namespaceSelector: {matchLabels: {team: [a]}}\n",
     "ClusterQueue \"team-a\": spec.namespaceSelector.matchLabels[team]: must be a string (got "
     "a list)"},
    {CQ "metadata: {name: x}\n", NULL}, /* a duplicate key: YAML error */
    /* 30 */
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {name: a, namespace: "
     "x}\n",
     "ClusterQueue \"a\": metadata.namespace: must not be set: ClusterQueue is cluster-scoped"},
    {WL "spec:\n  podSets: []\n", "Workload \"default/w1\": spec.podSets: must have at least "
                                  "one pod set"},
    {WL "spec:\n  queueName: 0\n" PODS(""),
     "Workload \"default/w1\": spec.queueName: must be a string (got a number)"},
    {WL "spec:\n" PODS("    minCount: 2\n"),
     "Workload \"default/w1\": spec.podSets[0].minCount: must be between 1 and count (1) (got "
     "2)"},
    {WL "spec:\n  podSets:\n  - {name: a, template: {spec: {containers: [{name: c}]}}}\n"
        "  - {name: a, template: {spec: {containers: [{name: c}]}}}\n",
     "Workload \"default/w1\": spec.podSets[1].name: duplicate pod set name \"a\""},
    /* 35 */
    {WL "spec:\n  podSets:\n  - {name: a, template: {spec: {containers: []}}}\n",
     "Workload \"default/w1\": spec.podSets[0].template.spec.containers: must have at least one "
     "container"},
    {WL "spec:\n  podSets:\n  - {name: a, template: {spec: {containers: [{name: c, resources: "
        "{requests: {cpu: 2}, limits: {cpu: 1}}}]}}}\n",
     "Workload \"default/w1\": spec.podSets[0].template.spec.containers[0].resources.requests["
     "cpu]: must be less than or equal to the limit"},
    {WL "spec:\n  podSets:\n  - {name: a, template: {spec: {containers: [{name: c, resources: "
        "{requests: {nvidia.com/gpu: 1Q}}}]}}}\n",
     "Workload \"default/w1\": spec.podSets[0].template.spec.containers[0].resources.requests["
     "nvidia.com/gpu]: invalid quantity \"1Q\": unknown suffix \"Q\""},
    {WL "spec:\n  podSets:\n  - {name: a, template: {spec: {containers: [{name: c, imag: x}]}}}\n",
     "Workload \"default/w1\": unknown field \"spec.podSets[0].template.spec.containers[0].imag\""},
    {WL2 "spec:\n  priorityClassName: high\n" PODS(""),
     "Workload \"default/w1\": unknown field \"spec.priorityClassName\""},
    /* 40 */
    {WL2 "spec:\n  priorityClassRef: {group: scheduling.k8s.io, kind: WorkloadPriorityClass, "
         "name: x}\n" PODS(""),
     "Workload \"default/w1\": spec.priorityClassRef.kind: WorkloadPriorityClass belongs to "
     "group kueue.x-k8s.io"},
    {WL "spec:\n  priorityClassSource: kueue\n" PODS(""),
     "Workload \"default/w1\": spec.priorityClassSource: unsupported value \"kueue\": must be "
     "one of kueue.x-k8s.io/workloadpriorityclass, scheduling.k8s.io/priorityclass, \"\""},
    {WL "spec:\n" PODS("    topologyRequest: {required: a, preferred: b}\n"),
     "Workload \"default/w1\": spec.podSets[0]: topologyRequest: at most one of required, "
     "preferred and unconstrained may be set"},
    {WL "spec:\n  podSets:\n  - name: main\n    topologyRequest: {required: rack}\n"
        "    template:\n      metadata:\n        annotations:\n"
        "          kueue.x-k8s.io/podset-required-topology: block\n"
        "      spec: {containers: [{name: c}]}\n",
     "Workload \"default/w1\": spec.podSets[0]: topologyRequest.required \"rack\" conflicts "
     "with annotation kueue.x-k8s.io/podset-required-topology \"block\""},
    {WL "spec:\n" PODS("") "status:\n  admission:\n    clusterQueue: cq\n"
                           "    podSetAssignments: [{name: other}]\n",
     "Workload \"default/w1\": status.admission.podSetAssignments[0].name: no pod set named "
     "\"other\" in spec.podSets"},
    /* 45 */
    {WL "spec:\n" PODS("") "status:\n  conditions:\n  - {type: Admitted, status: Yes}\n",
     "Workload \"default/w1\": status.conditions[0].status: unsupported value \"Yes\": must be "
     "one of True, False, Unknown"},
    {WL "spec:\n" PODS("") "status:\n  conditions:\n  - {type: Admitted, status: \"True\", "
                           "lastTransitionTime: yesterday}\n",
     "Workload \"default/w1\": status.conditions[0].lastTransitionTime: invalid time "
     "\"yesterday\": want RFC 3339, e.g. 2024-05-01T10:00:00Z"},
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata: {name: q, namespace: "
     "ns}\nspec: {}\n",
     "LocalQueue \"ns/q\": spec.clusterQueue: required"},
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata: {name: f}\nspec:\n"
     "  nodeTaints: [{key: a, effect: NoRun}]\n",
     "ResourceFlavor \"f\": spec.nodeTaints[0].effect: unsupported value \"NoRun\": must be one "
     "of NoSchedule, PreferNoSchedule, NoExecute"},
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata: {name: f}\nspec:\n"
     "  tolerations: [{key: a, operator: Exists, value: b}]\n",
     "ResourceFlavor \"f\": spec.tolerations[0].value: must be empty when operator is Exists"},
    /* 50 */
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata: {name: f}\nspec:\n"
     "  topologyName: t\n",
     "ResourceFlavor \"f\": spec.nodeLabels: must have at least one label when topologyName is "
     "set"},
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: Topology\nmetadata: {name: t}\nspec:\n"
     "  levels: [{nodeLabel: kubernetes.io/hostname}, {nodeLabel: rack}]\n",
     "Topology \"t\": spec.levels[0].nodeLabel: kubernetes.io/hostname can only be the last "
     "level"},
    {"apiVersion: kueue.x-k8s.io/v1beta1\nkind: WorkloadPriorityClass\nmetadata: {name: p}\n"
     "description: x\n",
     "WorkloadPriorityClass \"p\": value: required"},
    {"apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\n"
     "value: 2000000000\n",
     "PriorityClass \"p\": value: must be <= 1000000000 for a class not named system-* (got "
     "2000000000)"},
    {"apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\n"
     "value: 1.5\n",
     "PriorityClass \"p\": value: must be an integer (got a number)"},
    /* 55 */
    {"apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {capacity: {cpu: 4}, "
     "allocatable: {cpu: 5}}\n",
     "Node \"n\": status.allocatable[cpu]: must not exceed capacity"},
    {"apiVersion: v1\nkind: Node\nmetadata: {name: n, labels: {\"a/b/c\": x}}\n",
     "Node \"n\": metadata.labels[a/b/c]: invalid key \"a/b/c\": must have at most one '/'"},
    {"apiVersion: v1\nkind: Node\nmetadata: {name: n, creationTimestamp: 5}\n",
     "Node \"n\": metadata.creationTimestamp: must be a string (got a number)"},
    {"apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n"
     "  expect:\n  - {at: soon}\n",
     "Scenario \"s\": spec.expect[0].at: duration \"soon\": expected a number at \"soon\""},
    {"apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n"
     "  expect:\n  - {at: 0s, admitted: [w1]}\n",
     "Scenario \"s\": spec.expect[0].admitted[0]: invalid value \"w1\": must be "
     "\"namespace/name\""},
    /* 60 */
    {"apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n"
     "  config: {fairSharing: {preemptionStrategies: [Fair]}}\n",
     "Scenario \"s\": spec.config.fairSharing.preemptionStrategies[0]: unsupported value "
     "\"Fair\": must be one of LessThanOrEqualToFinalShare, LessThanInitialShare"},
    {"apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n"
     "  expect:\n  - {at: 0s, admitted: [a/w], pending: [a/w]}\n",
     "Scenario \"s\": spec.expect[0].pending: \"a/w\" is also listed in admitted"},
    {"apiVersion: muster.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nspec:\n"
     "  config: {backfill: {enabled: true}}\n",
     "Scenario \"s\": unknown field \"spec.config.backfill.enabled\""},
    {"- a\n- b\n", "object: must be a JSON/YAML mapping (got a list)"},
};

static void test_bad_inputs(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        struct model_obj **objs = NULL;
        size_t n = 0;
        struct err e = {0};
        const char *y = bad_cases[i].yaml;
        if (model_decode_yaml_stream(y, strlen(y), NULL, &objs, &n, &e) == 0) {
            model_objs_free(objs, n);
            fail_msg("case %zu accepted:\n%s", i, y);
        }
        assert_int_equal(e.code, EINVAL);
        if (bad_cases[i].msg && strcmp(e.msg, bad_cases[i].msg) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, e.msg, bad_cases[i].msg);
        assert_true(e.msg[0] != 0);
        /* The same document as JSON gives the same error: one decoder. */
        json_t **docs;
        size_t nd;
        struct err e2;
        if (bad_cases[i].msg &&
            model_yaml_to_json(y, strlen(y), NULL, &docs, &nd, NULL, &e2) == 0) {
            assert_int_equal(nd, 1);
            char *text = json_dumps(docs[0], JSON_COMPACT);
            struct model_obj *o = NULL;
            struct err e3 = {0};
            assert_int_equal(model_decode_json(text, strlen(text), &o, &e3), -1);
            if (strcmp(e3.msg, bad_cases[i].msg) != 0)
                fail_msg("case %zu as JSON:\n got: %s\nwant: %s", i, e3.msg, bad_cases[i].msg);
            free(text);
            json_decref(docs[0]);
            free(docs);
        }
    }
}

/* With a source name, a stream error says which document. */
static void test_stream_error_location(void **state)
{
    static const char y[] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
                            "# comment\napiVersion: v1\nkind: Namespace\nmetadata: {name: B}\n";
    struct model_obj **objs;
    size_t n;
    struct err e;
    assert_int_equal(model_decode_yaml_stream(y, strlen(y), "ns.yaml", &objs, &n, &e), -1);
    assert_string_equal(e.msg, "ns.yaml:6: Namespace: metadata.name: invalid value \"B\": must "
                               "consist of lower case alphanumeric characters, '-' or '.'");
    static const char broken[] = "a: 1\n---\nb: [1,\n";
    assert_int_equal(model_decode_yaml_stream(broken, strlen(broken), "x.yaml", &objs, &n, &e), -1);
    assert_non_null(strstr(e.msg, "x.yaml:"));
    assert_non_null(strstr(e.msg, "invalid YAML"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kueue_example_v1beta1),
        cmocka_unit_test(test_kueue_example_v1beta2),
        cmocka_unit_test(test_cluster_queue_versions),
        cmocka_unit_test(test_cohort_versions),
        cmocka_unit_test(test_resource_flavor_and_topology),
        cmocka_unit_test(test_priority_classes),
        cmocka_unit_test(test_namespace_and_node),
        cmocka_unit_test(test_workload_v1beta1),
        cmocka_unit_test(test_workload_v1beta2),
        cmocka_unit_test(test_workload_defaults_and_topology),
        cmocka_unit_test(test_scenario),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_stream_shapes),
        cmocka_unit_test(test_yaml_typing),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_invalid_utf8_directive_does_not_hang),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_stream_error_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
