#!/usr/bin/env bash
# The scheduler acts on changes to a Workload it already knows, on a cluster
# where nothing else happens (no other event to wake it): a Workload created
# inactive is admitted once it is made active; one deleted and made again under
# the same name is a new workload and is admitted again. The queues' status
# (written at most twice a second) follows each change, the last one included.
source "$(dirname "$0")/lib.sh"
e2e_start
kubectl apply -f "$here/testdata/cluster-2x8gpu.yaml" > /dev/null

workload() { # name active
    cat <<YAML
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: {name: $1, namespace: default}
spec:
  queueName: user-queue
  active: $2
  podSets:
  - name: main
    count: 2
    template:
      spec:
        restartPolicy: Never
        containers:
        - name: main
          image: busybox
          resources:
            requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "2"}
YAML
}
reserved() { kubectl get workload "$1" -o jsonpath='{.status.conditions[?(@.type=="QuotaReserved")].status}'; }
admitted() { [ "$(reserved "$1")" = True ]; }

# Inactive: not admitted, however long one waits.
workload w1 false | kubectl apply -f - > /dev/null
sleep 1.5
[ "$(reserved w1)" != True ] || fail "an inactive workload was admitted"
# Made active: admitted, with nothing else happening in the cluster.
kubectl patch workload w1 --type=merge -p '{"spec":{"active":true}}' > /dev/null
wait_for "w1 admitted once active" admitted w1
kubectl get workload w1 -o jsonpath='{.status.admission.clusterQueue}' | has cluster-queue \
    || fail "w1 has no admission"
# The queues count it and what it holds (2 pods x 2 GPUs).
queue_is() { # kind name admitted gpus
    local got
    got=$(kubectl get "$1" "$2" -o jsonpath='{.status.admittedWorkloads}/{.status.flavorsUsage[*].resources[?(@.name=="nvidia.com/gpu")].total}')
    [ "$got" = "$3/$4" ] || { [ "$4" = 0 ] && [ "$got" = "$3/" ]; } # none held: no usage listed
}
wait_for "the ClusterQueue counting w1" queue_is clusterqueue cluster-queue 1 4
wait_for "the LocalQueue counting w1" queue_is localqueue user-queue 1 4

# Deleted and made again under the same name: a new workload, admitted again.
kubectl delete workload w1 > /dev/null
gone() { ! kubectl get workload w1 > /dev/null 2>&1; }
wait_for "w1 deleted" gone
wait_for "the ClusterQueue without w1" queue_is clusterqueue cluster-queue 0 0
wait_for "the LocalQueue without w1" queue_is localqueue user-queue 0 0
workload w1 true | kubectl apply -f - > /dev/null
wait_for "w1 admitted again" admitted w1
# Deleted at once (within the queues' half-second gap of their last write, as
# a rule): the count written at the end of the gap, with nothing else happening.
kubectl delete workload w1 > /dev/null
wait_for "the ClusterQueue without w1, again" queue_is clusterqueue cluster-queue 0 0
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
echo ok
