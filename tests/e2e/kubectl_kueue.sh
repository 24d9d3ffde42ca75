#!/usr/bin/env bash
# kubectl against a real `muster server`: version, api-resources, create (with
# server-side validation through OpenAPI v3), explain, and get of Kueue's example
# manifests (ResourceFlavor, ClusterQueue with cpu, memory and
# nvidia.com/gpu, LocalQueue), delete, and a watch that sees the changes.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers

kubectl version > "$tmp/version" 2>&1 || { cat "$tmp/version"; fail "kubectl version"; }
grep -q 'Server Version: v1.32' "$tmp/version" || fail "server version: $(cat "$tmp/version")"

kubectl api-resources > "$tmp/res"
for r in 'clusterqueues *cq *kueue.x-k8s.io/v1beta2 *false *ClusterQueue' \
         'localqueues *queue,queues,lq *kueue.x-k8s.io/v1beta2 *true' \
         'pods *po *v1 *true *Pod' 'priorityclasses *pc' 'resourceclaims .*resource.k8s.io/v1' \
         'leases .*coordination.k8s.io/v1' 'jobs .*batch/v1'; do
    grep -Eq "^$r" "$tmp/res" || fail "api-resources lacks /$r/: $(cat "$tmp/res")"
done

cat > "$tmp/kueue.yaml" <<'YAML'
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: default-flavor
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: cluster-queue
spec:
  namespaceSelector: {}
  resourceGroups:
  - coveredResources: ["cpu", "memory", "nvidia.com/gpu"]
    flavors:
    - name: "default-flavor"
      resources:
      - name: "cpu"
        nominalQuota: 9
      - name: "memory"
        nominalQuota: 36Gi
      - name: "nvidia.com/gpu"
        nominalQuota: 8
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  namespace: "default"
  name: "user-queue"
spec:
  clusterQueue: "cluster-queue"
YAML
# No --validate=false: kubectl reads /openapi/v3, finds the fieldValidation
# parameter on the patch operations, and leaves validation to the server
# (fieldValidation=Strict), which refuses an unknown field.
kubectl create -f "$tmp/kueue.yaml" > "$tmp/out"
grep -q 'clusterqueue.kueue.x-k8s.io/cluster-queue created' "$tmp/out" || fail "$(cat "$tmp/out")"

# Creating again: AlreadyExists, in kubectl's words.
if kubectl create -f "$tmp/kueue.yaml" 2> "$tmp/err"; then fail "created twice"; fi
grep -q 'AlreadyExists' "$tmp/err" || fail "$(cat "$tmp/err")"

sed 's/^  namespaceSelector: {}/  namespaceSelector: {}\n  bogus: 1/' "$tmp/kueue.yaml" > "$tmp/bad.yaml"
if kubectl apply -f "$tmp/bad.yaml" > /dev/null 2> "$tmp/err"; then fail "unknown field accepted"; fi
grep -q 'spec.bogus' "$tmp/err" || fail "strict validation: $(cat "$tmp/err")"
kubectl explain clusterqueue.spec > "$tmp/explain"
grep -q 'KIND: *ClusterQueue' "$tmp/explain" && grep -q 'resourceGroups' "$tmp/explain" ||
    fail "explain: $(cat "$tmp/explain")"
kubectl explain nodes.spec.unschedulable > "$tmp/explain"
grep -q 'boolean' "$tmp/explain" || fail "explain nodes: $(cat "$tmp/explain")"

kubectl get cq > "$tmp/out"
grep -q '^cluster-queue ' "$tmp/out" || fail "get cq: $(cat "$tmp/out")"
kubectl get clusterqueue cluster-queue -o yaml > "$tmp/cq.yaml"
grep -q 'nominalQuota: 36Gi' "$tmp/cq.yaml" || fail "get -o yaml: $(cat "$tmp/cq.yaml")"
# Revisions 1-4 are the server's namespaces, 5 the flavor, 6 the queue.
grep -q 'uid: ' "$tmp/cq.yaml" && grep -q 'resourceVersion: "6"' "$tmp/cq.yaml" || fail "metadata: $(cat "$tmp/cq.yaml")"
kubectl get lq -o json > "$tmp/lq.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [i["spec"]["clusterQueue"] for i in d["items"]]==["cluster-queue"], d' "$tmp/lq.json"
grep -qx 'resourceflavor.kueue.x-k8s.io/default-flavor' <<< "$(kubectl get rf default-flavor -o name)"

# A watch from the list's revision sees the delete.
# (kubectl get -o jsonpath prints a client-side List with no resourceVersion,
# so the list's revision comes from the server directly.)
rv=$(curl -s "$url/apis/kueue.x-k8s.io/v1beta2/clusterqueues" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
curl -s "$url/apis/kueue.x-k8s.io/v1beta2/clusterqueues?watch=true&resourceVersion=$rv&timeoutSeconds=3" > "$tmp/watch" &
wpid=$!
sleep 0.3
kubectl delete cq cluster-queue > "$tmp/out"
grep -q 'deleted' "$tmp/out" || fail "$(cat "$tmp/out")"
wait "$wpid"
[ "$(wc -l < "$tmp/watch")" = 1 ] &&
    grep -q '"type":"DELETED","object":{"metadata":{"resourceVersion":"'$((rv + 1))'","name":"cluster-queue"' "$tmp/watch" ||
    fail "watch from $rv: $(cat "$tmp/watch")"
if kubectl get cq cluster-queue 2> "$tmp/err"; then fail "still there"; fi
grep -q 'NotFound' "$tmp/err" || fail "$(cat "$tmp/err")"
kubectl delete -f "$tmp/kueue.yaml" --ignore-not-found > /dev/null
[ -z "$(kubectl get rf,lq -o name)" ] || fail "objects left"
echo ok
