#!/usr/bin/env bash
# A simulated agent (`muster agent --simulate --count 50`) stands for 50 nodes in one
# process: it registers sim-0 .. sim-49 (Nodes, ResourceSlices, Leases, renewed), and
# runs the pods bound to any of them without processes: Running at once, Succeeded
# after their muster.dev/runtime; a pod without one runs until it is deleted, and the
# deletion completes. A restarted simulated agent finishes a pod on time. --gpus nvml
# without NVIDIA's library is a clear error.
source "$(dirname "$0")/lib.sh"
e2e_need_agent
e2e_start
agent_start sim 8xH100-80GB zone=sim --simulate --count 50 --lease-seconds 8

nodes_are() { [ "$(kubectl get nodes -o name | grep -c '^node/sim-')" = "$1" ]; }
E2E_WAIT=60 wait_for "50 nodes" nodes_are 50
leases_are() { [ "$(kubectl get leases -n kube-node-lease -o name | grep -c '/sim-')" = "$1" ]; }
E2E_WAIT=30 wait_for "50 leases" leases_are 50
[ "$(kubectl get resourceslices -o name | grep -c 'sim-')" = 50 ] || fail "slices"
[ "$(jp node/sim-49 '.status.capacity.nvidia\.com/gpu')" = 8 ] || fail "capacity of sim-49"
first=$(jp lease/sim-17 '.spec.renewTime' -n kube-node-lease)
renewed() { [ "$(jp lease/sim-17 .spec.renewTime -n kube-node-lease)" != "$first" ]; }
wait_for "sim-17's Lease renewed" renewed

for i in $(seq 0 19); do
    cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: p$i, annotations: {muster.dev/runtime: 1500ms}}
spec:
  nodeName: sim-$((i * 2))
  restartPolicy: Never
  containers: [{name: main, image: x}]
EOF
done > "$tmp/pods.yaml"
cat >> "$tmp/pods.yaml" <<'EOF'
---
apiVersion: v1
kind: Pod
metadata: {name: forever}
spec:
  nodeName: sim-49
  restartPolicy: Never
  containers: [{name: main, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: later, annotations: {muster.dev/runtime: 6s}}
spec:
  nodeName: sim-7
  restartPolicy: Never
  containers: [{name: main, image: x}]
EOF
kubectl apply -f "$tmp/pods.yaml" > /dev/null
phase_is() { [ "$(jp "pod/$1" '.status.phase')" = "$2" ]; }
completed() { [ "$(kubectl get pods --no-headers | grep -c " Completed ")" = "$1" ]; }
E2E_WAIT=30 wait_for "p3 Running" phase_is p3 Running
E2E_WAIT=30 wait_for "20 pods Completed" completed 20
[ "$(jp pod/p19 '.status.phase')" = Succeeded ] || fail "p19"
[ "$(jp pod/p19 '.status.containerStatuses[0].state.terminated.exitCode')" = 0 ] || fail "exit"
[ "$(jp pod/forever '.status.phase')" = Running ] || fail "forever: $(jp pod/forever .status.phase)"
[ "$(kubectl logs p4)" = "" ] || fail "a simulated pod has an empty log"

# Restart the simulated agent: "later" still ends about 6 s after it started.
started=$(jp pod/later '.status.startTime')
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
agent_start sim 8xH100-80GB zone=sim --simulate --count 50 --lease-seconds 8
E2E_WAIT=30 wait_for "later Succeeded" phase_is later Succeeded
[ "$(jp pod/later '.status.startTime')" = "$started" ] || fail "startTime changed"

timeout 30 kubectl delete pod forever > /dev/null || fail "delete forever"
kubectl get pod forever > /dev/null 2>&1 && fail "forever still there"

if ! ldconfig -p 2>/dev/null | grep -q libnvidia-ml.so.1; then
    "$bin" agent --server "$url" --name g --gpus nvml --data-dir "$tmp/nvml" 2> "$tmp/nvml.log" &&
        fail "--gpus nvml ran without NVML"
    grep -q "cannot load libnvidia-ml.so.1" "$tmp/nvml.log" || fail "--gpus nvml: $(cat "$tmp/nvml.log")"
fi
echo ok
