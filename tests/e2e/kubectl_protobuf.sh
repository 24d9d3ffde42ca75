#!/usr/bin/env bash
# kubectl's typed commands send protobuf bodies (Content-Type
# application/vnd.kubernetes.protobuf): create namespace, create job, create
# priorityclass, debug (node/NAME and --copy-to), and drain (its DeleteOptions).
# Each must work, and store what the same command would have stored sent as
# JSON: the object is compared with its twin created from the command's
# --dry-run=client -o json.
# kubectl's -v=8 log proves the body really was protobuf. Then curl sends
# malformed, unsupported and unknown-field bodies.
source "$(dirname "$0")/lib.sh"
# The API alone: no Job controller or scheduler changes the objects compared.
e2e_start --no-controllers

PB='Content-Type: application/vnd.kubernetes.protobuf'

# sent_protobuf LOG METHOD: the log of a kubectl -v=8 run shows a METHOD
# request with the protobuf Content-Type.
sent_protobuf() {
    grep -q "$2 $url" "$1" || fail "no $2 in $(cat "$1")"
    grep -q "Content-Type: application/vnd.kubernetes.protobuf" "$1" ||
        fail "kubectl did not send protobuf: $(grep -i content-type "$1")"
}

# same GOT TWIN NAME: the object stored from protobuf (kubectl get -o json)
# equals its twin created from JSON under the name NAME-json, once the fields
# the server sets per write are removed and the twin's name is put back.
same() {
    python3 - "$1" "$2" "$3" <<'PY' || fail "stored $3 differs from its twin sent as JSON"
import json, sys
got = json.load(open(sys.argv[1]))
twin = json.loads(open(sys.argv[2]).read().replace('"%s-json"' % sys.argv[3],
                                                    '"%s"' % sys.argv[3]))
for o in (got, twin):
    for k in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        o["metadata"].pop(k, None)
if got != twin:
    print("got: ", json.dumps(got, sort_keys=True))
    print("twin:", json.dumps(twin, sort_keys=True))
    sys.exit(1)
PY
}

# create namespace, job, priorityclass: the commands of the task at hand.
check_create() { # NAME RESOURCE/NAME ARGS... [-- COMMAND...]
    local name=$1 obj=$2 a
    shift 2
    local -a args=() cmd=()
    while [ $# -gt 0 ]; do
        a=$1
        shift
        [ "$a" = -- ] && { cmd=(-- "$@"); break; }
        args+=("$a")
    done
    kubectl create "${args[@]}" -v=8 "${cmd[@]}" > "$tmp/out" 2> "$tmp/log" ||
        fail "create $name: $(tail -5 "$tmp/log")"
    grep -q created "$tmp/out" || fail "$(cat "$tmp/out")"
    sent_protobuf "$tmp/log" POST
    kubectl get "$obj" -o json > "$tmp/got.json"
    # The JSON path's result for the same object: kubectl's own JSON of it,
    # created under another name.
    kubectl create "${args[@]}" --dry-run=client -o json "${cmd[@]}" |
        python3 -c 'import json,sys; o=json.load(sys.stdin); o["metadata"]["name"]+="-json"; print(json.dumps(o))' \
            > "$tmp/twin.json"
    kubectl create -f "$tmp/twin.json" > /dev/null
    kubectl get "$obj-json" -o json > "$tmp/twin.out"
    same "$tmp/got.json" "$tmp/twin.out" "${obj#*/}"
}
check_create ns namespace/team-a namespace team-a
check_create job job/train job train --image=nvcr.io/nvidia/pytorch:24.01-py3 -- python3 -c 'print(1)'
check_create pc-high priorityclass/high priorityclass high --value=1000 --description="high prio"
check_create pc-low priorityclass/low priorityclass low --value=-5 --global-default \
    --preemption-policy=Never --description=low
check_create pc-zero priorityclass/zero priorityclass zero --value=0
[ "$(kubectl get pc zero -o jsonpath='{.value}')" = 0 ] || fail "value 0 lost"

# kubectl debug node/N creates a Pod on the node (protobuf).
cat > "$tmp/node.json" <<'JSON'
{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},
 "status":{"capacity":{"cpu":"8","nvidia.com/gpu":"8"},"allocatable":{"cpu":"8","nvidia.com/gpu":"8"}}}
