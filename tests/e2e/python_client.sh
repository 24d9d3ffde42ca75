#!/usr/bin/env bash
# The Python client (Debian's python3-kubernetes, run by /usr/bin/python3, not
# whatever python3 comes first on PATH) against a real `muster server`:
# CoreV1Api create/list/read/patch/delete of a Namespace and a Node,
# CustomObjectsApi create/get/list/patch/delete of a ClusterQueue and a Workload,
# a watch with timeout_seconds that sees ADDED events, create_namespaced_binding
# (POST /api/v1/namespaces/{ns}/bindings), delete_collection_namespaced_pod, the
# default field manager (the client's User-Agent), and the namespace lifecycle:
# no content in a namespace that does not exist or is being deleted, and a
# deleted namespace emptied and removed by the server.
source "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import kubernetes' 2>/dev/null || fail "python3-kubernetes is not installed (scripts/install-deps.sh)"
e2e_start --no-controllers
cat > "$tmp/client.py" <<'PY'
import os
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=os.environ["KUBECONFIG"])
v1 = client.CoreV1Api()
co = client.CustomObjectsApi()
G, V = "kueue.x-k8s.io", "v1beta2"
M = client.V1ObjectMeta


def gone(fn, *args):
    try:
        fn(*args)
    except ApiException as e:
        assert e.status == 404, e
        return True
    return False


def status_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except ApiException as e:
        return e.status, e.body.decode() if isinstance(e.body, bytes) else e.body
    return 200, ""


def eventually_gone(fn, *args):
    for _ in range(100):
        if gone(fn, *args):
            return True
        time.sleep(0.1)
    return False


