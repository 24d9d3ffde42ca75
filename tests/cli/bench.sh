#!/usr/bin/env bash
# muster bench place: a tiny run prints valid JSON with the required keys and
# accounts for every pod; bad flags fail with a message naming the flag.
source "$(dirname "$0")/lib.sh"

# 1. Valid JSON with the required keys; placed + failed == pods.
for mix in whole share mixed; do
    if ! "$BIN" bench place --nodes 100 --gpus-per-node 8 --pods 2000 --policy bestfit \
        --mix "$mix" --check --json >"$tmp/out.json" 2>"$tmp/err"; then
        fail "mix $mix: non-zero exit: $(cat "$tmp/err")"
        continue
    fi
    "$PY" - "$tmp/out.json" "$mix" <<'PYEOF' || fail "mix $mix: bad JSON: $(cat "$tmp/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
need = ["placements_per_sec", "nodes", "pods", "policy", "max_rss_mib", "mix", "placed",
        "failed", "seconds", "classes_live", "memo_hits", "scored", "gpus", "seed"]
missing = [k for k in need if k not in d]
assert not missing, f"missing keys {missing}"
assert d["nodes"] == 100 and d["pods"] == 2000 and d["policy"] == "bestfit", d
assert d["mix"] == sys.argv[2], d
assert d["gpus"] == 800, d
assert d["placed"] + d["failed"] == d["pods"], d
assert d["placed"] > 0 and d["placements_per_sec"] > 0 and d["max_rss_mib"] > 0, d
assert d["classes_live"] >= 1, d
PYEOF
done

# 2. Same seed, same placements; every policy runs and checks out.
a=$("$BIN" bench place --nodes 50 --pods 1000 --policy fgd --seed 7 --json --check) || fail "fgd run"
b=$("$BIN" bench place --nodes 50 --pods 1000 --policy fgd --seed 7 --json --check) || fail "fgd rerun"
strip() { sed -E 's/"(seconds|placements_per_sec|setup_seconds|max_rss_mib)":[0-9.e+-]+//g'; }
[ "$(echo "$a" | strip)" = "$(echo "$b" | strip)" ] || fail "same seed, different results: $a / $b"
for p in random dotprod gpuclustering gpupacking bestfit fgd fgdx; do
    "$BIN" bench place --nodes 40 --pods 600 --policy "$p" --check --json >/dev/null 2>"$tmp/err" ||
        fail "policy $p: $(cat "$tmp/err")"
done

# 3. The trace mix and the trace's node shapes, when the traces are at hand.
if [ -n "${MUSTER_TRACES:-}" ] && [ -f "$MUSTER_TRACES/alibaba-v2023/openb_pod_list_default.csv" ]; then
    "$BIN" bench place --nodes 200 --pods 3000 --mix openb --policy fgdx --check --json \
        >"$tmp/out.json" 2>"$tmp/err" || fail "mix openb: $(cat "$tmp/err")"
    "$BIN" bench place --nodes 200 --pods 3000 --mix openb --node-shapes openb --policy bestfit \
        --check --json >"$tmp/out.json" 2>"$tmp/err" || fail "node-shapes openb: $(cat "$tmp/err")"
fi

# 4. Human-readable summary without --json.
"$BIN" bench place --nodes 10 --pods 100 >"$tmp/out" 2>&1 || fail "summary run"
grep -q "placements/s" "$tmp/out" || fail "summary lacks placements/s: $(cat "$tmp/out")"

# 5. Bad flags: non-zero exit and a message naming the problem.
expect_error() { # pattern, args...
    local pat=$1
    shift
    if "$BIN" bench place "$@" >"$tmp/out" 2>"$tmp/err"; then
        fail "accepted: $*"
    elif ! grep -q -- "$pat" "$tmp/err"; then
        fail "$*: message lacks '$pat': $(cat "$tmp/err")"
    fi
}
expect_error "unknown policy 'nosuch'" --policy nosuch --nodes 10 --pods 10
expect_error "known: " --policy nosuch --nodes 10 --pods 10
expect_error "\--nodes 'abc'" --nodes abc
expect_error "\--nodes '0'" --nodes 0
expect_error "\--nodes '2000001'" --nodes 2000001
expect_error "\--nodes '-5'" --nodes -5
expect_error "\--pods '12x'" --pods 12x
expect_error "\--pods ''" --pods ''
expect_error "\--gpus-per-node '17'" --gpus-per-node 17
expect_error "\--seed '1.5'" --seed 1.5
expect_error "\--mix 'half'" --mix half
expect_error "\--node-shapes 'cube'" --node-shapes cube
expect_error "unexpected argument" extra
expect_error "does not apply" --node-shapes openb --gpus-per-node 8
expect_error "unrecognized option" --frobnicate
expect_error "no-such-file" --mix openb --trace-pods "$tmp/no-such-file.csv" --nodes 10 --pods 10
if "$BIN" bench nosuch >/dev/null 2>"$tmp/err" || ! grep -q "unknown benchmark" "$tmp/err"; then
    fail "bench nosuch"
fi

finish