JSON
kubectl create -f "$tmp/node.json" > /dev/null
kubectl debug node/n1 --image=busybox --profile=sysadmin -v=8 > "$tmp/out" 2> "$tmp/log" ||
    fail "debug node: $(tail -5 "$tmp/log")"
sent_protobuf "$tmp/log" POST
kubectl get pods -o json > "$tmp/pods.json"
python3 - "$tmp/pods.json" <<'PY' || fail "debug pod: $(cat "$tmp/pods.json")"
import json, sys
pods = [p for p in json.load(open(sys.argv[1]))["items"]
        if p["metadata"]["name"].startswith("node-debugger-n1-")]
assert len(pods) == 1, pods
s = pods[0]["spec"]
assert s["nodeName"] == "n1" and s["hostPID"] and s["hostNetwork"] and s["hostIPC"], s
c = s["containers"][0]
assert c["image"] == "busybox" and c["securityContext"] == {"privileged": True}, c
assert c["volumeMounts"] == [{"name": "host-root", "mountPath": "/host"}], c
assert s["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}], s
assert s["tolerations"] == [{"operator": "Exists"}], s
PY

# kubectl debug --copy-to sends back the whole PodSpec it read, in protobuf:
# the copy must keep every field of a pod that uses much of PodSpec.
cat > "$tmp/rich.json" <<'JSON'
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rich"},
 "spec":{"containers":[{"name":"main","image":"nvcr.io/nvidia/pytorch:24.01-py3","args":["--epochs","3"],
    "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
    "env":[{"name":"A","value":"1"},{"name":"POD","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},
           {"name":"CM","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k","optional":true}}}],
    "envFrom":[{"prefix":"P_","configMapRef":{"name":"cm2"}}],
    "resources":{"limits":{"cpu":"4","memory":"32Gi","nvidia.com/gpu":"8"},"requests":{"cpu":"500m","nvidia.com/gpu":"8"}},
    "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":true},{"name":"scratch","mountPath":"/scratch"}],
    "securityContext":{"runAsUser":1000,"runAsGroup":0,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},
    "imagePullPolicy":"IfNotPresent","terminationMessagePolicy":"File"}],
  "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"pvc1"}},
             {"name":"scratch","emptyDir":{"medium":"Memory","sizeLimit":"1Gi"}},
             {"name":"cfg","configMap":{"name":"cm","defaultMode":420,"items":[{"key":"a","path":"a.txt"}]}}],
  "restartPolicy":"OnFailure","terminationGracePeriodSeconds":0,"nodeSelector":{"gpu":"h100"},
  "automountServiceAccountToken":false,"securityContext":{"fsGroup":2000,"supplementalGroups":[1,2]},
  "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a","b"]}]}]}},
              "podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":50,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"t"}},"topologyKey":"kubernetes.io/hostname"}}]}},
  "schedulerName":"muster","tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"},{"key":"t","operator":"Equal","value":"v","effect":"NoExecute","tolerationSeconds":60}],
  "priorityClassName":"high","priority":1000,"enableServiceLinks":false,
  "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"t"}}}],
  "resourceClaims":[{"name":"gpus","resourceClaimTemplateName":"gpu-tmpl"}]}}
JSON
kubectl create -f "$tmp/rich.json" > /dev/null
kubectl debug rich --copy-to=rich-copy --image=busybox --container=dbg --profile=general -v=8 \
    > "$tmp/out" 2> "$tmp/log" || fail "debug --copy-to: $(tail -5 "$tmp/log")"
