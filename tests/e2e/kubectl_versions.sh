#!/usr/bin/env bash
# kueue.x-k8s.io v1beta1 and v1beta2, one stored object: kubectl applies Kueue's
# v1beta1 example and a v1beta1 ClusterQueue and Workload that use the fields the
# versions name differently; both versions read them back in their own names
# (get, list, watch); applying the v1beta1 manifests again, changed or not,
# patches at v1beta1; v1beta2's names are unknown at v1beta1.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers
b1=clusterqueues.v1beta1.kueue.x-k8s.io
b2=clusterqueues.v1beta2.kueue.x-k8s.io

kubectl apply -f "$here/testdata/kueue-examples/single-clusterqueue-setup.yaml" > "$tmp/out" 2>&1 ||
    fail "apply v1beta1 example: $(cat "$tmp/out")"
grep -q 'clusterqueue.kueue.x-k8s.io/cluster-queue created' "$tmp/out" || fail "$(cat "$tmp/out")"
[ "$(kubectl get $b1 cluster-queue -o jsonpath='{.apiVersion}')" = kueue.x-k8s.io/v1beta1 ] || fail "v1beta1 read"
[ "$(kubectl get $b2 cluster-queue -o jsonpath='{.apiVersion}')" = kueue.x-k8s.io/v1beta2 ] || fail "v1beta2 read"
[ "$(kubectl get localqueues.v1beta1.kueue.x-k8s.io user-queue -o jsonpath='{.spec.clusterQueue}')" = cluster-queue ] ||
    fail "v1beta1 LocalQueue"

cat > "$tmp/v1beta1.yaml" <<'YAML'
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata:
  name: team-b
spec:
  cohort: research
  admissionChecks: [prov]
  flavorFungibility: {whenCanBorrow: Borrow, whenCanPreempt: TryNextFlavor}
  namespaceSelector: {}
  resourceGroups:
  - coveredResources: ["cpu"]
    flavors:
    - name: default-flavor
      resources:
      - {name: cpu, nominalQuota: 4, borrowingLimit: 2}
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: Workload
metadata:
  name: train
  namespace: default
spec:
  queueName: user-queue
  priorityClassName: high
  priorityClassSource: kueue.x-k8s.io/workloadpriorityclass
  priority: 100
  podSets:
  - name: main
    count: 2
    template:
      spec:
        containers:
        - name: trainer
          image: registry.example.com/trainer:1.0
          resources: {requests: {cpu: "1"}}
YAML
kubectl apply -f "$tmp/v1beta1.yaml" > "$tmp/out" 2>&1 || fail "apply v1beta1: $(cat "$tmp/out")"

# v1beta2 sees the renamed and moved fields in its own names, v1beta1 in its own.
got=$(kubectl get $b2 team-b -o jsonpath='{.spec.cohortName}/{.spec.admissionChecksStrategy.admissionChecks[0].name}/{.spec.flavorFungibility.whenCanBorrow}')
[ "$got" = research/prov/MayStopSearch ] || fail "v1beta2 view: $got"
got=$(kubectl get $b1 team-b -o jsonpath='{.spec.cohort}/{.spec.admissionChecks[0]}/{.spec.cohortName}')
[ "$got" = research/prov/ ] || fail "v1beta1 view: $got"
got=$(kubectl get workloads.v1beta2.kueue.x-k8s.io train -o jsonpath='{.spec.priorityClassRef.kind}/{.spec.priorityClassRef.name}')
[ "$got" = WorkloadPriorityClass/high ] || fail "v1beta2 workload: $got"
got=$(kubectl get workloads.v1beta1.kueue.x-k8s.io train -o jsonpath='{.spec.priorityClassSource}/{.spec.priorityClassName}')
[ "$got" = kueue.x-k8s.io/workloadpriorityclass/high ] || fail "v1beta1 workload: $got"
# lists and watches are in the version asked for
curl -s "$url/apis/kueue.x-k8s.io/v1beta1/clusterqueues" > "$tmp/list.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["apiVersion"]=="kueue.x-k8s.io/v1beta1" and len(d["items"])==2 and all(i["apiVersion"]=="kueue.x-k8s.io/v1beta1" and "cohortName" not in i["spec"] for i in d["items"]), d' "$tmp/list.json"
curl -s "$url/apis/kueue.x-k8s.io/v1beta1/clusterqueues?watch=true&timeoutSeconds=1" > "$tmp/watch"
grep -q '"cohort":"research"' "$tmp/watch" && ! grep -q cohortName "$tmp/watch" || fail "v1beta1 watch: $(cat "$tmp/watch")"
curl -s "$url/apis/kueue.x-k8s.io/v1beta2/clusterqueues?watch=true&timeoutSeconds=1" > "$tmp/watch"
grep -q '"cohortName":"research"' "$tmp/watch" || fail "v1beta2 watch: $(cat "$tmp/watch")"

# Applying the v1beta1 manifest again works, and a change to it lands.
kubectl apply -f "$tmp/v1beta1.yaml" > "$tmp/out" 2>&1 || fail "apply v1beta1 again: $(cat "$tmp/out")"
sed -i 's/cohort: research/cohort: production/' "$tmp/v1beta1.yaml"
kubectl apply -f "$tmp/v1beta1.yaml" > "$tmp/out" 2>&1 || fail "apply changed v1beta1: $(cat "$tmp/out")"
[ "$(kubectl get $b2 team-b -o jsonpath='{.spec.cohortName}')" = production ] || fail "cohort not changed"
[ "$(kubectl get $b2 team-b -o jsonpath='{.metadata.generation}')" = 2 ] || fail "generation"

# v1beta2's names are unknown fields at v1beta1 (kubectl asks for Strict).
sed 's/^  cohort: production/  cohortName: production/' "$tmp/v1beta1.yaml" > "$tmp/bad.yaml"
if kubectl apply -f "$tmp/bad.yaml" > /dev/null 2> "$tmp/err"; then fail "cohortName accepted at v1beta1"; fi
grep -q 'unknown field "spec.cohortName"' "$tmp/err" || fail "$(cat "$tmp/err")"

kubectl delete -f "$tmp/v1beta1.yaml" -f "$here/testdata/kueue-examples/single-clusterqueue-setup.yaml" > /dev/null
[ -z "$(kubectl get cq,lq,wl,rf -A -o name)" ] || fail "objects left"
echo ok
