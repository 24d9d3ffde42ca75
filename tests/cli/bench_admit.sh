#!/usr/bin/env bash
# muster bench admit: a small Kueue-shaped run prints valid JSON with the required
# keys, admits and finishes every workload, on nodes and on quota alone; the same
# seed gives the same decisions; bad flags fail with a message naming the flag.
source "$(dirname "$0")/lib.sh"

# 1. Valid JSON with the required keys; every workload admitted and finished.
check_json() { # file, mode, nodes
    "$PY" - "$@" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["workloads", "admissions_per_sec", "cpu_seconds", "p99_cycle_ms", "max_cycle_ms",
        "p50_cycle_ms", "admissions", "evictions", "cycles", "finished", "deactivated",
        "max_rss_mib", "cqs", "cohorts", "nodes", "mode", "seed", "virtual_seconds",
        "avg_time_to_admission_ms"]
missing = [k for k in need if k not in d]
assert not missing, f"missing keys {missing}"
assert d["mode"] == sys.argv[2] and d["nodes"] == int(sys.argv[3]), d
assert d["workloads"] == 500 and d["cqs"] == 20 and d["cohorts"] == 1, d
assert d["finished"] == 500 and d["deactivated"] == 0, d
# Every workload admitted at least once; each eviction is followed by a readmission.
assert d["admissions"] == d["workloads"] + d["evictions"], d
assert d["cycles"] > 0 and d["admissions_per_sec"] > 0 and d["cpu_seconds"] >= 0, d
assert 0 <= d["p50_cycle_ms"] <= d["p99_cycle_ms"] <= d["max_cycle_ms"], d
assert d["virtual_seconds"] >= 0.2, d  # the last large workload arrives at 0.4 s at the earliest
assert set(d["avg_time_to_admission_ms"]) == {"small", "medium", "large"}, d
PYEOF
}
if "$BIN" bench admit --cqs 20 --workloads 500 --nodes 100 --json >"$tmp/a.json" 2>"$tmp/err"; then
    check_json "$tmp/a.json" nodes 100 || fail "nodes run: bad JSON: $(cat "$tmp/a.json")"
else
    fail "nodes run: non-zero exit: $(cat "$tmp/err")"
fi
if "$BIN" bench admit --cqs 20 --workloads 500 --no-nodes --json >"$tmp/q.json" 2>"$tmp/err"; then
    check_json "$tmp/q.json" quota 0 || fail "quota run: bad JSON: $(cat "$tmp/q.json")"
else
    fail "quota run: non-zero exit: $(cat "$tmp/err")"
fi

# 2. Same seed, same decisions (times aside); cohorts as asked.
strip() { sed -E 's/"[a-z0-9_]*(seconds|_ms|per_sec|rss_mib)":[0-9.e+-]+//g'; }
b=$("$BIN" bench admit --cqs 20 --workloads 500 --nodes 100 --json) || fail "rerun"
[ "$(strip <"$tmp/a.json")" = "$(echo "$b" | strip)" ] ||
    fail "same seed, different results: $(cat "$tmp/a.json") / $b"
"$BIN" bench admit --cqs 12 --cohorts 4 --workloads 120 --nodes 30 --seed 7 --json \
    >"$tmp/c.json" 2>"$tmp/err" || fail "cohorts run: $(cat "$tmp/err")"
grep -q '"cohorts":4,' "$tmp/c.json" || fail "cohorts not 4: $(cat "$tmp/c.json")"
grep -q '"finished":120,' "$tmp/c.json" || fail "cohorts run unfinished: $(cat "$tmp/c.json")"

# 3. --cycles writes one CSV row per cycle, adding up to the run's totals.
"$BIN" bench admit --cqs 20 --workloads 500 --nodes 100 --cycles "$tmp/cyc.csv" --json \
    >"$tmp/cj.json" 2>"$tmp/err" || fail "--cycles run: $(cat "$tmp/err")"
"$PY" - "$tmp/cyc.csv" "$tmp/cj.json" <<'PYEOF' || fail "--cycles CSV: $(head -3 "$tmp/cyc.csv")"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
d = json.load(open(sys.argv[2]))
assert list(rows[0]) == ["cycle", "now_ms", "wall_ms", "cpu_ms", "changes", "nominations",
                         "admissions", "evictions"], rows[0]
assert len(rows) == d["cycles"], (len(rows), d["cycles"])
assert sum(int(r["admissions"]) for r in rows) == d["admissions"], d
assert sum(int(r["evictions"]) for r in rows) == d["evictions"], d
assert sum(int(r["changes"]) for r in rows) == d["admissions"] + d["evictions"], d
assert all(float(a["now_ms"]) <= float(b["now_ms"]) for a, b in zip(rows, rows[1:]))
PYEOF

# 4. Human-readable summary without --json.
"$BIN" bench admit --cqs 4 --workloads 40 --nodes 20 >"$tmp/out" 2>&1 || fail "summary run"
grep -q "admissions/CPU s" "$tmp/out" || fail "summary lacks admissions/CPU s: $(cat "$tmp/out")"
grep -q "p99" "$tmp/out" || fail "summary lacks p99: $(cat "$tmp/out")"

# 5. Bad flags: non-zero exit and a message naming the problem.
expect_error() { # pattern, args...
    local pat=$1
    shift
    if "$BIN" bench admit "$@" >"$tmp/out" 2>"$tmp/err"; then
        fail "accepted: $*"
    elif ! grep -q -- "$pat" "$tmp/err"; then
        fail "$*: message lacks '$pat': $(cat "$tmp/err")"
    fi
}
expect_error "\--cqs '0'" --cqs 0
expect_error "\--cqs 'x'" --cqs x
expect_error "\--workloads '0'" --workloads 0
expect_error "\--nodes '0'" --nodes 0
expect_error "a large workload needs 10 nodes" --cqs 2 --workloads 10 --nodes 9
expect_error "more cohorts than queues" --cqs 2 --cohorts 3 --workloads 10
expect_error "exclude each other" --nodes 10 --no-nodes
expect_error "unknown policy 'nosuch'" --policy nosuch
expect_error "unexpected argument" extra
expect_error "unrecognized option" --frobnicate
expect_error "\--cycles $tmp/no/such/dir/c.csv" --cqs 2 --workloads 10 --cycles "$tmp/no/such/dir/c.csv"
"$BIN" bench admit --help | grep -q "usage: muster bench admit" || fail "--help"
"$BIN" bench --help | grep -q "bench admit" || fail "bench --help lacks admit"

finish