sent_protobuf "$tmp/log" POST
kubectl get pod rich -o json > "$tmp/rich.out"
kubectl get pod rich-copy -o json > "$tmp/copy.out"
python3 - "$tmp/rich.out" "$tmp/copy.out" <<'PY' || fail "the copy lost fields"
import json, sys
a, b = (json.load(open(p))["spec"] for p in sys.argv[1:3])
dbg = [c for c in b["containers"] if c["name"] == "dbg"]
assert len(dbg) == 1 and dbg[0]["image"] == "busybox", b["containers"]
b["containers"] = [c for c in b["containers"] if c["name"] != "dbg"]
b.pop("shareProcessNamespace")  # kubectl debug adds it
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print(k, json.dumps(a.get(k)), "!=", json.dumps(b.get(k)))
    sys.exit(1)
PY

# kubectl drain deletes the node's pods with protobuf DeleteOptions.
kubectl drain n1 --force --grace-period=7 --timeout=30s -v=8 > "$tmp/out" 2> "$tmp/log" ||
    fail "drain: $(tail -5 "$tmp/log")"
grep -q 'node/n1 drained' "$tmp/out" || fail "$(cat "$tmp/out")"
grep -q "DELETE $url/api/v1/namespaces/default/pods/node-debugger-n1-" "$tmp/log" ||
    fail "no DELETE in the drain"
grep -A6 "DELETE $url" "$tmp/log" | has "$PB" || fail "drain did not send protobuf"
[ -z "$(kubectl get pods -o name | grep node-debugger)" ] || fail "drain left the pod"

# Bodies kubectl does not send: curl.
body() { printf "$1" > "$tmp/body"; }
# A Namespace with metadata {name: "x"}.
NS='k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x05\x0a\x03\x0a\x01x'
body "k8s\0\x0a\xff"
expect_code 400 POST /api/v1/namespaces -H "$PB" --data-binary @"$tmp/body"
grep -q 'truncated varint (length)' "$tmp/body" || fail "$(cat "$tmp/body")"
body "k8s\0\x12\x7f\x0a\x00"
expect_code 400 POST /api/v1/namespaces -H "$PB" --data-binary @"$tmp/body"
grep -q 'length 127 past the end of the message (2 bytes left)' "$tmp/body" || fail "$(cat "$tmp/body")"
body "$NS"
expect_code 415 POST /apis/kueue.x-k8s.io/v1beta2/clusterqueues -H "$PB" --data-binary @"$tmp/body"
grep -q '"reason":"UnsupportedMediaType"' "$tmp/body" || fail "$(cat "$tmp/body")"
grep -q 'application/vnd.kubernetes.protobuf is not supported for ClusterQueue' "$tmp/body" ||
    fail "$(cat "$tmp/body")"
body "$NS"
expect_code 400 POST /apis/batch/v1/namespaces/default/jobs -H "$PB" --data-binary @"$tmp/body"
grep -q 'it holds a v1 Namespace, but this request takes a Job' "$tmp/body" || fail "$(cat "$tmp/body")"
# An unknown field number (99) in ObjectMeta: Strict refuses, Warn warns.
body 'k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x08\x0a\x06\x0a\x01y\x98\x06\x01'
expect_code 422 POST '/api/v1/namespaces?fieldValidation=Strict' -H "$PB" --data-binary @"$tmp/body"
grep -q '"field":"metadata"' "$tmp/body" || fail "$(cat "$tmp/body")"
grep -q 'unknown field number 99 in protobuf message k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta' \
    "$tmp/body" || fail "$(cat "$tmp/body")"
body 'k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x08\x0a\x06\x0a\x01y\x98\x06\x01'
curl -s -D "$tmp/headers" -o /dev/null -H "$PB" --data-binary @"$tmp/body" "$url/api/v1/namespaces"
grep -qi '^Warning: 299 - "unknown field number 99' "$tmp/headers" || fail "$(cat "$tmp/headers")"
[ "$(kubectl get ns y -o jsonpath='{.metadata.name}')" = y ] || fail "Warn did not create"
echo "kubectl_protobuf: ok"
