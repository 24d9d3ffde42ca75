#!/usr/bin/env bash
# The controllers inside `muster server`, without agents (pod phases are set by
# hand here): a Job labelled kueue.x-k8s.io/queue-name gets a Workload, is
# admitted with a placement of all its pods, unsuspended, its pods created with
# ranks and bound to distinct GPUs; a second Job waits with a pending reason and
# runs when the first completes; a node whose Lease expires becomes NotReady and
# the gang on it is evicted as a whole and placed again on the other node.
source "$(dirname "$0")/lib.sh"
e2e_start
kubectl apply -f "$here/testdata/cluster-2x8gpu.yaml" > /dev/null

job() { # name parallelism gpus
    cat <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  namespace: default
  labels: {kueue.x-k8s.io/queue-name: user-queue}
spec:
  parallelism: $2
  completions: $2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["true"]
        resources:
          requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "$3"}
YAML
}

bound_pods() { # job: prints "pod node gpus rank" for its bound pods
    kubectl get pods -l "batch.kubernetes.io/job-name=$1" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.annotations.muster\.dev/gpus} {.metadata.annotations.muster\.dev/rank}{"\n"}{end}' | awk 'NF == 4'
}
n_bound() { [ "$(bound_pods "$1" | wc -l)" = "$2" ]; }

job a 4 2 | kubectl apply -f - > /dev/null
wait_for "job a bound" n_bound a 4
bound_pods a > "$tmp/a"
# Ranks 0-3, each once; no (node, GPU) pair twice.
[ "$(awk '{print $4}' "$tmp/a" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] || fail "ranks: $(cat "$tmp/a")"
dups=$(awk '{n=split($3, g, ","); for (i = 1; i <= n; i++) print $2 "/" g[i]}' "$tmp/a" | sort | uniq -d)
[ -z "$dups" ] || fail "GPUs given twice: $dups"
[ "$(awk '{n += split($3, g, ",")} END {print n}' "$tmp/a")" = 8 ] || fail "GPU count: $(cat "$tmp/a")"
[ "$(kubectl get job a -o jsonpath='{.spec.suspend}')" = false ] || fail "job a still suspended"
# Its first status waits for its pods to run, a second at most (nothing runs
# them here): then startTime and the pods active.
a_started() { [ -n "$(kubectl get job a -o jsonpath='{.status.startTime}')" ]; }
wait_for "job a startTime" a_started
[ "$(kubectl get job a -o jsonpath='{.status.active}/{.status.ready}')" = 4/0 ] \
    || fail "job a counts: $(kubectl get job a -o jsonpath='{.status}')"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
wl=$(kubectl get workloads -o name | grep job-a-)
kubectl get "$wl" -o jsonpath='{.status.conditions[?(@.type=="Admitted")].status}' | has True \
    || fail "workload of a not Admitted"
kubectl get "$wl" -o jsonpath='{.status.admission.clusterQueue}' | has cluster-queue \
    || fail "no admission"

# b wants 12 GPUs; quota 16 with 8 held: pending with a reason naming the shortfall.
job b 3 4 | kubectl apply -f - > /dev/null
wl_b() { kubectl get workloads -o name | grep job-b-; }
wait_for "workload of b" wl_b
pending_reason() { kubectl get "$(wl_b)" -o jsonpath='{.status.conditions[?(@.type=="QuotaReserved")].message}' | has "$1"; }
wait_for "b pending reason" pending_reason "nvidia.com/gpu"
[ "$(kubectl get job b -o jsonpath='{.spec.suspend}')" = true ] || fail "job b not suspended"
n_pods() { [ "$(kubectl get pods -l "batch.kubernetes.io/job-name=$1" -o name | wc -l)" = "$2" ]; }
n_pods b 0 || fail "job b has pods while pending"
# Waiting, b is told it is suspended (after a batch period: jobs admitted
# within it never are); a, admitted at once, never was.
job_cond() { kubectl get job "$1" -o jsonpath="{.status.conditions[?(@.type==\"Suspended\")].status}/{.status.conditions[?(@.type==\"Suspended\")].reason}"; }
b_suspended() { [ "$(job_cond b)" = "True/JobSuspended" ]; }
wait_for "job b Suspended condition" b_suspended
[ "$(job_cond a)" = "/" ] || fail "job a, admitted at once, has a Suspended condition: $(job_cond a)"

# a's pods succeed (set by hand, as an agent would): a completes, its quota frees, b runs.
for p in $(bound_pods a | awk '{print $1}'); do
    kubectl patch pod "$p" --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}' > /dev/null
done
wait_for "job a Complete" complete a
[ "$(kubectl get job a -o jsonpath='{.status.succeeded}')" = 4 ] || fail "a succeeded count"
finished() { kubectl get "$wl" -o jsonpath='{.status.conditions[?(@.type=="Finished")].status}' | has True; }
wait_for "workload of a Finished" finished
wait_for "job b bound" n_bound b 3
b_resumed() { [ "$(job_cond b)" = "False/JobResumed" ]; }
wait_for "job b Suspended condition False" b_resumed

# Node lifecycle: leases for both nodes; n1's stops being renewed.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
for n in n1 n2; do
    kubectl apply -f - > /dev/null <<YAML
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: $n, namespace: kube-node-lease}
spec: {holderIdentity: $n, leaseDurationSeconds: 2, renewTime: "$now"}
YAML
done
on_n1=$(bound_pods b | awk '$2 == "n1"' | wc -l)
# Keep n2 alive; let n1 expire.
for _ in $(seq 30); do
    kubectl patch lease n2 -n kube-node-lease --type=merge \
        -p "{\"spec\":{\"renewTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)\"}}" > /dev/null
    [ "$(kubectl get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ] && break
    sleep 0.3
done
[ "$(kubectl get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ] \
    || fail "n1 not NotReady after its lease expired"
kubectl get node n1 -o jsonpath='{.spec.taints[*].key}' | has node.kubernetes.io/unreachable \
    || fail "n1 not tainted"
if [ "$on_n1" -gt 0 ]; then
    # The whole gang is evicted and placed again, all on n2 (12 GPUs do not fit one
    # node of 8, so b waits: it must not be admitted partly on the dead node).
    evicted() { kubectl get "$(wl_b)" -o jsonpath='{.status.conditions[?(@.type=="Evicted")].reason}' | has NodeFailure; }
    E2E_WAIT=60 wait_for "b evicted for the node failure" evicted
fi

# Bad node: pods of three workloads fail on n2 within minutes -> tainted and avoided.
for i in 1 2 3; do
    kubectl apply -f - > /dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: flaky-$i
  namespace: default
  annotations: {muster.dev/workload: w$i}
spec:
  nodeName: n2
  containers: [{name: c, image: busybox}]
YAML
    kubectl patch pod "flaky-$i" --subresource=status --type=merge \
        -p '{"status":{"phase":"Failed","reason":"Error"}}' > /dev/null
done
tainted() { kubectl get node n2 -o jsonpath='{.spec.taints[*].key}' | has muster.dev/bad-node; }
wait_for "n2 tainted as a bad node" tainted
kubectl get events -o jsonpath='{.items[*].reason}' | has BadNode || fail "no BadNode event"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
echo ok
