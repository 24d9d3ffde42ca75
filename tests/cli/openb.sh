#!/usr/bin/env bash
# Command-line tests for `muster sim openb`: the policy list, --help, a real
# run on the default trace with --csv and --plot (checked for shape and
# parsed), and the errors a person meets (malformed trace, unknown policy,
# bad options). Run by ctest with MUSTER_BIN (the ASan build) and
# MUSTER_TRACES set; one seed of two policies keeps it fast under ASan.
set -euo pipefail

: "${MUSTER_BIN:?MUSTER_BIN must name the muster binary}"
: "${MUSTER_TRACES:?MUSTER_TRACES must name the shared traces directory}"
NODES="$MUSTER_TRACES/alibaba-v2023/openb_node_list_gpu_node.csv"
PODS="$MUSTER_TRACES/alibaba-v2023/openb_pod_list_default.csv"

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
    "$MUSTER_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
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

# --- the policy list: one bare name a line, each of the paper's and muster's.
run sim openb --list-policies
[ "$rc" -eq 0 ] || fail "--list-policies exited $rc"
for p in random dotprod gpuclustering gpupacking bestfit fgd fgdx; do
    grep -qx "$p" "$tmp/out" || fail "--list-policies lacks $p: $(cat "$tmp/out")"
done
if grep -qvE '^[a-z0-9]+$' "$tmp/out"; then
    fail "--list-policies prints more than names: $(cat "$tmp/out")"
fi
[ -z "$(sort "$tmp/out" | uniq -d)" ] || fail "--list-policies repeats a name"
# Every listed name is accepted by --policy (checked below on a tiny trace).
mapfile -t policies <"$tmp/out"

# --- --help: usage on stdout, status 0.
run sim openb --help
[ "$rc" -eq 0 ] || fail "--help exited $rc"
grep -q 'usage: muster sim openb' "$tmp/out" || fail "--help printed no usage"
grep -q -- '--policy' "$tmp/out" || fail "--help does not describe --policy"

# --- a real run: one seed of two policies on the default trace.
run sim openb --nodes "$NODES" --pods "$PODS" --seeds 42 --policy bestfit,fgd \
    --csv "$tmp/curves.csv" --plot "$tmp/curves.svg"
[ "$rc" -eq 0 ] || fail "openb run exited $rc: $(cat "$tmp/err")"
grep -qF 'openb: 1213 GPU nodes, 6212 GPUs; 8152 trace pods' "$tmp/out" ||
    fail "summary line missing: $(cat "$tmp/out")"
grep -qE '^bestfit +[0-9]' "$tmp/out" || fail "no bestfit row in the table"
grep -qE '^fgd +[0-9]' "$tmp/out" || fail "no fgd row in the table"

header=$(head -n 1 "$tmp/curves.csv")
[ "$header" = "policy,seed,arrived_pct,unallocated_gpu_pct" ] || fail "CSV header: $header"
# 131 rows per (policy, seed): arrived 0..130, each once, in order, every
# value a percentage.
awk -F, '
    NR == 1 { next }
    NF != 4 { print "line " NR ": " NF " fields"; bad = 1; next }
    {
        key = $1 "," $2
        if ($3 != n[key] + 0) { print "line " NR ": arrived " $3 " after " n[key]; bad = 1 }
        n[key]++
        if ($4 !~ /^-?[0-9]+\.[0-9]+$/ || $4 < 0 || $4 > 100) {
            print "line " NR ": value " $4
            bad = 1
        }
    }
    END {
        if (length(n) != 2) { print length(n) " (policy, seed) pairs"; bad = 1 }
        for (k in n) if (n[k] != 131) { print k ": " n[k] " rows"; bad = 1 }
        exit bad
    }' "$tmp/curves.csv" >"$tmp/awk.out" || fail "CSV shape: $(cat "$tmp/awk.out")"
