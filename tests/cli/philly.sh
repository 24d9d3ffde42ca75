#!/usr/bin/env bash
# Command-line tests for `muster sim philly`: --help, a replay of a small slice
# of the real Philly trace with all four policies (JSON keys, invariants that
# hold for any trace and any policy, determinism, the --csv, --shares and
# --plot outputs), the single-queue equivalence of fairshare and besteffort,
# and the errors a person meets (malformed trace, bad options). Run by ctest
# with MUSTER_BIN (the ASan build) and MUSTER_TRACES set; the slice is small
# enough to take seconds under ASan.
#
# Which policy queues less on this slice is a measurement, not an invariant,
# so it is reported by the README's table and not asserted here.
set -euo pipefail

: "${MUSTER_BIN:?MUSTER_BIN must name the muster binary}"
: "${MUSTER_TRACES:?MUSTER_TRACES must name the shared traces directory}"
JOBS="$MUSTER_TRACES/philly/philly_jobs.csv"
# 185 jobs submitted in 0.6 day, five of them 32-GPU gangs, on a cluster small
# enough (64 GPUs) that jobs queue and per-team queues reclaim (evictions).
SLICE=(--start 28.5 --window 0.6 --gpus 64 --gpus-per-node 8)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs muster with the given arguments; leaves the exit status in $rc and
# the output in $tmp/out and $tmp/err. Sanitizer reports fail the test
# whatever the exit status.
run() {
    set +e
    MUSTER_NO_PROGRESS=1 "$MUSTER_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/err"; then
        cat "$tmp/err" >&2
        fail "sanitizer report from: muster $*"
    fi
    if [ "$rc" -ge 128 ]; then
        fail "muster $* died with status $rc"
    fi
}

# Runs muster and expects a non-zero exit and a message on stderr containing
# each of the given fixed strings. Usage: expect_error "text"... -- args...
expect_error() {
    local want=()
    while [ "$1" != "--" ]; do
        want+=("$1")
        shift
    done
    shift
    run "$@"
    [ "$rc" -ne 0 ] || fail "muster $* exited 0"
    for w in "${want[@]}"; do
        grep -qF -- "$w" "$tmp/err" || fail "muster $*: '$w' not in stderr: $(cat "$tmp/err")"
    done
}

# --- --help: usage on stdout, status 0; `muster sim` names the subcommand.
run sim philly --help
[ "$rc" -eq 0 ] || fail "--help exited $rc"
grep -q 'usage: muster sim philly' "$tmp/out" || fail "--help printed no usage"
for opt in --jobs --gpus --gpus-per-node --queues --policy --overestimate --start --window \
    --jobs-limit --reservations --rerun --reclaim --json --csv --shares --plot; do
    grep -q -- "$opt" "$tmp/out" || fail "--help does not describe $opt"
done
run sim --help
grep -q 'muster sim philly' "$tmp/out" || fail "muster sim --help does not name philly"

# --- a replay with every policy and per-team queues.
run sim philly --jobs "$JOBS" "${SLICE[@]}" --queues per-cluster --json \
    --csv "$tmp/jobs.csv" --shares "$tmp/shares.csv" --plot "$tmp/queue.svg" \
    --plot-shares "$tmp/shares.svg"
[ "$rc" -eq 0 ] || fail "replay exited $rc: $(cat "$tmp/err")"
cp "$tmp/out" "$tmp/run1.json"
/usr/bin/python3 - "$tmp/run1.json" "$tmp/jobs.csv" "$tmp/shares.csv" 64 <<'EOF' ||
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
gpus = int(sys.argv[4])
names = [r["policy"] for r in rows]
assert names == ["strict", "besteffort", "fairshare", "backfill"], names
need = ["policy", "jobs", "mean_jct_s", "p50_queue_s", "p99_queue_s", "p99_queue_s_gang32",
        "gpu_utilization", "makespan_s", "mean_queue_s", "p50_jct_s", "p99_jct_s",
        "mean_queue_s_gang32", "jobs_gang32", "evictions", "completed", "dropped",
        "queue_by_gang", "gang32_admitted_later_than_strict"]
for r in rows:
    for k in need:
        assert k in r, (r["policy"], k)
jobs = {r["jobs"] for r in rows}
assert len(jobs) == 1 and jobs.pop() == 185, [r["jobs"] for r in rows]
per_job = {}
for row in csv.DictReader(open(sys.argv[2])):
    per_job.setdefault(row["policy"], []).append(row)
assert sorted(per_job) == sorted(names), sorted(per_job)
for r in rows:
    p = r["policy"]
    js = per_job[p]
    assert len(js) == r["jobs"], (p, len(js))
    # Every job runs to completion: the bound is never below the run time.
    assert r["completed"] == r["jobs"] and r["never_admitted"] == 0 and r["killed"] == 0, r
    assert 0 < r["gpu_utilization"] <= 1, (p, r["gpu_utilization"])
    assert r["p50_queue_s"] <= r["p99_queue_s"] <= r["max_queue_s"], r
    assert r["p50_jct_s"] <= r["p99_jct_s"], r
    assert sum(b["jobs"] for b in r["queue_by_gang"].values()) == r["jobs"], r
    assert r["queue_by_gang"]["32+"]["jobs"] == r["jobs_gang32"], r
    # A job waits at least 0 and completes no sooner than its run time after
    # its submission; the makespan covers every job.
    work = 0.0
    for j in js:
        q, jct, d = float(j["queue_s"]), float(j["jct_s"]), float(j["duration_s"])
        assert q >= 0 and jct >= q + d - 1e-6, (p, j)
        assert float(j["end_s"]) <= r["makespan_s"] + 1e-6, (p, j)
        work += d * int(j["gpus"])
    # GPU-seconds held cover the work; equal without evictions.
    assert r["gpu_seconds"] >= work - 1e-3, (p, r["gpu_seconds"], work)
    if r["evictions"] == 0:
        assert abs(r["gpu_seconds"] - work) < 1e-3, (p, r["gpu_seconds"], work)
    mean_q = sum(float(j["queue_s"]) for j in js) / len(js)
    assert abs(mean_q - r["mean_queue_s"]) < 1e-2, (p, mean_q, r["mean_queue_s"])
