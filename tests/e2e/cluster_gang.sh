#!/usr/bin/env bash
# Real processes through the whole stack: two node agents with 4 declared GPUs
# each; a 4-pod gang Job whose pods write their rank, world size, node and
# CUDA_VISIBLE_DEVICES to files (all four start together, on distinct GPUs);
# `kubectl logs`; then a high-priority Job preempts a running low-priority one:
# the low pods get SIGTERM, the low Job is requeued and resumes when the high one
# is done.
source "$(dirname "$0")/lib.sh"
e2e_need_agent
e2e_start
kubectl apply -f "$here/testdata/agents-queues.yaml" > /dev/null
for n in n0 n1; do
    agent_start "$n" 4xH100-80GB "kubernetes.io/hostname=$n" --lease-seconds 4
done
wait_for "2 Ready nodes" ready_nodes 2
out=$tmp/out
mkdir -p "$out"

gang_job() { # name priority pods gpus script
    cat <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  namespace: default
  labels: {kueue.x-k8s.io/queue-name: q, kueue.x-k8s.io/priority-class: $2}
spec:
  parallelism: $3
  completions: $3
  completionMode: Indexed
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: busybox
        command:
        - /bin/sh
        - -c
        - |
          $5
        env: [{name: OUT, value: "$out"}]
        resources:
          requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "$4"}
YAML
}

gang_job gang low 4 2 'echo "$RANK $WORLD_SIZE $MUSTER_NODE_NAME $CUDA_VISIBLE_DEVICES $MASTER_ADDR $MASTER_PORT $(date +%s.%N)" > $OUT/gang-$RANK; echo hello from rank $RANK; sleep 2' \
    | kubectl apply -f - > /dev/null
E2E_WAIT=40 wait_for "the gang to complete" complete gang
[ "$(ls "$out"/gang-* | wc -l)" = 4 ] || fail "gang files: $(ls "$out")"
cat "$out"/gang-* > "$tmp/gang"
[ "$(awk '{print $1}' "$tmp/gang" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] || fail "ranks: $(cat "$tmp/gang")"
awk '$2 != 4 { exit 1 }' "$tmp/gang" || fail "WORLD_SIZE: $(cat "$tmp/gang")"
dups=$(awk '{n = split($4, g, ","); if (n != 2) print "count:" $0; for (i = 1; i <= n; i++) print $3 "/" g[i]}' "$tmp/gang" | sort | uniq -d)
[ -z "$dups" ] || fail "GPUs given twice or wrong count: $dups $(cat "$tmp/gang")"
[ "$(awk '{print $5 ":" $6}' "$tmp/gang" | sort -u | wc -l)" = 1 ] || fail "MASTER_ADDR/PORT differ: $(cat "$tmp/gang")"
# Started together: all four within 2 s.
awk 'NR == 1 {lo = hi = $7} {if ($7 < lo) lo = $7; if ($7 > hi) hi = $7} END {exit !(hi - lo < 2)}' "$tmp/gang" \
    || fail "not started together: $(cat "$tmp/gang")"
pod=$(kubectl get pods -l batch.kubernetes.io/job-name=gang -o name | sed -n 1p)
kubectl logs "$pod" | has "hello from rank" || fail "kubectl logs: $(kubectl logs "$pod" 2>&1)"

# Preemption: low takes all 8 GPUs and traps SIGTERM; high needs 8.
gang_job low low 2 4 'trap "echo term > $OUT/low-term-$RANK-$(date +%s%N); exit 143" TERM; echo started > $OUT/low-start-$RANK-$(date +%s%N); while true; do sleep 0.1; done' \
    | kubectl apply -f - > /dev/null
running() { [ "$(kubectl get pods -l "batch.kubernetes.io/job-name=$1" --field-selector=status.phase=Running -o name | wc -l)" = "$2" ]; }
E2E_WAIT=30 wait_for "low running" running low 2
gang_job high high 2 4 'echo high $RANK > $OUT/high-$RANK; sleep 1' | kubectl apply -f - > /dev/null
E2E_WAIT=30 wait_for "high to complete" complete high
[ "$(ls "$out"/low-term-* 2>/dev/null | wc -l)" -ge 2 ] || fail "low pods did not get SIGTERM: $(ls "$out")"
wl=$(kubectl get workloads -o name | grep job-low-)
# The eviction is recorded as an Event on the workload (its Evicted condition may
# already say it was admitted again).
kubectl get events --field-selector "involvedObject.name=${wl#*/}" \
    -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' | has '^Evicted: Preempted' \
    || fail "low not evicted as Preempted: $(kubectl get events)"
# low resumes once high is done.
E2E_WAIT=30 wait_for "low running again" running low 2
[ "$(ls "$out"/low-start-* | wc -l)" -ge 4 ] || fail "low did not restart: $(ls "$out")"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
echo ok
