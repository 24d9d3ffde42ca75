#!/usr/bin/env bash
# The scheduler acts on changes to a Workload it already knows, on a cluster
# where nothing else happens (no other event to wake it): a Workload created
# inactive is admitted once it is made active; one deleted and made again under
# the same name is a new workload and is admitted again.
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

# Deleted and made again under the same name: a new workload, admitted again.
kubectl delete workload w1 > /dev/null
gone() { ! kubectl get workload w1 > /dev/null 2>&1; }
wait_for "w1 deleted" gone
workload w1 true | kubectl apply -f - > /dev/null
wait_for "w1 admitted again" admitted w1
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
echo ok
