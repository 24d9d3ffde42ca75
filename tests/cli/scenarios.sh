#!/usr/bin/env bash
# Runs every scenario in tests/scenarios through the real binary: all must pass,
# the summary line must count them, and a failing scenario must fail the run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${MUSTER_BIN:?MUSTER_BIN not set}
tmp=$(mktemp -d "${TMPDIR:-${P_tmpdir:-/var/tmp}}/muster-scen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=$(ls "$here"/scenarios/*.yaml | wc -l)
[ "$n" -ge 60 ] || { echo "only $n scenarios"; exit 1; }
out=$("$bin" scenario run "$here"/scenarios/*.yaml) || { echo "$out" | grep -v '^PASS'; exit 1; }
echo "$out" | tail -1
echo "$out" | tail -1 | grep -qx "$n passed, 0 failed"

# A wrong expectation must fail, with a diff and the pending reasons.
sed 's/admitted: \[default\/a, default\/b\]/admitted: [default\/a]/' \
    "$here"/scenarios/quota-cpu-exact-fit.yaml > "$tmp/bad.yaml"
grep -q 'admitted: \[default/a\]$' "$tmp/bad.yaml"
if "$bin" scenario run "$tmp/bad.yaml" > "$tmp/bad.out"; then
    echo "a wrong expectation passed"; exit 1
fi
grep -q '^FAIL quota-cpu-exact-fit' "$tmp/bad.out"
grep -q 'unexpected \[ default/b \]' "$tmp/bad.out"
grep -q '^0 passed, 1 failed' "$tmp/bad.out"

# Bad input: the error names the object and the field.
printf 'apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: q}\nspec:\n  bogus: 1\n' > "$tmp/badfield.yaml"
if "$bin" scenario run "$tmp/badfield.yaml" > "$tmp/bf.out"; then
    echo "unknown field accepted"; exit 1
fi
grep -q 'spec.bogus' "$tmp/bf.out"
echo ok
