#!/usr/bin/env bash
# PATCH through kubectl: client-side apply twice (the second is a merge patch),
# server-side apply (create 201, update 200, a conflict with another manager,
# --force-conflicts), label, patch --type=merge and --type=json, and cordon of a
# Node (a strategic merge patch); status is untouched by the main resource.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers

cat > "$tmp/cq.yaml" <<'YAML'
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: cluster-queue
spec:
  namespaceSelector: {}
  resourceGroups:
  - coveredResources: ["cpu", "nvidia.com/gpu"]
    flavors:
    - name: default-flavor
      resources:
      - name: cpu
        nominalQuota: 9
      - name: nvidia.com/gpu
        nominalQuota: 8
YAML
kubectl apply -f "$tmp/cq.yaml" > "$tmp/out"
grep -q 'clusterqueue.kueue.x-k8s.io/cluster-queue created' "$tmp/out" || fail "$(cat "$tmp/out")"
kubectl apply -f "$tmp/cq.yaml" > "$tmp/out"
grep -q 'cluster-queue unchanged' "$tmp/out" || fail "second apply: $(cat "$tmp/out")"
sed -i 's/nominalQuota: 8/nominalQuota: 16/' "$tmp/cq.yaml"
kubectl apply -f "$tmp/cq.yaml" > "$tmp/out"
grep -q 'cluster-queue configured' "$tmp/out" || fail "third apply: $(cat "$tmp/out")"
[ "$(kubectl get cq cluster-queue -o jsonpath='{.spec.resourceGroups[0].flavors[0].resources[1].nominalQuota}')" = 16 ] ||
    fail "apply did not change the quota: $(kubectl get cq cluster-queue -o yaml)"
[ "$(kubectl get cq cluster-queue -o jsonpath='{.metadata.generation}')" = 2 ] || fail generation

kubectl label cq cluster-queue team=a > "$tmp/out"
grep -q 'labeled' "$tmp/out" || fail "$(cat "$tmp/out")"
[ "$(kubectl get cq -l team=a -o name)" = clusterqueue.kueue.x-k8s.io/cluster-queue ] || fail "label selector"

kubectl patch cq cluster-queue --type=merge -p '{"spec":{"stopPolicy":"Hold"}}' > "$tmp/out"
grep -q 'patched' "$tmp/out" || fail "$(cat "$tmp/out")"
[ "$(kubectl get cq cluster-queue -o jsonpath='{.spec.stopPolicy}')" = Hold ] || fail "merge patch"
kubectl patch cq cluster-queue --type=json -p '[{"op":"replace","path":"/spec/stopPolicy","value":"None"},{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]' > "$tmp/out"
[ "$(kubectl get cq cluster-queue -o jsonpath='{.spec.stopPolicy}/{.metadata.annotations.a}')" = None/b ] || fail "json patch"
# A strategic merge patch of a custom resource is refused, as Kubernetes does.
if kubectl patch cq cluster-queue --type=strategic -p '{"spec":{"stopPolicy":"Hold"}}' 2> "$tmp/err"; then
    fail "strategic patch of a CR accepted"
fi
grep -q 'UnsupportedMediaType\|unknown format' "$tmp/err" || fail "$(cat "$tmp/err")"
# A patch that makes the object invalid is refused and changes nothing.
if kubectl patch cq cluster-queue --type=merge -p '{"spec":{"stopPolicy":"Sometimes"}}' 2> "$tmp/err"; then
    fail "invalid patch accepted"
fi
grep -q 'is invalid' "$tmp/err" || fail "$(cat "$tmp/err")"

# Server-side apply: create, then update; another manager conflicts unless forced.
cat > "$tmp/lq.yaml" <<'YAML'
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  name: user-queue
  namespace: default
spec:
  clusterQueue: cluster-queue
YAML
kubectl apply --server-side -f "$tmp/lq.yaml" > "$tmp/out"
grep -q 'localqueue.kueue.x-k8s.io/user-queue serverside-applied' "$tmp/out" || fail "$(cat "$tmp/out")"
echo '  stopPolicy: Hold' >> "$tmp/lq.yaml"
kubectl apply --server-side -f "$tmp/lq.yaml" > "$tmp/out"
[ "$(kubectl get lq user-queue -o jsonpath='{.spec.stopPolicy}')" = Hold ] || fail "ssa update"
sed -i 's/stopPolicy: Hold/stopPolicy: HoldAndDrain/' "$tmp/lq.yaml"
if kubectl apply --server-side --field-manager=other -f "$tmp/lq.yaml" 2> "$tmp/err"; then
    fail "conflict not reported"
fi
grep -q 'conflict' "$tmp/err" || fail "$(cat "$tmp/err")"
kubectl apply --server-side --field-manager=other --force-conflicts -f "$tmp/lq.yaml" > /dev/null
[ "$(kubectl get lq user-queue -o jsonpath='{.spec.stopPolicy}')" = HoldAndDrain ] || fail "force"
kubectl get lq user-queue -o jsonpath='{.metadata.managedFields[*].manager}' > "$tmp/out"
grep -q other "$tmp/out" || fail "managedFields: $(cat "$tmp/out")"

# cordon and uncordon a Node: strategic merge patches of spec.unschedulable.
kubectl create -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: gpu-node-1
  labels: {kubernetes.io/hostname: gpu-node-1}
status:
  capacity: {cpu: "64", nvidia.com/gpu: "8"}
  allocatable: {cpu: "63", nvidia.com/gpu: "8"}
YAML
kubectl cordon gpu-node-1 > "$tmp/out"
grep -q 'cordoned' "$tmp/out" || fail "$(cat "$tmp/out")"
[ "$(kubectl get node gpu-node-1 -o jsonpath='{.spec.unschedulable}')" = true ] || fail "cordon"
[ "$(kubectl get node gpu-node-1 -o jsonpath='{.status.allocatable.cpu}')" = 63 ] || fail "status lost"
kubectl uncordon gpu-node-1 > "$tmp/out"
grep -q 'uncordoned' "$tmp/out" || fail "$(cat "$tmp/out")"
[ -z "$(kubectl get node gpu-node-1 -o jsonpath='{.spec.unschedulable}')" ] || fail "uncordon"
echo ok