# Namespace
ns = v1.create_namespace(client.V1Namespace(metadata=M(name="team-a", labels={"team": "a"})))
assert ns.metadata.uid and ns.metadata.resource_version, ns
assert "team-a" in [n.metadata.name for n in v1.list_namespace(label_selector="team=a").items]
ns = v1.read_namespace("team-a")
assert ns.metadata.labels == {"team": "a", "kubernetes.io/metadata.name": "team-a"}, ns
assert ns.spec.finalizers == ["kubernetes"] and ns.status.phase == "Active", ns
# No field manager given: the client's User-Agent names it (OpenAPI-Generator/...).
assert ns.metadata.managed_fields[0].manager == "OpenAPI-Generator", ns.metadata.managed_fields
# The namespaces a cluster has are there; content needs its namespace.
names = [n.metadata.name for n in v1.list_namespace().items]
assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names), names
code, body = status_of(v1.create_namespaced_pod, "nope", client.V1Pod(
    metadata=M(name="p"), spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")])))
assert code == 404 and 'namespaces \\"nope\\" not found' in body, (code, body)

# Node: create with status, list by label, cordon (a strategic merge patch)
node = client.V1Node(
    metadata=M(name="gpu-node-1", labels={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}),
    status=client.V1NodeStatus(capacity={"cpu": "64", "nvidia.com/gpu": "8"},
                               allocatable={"cpu": "63", "nvidia.com/gpu": "8"}))
v1.create_node(node)
nodes = v1.list_node(label_selector="nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3").items
assert [n.metadata.name for n in nodes] == ["gpu-node-1"], nodes
assert v1.read_node("gpu-node-1").status.allocatable["nvidia.com/gpu"] == "8"
assert v1.patch_node("gpu-node-1", {"spec": {"unschedulable": True}}).spec.unschedulable is True

# ClusterQueue (cluster-scoped custom object)
cq = {"apiVersion": f"{G}/{V}", "kind": "ClusterQueue", "metadata": {"name": "cluster-queue"},
      "spec": {"namespaceSelector": {}, "resourceGroups": [{
          "coveredResources": ["cpu", "nvidia.com/gpu"],
          "flavors": [{"name": "default-flavor", "resources": [
              {"name": "cpu", "nominalQuota": "9"}, {"name": "nvidia.com/gpu", "nominalQuota": "8"}]}]}]}}
co.create_cluster_custom_object(G, V, "clusterqueues", cq)
got = co.get_cluster_custom_object(G, V, "clusterqueues", "cluster-queue")
assert got["spec"]["resourceGroups"][0]["flavors"][0]["resources"][1]["nominalQuota"] == "8", got
items = co.list_cluster_custom_object(G, V, "clusterqueues")["items"]
assert [i["metadata"]["name"] for i in items] == ["cluster-queue"], items
p = co.patch_cluster_custom_object(G, V, "clusterqueues", "cluster-queue", {"spec": {"stopPolicy": "Hold"}})
assert p["spec"]["stopPolicy"] == "Hold" and p["metadata"]["generation"] == 2, p

# Workload (namespaced custom object)
wl = {"apiVersion": f"{G}/{V}", "kind": "Workload", "metadata": {"name": "train-1", "namespace": "team-a"},
      "spec": {"queueName": "user-queue", "podSets": [{"name": "main", "count": 2, "template": {"spec": {
          "containers": [{"name": "t", "image": "x", "resources": {"requests": {"nvidia.com/gpu": "4"}}}]}}}]}}
co.create_namespaced_custom_object(G, V, "team-a", "workloads", wl)
assert co.get_namespaced_custom_object(G, V, "team-a", "workloads", "train-1")["spec"]["podSets"][0]["count"] == 2
assert len(co.list_namespaced_custom_object(G, V, "team-a", "workloads")["items"]) == 1
assert len(co.list_cluster_custom_object(G, V, "workloads")["items"]) == 1  # all namespaces
p = co.patch_namespaced_custom_object(G, V, "team-a", "workloads", "train-1", {"metadata": {"labels": {"x": "y"}}})
assert p["metadata"]["labels"] == {"x": "y"}, p

# Watch with timeout_seconds: the existing objects arrive as ADDED, then a new one.
seen = []
def add_later():
    time.sleep(0.5)
    co.create_cluster_custom_object(G, V, "clusterqueues", dict(cq, metadata={"name": "cq-2"}))
t = threading.Thread(target=add_later)
t.start()
w = watch.Watch()
for ev in w.stream(co.list_cluster_custom_object, G, V, "clusterqueues", timeout_seconds=10):
    seen.append((ev["type"], ev["object"]["metadata"]["name"]))
    if ("ADDED", "cq-2") in seen:
        w.stop()
t.join()
assert seen[:2] == [("ADDED", "cluster-queue"), ("ADDED", "cq-2")], seen
# and one that ends by itself
start = time.monotonic()
evs = list(watch.Watch().stream(v1.list_namespace, timeout_seconds=1))
assert {e["type"] for e in evs} == {"ADDED"} and len(evs) == 5 and time.monotonic() - start < 5, evs

# Binding: POST /api/v1/namespaces/team-a/bindings (the reply is a Status, which
# the client cannot deserialize as a V1Binding: read it raw).
pod = client.V1Pod(metadata=M(name="train-0"), spec=client.V1PodSpec(
    scheduler_name="muster", containers=[client.V1Container(name="t", image="x")]))
v1.create_namespaced_pod("team-a", pod)
b = client.V1Binding(metadata=M(name="train-0", annotations={"muster.dev/gpus": "0,1"}),
                     target=client.V1ObjectReference(api_version="v1", kind="Node", name="gpu-node-1"))
r = v1.create_namespaced_binding("team-a", b, _preload_content=False)
assert r.status == 201, r.status
bound = v1.read_namespaced_pod("train-0", "team-a")
assert bound.spec.node_name == "gpu-node-1", bound.spec
assert bound.metadata.annotations["muster.dev/gpus"] == "0,1"
assert any(c.type == "PodScheduled" and c.status == "True" for c in bound.status.conditions)
try:
    v1.create_namespaced_binding("team-a", b, _preload_content=False)
    raise AssertionError("bound twice")
except ApiException as e:
    body = e.body.decode() if isinstance(e.body, bytes) else e.body
    assert e.status == 409 and "already assigned" in body, e

# deletecollection by label; the reply is the list of what was deleted
for i in range(3):
    v1.create_namespaced_pod("team-a", client.V1Pod(
        metadata=M(name=f"extra-{i}", labels={"batch": "a" if i < 2 else "b"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="t", image="x")])))
st = v1.delete_collection_namespaced_pod("team-a", label_selector="batch=a")
assert st.kind == "PodList", st
left = sorted(p.metadata.name for p in v1.list_namespaced_pod("team-a").items)
assert left == ["extra-2", "train-0"], left

# Delete everything
co.delete_namespaced_custom_object(G, V, "team-a", "workloads", "train-1")
assert gone(co.get_namespaced_custom_object, G, V, "team-a", "workloads", "train-1")
for name in ("cluster-queue", "cq-2"):
    co.delete_cluster_custom_object(G, V, "clusterqueues", name)
assert co.list_cluster_custom_object(G, V, "clusterqueues")["items"] == []
v1.delete_namespaced_pod("train-0", "team-a")
st = v1.delete_node("gpu-node-1")
assert st.status == "Success" and st.details.name == "gpu-node-1" and st.details.kind == "nodes", st
assert gone(v1.read_node, "gpu-node-1")
# A namespace is deleted with what is in it; a pod with a finalizer holds it,
# Terminating, and nothing new may be created in it meanwhile.
v1.create_namespaced_pod("team-a", client.V1Pod(
    metadata=M(name="held", finalizers=["example.com/hold"]),
    spec=client.V1PodSpec(containers=[client.V1Container(name="t", image="x")])))
v1.delete_namespace("team-a")
ns = v1.read_namespace("team-a")
assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp, ns
code, body = status_of(v1.create_namespaced_pod, "team-a", client.V1Pod(
    metadata=M(name="late"), spec=client.V1PodSpec(containers=[client.V1Container(name="t", image="x")])))
assert code == 403 and "because it is being terminated" in body, (code, body)
# The finalizer thread deletes the pods in some order: wait until both are done
# (extra-2 gone, held marked for deletion), not just the first.
for _ in range(100):
    held = v1.read_namespaced_pod("held", "team-a")
    if gone(v1.read_namespaced_pod, "extra-2", "team-a") and held.metadata.deletion_timestamp:
        break
    time.sleep(0.1)
assert gone(v1.read_namespaced_pod, "extra-2", "team-a")
assert held.metadata.deletion_timestamp, held.metadata
assert not gone(v1.read_namespace, "team-a")
v1.patch_namespaced_pod("held", "team-a", {"metadata": {"finalizers": None}})
assert eventually_gone(v1.read_namespace, "team-a")
print("python ok")
PY
$py "$tmp/client.py" > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "python client"; }
grep -q 'python ok' "$tmp/out" || fail "$(cat "$tmp/out")"
echo ok
