#!/usr/bin/env bash
# The node agent runs pods (docs/agent.md): a `muster agent` registers Node n1 with
# declared GPUs, its ResourceSlice and its Lease; pods created with spec.nodeName run
# as processes with muster's environment, go Running then Succeeded or Failed with
# their exit codes; kubectl logs (and -f) reach the agent through the server;
# restartPolicy OnFailure retries in place; kubectl delete sends SIGTERM (SIGKILL after
# the grace period) and the pod disappears; the Lease is renewed.
source "$(dirname "$0")/lib.sh"
e2e_need_agent
e2e_start
agent_start n1 4xH100-80GB zone=a,example.com/rack=r7 --lease-seconds 4 --restart-backoff 200ms
log=$tmp/agents/n1.log
phase_is() { [ "$(jp "pod/$1" '.status.phase')" = "$2" ]; }
logs_are() { [ "$(kubectl logs "$1")" = "$2" ]; }

ready() { [ "$(jp "node/$1" '.status.conditions[?(@.type=="Ready")].status')" = True ]; }
E2E_WAIT=30 wait_for "node n1 Ready" ready n1
[ "$(jp node/n1 '.status.capacity.nvidia\.com/gpu')" = 4 ] || fail "gpu capacity"
[ "$(jp node/n1 '.metadata.labels.zone')" = a ] || fail "label zone"
[ "$(jp node/n1 '.metadata.labels.example\.com/rack')" = r7 ] || fail "label rack"
[ "$(jp node/n1 '.metadata.labels.nvidia\.com/gpu\.product')" = H100 ] || fail "gpu.product"
[ "$(jp node/n1 '.status.addresses[?(@.type=="InternalIP")].address')" = 127.0.0.1 ] ||
    fail "InternalIP"
[ "$(jp node/n1 '.status.daemonEndpoints.kubeletEndpoint.Port')" -gt 0 ] || fail "log port"
wait_for "the ResourceSlice" kubectl get resourceslice n1-gpus
[ "$(jp resourceslice/n1-gpus '.spec.devices[*].name')" = "gpu-0 gpu-1 gpu-2 gpu-3" ] ||
    fail "slice devices: $(kubectl get resourceslice n1-gpus -o yaml)"
[ "$(jp resourceslice/n1-gpus '.spec.devices[2].attributes.model.string')" = H100 ] ||
    fail "slice model"
[ "$(jp resourceslice/n1-gpus '.spec.nodeName')" = n1 ] || fail "slice nodeName"

# The Lease is renewed (every second with --lease-seconds 4).
lease() { jp lease/n1 '.spec.renewTime' -n kube-node-lease; }
first=$(lease)
[ -n "$first" ] || fail "no Lease"
renewed() { [ "$(lease)" != "$first" ]; }
wait_for "the Lease renewed (it says $first)" renewed
[ "$(jp lease/n1 '.spec.holderIdentity' -n kube-node-lease)" = n1 ] || fail "holder"