strict = rows[0]
assert strict["gang32_admitted_later_than_strict"] == 0, strict
# At every point of the share grid the teams together hold at most the cluster.
tot = {}
for row in csv.DictReader(open(sys.argv[3])):
    k = (row["policy"], row["t_s"])
    tot[k] = tot.get(k, 0.0) + float(row["mean_gpus"])
    assert row["nominal_gpus"] != "", row
assert len({k[0] for k in tot}) == 4, tot.keys()
assert max(tot.values()) <= gpus + 1e-6, max(tot.values())
assert max(tot.values()) > 0
EOF
    fail "replay results: see above"
for svg in queue shares; do
    /usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
        "$tmp/$svg.svg" || fail "$svg.svg does not parse"
done
for p in strict besteffort fairshare backfill; do
    grep -q ">$p<" "$tmp/queue.svg" || fail "queue.svg has no legend for $p"
done

# --- determinism: the same inputs print the same bytes.
run sim philly --jobs "$JOBS" "${SLICE[@]}" --queues per-cluster --json
[ "$rc" -eq 0 ] || fail "second replay exited $rc"
cmp -s "$tmp/out" "$tmp/run1.json" || fail "two replays of the same slice differ"

# --- one queue: fair sharing has nothing to share, so it is besteffort.
run sim philly --jobs "$JOBS" "${SLICE[@]}" --policy besteffort,fairshare --json
[ "$rc" -eq 0 ] || fail "single-queue replay exited $rc"
/usr/bin/python3 - "$tmp/out" <<'EOF' || fail "fairshare differs from besteffort with one queue"
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
a.pop("policy"); b.pop("policy")
a.pop("gang32_admitted_later_than_strict", None); b.pop("gang32_admitted_later_than_strict", None)
assert a == b, (a, b)
EOF

# --- the human table: a header and one row per policy.
run sim philly --jobs "$JOBS" "${SLICE[@]}" --jobs-limit 50 --policy strict,backfill
[ "$rc" -eq 0 ] || fail "table replay exited $rc"
grep -qF 'philly: philly_jobs.csv, days 28.5-29.1 (first 50) of 82247 jobs: 50 replayed' "$tmp/out" ||
    fail "summary line: $(head -n 1 "$tmp/out")"
grep -qE '^strict +50 ' "$tmp/out" || fail "no strict row: $(cat "$tmp/out")"
grep -qE '^backfill +50 ' "$tmp/out" || fail "no backfill row: $(cat "$tmp/out")"

# --- errors.
printf 'timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-09 07:01:55,66.0,1,66.0,a\n2017-10-09 07:01:55,6x,1,66.0,a\n' \
    >"$tmp/bad.csv"
expect_error "$tmp/bad.csv:3:2 (duration)" "'6x' is not a number" -- sim philly --jobs "$tmp/bad.csv"
printf 'timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-09 7:01:55,66.0,1,66.0,a\n' \
    >"$tmp/bad-time.csv"
expect_error "$tmp/bad-time.csv:2:1 (timestamp)" -- sim philly --jobs "$tmp/bad-time.csv"
expect_error "$tmp/none.csv" -- sim philly --jobs "$tmp/none.csv"
expect_error "--jobs is required" -- sim philly --gpus 64
expect_error "unknown policy 'lifo'" "backfill" -- sim philly --jobs "$JOBS" --policy strict,lifo
expect_error "given twice" -- sim philly --jobs "$JOBS" --policy strict,strict
expect_error "--queues" -- sim philly --jobs "$JOBS" --queues teams
expect_error "--overestimate" -- sim philly --jobs "$JOBS" --overestimate 0.5
expect_error "not a multiple" -- sim philly --jobs "$JOBS" --gpus 100 --gpus-per-node 8
expect_error "--gpus-per-node" -- sim philly --jobs "$JOBS" --gpus-per-node 17
expect_error "--jobs-limit" -- sim philly --jobs "$JOBS" --jobs-limit -3
expect_error "--reservations" -- sim philly --jobs "$JOBS" --reservations 0
expect_error "no job" -- sim philly --jobs "$JOBS" --start 5000
expect_error "unexpected argument" -- sim philly --jobs "$JOBS" extra
expect_error "unknown trace kind" -- sim alibaba
# --plot into a missing directory: an error, and (under ASan) no leak report.
expect_error "--plot" -- sim philly --jobs "$JOBS" "${SLICE[@]}" --jobs-limit 20 \
    --policy strict --plot "$tmp/no-such-dir/chart.svg"

echo "ok"
