#!/usr/bin/env bash
# Every kind the server serves, through kubectl, from the manifests in
# testdata/kinds/ (one per kind): `kubectl apply -f DIR` client-side (created,
# then unchanged) and --server-side, `kubectl describe` of each object (with
# the Events section: describe lists events by involvedObject field selectors),
# `kubectl get -o custom-columns=...` of each kind, Kueue's sample Job through
# `kubectl create` (generateName), `kubectl delete -f DIR`, and the deletion of a
# namespace with content, which kubectl waits for while the server empties it,
# also across a restart of the server.
source "$(dirname "$0")/lib.sh"
# The API alone: the controllers would admit and start the sample Job (and so
# change it under kubectl apply), which is not what this test is about.
e2e_start --no-controllers
dir=$here/testdata/kinds

# name of each object in the directory: resource/name (namespaced ones in default)
objects=(namespace/muster-e2e priorityclass/train-high node/gpu-node-1
    deviceclass/gpu.nvidia.com resourceslice/gpu-node-1-gpu.nvidia.com resourceflavor/h100
    topology/gpu-topology cohort/research clusterqueue/team-a-cq
    workloadpriorityclass/production localqueue/team-a pod/train-0 job/sample-job
    workload/job-train-3f2a1 lease/muster-scheduler resourceclaim/two-gpus
    resourceclaimtemplate/one-gpu event/train-0.1847a2b3c4d5e6f7)

kubectl apply -f "$dir" > "$tmp/out" 2>&1 || fail "apply: $(cat "$tmp/out")"
[ "$(grep -c ' created$' "$tmp/out")" = "${#objects[@]}" ] || fail "apply: $(cat "$tmp/out")"
kubectl apply -f "$dir" > "$tmp/out" 2>&1 || fail "apply again: $(cat "$tmp/out")"
[ "$(grep -c ' unchanged$' "$tmp/out")" = "${#objects[@]}" ] || fail "apply again: $(cat "$tmp/out")"
kubectl apply --server-side -f "$dir" > "$tmp/out" 2>&1 || fail "apply --server-side: $(cat "$tmp/out")"
[ "$(grep -c ' serverside-applied$' "$tmp/out")" = "${#objects[@]}" ] ||
    fail "apply --server-side: $(cat "$tmp/out")"

# Events about the pod, the node and the ClusterQueue, as a scheduler and an
# agent would write them (core/v1, with the involved object's uid).
uid() { kubectl get "$1" -o jsonpath='{.metadata.uid}'; }
kubectl create -f - > /dev/null <<YAML
apiVersion: v1
kind: Event
metadata: {name: train-0.failed, namespace: default}
involvedObject: {apiVersion: v1, kind: Pod, namespace: default, name: train-0, uid: "$(uid pod/train-0)"}
reason: FailedScheduling
message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
type: Warning
source: {component: muster}
count: 3
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:01:00Z"
---
apiVersion: v1
kind: Event
metadata: {name: gpu-node-1.ready, namespace: default}
involvedObject: {apiVersion: v1, kind: Node, name: gpu-node-1, uid: "$(uid node/gpu-node-1)"}
reason: NodeReady
message: "Node gpu-node-1 status is now: NodeReady"
type: Normal
source: {component: muster-agent}
---
apiVersion: v1
kind: Event
metadata: {name: team-a-cq.quota, namespace: default}
involvedObject: {apiVersion: kueue.x-k8s.io/v1beta2, kind: ClusterQueue, name: team-a-cq, uid: "$(uid clusterqueue/team-a-cq)"}
reason: QuotaReserved
message: "Quota reserved for default/job-train-3f2a1"
type: Normal
source: {component: muster}
YAML

# describe: every object; the events of the pod, the node and the queue.
for o in "${objects[@]}"; do
    kubectl describe "$o" > "$tmp/describe" 2>&1 || fail "describe $o: $(cat "$tmp/describe")"
    grep -q "^Name: *${o#*/}$" "$tmp/describe" || fail "describe $o: $(cat "$tmp/describe")"
done
kubectl describe pod train-0 > "$tmp/describe"
grep -A3 '^Events:' "$tmp/describe" | grep -q 'Warning *FailedScheduling .*x3 over.* muster *0/1 nodes are available' ||
    fail "describe pod events: $(cat "$tmp/describe")"
kubectl describe node gpu-node-1 > "$tmp/describe"
grep -A3 '^Events:' "$tmp/describe" | grep -q 'Normal *NodeReady .*muster-agent *Node gpu-node-1 status is now' ||
    fail "describe node events: $(cat "$tmp/describe")"
grep -q 'nvidia.com/gpu:  *8' "$tmp/describe" || fail "describe node capacity: $(cat "$tmp/describe")"
kubectl describe clusterqueue team-a-cq > "$tmp/describe"
grep -A3 '^Events:' "$tmp/describe" | grep -q 'QuotaReserved' ||
    fail "describe cq events: $(cat "$tmp/describe")"
kubectl describe job sample-job > "$tmp/describe"
grep -q 'kueue.x-k8s.io/queue-name=team-a' "$tmp/describe" || fail "describe job: $(cat "$tmp/describe")"

# get -o custom-columns: one column read from each kind's own fields.
check_columns() { # resource columns want-row
    kubectl get "$1" -o "custom-columns=$2" > "$tmp/cols" 2>&1 || fail "get $1: $(cat "$tmp/cols")"
    grep -Eq "^$3\$" "$tmp/cols" || fail "get $1 -o custom-columns=$2: want /$3/: $(cat "$tmp/cols")"
}
check_columns namespaces 'NAME:.metadata.name,PHASE:.status.phase,TEAM:.metadata.labels.team' \
    'muster-e2e +Active +e2e'
