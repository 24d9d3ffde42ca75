#!/usr/bin/env bash
# Faults with real agents: kill -9 an agent in the middle of a gang -> its node
# goes NotReady when its Lease expires and the gang restarts elsewhere, as a whole;
# kill -9 the server while Jobs run -> after the restart nothing is lost, no pod
# is bound twice and no GPU is given to two pods (invariants over the whole store).
source "$(dirname "$0")/lib.sh"
e2e_need_agent
e2e_start
kubectl apply -f "$here/testdata/agents-queues.yaml" > /dev/null
lease=3
declare -A pid_of
for n in n0 n1 n2; do
    agent_start "$n" 4xH100-80GB "kubernetes.io/hostname=$n" --lease-seconds "$lease"
    pid_of[$n]=$agent_pid
done
wait_for "3 Ready nodes" ready_nodes 3

kubectl apply -f - > /dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: gang
  namespace: default
  labels: {kueue.x-k8s.io/queue-name: q}
spec:
  parallelism: 2
  completions: 2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: busybox
        command: ["/bin/sh", "-c", "while true; do sleep 0.2; done"]
        resources:
          requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "4"}
YAML
running_nodes() { kubectl get pods -l batch.kubernetes.io/job-name=gang --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort; }
two_running() { [ "$(running_nodes | wc -l)" = 2 ]; }
E2E_WAIT=30 wait_for "the gang running" two_running
victim=$(running_nodes | sed -n 1p)
kill -9 "${pid_of[$victim]}"
t0=$(date +%s.%N)
# NotReady once its Lease expires (within $lease s of the kill), at the next pass:
# the controller wakes for the earliest expiry rather than finding it in a later
# sweep of every Lease.
not_ready() { [ "$(kubectl get node "$victim" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ]; }
E2E_WAIT=40 wait_for "$victim NotReady" not_ready
tn=$(date +%s.%N)
echo "$victim NotReady $(awk -v a="$t0" -v b="$tn" 'BEGIN {printf "%.1f", b - a}') s after the kill (lease $lease s)"
awk -v a="$t0" -v b="$tn" -v l="$lease" 'BEGIN {exit !(b - a < l + 3)}' \
    || fail "$victim NotReady only after $(awk -v a="$t0" -v b="$tn" 'BEGIN {print b - a}') s (lease $lease s)"
# The gang comes back, whole, on the two live nodes.
# One look at the pods, so that a pod going Failed between two looks cannot pass it.
not_on_victim() { local r; r=$(running_nodes); [ "$(grep -c . <<< "$r")" = 2 ] && ! grep -qx "$victim" <<< "$r"; }
E2E_WAIT=40 wait_for "the gang restarted off $victim" not_on_victim
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
echo "gang restarted off $victim in $elapsed s (lease $lease s)"
[ "$(kubectl get node "$victim" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ] \
    || fail "$victim not NotReady"
wl=$(kubectl get workloads -o name | grep job-gang-)
# The eviction is recorded as an Event on the workload (its Evicted condition may
# already say it was admitted again).
kubectl get events --field-selector "involvedObject.name=${wl#*/}" \
    -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' | has "^Evicted: Node $victim was lost" \
    || fail "no NodeFailure eviction: $(kubectl get events)"
# Within the lease timeout plus one cycle (and the first requeue backoff of 1 s),
# with room for a loaded CI machine.
awk -v e="$elapsed" -v l="$lease" 'BEGIN {exit !(e < l + 8)}' || fail "restart took $elapsed s"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"

# kill -9 the server while the gang runs and a second Job waits.
kubectl apply -f - > /dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: second
  namespace: default
  labels: {kueue.x-k8s.io/queue-name: q}
spec:
  parallelism: 1
  completions: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["/bin/sh", "-c", "sleep 1"]
        resources:
          requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "4"}
YAML
before=$(kubectl get pods -l batch.kubernetes.io/job-name=gang --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName}/{.metadata.annotations.muster\.dev/gpus}{"\n"}{end}' | sort)
e2e_restart --kill
sleep 2
after=$(kubectl get pods -l batch.kubernetes.io/job-name=gang --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName}/{.metadata.annotations.muster\.dev/gpus}{"\n"}{end}' | sort)
[ "$before" = "$after" ] || fail "the running gang changed across the restart: '$before' vs '$after'"
kubectl get job second > /dev/null || fail "job second lost"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants after restart: $(cat "$tmp/inv")"
# Quota: 8 GPUs, the gang holds 8: second waits, then runs once the gang is deleted.
kubectl delete job gang > /dev/null
E2E_WAIT=40 wait_for "second to complete after the restart" complete second
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants at the end: $(cat "$tmp/inv")"
echo ok
