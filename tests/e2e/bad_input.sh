#!/usr/bin/env bash
# Bad input gets the right Status and changes nothing: malformed JSON (400), an
# unknown field under fieldValidation=Strict (422 naming the field), an oversized
# body (413), a wrong kind at a path (400), a bad name (422), unknown paths (404),
# and an update with a stale resourceVersion (409 Conflict).
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers --store memory
cq=/apis/kueue.x-k8s.io/v1beta2/clusterqueues
json=(-H 'Content-Type: application/json')
good='{"apiVersion":"kueue.x-k8s.io/v1beta2","kind":"ClusterQueue","metadata":{"name":"q"},"spec":{"resourceGroups":[{"coveredResources":["cpu"],"flavors":[{"name":"f","resources":[{"name":"cpu","nominalQuota":"4"}]}]}]}}'
expect_code 201 POST "$cq?fieldValidation=Strict" "${json[@]}" -d "$good"
before=$(curl -s "$url$cq" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')

expect_code 400 POST "$cq" "${json[@]}" -d '{"apiVersion":'
grep -q '"reason":"BadRequest"' "$tmp/body" || fail "$(cat "$tmp/body")"

expect_code 422 POST "$cq?fieldValidation=Strict" "${json[@]}" \
    -d '{"apiVersion":"kueue.x-k8s.io/v1beta2","kind":"ClusterQueue","metadata":{"name":"q2"},"spec":{"bogus":1}}'
grep -q '"field":"spec.bogus"' "$tmp/body" && grep -q '"reason":"Invalid"' "$tmp/body" || fail "$(cat "$tmp/body")"

expect_code 422 POST "$cq" "${json[@]}" \
    -d '{"apiVersion":"kueue.x-k8s.io/v1beta2","kind":"ClusterQueue","metadata":{"name":"q3"},"spec":{"resourceGroups":[{"coveredResources":["cpu"],"flavors":[{"name":"f","resources":[{"name":"cpu","nominalQuota":"12x"}]}]}]}}'
grep -q 'nominalQuota' "$tmp/body" || fail "bad quantity: $(cat "$tmp/body")"

head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$tmp/big"
expect_code 413 POST "$cq" "${json[@]}" --data-binary @"$tmp/big"
grep -q '"code":413' "$tmp/body" || fail "$(cat "$tmp/body")"
# The same body, chunked (no Content-Length): dropped as it grows, then 413.
expect_code 413 POST "$cq" "${json[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big"

expect_code 400 POST "$cq" "${json[@]}" -d '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"}}'
expect_code 422 POST "$cq" "${json[@]}" \
    -d '{"apiVersion":"kueue.x-k8s.io/v1beta2","kind":"ClusterQueue","metadata":{"name":"Bad_Name"}}'
grep -q '"field":"metadata.name"' "$tmp/body" || fail "$(cat "$tmp/body")"
expect_code 404 GET /apis/kueue.x-k8s.io/v1beta2/nosuch
expect_code 404 GET /apis/nosuch.io/v1/things
expect_code 404 GET "$cq/missing"
grep -q 'clusterqueues.kueue.x-k8s.io \\"missing\\" not found' "$tmp/body" || fail "$(cat "$tmp/body")"
# deletecollection is served per namespace, and not for namespaces at all.
expect_code 405 DELETE /api/v1/namespaces
expect_code 405 DELETE /api/v1/pods

# Optimistic concurrency: a PUT with an old resourceVersion is a Conflict.
stale=$(echo "$good" | sed 's/"name":"q"}/"name":"q","resourceVersion":"999"}/')
expect_code 409 PUT "$cq/q" "${json[@]}" -d "$stale"
grep -q '"reason":"Conflict"' "$tmp/body" || fail "$(cat "$tmp/body")"

after=$(curl -s "$url$cq" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
[ "$before" = "$after" ] || fail "the store changed: $before -> $after"
n=$(curl -s "$url$cq" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$n" = 1 ] || fail "$n objects"
echo ok
