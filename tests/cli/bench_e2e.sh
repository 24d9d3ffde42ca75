#!/usr/bin/env bash
# muster bench e2e: a small run through the real server and a simulated agent
# (20 nodes, 20 Jobs of 8 pods) prints JSON with the keys the issue asks for and
# every pod Running, with the pods' own startup latency (from creation) within
# the latency from their Jobs' creation; --rate offers the Jobs over time (latency counted from when
# each was due); bad flags and a load that does not fit fail naming the problem.
source "$(dirname "$0")/lib.sh"
export TMPDIR=$tmp

check_json() { # file, offered rate
    "$PY" - "$@" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["nodes", "pods", "pods_per_sec", "p50_start_ms", "p99_start_ms", "min_start_ms",
        "max_start_ms", "running_per_sec", "steady_pods_per_sec", "offered_pods_per_sec", "complete",
        "p50_pod_start_ms", "p99_pod_start_ms"]
missing = [k for k in need if k not in d]
assert not missing, f"missing keys {missing}"
assert d["nodes"] == 20 and d["pods"] == 160 and d["jobs"] == 20, d
assert d["complete"] is True and d["pods_running"] == 160 and d["job_create_errors"] == 0, d
assert d["offered_pods_per_sec"] == int(sys.argv[2]), d
assert d["pods_per_sec"] > 0 and d["running_per_sec"] > 0, d
assert 0 < d["min_start_ms"] <= d["p50_start_ms"] <= d["p99_start_ms"] <= d["max_start_ms"], d
# from each pod's creation: a part of the time from its Job's
assert 0 < d["p50_pod_start_ms"] <= d["p99_pod_start_ms"] <= d["p99_start_ms"], d
if int(sys.argv[2]):
    # 160 pods offered at 200/s take 0.8 s to offer: the run lasts at least that
    assert d["seconds"] >= 0.7, d
    # and a server that keeps up with 200/s turns them Running at about that rate
    assert 100 < d["steady_pods_per_sec"] < 400, d
PYEOF
}
for rate in 0 200; do
    if "$BIN" bench e2e --nodes 20 --pods 160 --rate $rate --timeout 120 --json \
        >"$tmp/r$rate.json" 2>"$tmp/err"; then
        check_json "$tmp/r$rate.json" $rate || fail "rate $rate: bad JSON: $(cat "$tmp/r$rate.json")"
    else
        fail "rate $rate: exit $?: $(tail -5 "$tmp/err")"
    fi
done
"$BIN" bench e2e --rate x >/dev/null 2>"$tmp/err" && fail "--rate x accepted"
grep -q -- "--rate" "$tmp/err" || fail "--rate x: no message naming the flag: $(cat "$tmp/err")"
"$BIN" bench e2e --nodes 1 --pods 16 >/dev/null 2>"$tmp/err" && fail "16 pods on 1 node accepted"
grep -q "do not fit" "$tmp/err" || fail "a load that does not fit: $(cat "$tmp/err")"
finish "bench e2e: ok"