kubectl apply -f - > /dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ok
  annotations: {muster.dev/gpus: "1,2", muster.dev/rank: "3", muster.dev/world-size: "4",
                muster.dev/master-addr: 10.1.2.3, muster.dev/master-port: "23456"}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - name: main
    image: pytorch/pytorch
    command: [sh, -c]
    args: ["env > env.txt; echo hello from $(MUSTER_POD_NAME); sleep 2; echo done"]
    env:
    - {name: GREETING, value: "hi $(RANK)"}
    - name: MY_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - {name: main, image: x, command: [sh, -c, "echo failing >&2; exit 3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: retry}
spec:
  nodeName: n1
  restartPolicy: OnFailure
  containers:
  - name: main
    image: x
    command: [sh, -c, "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; echo try $n; [ $n -ge 3 ]"]
EOF

phase() { jp "pod/$1" '.status.phase'; }
E2E_WAIT=30 wait_for "ok Running" phase_is ok Running
[ "$(jp pod/ok '.status.podIP')" = 127.0.0.1 ] || fail "podIP"
[ -n "$(jp pod/ok '.status.startTime')" ] || fail "startTime"
[ -n "$(jp pod/ok '.status.containerStatuses[0].state.running.startedAt')" ] ||
    fail "running.startedAt: $(kubectl get pod ok -o yaml)"
E2E_WAIT=30 wait_for "ok Succeeded" phase_is ok Succeeded
[ "$(jp pod/ok '.status.containerStatuses[0].state.terminated.exitCode')" = 0 ] || fail "exit 0"
[ "$(jp pod/ok '.status.containerStatuses[0].state.terminated.reason')" = Completed ] ||
    fail "reason Completed"
uid=$(jp pod/ok '.metadata.uid')
envf=$tmp/agents/n1/pods/$uid/env.txt
for want in CUDA_VISIBLE_DEVICES=1,2 NVIDIA_VISIBLE_DEVICES=1,2 RANK=3 WORLD_SIZE=4 \
    MASTER_ADDR=10.1.2.3 MASTER_PORT=23456 MUSTER_POD_NAME=ok MUSTER_POD_NAMESPACE=default \
    MUSTER_NODE_NAME=n1 "GREETING=hi 3" MY_IP=127.0.0.1 HOSTNAME=ok; do
    grep -qx "$want" "$envf" || fail "env: no $want in $(cat "$envf")"
done
kubectl logs ok > "$tmp/logs"
printf 'hello from ok\ndone\n' | diff - "$tmp/logs" || fail "kubectl logs ok"
[ "$(kubectl logs ok --tail=1)" = done ] || fail "logs --tail"

E2E_WAIT=30 wait_for "bad Failed" phase_is bad Failed
[ "$(jp pod/bad '.status.containerStatuses[0].state.terminated.exitCode')" = 3 ] || fail "exit 3"
[ "$(jp pod/bad '.status.containerStatuses[0].state.terminated.reason')" = Error ] || fail "Error"
[ "$(kubectl logs bad)" = failing ] || fail "logs of bad: $(kubectl logs bad)"

E2E_WAIT=30 wait_for "retry Succeeded" phase_is retry Succeeded
[ "$(jp pod/retry '.status.containerStatuses[0].restartCount')" = 2 ] || fail "restartCount"
[ "$(kubectl logs retry | tr '\n' ' ')" = "try 1 try 2 try 3 " ] || fail "retry logs"

# kubectl logs -f follows a running container to its end.
kubectl apply -f - > /dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - {name: main, image: x, command: [sh, -c, "for i in 1 2 3 4; do echo tick $i; sleep 0.3; done"]}
EOF
E2E_WAIT=30 wait_for "ticker's log" kubectl logs ticker
timeout 30 kubectl logs -f ticker > "$tmp/follow" || fail "logs -f: $(cat "$tmp/follow")"
[ "$(tr '\n' ' ' < "$tmp/follow")" = "tick 1 tick 2 tick 3 tick 4 " ] || fail "logs -f: $(cat "$tmp/follow")"

# Deletion: SIGTERM to the process group, then the pod goes away.
kubectl apply -f - > /dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  nodeName: n1
  restartPolicy: Never
  terminationGracePeriodSeconds: 20
  containers:
  - name: main
    image: x
    command: [sh, -c, "trap 'touch \$MARK; exit 0' TERM; echo up; while :; do sleep 0.1; done"]
    env: [{name: MARK, value: "$tmp/term-marker"}]
EOF
kubectl apply -f - > /dev/null <<'EOF'
apiVersion: v1
kind: Pod
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  nodeName: n1
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: x
    command: [sh, -c, "trap 'echo ignoring TERM' TERM; echo up; while :; do sleep 0.1; done"]
EOF
E2E_WAIT=30 wait_for "term up" logs_are term up
E2E_WAIT=30 wait_for "stubborn up" logs_are stubborn up
timeout 30 kubectl delete pod term > /dev/null || fail "kubectl delete pod term"
[ -f "$tmp/term-marker" ] || fail "the container did not get SIGTERM"
grep -q "pod default/term: container main: signal 15" "$log" || fail "no SIGTERM"
kubectl get pod term > /dev/null 2>&1 && fail "term still there"
timeout 30 kubectl delete pod stubborn > /dev/null || fail "kubectl delete pod stubborn"
grep -q "pod default/stubborn: container main: grace period over: SIGKILL" "$log" ||
    fail "no SIGKILL: $(cat "$log")"
kubectl get pod stubborn > /dev/null 2>&1 && fail "stubborn still there"

# A container without a command cannot run (images are not pulled): Failed, said why.
kubectl apply -f - > /dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  nodeName: n1
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
EOF
E2E_WAIT=30 wait_for "nocmd Failed" phase_is nocmd Failed
jp pod/nocmd '.status.containerStatuses[0].state.terminated.message' | grep -q "no command" ||
    fail "nocmd message"
echo ok
