# Shared by the e2e tests: start `muster server` on 127.0.0.1 with a free port and
# a fresh data directory, write a kubeconfig, and stop the server on exit.
# Sets: tmp, port, url, KUBECONFIG, HOME (per test, so kubectl's discovery cache
# does not leak between tests or from the user's).
set -euo pipefail
bin=${MUSTER_BIN:?MUSTER_BIN not set}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-${P_tmpdir:-/var/tmp}}/muster-e2e.XXXXXX")
server_pid=
e2e_cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    # A sanitizer report from the server (ASan build) fails the test.
    local rc=0
    if [ -f "$tmp/server.log" ] && grep -q 'Sanitizer' "$tmp/server.log"; then
        cat "$tmp/server.log"
        rc=1
    fi
    [ -n "${E2E_KEEP_LOG:-}" ] && cp "$tmp/server.log" "$E2E_KEEP_LOG"
    rm -rf "$tmp"
    [ $rc = 0 ] || exit 1
}
trap e2e_cleanup EXIT

e2e_start() { # [--store memory|sqlite]
    mkdir -p "$tmp/data"
    "$bin" server --data-dir "$tmp/data" --listen 127.0.0.1:0 --port-file "$tmp/port" "$@" \
        2> "$tmp/server.log" &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$tmp/port" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log"; exit 1; }
        sleep 0.05
    done
    port=$(cat "$tmp/port")
    url=http://127.0.0.1:$port
    "$bin" kubeconfig --server "$url" > "$tmp/kubeconfig"
    export KUBECONFIG=$tmp/kubeconfig HOME=$tmp/home
    mkdir -p "$HOME"
}

# expect_code CODE METHOD PATH [curl args...]: the response status must be CODE;
# the body is left in $tmp/body.
expect_code() {
    local want=$1 method=$2 path=$3
    shift 3
    local got
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" "$@" "$url$path")
    if [ "$got" != "$want" ]; then
        echo "$method $path: want $want, got $got: $(head -c 400 "$tmp/body")"
        exit 1
    fi
}

fail() { echo "FAIL: $*"; exit 1; }
