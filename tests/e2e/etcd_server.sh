#!/usr/bin/env bash
# muster server on the etcd store: a real etcd on free 127.0.0.1 ports with a fresh
# data directory; kubectl creates, lists and deletes Kueue objects through the
# server; a second server on the same etcd sees them (shared state), and each
# server's next read shows what the other acknowledged; a restart of the server keeps
# them. Skipped (exit 0 with a message) when /usr/bin/etcd is absent.
source "$(dirname "$0")/lib.sh"
etcd_bin=/usr/bin/etcd
[ -x "$etcd_bin" ] || { echo "SKIP: $etcd_bin not installed"; exit 0; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cport=$(free_port); pport=$(free_port)
mkdir -p "$tmp/etcd"
"$etcd_bin" --data-dir "$tmp/etcd" --name t \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "t=http://127.0.0.1:$pport" > "$tmp/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill $etcd_pid 2>/dev/null || true; wait $etcd_pid 2>/dev/null || true; e2e_cleanup' EXIT
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$cport/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$cport/health" >/dev/null || { cat "$tmp/etcd.log"; fail "etcd did not start"; }

e2e_start --store etcd --etcd-endpoint "http://127.0.0.1:$cport" --etcd-prefix /e2e
grep -q "store etcd" "$tmp/server.log" || fail "server does not say it uses etcd: $(cat "$tmp/server.log")"
cat > "$tmp/q.yaml" <<'Y'
apiVersion: kueue.x-k8s.io/v1beta1
kind: ResourceFlavor
metadata: {name: default-flavor}
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: cluster-queue}
spec:
  namespaceSelector: {}
  resourceGroups:
  - coveredResources: [cpu, memory, nvidia.com/gpu]
    flavors:
    - name: default-flavor
      resources:
      - {name: cpu, nominalQuota: 9}
      - {name: memory, nominalQuota: 36Gi}
      - {name: nvidia.com/gpu, nominalQuota: 8}
Y
kubectl create -f "$tmp/q.yaml" > "$tmp/out" 2>&1 || fail "create: $(cat "$tmp/out")"
kubectl get cq cluster-queue -o name > "$tmp/out" 2>&1
grep -qx "clusterqueue.kueue.x-k8s.io/cluster-queue" "$tmp/out" || fail "get: $(cat "$tmp/out")"

# A second server on the same etcd serves the same objects.
"$bin" server --store etcd --etcd-endpoint "http://127.0.0.1:$cport" --etcd-prefix /e2e \
    --listen 127.0.0.1:0 --port-file "$tmp/port2" 2> "$tmp/server2.log" &
s2=$!
for _ in $(seq 100); do [ -s "$tmp/port2" ] && break; sleep 0.05; done
code=$(curl -s -o "$tmp/b2" -w '%{http_code}' "http://127.0.0.1:$(cat "$tmp/port2")/apis/kueue.x-k8s.io/v1beta1/clusterqueues/cluster-queue")
[ "$code" = 200 ] || fail "second server: HTTP $code $(cat "$tmp/b2")"
grep -q '"cluster-queue"' "$tmp/b2" || fail "second server body: $(cat "$tmp/b2")"

# Reads are consistent across the servers: what one acknowledged, the other's next
# get and list show (each serves reads from its own watch cache).
url2=http://127.0.0.1:$(cat "$tmp/port2")
rf=/apis/kueue.x-k8s.io/v1beta1/resourceflavors
for i in $(seq 10); do
    code=$(curl -s -o "$tmp/b2" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "{\"apiVersion\":\"kueue.x-k8s.io/v1beta1\",\"kind\":\"ResourceFlavor\",\"metadata\":{\"name\":\"rf$i\"}}" \
        "$url2$rf")
    [ "$code" = 201 ] || fail "create rf$i on the second server: HTTP $code $(cat "$tmp/b2")"
    expect_code 200 GET "$rf/rf$i"
    kubectl get rf -o name > "$tmp/out" 2>&1
    grep -qx "resourceflavor.kueue.x-k8s.io/rf$i" "$tmp/out" || fail "list after rf$i: $(cat "$tmp/out")"
    expect_code 200 DELETE "$rf/rf$i"
    code=$(curl -s -o "$tmp/b2" -w '%{http_code}' "$url2$rf/rf$i")
    [ "$code" = 404 ] || fail "rf$i deleted on the first server, HTTP $code on the second"
done
kill $s2; wait $s2 2>/dev/null || true

# Restart the first server: the objects are still there.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
rm -f "$tmp/port"
e2e_start --store etcd --etcd-endpoint "http://127.0.0.1:$cport" --etcd-prefix /e2e
kubectl get rf default-flavor -o name > "$tmp/out" 2>&1
grep -qx "resourceflavor.kueue.x-k8s.io/default-flavor" "$tmp/out" || fail "after restart: $(cat "$tmp/out")"
kubectl delete -f "$tmp/q.yaml" > "$tmp/out" 2>&1 || fail "delete: $(cat "$tmp/out")"
echo ok