check_columns priorityclasses 'NAME:.metadata.name,VALUE:.value' 'train-high +100000'
check_columns nodes 'NAME:.metadata.name,GPUS:.status.capacity.nvidia\.com/gpu,TAINT:.spec.taints[0].key' \
    'gpu-node-1 +8 +nvidia.com/gpu'
check_columns deviceclasses 'NAME:.metadata.name,CEL:.spec.selectors[0].cel.expression' \
    "gpu.nvidia.com +device.driver == 'gpu.nvidia.com'"
check_columns resourceslices 'NAME:.metadata.name,DRIVER:.spec.driver,NODE:.spec.nodeName' \
    'gpu-node-1-gpu.nvidia.com +gpu.nvidia.com +gpu-node-1'
check_columns resourceflavors 'NAME:.metadata.name,TOPOLOGY:.spec.topologyName' 'h100 +gpu-topology'
check_columns topologies 'NAME:.metadata.name,LEVELS:.spec.levels[*].nodeLabel' \
    'gpu-topology +cloud.provider.com/topology-block,cloud.provider.com/topology-rack,kubernetes.io/hostname'
check_columns cohorts 'NAME:.metadata.name,WEIGHT:.spec.fairSharing.weight' 'research +2'
check_columns clusterqueues 'NAME:.metadata.name,COHORT:.spec.cohortName,GPU:.spec.resourceGroups[0].flavors[0].resources[2].nominalQuota' \
    'team-a-cq +research +64'
check_columns workloadpriorityclasses 'NAME:.metadata.name,VALUE:.value' 'production +10000'
check_columns localqueues 'NAME:.metadata.name,CQ:.spec.clusterQueue' 'team-a +team-a-cq'
check_columns pods 'NAME:.metadata.name,SCHEDULER:.spec.schedulerName,GPU:.spec.containers[0].resources.limits.nvidia\.com/gpu' \
    'train-0 +muster +1'
check_columns jobs 'NAME:.metadata.name,SUSPEND:.spec.suspend,QUEUE:.metadata.labels.kueue\.x-k8s\.io/queue-name' \
    'sample-job +true +team-a'
check_columns workloads 'NAME:.metadata.name,QUEUE:.spec.queueName,PRIORITY:.spec.priorityClassRef.name' \
    'job-train-3f2a1 +team-a +production'
check_columns leases 'NAME:.metadata.name,HOLDER:.spec.holderIdentity' 'muster-scheduler +muster-0'
check_columns resourceclaims 'NAME:.metadata.name,CLASS:.spec.devices.requests[0].exactly.deviceClassName' \
    'two-gpus +gpu.nvidia.com'
check_columns resourceclaimtemplates 'NAME:.metadata.name,CLASS:.spec.spec.devices.requests[0].exactly.deviceClassName' \
    'one-gpu +gpu.nvidia.com'
check_columns events 'NAME:.metadata.name,REASON:.reason,OBJECT:.involvedObject.name' \
    'train-0.1847a2b3c4d5e6f7 +Scheduled +train-0'

# Kueue's sample Job has generateName: kubectl create, not apply.
kubectl create -f "$here/testdata/kueue-examples/sample-job.yaml" > "$tmp/out" 2>&1 ||
    fail "create sample job: $(cat "$tmp/out")"
grep -Eq '^job.batch/sample-job-[a-z0-9]{5} created$' "$tmp/out" || fail "$(cat "$tmp/out")"

# delete -f DIR: everything from the directory goes (kubectl waits for each).
kubectl delete -f "$dir" > "$tmp/out" 2>&1 || fail "delete: $(cat "$tmp/out")"
[ "$(grep -c ' deleted$' "$tmp/out")" = "${#objects[@]}" ] || fail "delete: $(cat "$tmp/out")"
for o in "${objects[@]}"; do
    if kubectl get "$o" > /dev/null 2>&1; then fail "$o is still there"; fi
done

# A namespace with content: kubectl waits until the server has emptied and
# removed it; meanwhile nothing new may be created in it.
kubectl apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: team-z}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: q, namespace: team-z}
spec: {clusterQueue: team-a-cq}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team-z}
spec: {containers: [{name: c, image: x}]}
YAML
kubectl delete namespace team-z --timeout=30s > "$tmp/out" 2>&1 || fail "delete ns: $(cat "$tmp/out")"
if kubectl get namespace team-z > /dev/null 2>&1; then fail "namespace team-z is still there"; fi
[ -z "$(kubectl get pods,localqueues -n team-z -o name)" ] || fail "content left in team-z"
if kubectl apply -f - > /dev/null 2> "$tmp/err" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team-z}
spec: {containers: [{name: c, image: x}]}
YAML
then fail "created in a deleted namespace"; fi
grep -q 'namespaces "team-z" not found' "$tmp/err" || fail "$(cat "$tmp/err")"

# A namespace left Terminating when the server stops is finished after the
# restart: here a pod's finalizer holds it until after the server is back.
kubectl apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: team-y}
---
apiVersion: v1
kind: Pod
metadata: {name: held, namespace: team-y, finalizers: [example.com/hold]}
spec: {containers: [{name: c, image: x}]}
YAML
kubectl delete namespace team-y --wait=false > /dev/null
terminating() { [ "$(kubectl get ns team-y -o jsonpath='{.status.phase}')" = Terminating ]; }
wait_for "team-y Terminating" terminating
e2e_restart --kill
terminating || fail "team-y after the restart: $(kubectl get ns team-y -o yaml)"
kubectl patch pod held -n team-y --type=merge -p '{"metadata":{"finalizers":null}}' > /dev/null
gone() { ! kubectl get ns team-y; }
wait_for "team-y deleted after the restart" gone
echo ok
