#!/usr/bin/env bash
# Agents as separate hosts: two agents in their own network namespaces (each with
# a veth link to the host and its own address), one on the host. A 2-pod gang
# spans them with MASTER_ADDR set to rank 0's host address; then one namespace's
# link is cut: its node goes NotReady when the Lease expires and the gang restarts
# on the hosts that are still reachable. Needs root and `ip netns` (else skipped).
source "$(dirname "$0")/lib.sh"
e2e_need_agent
[ "$(id -u)" = 0 ] && command -v ip > /dev/null || { echo "SKIP: needs root and ip"; exit 77; }
tag=m$$
net=$(( 200 + $$ % 50 ))
netns_down() {
    for h in a b; do
        ip netns pids "$tag$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip link del "${tag}h$h" 2>/dev/null || true
        ip netns del "$tag$h" 2>/dev/null || true
    done
}
trap 'netns_down; e2e_cleanup' EXIT
for h in a b; do
    sub=$([ $h = a ] && echo 1 || echo 2)
    ip netns add "$tag$h" || { echo "SKIP: cannot create network namespaces"; exit 77; }
    ip link add "${tag}h$h" type veth peer name "${tag}n$h"
    ip link set "${tag}n$h" netns "$tag$h"
    ip addr add "10.$net.$sub.1/24" dev "${tag}h$h"
    ip link set "${tag}h$h" up
    ip netns exec "$tag$h" ip addr add "10.$net.$sub.2/24" dev "${tag}n$h"
    ip netns exec "$tag$h" ip link set "${tag}n$h" up
    ip netns exec "$tag$h" ip link set lo up
done

# The server listens on every address so the namespaces reach it.
mkdir -p "$tmp/data"
"$bin" server --data-dir "$tmp/data" --listen 0.0.0.0:0 --port-file "$tmp/port" 2> "$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
url=http://127.0.0.1:$port
"$bin" kubeconfig --server "$url" > "$tmp/kubeconfig"
export KUBECONFIG=$tmp/kubeconfig HOME=$tmp/home
mkdir -p "$HOME" "$tmp/agents"
kubectl apply -f "$here/testdata/agents-queues.yaml" > /dev/null

for h in a b; do
    sub=$([ $h = a ] && echo 1 || echo 2)
    mkdir -p "$tmp/agents/host-$h"
    ip netns exec "$tag$h" "$bin" agent --server "http://10.$net.$sub.1:$port" --name "host-$h" \
        --address "10.$net.$sub.2" --gpus 4xH100-80GB --labels "kubernetes.io/hostname=host-$h" \
        --lease-seconds 3 --data-dir "$tmp/agents/host-$h" >> "$tmp/agents/host-$h.log" 2>&1 &
    agent_pids+=("$!")
done
wait_for "2 Ready hosts" ready_nodes 2
out=$tmp/out
mkdir -p "$out"
kubectl apply -f - > /dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: span
  namespace: default
  labels: {kueue.x-k8s.io/queue-name: q}
spec:
  parallelism: 2
  completions: 2
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ["/bin/sh", "-c", "echo \$RANK \$MUSTER_NODE_NAME \$MASTER_ADDR > $out/span-\$RANK-\$MUSTER_NODE_NAME; while true; do sleep 0.2; done"]
        resources:
          requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: "4"}
YAML
running_nodes() { kubectl get pods -l batch.kubernetes.io/job-name=span --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort; }
two_running() { [ "$(running_nodes | wc -l)" = 2 ]; }
E2E_WAIT=30 wait_for "the gang on both hosts" two_running
[ "$(running_nodes | tr '\n' ' ')" = "host-a host-b " ] || fail "gang not across hosts: $(running_nodes)"
r0=$(awk '$1 == 0 {print $2}' "$out"/span-*)
want=$([ "$r0" = host-a ] && echo "10.$net.1.2" || echo "10.$net.2.2")
awk -v w="$want" '$3 != w {exit 1}' "$out"/span-* || fail "MASTER_ADDR is not rank 0's host ($want): $(cat "$out"/span-*)"

# A third host on the loopback, then cut host-b off the network.
agent_start host-c 4xH100-80GB "kubernetes.io/hostname=host-c" --lease-seconds 3
wait_for "3 Ready hosts" ready_nodes 3
ip netns exec "${tag}b" ip link set "${tag}nb" down
# One look at the pods, so that a pod going Failed between two looks cannot pass it.
gone_from_b() { local r; r=$(running_nodes); [ "$(grep -c . <<< "$r")" = 2 ] && ! grep -qx host-b <<< "$r"; }
E2E_WAIT=40 wait_for "the gang to leave the cut-off host" gone_from_b
[ "$(kubectl get node host-b -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ] \
    || fail "host-b not NotReady"
/usr/bin/python3 "$here/invariants.py" "$url" > "$tmp/inv" || fail "invariants: $(cat "$tmp/inv")"
echo ok
