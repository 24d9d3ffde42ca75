#!/usr/bin/env bash
# Server-side Tables: `kubectl get` prints each kind's columns (nodes with -o wide
# too), --show-labels and --sort-by (includeObject), and `kubectl get -w` prints a
# line per change from a Table watch.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers

kubectl apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: gpu-node-1
  labels: {kubernetes.io/hostname: gpu-node-1, nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}
status:
  capacity: {cpu: "64", nvidia.com/gpu: "8"}
  allocatable: {cpu: "63", nvidia.com/gpu: "8"}
  addresses: [{type: InternalIP, address: 10.0.0.1}]
  conditions: [{type: Ready, status: "True"}]
  nodeInfo: {kubeletVersion: v1.32.0, osImage: Ubuntu 24.04, kernelVersion: "6.8", containerRuntimeVersion: containerd://2.0.0}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: cluster-queue
  labels: {team: a}
spec:
  cohortName: research
  queueingStrategy: StrictFIFO
  resourceGroups:
  - coveredResources: ["cpu", "nvidia.com/gpu"]
    flavors:
    - name: default-flavor
      resources:
      - {name: cpu, nominalQuota: 9}
      - {name: nvidia.com/gpu, nominalQuota: 8}
YAML

kubectl get cq > "$tmp/out"
grep -q '^NAME *COHORT *STRATEGY *PENDING WORKLOADS *ADMITTED WORKLOADS *AGE' <<< "$(head -1 "$tmp/out")" || fail "columns: $(cat "$tmp/out")"
grep -q '^cluster-queue *research *StrictFIFO ' "$tmp/out" || fail "row: $(cat "$tmp/out")"
kubectl get cq -o wide > "$tmp/out"
grep -q 'QUOTA' <<< "$(head -1 "$tmp/out")" || fail "wide columns: $(cat "$tmp/out")"
grep -q 'nvidia.com/gpu=8' "$tmp/out" || fail "wide row: $(cat "$tmp/out")"
grep -q 'team=a' <<< "$(kubectl get cq --show-labels)" || fail "--show-labels"
grep -q '^cluster-queue' <<< "$(kubectl get cq --sort-by=.metadata.name)" || fail "--sort-by"

kubectl get nodes > "$tmp/out"
grep -q '^NAME *STATUS *ROLES *GPUS *AGE *VERSION' <<< "$(head -1 "$tmp/out")" || fail "node columns: $(cat "$tmp/out")"
grep -q '^gpu-node-1 *Ready .*v1.32.0' "$tmp/out" || fail "node row: $(cat "$tmp/out")"
kubectl get nodes -o wide > "$tmp/out"
grep -q 'INTERNAL-IP' "$tmp/out" && grep -q '10.0.0.1' "$tmp/out" && grep -q 'Ubuntu 24.04' "$tmp/out" ||
    fail "nodes -o wide: $(cat "$tmp/out")"
grep -q '^gpu-node-1 ' <<< "$(kubectl get node gpu-node-1)" || fail "get one node"

# kubectl get -w: the list, then one line per change.
kubectl get cq -w > "$tmp/watch" 2>&1 &
wpid=$!
for _ in $(seq 50); do grep -q '^cluster-queue' "$tmp/watch" && break; sleep 0.1; done
kubectl patch cq cluster-queue --type=merge -p '{"spec":{"queueingStrategy":"BestEffortFIFO"}}' > /dev/null
for _ in $(seq 50); do grep -q 'BestEffortFIFO' "$tmp/watch" && break; sleep 0.1; done
kill "$wpid"
wait "$wpid" 2>/dev/null || true
grep -q '^cluster-queue *research *BestEffortFIFO ' "$tmp/watch" || fail "watch: $(cat "$tmp/watch")"
echo ok