grep -q '^bestfit,42,' "$tmp/curves.csv" || fail "no bestfit,42 rows"
grep -q '^fgd,42,' "$tmp/curves.csv" || fail "no fgd,42 rows"
# Below the first failure the cluster holds everything: 10% arrived leaves
# about 90% unallocated, for both.
awk -F, '$3 == 10 && ($4 < 89.5 || $4 > 90.5) { exit 1 }' "$tmp/curves.csv" ||
    fail "unallocated at 10% arrived is not about 90"

/usr/bin/python3 - "$tmp/curves.svg" <<'EOF' || fail "the SVG does not parse"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
root = doc.documentElement
assert root.tagName == "svg", root.tagName
text = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild)
for name in ("bestfit", "fgd"):
    assert name in text, name + " not in the chart's text"
EOF

# --- every listed policy runs, and a file name that needs escaping in the
# chart's title still gives well-formed XML. A tiny trace keeps this fast.
printf 'sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,4,G2\nn1,32000,131072,2,T4\n' \
    >"$tmp/nodes.csv"
{
    echo 'name,cpu_milli,memory_mib,num_gpu,gpu_milli'
    echo 'p0,1000,1024,1,500'
    echo 'p1,2000,2048,1,1000'
    echo 'p2,1000,1024,0,0'
} >"$tmp/a&b<c>.csv"
list=$(IFS=,; echo "${policies[*]}")
run sim openb --nodes "$tmp/nodes.csv" --pods "$tmp/a&b<c>.csv" --seeds 1-2 --policy "$list" \
    --csv "$tmp/tiny.csv" --plot "$tmp/tiny.svg"
[ "$rc" -eq 0 ] || fail "tiny run with every policy exited $rc: $(cat "$tmp/err")"
for p in "${policies[@]}"; do
    grep -q "^$p,1," "$tmp/tiny.csv" || fail "no rows for $p seed 1"
    grep -q "^$p,2," "$tmp/tiny.csv" || fail "no rows for $p seed 2"
done
/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
    "$tmp/tiny.svg" || fail "the SVG with an escaped title does not parse"

# --plot into a missing directory: an error, and (under ASan) no leak report.
run sim openb --nodes "$tmp/nodes.csv" --pods "$tmp/a&b<c>.csv" --seeds 1 --policy fgd \
    --plot "$tmp/no-such-dir/chart.svg"
[ "$rc" -ne 0 ] || fail "--plot into a missing directory exited 0"
grep -qF -- "--plot" "$tmp/err" || fail "--plot error not reported: $(cat "$tmp/err")"

# --- errors.
# A malformed pods file: the message names file, line and column.
printf 'name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1024,1,500\np1,10x0,1024,1,500\n' \
    >"$tmp/bad-pods.csv"
expect_error "$tmp/bad-pods.csv:3:2 (cpu_milli)" "'10x0' is not an integer" -- \
    sim openb --nodes "$NODES" --pods "$tmp/bad-pods.csv" --seeds 42 --policy fgd
# A multi-GPU share in the pods file.
printf 'name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1024,2,500\n' >"$tmp/bad-multi.csv"
expect_error "$tmp/bad-multi.csv:2:5 (gpu_milli)" -- \
    sim openb --nodes "$NODES" --pods "$tmp/bad-multi.csv" --seeds 42 --policy fgd
# A missing file.
expect_error "$tmp/none.csv" -- sim openb --nodes "$NODES" --pods "$tmp/none.csv" --seeds 42
# An unknown policy: named, with the known ones listed.
expect_error "nope" "fgd" "bestfit" -- \
    sim openb --nodes "$NODES" --pods "$PODS" --seeds 42 --policy fgd,nope
# Bad options.
expect_error "--nodes and --pods are required" -- sim openb --pods "$PODS"
expect_error "--seeds" -- sim openb --nodes "$NODES" --pods "$PODS" --seeds 9-3
expect_error "--tune" -- sim openb --nodes "$NODES" --pods "$PODS" --tune zero
expect_error "unexpected argument" -- sim openb --nodes "$NODES" --pods "$PODS" extra
expect_error "unknown trace kind" -- sim alibaba2020

echo "ok"
