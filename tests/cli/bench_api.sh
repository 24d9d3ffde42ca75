#!/usr/bin/env bash
# muster bench api: a tiny run against the real server (a few hundred creates,
# 2,000 nodes listed, 20 watchers) prints JSON with the required keys, lists
# every node, and every watcher receives every event; bad flags fail naming the
# flag; a store the server refuses fails clearly.
source "$(dirname "$0")/lib.sh"
export TMPDIR=$tmp

check_json() { # file, store
    "$PY" - "$@" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["store", "creates_per_sec", "create_p99_ms", "list_130k_nodes_ms",
        "watch_events_per_sec", "watch_missed_events", "max_rss_mib", "create_p50_ms",
        "creates", "list_count", "list_pages", "watchers", "watch_events_expected",
        "watch_events_received", "update_p99_ms"]
missing = [k for k in need if k not in d]
assert not missing, f"missing keys {missing}"
assert d["store"] == sys.argv[2], d
assert d["creates"] == 2000 and d["create_errors"] == 0, d
assert d["list_count"] == 2000 and d["list_pages"] == 4, d
assert d["watchers"] == 20 and d["watch_updates"] == 30, d
assert d["watch_missed_events"] == 0, d
assert d["watch_events_received"] == d["watch_events_expected"] == 600, d
assert d["creates_per_sec"] > 0 and 0 < d["create_p50_ms"] <= d["create_p99_ms"], d
assert d["list_130k_nodes_ms"] > 0 and d["watch_events_per_sec"] > 0 and d["max_rss_mib"] > 0, d
PYEOF
}
for store in sqlite memory; do
    if "$BIN" bench api --store $store --nodes 2000 --clients 16 --watchers 20 --updates 30 \
        --list-runs 1 --json >"$tmp/$store.json" 2>"$tmp/err"; then
        check_json "$tmp/$store.json" $store || fail "$store: bad JSON: $(cat "$tmp/$store.json")"
    else
        fail "$store: non-zero exit: $(cat "$tmp/err")"
    fi
done
# The data directory is removed afterwards.
ls -d "$tmp"/muster-bench-api.* >/dev/null 2>&1 && fail "data directory left behind"

# Human summary.
"$BIN" bench api --nodes 300 --watchers 5 --updates 5 --list-runs 1 >"$tmp/out" 2>&1 ||
    fail "summary run: $(cat "$tmp/out")"
grep -q "creates/s\|/s  (" "$tmp/out" && grep -q "p99" "$tmp/out" && grep -q "goals" "$tmp/out" ||
    fail "summary: $(cat "$tmp/out")"

# Bad flags, and a store the server refuses.
expect_error() { # pattern, args...
    local pat=$1
    shift
    if "$BIN" bench api "$@" >"$tmp/out" 2>"$tmp/err"; then
        fail "accepted: $*"
    elif ! grep -q -- "$pat" "$tmp/err"; then
        fail "$*: message lacks '$pat': $(cat "$tmp/err")"
    fi
}
expect_error "\--nodes '0'" --nodes 0
expect_error "\--watchers '1001'" --watchers 1001
expect_error "\--store 'nosuch'" --store nosuch
expect_error "unexpected argument" extra
expect_error "exited with status" --nodes 10 --server-arg --no-such-server-flag
"$BIN" bench api --help | grep -q "usage: muster bench api" || fail "--help"
"$BIN" bench --help | grep -q "bench api" || fail "bench --help lacks api"

finish
