#!/usr/bin/python3
"""Checks the scheduling invariants over a whole muster store, through its API.

usage: invariants.py URL

- no GPU of a node is given to two live pods (live: bound, not Succeeded/Failed);
- every GPU index a pod holds exists on its node, and its node exists;
- no rank of a workload runs twice (a pod bound twice would show up here);
- every live pod of a workload belongs to an admitted workload, unless it is being
  deleted (an evicted gang's pods are terminating);
- every pod's placement is the one its workload's admission recorded.
Prints each violation and exits 1 if there is any.
"""
import json
import sys
import urllib.request

url = sys.argv[1].rstrip("/")


def get(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)["items"]


pods = get("/api/v1/pods")
nodes = {n["metadata"]["name"]: n for n in get("/api/v1/nodes")}
wls = {(w["metadata"]["namespace"], w["metadata"]["name"]): w
       for w in get("/apis/kueue.x-k8s.io/v1beta2/workloads")}
bad = []
held = {}
ranks = {}
for p in pods:
    md, spec, st = p["metadata"], p.get("spec", {}), p.get("status", {})
    node = spec.get("nodeName")
    name = md["namespace"] + "/" + md["name"]
    if not node or st.get("phase") in ("Succeeded", "Failed"):
        continue
    ann = md.get("annotations", {})
    if node not in nodes:
        bad.append(f"{name}: bound to node {node}, which does not exist")
        continue
    cap = int(nodes[node].get("status", {}).get("capacity", {}).get("nvidia.com/gpu", "0"))
    gpus = [int(g) for g in ann.get("muster.dev/gpus", "").split(",") if g != ""]
    for g in gpus:
        if g >= cap:
            bad.append(f"{name}: GPU {g} on {node}, which has {cap}")
        other = held.get((node, g))
        if other:
            bad.append(f"GPU {g} of {node} given to {other} and {name}")
        held[(node, g)] = name
    wl = ann.get("muster.dev/workload")
    if not wl:
        continue
    w = wls.get((md["namespace"], wl))
    deleting = "deletionTimestamp" in md
    rank = ann.get("muster.dev/rank")
    key = (md["namespace"], wl, rank)
    if key in ranks and not deleting:
        bad.append(f"rank {rank} of {wl} runs twice: {ranks[key]} and {name}")
    if not deleting:
        ranks[key] = name
    admitted = w and any(c["type"] == "QuotaReserved" and c["status"] == "True"
                         for c in w.get("status", {}).get("conditions", []))
    if not admitted and not deleting:
        bad.append(f"{name}: live on {node} but its workload {wl} is not admitted")
        continue
    if admitted and rank is not None:
        place = w.get("status", {}).get("admission", {}).get("placement")
        if place is None:  # written by an older muster: an annotation
            place = json.loads(w["metadata"].get("annotations", {}).get("muster.dev/placement", "[]"))
        r = int(rank)
        if r >= len(place) or place[r]["node"] != node or place[r].get("gpus", []) != gpus:
            if not deleting:
                bad.append(f"{name}: on {node} GPUs {gpus}, but its workload placed rank {r} "
                           f"at {place[r] if r < len(place) else 'nowhere'}")
for b in bad:
    print("VIOLATION:", b)
print(f"checked {len(pods)} pods on {len(nodes)} nodes, {len(wls)} workloads: "
      f"{len(bad)} violations")
sys.exit(1 if bad else 0)
