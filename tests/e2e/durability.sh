#!/usr/bin/env bash
# Durability (issue 4): an acknowledged write survives kill -9 of the server at any
# moment. Several concurrent writers create objects against `muster server --store
# sqlite` and record each name whose POST came back 201; the server is killed with
# SIGKILL at a random moment mid-stream, a few rounds, and restarted on the same data
# directory. After each restart: the server is ready, every acknowledged object is
# returned by GET and by the list, every stored object is well formed, resourceVersions
# are unique and increase in the order each writer's writes were acknowledged, and a
# new write gets a resourceVersion above everything stored before the crash.
source "$(dirname "$0")/lib.sh"

rounds=${MUSTER_DURABILITY_ROUNDS:-3}
writers=4
leases=/apis/coordination.k8s.io/v1/namespaces/default/leases
nodes=/api/v1/nodes
json=(-H 'Content-Type: application/json')

# restart: start the server on the existing data directory; the previous one's log is
# kept beside it (a SIGKILLed server writes no sanitizer report, but a clean stop may).
restart() {
    rm -f "$tmp/port"
    [ -f "$tmp/server.log" ] && cat "$tmp/server.log" >> "$tmp/server-all.log"
    e2e_start --no-controllers --store sqlite
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ] && return 0
        sleep 0.05
    done
    fail "not ready after restart: $(cat "$tmp/server.log")"
}

# writer W ROUND: creates objects until $tmp/stop exists; appends "name" to
# $tmp/acked.W for each 201, in the order they were acknowledged. Even writers create
# namespaced Leases, odd ones cluster-scoped Nodes.
writer() {
    local w=$1 r=$2 i=0 code path body name
    while [ ! -e "$tmp/stop" ]; do
        i=$((i + 1))
        name=d-$r-$w-$i
        if [ $((w % 2)) = 0 ]; then
            path=$leases
            body='{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"'$name'","labels":{"writer":"'$w'"}},"spec":{"holderIdentity":"'$name'","leaseDurationSeconds":15}}'
        else
            path=$nodes
            body='{"apiVersion":"v1","kind":"Node","metadata":{"name":"'$name'","labels":{"writer":"'$w'"}},"status":{"capacity":{"cpu":"8","nvidia.com/gpu":"4"}}}'
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "${json[@]}" \
            -d "$body" "$url$path" 2>/dev/null) || true
        case $code in
        201) echo "$name" >> "$tmp/acked.$w" ;;
        000) sleep 0.01 ;; # the server is gone: wait for the round to end
        *) echo "writer $w: POST $name: $code" >> "$tmp/writer-errors" ;;
        esac
    done
}

# check: every acknowledged object is there and well formed; prints the highest
# resourceVersion stored.
check() {
    python3 - "$url" "$tmp" "$writers" "$leases" "$nodes" <<'EOF'
import json, sys, urllib.request
url, tmp, writers, leases, nodes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def get(path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return r.status, json.loads(r.read())

def die(msg):
    print("FAIL:", msg)
    sys.exit(1)

listed, rvs = {}, {}
for path, kind in ((leases, "Lease"), (nodes, "Node")):
    code, lst = get(path)
    list_rv = int(lst["metadata"]["resourceVersion"])
    for o in lst["items"]:
        md = o.get("metadata") or die(f"{kind} without metadata: {o}")
        name, rv = md.get("name"), md.get("resourceVersion")
        if not name or not rv or not rv.isdigit():
            die(f"corrupt {kind} in the list: {o}")
        if int(rv) > list_rv:
            die(f"{kind} {name} has resourceVersion {rv} above the list's {list_rv}")
        if rv in rvs:
            die(f"resourceVersion {rv} of {kind} {name} is also that of {rvs[rv]}")
        rvs[rv] = name
        listed[name] = (kind, int(rv))

total = 0
for w in range(writers):
    try:
        acked = open(f"{tmp}/acked.{w}").read().split()
    except FileNotFoundError:
        acked = []
    total += len(acked)
    path = leases if w % 2 == 0 else nodes
    last = 0
    for name in acked:
        if name not in listed:
            die(f"acknowledged {name} (writer {w}) is missing from the list")
        try:
            code, o = get(f"{path}/{name}")
        except Exception as e:
            die(f"GET acknowledged {name}: {e}")
        rv = int(o["metadata"]["resourceVersion"])
        if o["metadata"]["name"] != name or rv != listed[name][1]:
            die(f"GET {name} disagrees with the list: {o['metadata']}")
        if o["metadata"].get("labels", {}).get("writer") != str(w):
            die(f"GET {name}: body corrupt: {o}")
        # One writer's writes are sequential: acknowledged later, committed later.
        if rv <= last:
            die(f"writer {w}: {name} has resourceVersion {rv}, not above the previous {last}")
        last = rv
print(max([0] + [int(r) for r in rvs]), total, len(listed))
EOF
}

restart
for r in $(seq "$rounds"); do
    rm -f "$tmp/stop"
    pids=()
    for w in $(seq 0 $((writers - 1))); do
        writer "$w" "$r" &
        pids+=($!)
    done
    # A random moment, 0.4 to 1.6 s into the stream.
    sleep "$(awk -v s=$((RANDOM)) 'BEGIN { srand(s); printf "%.2f", 0.4 + rand() * 1.2 }')"
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    touch "$tmp/stop"
    wait "${pids[@]}"
    [ -s "$tmp/writer-errors" ] && fail "writes refused: $(head -5 "$tmp/writer-errors")"
    restart
    read -r maxrv acked stored < <(check) || true
    [[ "$maxrv" =~ ^[0-9]+$ ]] || fail "round $r: $maxrv $acked $stored"
    [ "$acked" -gt 0 ] || fail "round $r: no write was acknowledged"
    # The revision does not go back after the crash: a new write lands above.
    expect_code 201 POST "$leases" "${json[@]}" -d \
        '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"after-'"$r"'"}}'
    rv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$tmp/body")
    [ "$rv" -gt "$maxrv" ] || fail "round $r: new write got resourceVersion $rv, not above $maxrv"
    echo "round $r: $acked acknowledged, $stored stored, all present; next resourceVersion $rv"
done
if [ -f "$tmp/server-all.log" ] && grep -q Sanitizer "$tmp/server-all.log"; then
    cat "$tmp/server-all.log"
    fail "sanitizer report"
fi
echo ok
